"""What the rules say about a prescription on submit, and where it goes next.

:func:`eligibility_evaluate` reads; it writes nothing. :func:`eligibility_record_write` stores
the result as an ``EligibilityRecord``: every criterion with its value, the rule behind it and
its effect, so the admin and the prescriber can read why the prescription went the way it did.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from prescriptions.models import (
    Certificate,
    CountryGroup,
    EligibilityRecord,
    HomeRegionAgreement,
    Prescription,
    PrescriptionLine,
    PrescriptionState,
    RegistrationState,
    ReplacementDecision,
    ReplacementOutcome,
    ResidenceAbroad,
    SupplyRegistration,
)
from prescriptions.selectors.region import region_is_another, tied_region_id
from prescriptions.services.access import patient_guarded
from prescriptions.services.ordering_right import ordering_right
from prescriptions.services.parcel import parcel_check

# REGION-1: under this, per device with its accessories, an out-of-region prescription goes
# straight through and the home region is invoiced.
DIRECT_LIMIT_SEK: Final = Decimal("10000")
HEARING_AREA: Final = "hearing"  # REGION-2: hearing always needs a home-region agreement
DIETARY_FOOD_AREA: Final = "nutrition"  # PRESC-3: special dietary food
# REGION-4: out-of-region patients for these are deactivated after invoicing.
DEACTIVATED_AFTER_INVOICING: Final = frozenset({"hearing", "diabetes", "incontinence"})
# REGION-5: the certificates that place a resident abroad in the care of the public system.
VALID_CERTIFICATES: Final[dict[str, frozenset[str]]] = {
    CountryGroup.EU_EEA_CH: frozenset({Certificate.EHIC, Certificate.S1}),
    CountryGroup.NORDIC: frozenset({Certificate.NORDIC_ID, Certificate.EHIC}),
    CountryGroup.OTHER: frozenset({Certificate.S1}),
}


@dataclass(frozen=True)
class Criterion:
    criterion: str
    value: Any
    rule: str
    # "ok": nothing to do; "block": submit refused; "wait": the prescription waits for it;
    # "route": it decides delivery or payer.
    effect: str
    message: str = ""

    def as_json(self) -> dict[str, Any]:
        value = str(self.value) if isinstance(self.value, Decimal) else self.value
        return {
            "criterion": self.criterion,
            "value": value,
            "rule": self.rule,
            "effect": self.effect,
            "message": self.message,
        }


@dataclass
class Evaluation:
    criteria: list[Criterion] = field(default_factory=list)
    total_cost_sek: Decimal = Decimal("0")
    next_state: str = PrescriptionState.APPROVED
    # REGION-1/5: who pays, for the billing floor's mark; None: the region itself.
    invoice_region_id: str | None = None
    patient_pays_unit: bool = False
    deactivate_after_invoicing: bool = False

    @property
    def blocking(self) -> list[str]:
        return [c.message for c in self.criteria if c.effect == "block"]

    def add(self, criterion: str, value: Any, rule: str, effect: str, message: str = "") -> None:
        self.criteria.append(Criterion(criterion, value, rule, effect, message))


def _lines(prescription: Prescription) -> list[PrescriptionLine]:
    return list(
        prescription.lines.select_related("article__product_area", "article__agreement").order_by(
            "position"
        )
    )


def device_costs(lines: list[PrescriptionLine]) -> list[Decimal]:
    """REGION-1: the cost of each device, its accessories included (quantities counted). A
    line's value is the catalogue price times the quantity, rented or bought alike: the home
    region carries the device's cost either way (docs/prescriptions.md, "REGION-1")."""
    costs: dict[int, Decimal] = {}
    for line in lines:
        device = line.main_line_id or line.pk  # an accessory counts with its main article
        costs[device] = costs.get(device, Decimal("0")) + line.unit_price_sek * line.quantity
    return list(costs.values())


def eligibility_evaluate(
    *, prescription: Prescription, prescriber_profile: Any, today: datetime.date | None = None
) -> Evaluation:
    """Evaluate every criterion of a prescription as it stands now. Reads only."""
    today = today or timezone.localdate()
    ev = Evaluation()
    lines = _lines(prescription)
    episode = prescription.episode
    areas = {line.article.product_area_id for line in lines}
    # PRESC-2/3: the gate's guard as it is now (PROT-5 included), never a stale snapshot.
    guarded = patient_guarded(prescription.patient_id)

    ev.add(
        "lines",
        len(lines),
        "PRESC-1",
        "ok" if lines else "block",
        "" if lines else _("Add at least one article."),
    )
    ev.add(
        "protected_patient",
        guarded,
        "PRESC-2",
        "route",
        _("Delivery to the prescriber's unit, the prescriber as contact.") if guarded else "",
    )

    if guarded and lines:
        # LETTER-4: informs only; PRESC-2 above decides the delivery.
        parcel = parcel_check(lines)
        ev.add(
            "parcel_through_forwarding",
            parcel.through_forwarding,
            "LETTER-4",
            "ok",
            (
                _(
                    "%(weight)s kg, %(length)s m long, %(both)s m length plus girth: within "
                    "the limits of Skatteverket's forwarding service, the articles may be sent "
                    "to the patient as a parcel through it."
                )
                if parcel.through_forwarding
                else _(
                    "%(weight)s kg, %(length)s m long, %(both)s m length plus girth: over the "
                    "limits of Skatteverket's forwarding service (20 kg, 1 m, 2.5 m), the "
                    "articles go to the prescriber's unit."
                )
            )
            % {
                "weight": number_format(parcel.weight_kg, 2),
                "length": number_format(parcel.length_m, 2),
                "both": number_format(parcel.length_plus_girth_m, 2),
            },
        )

    # PRESC-3, re-checked here: the patient may have become protected since the line was added.
    dietary = guarded and DIETARY_FOOD_AREA in areas
    ev.add(
        "special_dietary_food_for_protected",
        dietary,
        "PRESC-3",
        "block" if dietary else "ok",
        _("Special dietary food for a protected patient is prescribed through a pharmacy.")
        if dietary
        else "",
    )

    right = ordering_right(prescriber_profile, [line.article.product_area for line in lines])
    personal = right.personal_devices
    ev.add(
        "authorised_for_personal_devices",
        personal,
        "PRESC-5",
        "ok" if personal else "block",
        "" if personal else _("An orderer for a unit cannot prescribe personal devices."),
    )
    missing = right.untrained_areas
    ev.add(
        "competence",
        not missing,
        "PRESC-5",
        "block" if missing else "ok",
        _("No registered training for: %(areas)s.") % {"areas": ", ".join(missing)}
        if missing
        else "",
    )

    unorderable = sorted(
        line.article.article_number
        for line in lines
        if not line.article.in_assortment_on(today) or not line.article.agreement.in_force_on(today)
    )
    ev.add(
        "agreement_in_force",
        not unorderable,
        "PRESC-8",
        "block" if unorderable else "ok",
        _("Cannot be ordered (agreement ended or phased out): %(articles)s.")
        % {"articles": ", ".join(unorderable)}
        if unorderable
        else "",
    )
    pending = ReplacementDecision.objects.filter(
        line__prescription=prescription, outcome=ReplacementOutcome.PENDING
    ).count()
    ev.add(
        "replacement_applied",
        pending == 0,
        "PRESC-8",
        "block" if pending else "ok",
        _("Accept or decline the proposed replacement articles first.") if pending else "",
    )

    total = sum((line.unit_price_sek * line.quantity for line in lines), Decimal("0"))
    ev.total_cost_sek = total
    devices = device_costs(lines)
    over_limit = any(cost >= DIRECT_LIMIT_SEK for cost in devices)
    advanced = any(line.article.advanced_service for line in lines)
    hearing = HEARING_AREA in areas

    home_region_id = episode.home_region_id
    residence = ResidenceAbroad.objects.filter(episode=episode).first()
    ev.add("resident_abroad", residence is not None, "REGION-5", "route")
    patient_pays = False
    if residence is not None:
        valid = residence.certificate in VALID_CERTIFICATES[residence.country_group] and (
            residence.certificate_valid_until is None or residence.certificate_valid_until >= today
        )
        tied = tied_region_id(residence)
        ev.add("country_group", residence.country_group, "REGION-5", "route")
        ev.add("certificate_valid", valid, "REGION-5", "route")
        if tied is not None:
            # Swedes abroad outside the EU/EEA are tied to the region they last lived in.
            home_region_id = tied
            ev.add("last_registered_region", home_region_id, "REGION-5", "route")
        elif not valid:
            patient_pays = True
        ev.add("patient_pays_prescribing_unit", patient_pays, "REGION-5", "route")

    out_of_region = region_is_another(home_region_id)
    ev.add("home_region", home_region_id or "", "REGION-1", "route")
    ev.add("out_of_region", out_of_region, "REGION-1", "route")
    ev.add("total_cost_sek", total, "REGION-1", "route")
    ev.add("largest_device_cost_sek", max(devices, default=Decimal("0")), "REGION-1", "route")
    ev.add("over_limit", over_limit, "REGION-1", "route")
    ev.add("advanced_service", advanced, "REGION-1", "route")
    ev.add("hearing", hearing, "REGION-2", "route")

    needs_agreement = out_of_region and (over_limit or advanced or hearing)
    has_agreement = HomeRegionAgreement.objects.filter(prescription=prescription).exists()
    ev.add("home_region_agreement_needed", needs_agreement, "REGION-2", "route")
    ev.add(
        "home_region_agreement_present",
        has_agreement,
        "REGION-2",
        "wait" if needs_agreement and not has_agreement else "ok",
    )

    medicine_related = any(line.article.product_area.medicine_related for line in lines)
    needs_registration = out_of_region and medicine_related
    cleared = SupplyRegistration.objects.filter(
        episode=episode, state=RegistrationState.CLEARED
    ).exists()
    ev.add("registration_needed", needs_registration, "REGION-3", "route")
    ev.add(
        "registration_cleared",
        cleared,
        "REGION-3",
        "wait" if needs_registration and not cleared else "ok",
    )

    # PRESC-6: a specially adapted line is approved and ordered as usual; the device waits for
    # the prescriber's signature on its adaptation work order before it is delivered.
    adapted = any(line.special_adaptation for line in lines)
    ev.add("special_adaptation", adapted, "PRESC-6", "route")

    if needs_agreement and not has_agreement:
        ev.next_state = PrescriptionState.AWAITING_AGREEMENT
    elif needs_registration and not cleared:
        ev.next_state = PrescriptionState.AWAITING_REGISTRATION
    else:
        ev.next_state = PrescriptionState.APPROVED
    if out_of_region:
        ev.invoice_region_id = home_region_id
        ev.deactivate_after_invoicing = bool(areas & DEACTIVATED_AFTER_INVOICING)
    ev.patient_pays_unit = patient_pays and not out_of_region
    return ev


def eligibility_record_write(
    *, prescription: Prescription, evaluation: Evaluation
) -> EligibilityRecord:
    """Store why the prescription goes where it goes; never changed afterwards."""
    return EligibilityRecord.objects.create(
        prescription=prescription,
        criteria=[c.as_json() for c in evaluation.criteria],
        outcome=evaluation.next_state,
        total_cost_sek=evaluation.total_cost_sek,
    )
