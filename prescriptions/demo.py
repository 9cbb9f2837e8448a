"""Demo data of the prescriptions floor: the sample catalogue, the demo units' delivery
addresses and the demo prescribers' ordering rights and training.

The three prescribing stories of the README use the patients of the sample register file:
Karl Gustav Lindqvist (an ordinary resident of Skåne), Eva Holm (skyddad folkbokföring; the
prescriber opens her once the protection administrator has decided the demo grant request of
protection/demo.py) and Olof Berg (registered in Stockholm: an out-of-region patient). Nothing
here creates a patient; the patients floor loaded them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from django.contrib.auth import get_user_model
from django.db import transaction

from patients.models import Unit
from patients.transitions import transition_created
from prescriptions.models import (
    Agreement,
    AgreementKind,
    AgreementState,
    Article,
    ArticleKind,
    Authorisation,
    CompetenceArea,
    CompetenceDecision,
    CompetenceLevel,
    CompetenceRegistration,
    PrescriberProfile,
    PrescribingUnit,
    ProductArea,
    StaffApplication,
    StaffApplicationState,
    Supplier,
    SupplierUser,
    Supply,
)
from prescriptions.services.catalogue import catalogue_import
from prescriptions.services.ownership import agreement_create, agreement_row_register
from prescriptions.services.staff import STAFF_APPLICATION

# The demo units of patients/demo.py with the addresses their deliveries go to (not personal data).
DEMO_DELIVERY = {
    "SE2321000255-DEMO01": ("Rehabgatan 4", "21145", "Malmö", "040-33 10 00"),
    "SE2321000255-DEMO02": ("Hörselgången 2", "25187", "Helsingborg", "042-40 60 00"),
    "SE2321000255-DEMO03": ("Lagervägen 12", "24138", "Eslöv", "0413-55 00 00"),
}
# username -> (ordering right, competence areas with registered training). The prescriber has
# the consumables area too, so that special dietary food for Eva Holm is refused by PRESC-3,
# not by a missing competence (PRESC-5).
DEMO_PRESCRIBERS = {
    "prescriber": (
        Authorisation.PERSONAL_HEALTH,
        ("movement_communication_pressure", "medical_treatment", "consumables"),
    ),
    "prescriber2": (Authorisation.PERSONAL_HEALTH, ("vision_hearing",)),
}
TRAINED_ON = datetime.date(2025, 3, 1)
# PRESC-8 in the demo: crutches of an optional replacement group, out of stock, so that a
# prescriber picking them is offered the replacement and chooses.
DEMO_OUT_OF_STOCK = ("62154",)
# CAT-2 in the demo: what residents read about a few articles on the public assortment page
# (the others show the sentence naming their product area).
DEMO_DESCRIPTIONS = {
    "40101": "Säng som höjs och sänks med motor, med rygg- och bendel som ställs in. För dig "
    "som behöver hjälp att komma i och ur sängen eller vårdas i sängen.",
    "44001": "Fyrhjulig rollator med sits, korg och bromsar. Ger stöd när du går och en plats "
    "att vila på.",
    "46001": "Lätt rullstol som du kör själv, inställd efter dina mått och hur du sitter.",
}


def demo_seed(*, shared_dir: Path, password: str) -> list[str]:
    """Idempotent: a second run finds everything in place and changes nothing."""
    del password  # the patients floor set the demo users' passwords
    data = shared_dir / "data"
    report = catalogue_import(
        path=data / "catalogue.csv", product_areas_path=data / "product_areas.csv"
    )
    notes = [f"prescriptions: catalogue {report.summary()}"]
    users = get_user_model().objects.in_bulk(list(DEMO_PRESCRIBERS), field_name="username")
    units = Unit.objects.in_bulk(list(DEMO_DELIVERY), field_name="hsa_id")
    if len(users) < len(DEMO_PRESCRIBERS) or len(units) < len(DEMO_DELIVERY):
        return [*notes, "prescriptions: the patients floor's demo users or units are missing"]
    with transaction.atomic():
        prescribing = {}
        for hsa_id, (street, postal_code, town, phone) in DEMO_DELIVERY.items():
            prescribing[hsa_id], _ = PrescribingUnit.objects.update_or_create(
                unit=units[hsa_id],
                defaults={
                    "delivery_street": street,
                    "delivery_postal_code": postal_code,
                    "delivery_town": town,
                    "phone": phone,
                },
            )
        areas = CompetenceArea.objects.in_bulk()
        manager = get_user_model().objects.filter(username="unit_manager").first()
        for username, (authorisation, competences) in DEMO_PRESCRIBERS.items():
            user = users[username]
            profile, _ = PrescriberProfile.objects.update_or_create(
                user=user, defaults={"authorisation": authorisation}
            )
            unit = user.staff_profile.unit
            if unit is not None:
                profile.units.set([prescribing[unit.hsa_id]])
            for code in competences:
                CompetenceRegistration.objects.get_or_create(
                    prescriber=profile,
                    competence_area=areas[code],
                    defaults={"trained_on": TRAINED_ON, "level": CompetenceLevel.BASIC},
                )
                # STAFF-3: the level, as the demo unit's manager decided it.
                if manager is not None:
                    CompetenceDecision.objects.get_or_create(
                        prescriber=profile,
                        competence_area=areas[code],
                        defaults={
                            "level": CompetenceLevel.BASIC,
                            "decided_on": TRAINED_ON,
                            "decided_by": manager,
                        },
                    )
        _demo_application(users, prescribing)
        Article.objects.filter(article_number__in=DEMO_OUT_OF_STOCK).update(out_of_stock=True)
        for number, text in DEMO_DESCRIPTIONS.items():
            Article.objects.filter(article_number=number).update(description=text)
    notes.append(_catalogue_owners_seed())
    notes.append(
        "prescriptions: delivery addresses for the demo units; prescriber and prescriber2 may "
        "prescribe (crutches 62154 out of stock, to show a replacement)"
    )
    return notes


def _demo_application(users: dict[str, Any], prescribing: dict[str, PrescribingUnit]) -> None:
    """STAFF-1: one application waiting for the demo unit's manager: the technician asks to
    order for the unit's buffer store (the unit orderer role, STAFF-3)."""
    applicant = get_user_model().objects.filter(username="technician").first()
    if applicant is None or StaffApplication.objects.filter(applicant=applicant).exists():
        return
    application = StaffApplication.objects.create(
        applicant=applicant,
        applied_by=applicant,
        unit=prescribing["SE2321000255-DEMO01"],
        authorisation=Authorisation.UNIT_ORDERER,
        einvoice_access=False,
        hsa_id=applicant.staff_profile.hsa_id or "",
        title="Hjälpmedelstekniker",
        state=StaffApplicationState.SUBMITTED,
    )
    transition_created(machine=STAFF_APPLICATION, obj=application, by=applicant)


# CAT-1: the demo's agreement owner owns one agreement of the sample supplier, and the supplier
# user has registered two rows on it that wait for the owner's decision.
DEMO_AGREEMENT: Final = "AVT-2026-DEMO"
DEMO_SUPPLIER: Final = "Sängleverantören AB"
DEMO_ROWS: Final = (
    ("40170", "Säng SB760 90 cm", "181212", "15200.00"),
    ("40171", "Säng SB760 105 cm", "181212", "15900.00"),
)


def _catalogue_owners_seed() -> str:
    users = get_user_model().objects.in_bulk(
        ["agreement_owner", "supplier_user"], field_name="username"
    )
    supplier = Supplier.objects.filter(name=DEMO_SUPPLIER).first()
    if len(users) < 2 or supplier is None:
        return "prescriptions: the catalogue owners' demo users or supplier are missing"
    if Agreement.objects.filter(code=DEMO_AGREEMENT).exists():
        return "prescriptions: the catalogue owners' demo agreement is in place"
    owner, seller = users["agreement_owner"], users["supplier_user"]
    with transaction.atomic():
        SupplierUser.objects.update_or_create(user=seller, defaults={"supplier": supplier})
        agreement = agreement_create(
            user=owner,
            code=DEMO_AGREEMENT,
            supplier_id=supplier.pk,
            kind=AgreementKind.FRAMEWORK,
            valid_from=datetime.date(2026, 1, 1),
            valid_until=None,
            state=AgreementState.ACTIVE,
        )
        area = ProductArea.objects.get(code="daily_living")
        for number, name, iso, price in DEMO_ROWS:
            agreement_row_register(
                user=seller,
                agreement_id=agreement.pk,
                article_number=number,
                name=name,
                iso9999=iso,
                product_area_id=area.pk,
                price_sek=Decimal(price),
                kind=ArticleKind.MAIN,
                supply=Supply.RENT,
                assortment_days=7,
                weight_kg=Decimal("96"),
                length_cm=210,
                girth_cm=320,
            )
    return "prescriptions: an agreement of the agreement owner with rows waiting for a decision"
