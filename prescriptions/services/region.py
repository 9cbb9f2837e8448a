"""Patients from other regions and countries (REGION-1..5): the home region's agreement, the
supply organisation's registration, residence abroad, and special delivery agreements (LEAK-3).

Recording what a waiting prescription waits for moves it on (``prescription_route``).
"""

from __future__ import annotations

import base64
import datetime
import io
import warnings
from typing import Any

import pypdf
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image

from patients.identity import contains_identity_number
from patients.models import AccessAction, AccessOutcome, Patient, PatientIdentity, Region
from patients.services import access_entry_record
from patients.transitions import transition_apply, transition_created
from prescriptions.models import (
    AGREEMENT_DOCUMENT_MAX_BYTES,
    CareEpisode,
    Certificate,
    CountryGroup,
    HomeRegionAgreement,
    InvoiceMark,
    Prescription,
    PrescriptionState,
    RegistrationState,
    ResidenceAbroad,
    SpecialDeliveryAgreement,
    Supply,
    SupplyRegistration,
)
from prescriptions.selectors.region import paying_region_id
from prescriptions.services.access import (
    acting_unit_id,
    patient_for_prescribing,
    patient_guarded,
    prescriber_profile_for,
    prescription_for_update,
)
from prescriptions.services.delivery import free_text_check
from prescriptions.services.drafts import care_episode_open
from prescriptions.services.errors import PrescriptionError, RuleRefused, StateNotAllowed
from prescriptions.services.routing import prescription_route
from prescriptions.services.state import OPEN_STATES, REGISTRATION_MACHINE
from protection.gate import AccessContext
from protection.permissions import holds_role_permission
from protection.refusals import refusals_kept

S = PrescriptionState
# The stored name comes from the content type, never from the upload: a scan named after the
# patient would carry a protected person's name or number into the admin (LEAK-1).
DOCUMENT_NAMES = {
    "application/pdf": "betalningsforbindelse.pdf",
    "image/jpeg": "betalningsforbindelse.jpg",
    "image/png": "betalningsforbindelse.png",
}
DOCUMENT_UNREADABLE = gettext_noop(
    "The file is not a PDF, JPEG or PNG document that can be opened. Scan or save the agreement "
    "as a PDF and upload it again."
)
# What a document's first bytes say it is; the browser's content type and the file's name are
# the sender's word only (a text file named .pdf said "application/pdf").
DOCUMENT_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
# The Pillow format each image kind is opened as, and no other.
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
# An A4 page scanned at 600 dpi is about 35 million pixels; more is no scanned agreement.
DOCUMENT_MAX_PIXELS = 40_000_000
CLEAR_PERMISSION = "prescriptions.change_supplyregistration"
# LEAK-3: what a special delivery agreement holds; all of it locates the person.
SPECIAL_DELIVERY_KEYS = ("address", "phone", "door_code", "instructions")
# REGION-3: a registration may be sent while the prescription is built or waits for it.
REGISTRATION_STATES = frozenset({S.DRAFT, S.AWAITING_REGISTRATION})


def document_type_read(content: bytes) -> str | None:
    """The content type of an agreement document, read from its content, or None when it is not
    a PDF, PNG or JPEG that opens: its first bytes say which kind it is, and the document must
    then parse as that kind (a PDF with at least one page, an image whose data is whole)."""
    content_type = next(
        (kind for magic, kind in DOCUMENT_SIGNATURES if content.startswith(magic)), None
    )
    if content_type is None:
        return None
    try:
        if content_type == "application/pdf":
            if len(pypdf.PdfReader(io.BytesIO(content), strict=True).pages) < 1:
                return None
        else:
            # Only the format the first bytes claim is tried, and the pixels are decoded
            # (``verify`` checks nothing of a JPEG): a cut-off image fails here. A decompression
            # bomb's warning is an error, so a small file cannot make a huge image in memory.
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(
                    io.BytesIO(content), formats=[IMAGE_FORMATS[content_type]]
                ) as image:
                    if image.width * image.height > DOCUMENT_MAX_PIXELS:
                        return None
                    image.load()
    # A damaged or hand-made file may fail anywhere inside the parser; any failure means "does
    # not open", which is the answer asked for.
    except Exception:
        return None
    return content_type


@refusals_kept
@transaction.atomic
def home_region_agreement_record(
    *,
    ctx: AccessContext,
    reference: str,
    issuing_region_code: str,
    agreement_reference: str,
    issued_on: datetime.date,
    supply: str,
    document: UploadedFile[bytes],
) -> HomeRegionAgreement:
    """REGION-2: record the home region's payment commitment with its document (stored in the
    database, encrypted). A prescription waiting for it moves on."""
    prescription = prescription_for_update(ctx, reference)
    if prescription.state not in (S.DRAFT, S.AWAITING_AGREEMENT):
        raise StateNotAllowed(_("This prescription does not wait for a home-region agreement."))
    residence = ResidenceAbroad.objects.filter(episode_id=prescription.episode_id).first()
    home = paying_region_id(prescription.episode, residence)
    if issuing_region_code != home:
        raise RuleRefused(
            _("Issuing region: the agreement comes from the patient's home region."),
            rule="REGION-2",
        )
    if not Region.objects.filter(pk=issuing_region_code).exists():
        raise PrescriptionError(_("Issuing region: choose a region."))
    agreement_reference = agreement_reference.strip()
    if not agreement_reference or contains_identity_number(agreement_reference):
        raise PrescriptionError(
            _("Reference: give the home region's reference, never a personnummer.")
        )
    # LEAK-1: customer service reads the reference; no name or address of the patient either.
    agreement_reference = free_text_check(
        _("Reference"), agreement_reference, patient_id=prescription.patient_id
    )
    if issued_on > timezone.localdate():
        raise PrescriptionError(_("Date: the agreement cannot be dated in the future."))
    if supply not in Supply.values:
        raise PrescriptionError(_("Rent or buy: choose one."))
    # REGION-2: the home region commits to renting or buying; the devices must be supplied so.
    device_supplies = set(
        prescription.lines.filter(main_line__isnull=True).values_list("supply", flat=True)
    )
    if device_supplies - {supply}:
        raise RuleRefused(
            _(
                "Rent or buy: the agreement says %(supply)s, but the prescription's devices are "
                "not all %(supply)s. Change the lines or record the agreement as issued."
            )
            % {"supply": Supply(supply).label},
            rule="REGION-2",
        )
    if document.size is None or document.size > AGREEMENT_DOCUMENT_MAX_BYTES:
        raise PrescriptionError(_("Document: at most 5 MB."))
    # At most one byte more than allowed is read, whatever the upload said its size was.
    content = document.read(AGREEMENT_DOCUMENT_MAX_BYTES + 1)
    if len(content) > AGREEMENT_DOCUMENT_MAX_BYTES:
        raise PrescriptionError(_("Document: at most 5 MB."))
    content_type = document_type_read(content)
    if content_type is None:
        raise PrescriptionError(f"{_('The agreement document')}: {_(DOCUMENT_UNREADABLE)}")
    agreement = HomeRegionAgreement.objects.create(
        prescription=prescription,
        issuing_region_id=issuing_region_code,
        reference=agreement_reference,
        issued_on=issued_on,
        supply=supply,
        document_name=DOCUMENT_NAMES[content_type],
        document_content_type=content_type,
        document_size=len(content),
        document=base64.b64encode(content).decode("ascii"),
        recorded_by=ctx.user,
    )
    if prescription.state == S.AWAITING_AGREEMENT:
        prescription_route(prescription=prescription, actor=ctx.user, note="REGION-2")
    return agreement


def _optional(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


@refusals_kept
@transaction.atomic
def supply_registration_request(
    *,
    ctx: AccessContext,
    reference: str,
    name: str,
    identity_number: str | None = None,
    care_of: str = "",
    street: str = "",
    postal_code: str = "",
    town: str = "",
    phone: str = "",
    door_code: str = "",
) -> SupplyRegistration:
    """REGION-3: the prescriber sends the registration for customer service to clear. Locating
    data is encrypted at rest; a protected patient's registration carries none (PRESC-2,
    LEAK-3). The identity number is the patient's own from the register, never typed: one
    given must be that number."""
    prescription = prescription_for_update(ctx, reference)
    if prescription.state not in REGISTRATION_STATES:
        raise StateNotAllowed(_("This prescription does not wait for a registration."))
    episode = CareEpisode.objects.select_for_update().get(pk=prescription.episode_id)
    patient = Patient.objects.get(pk=prescription.patient_id)
    # The gate has opened the patient to this user (prescription_for_update).
    identity = PatientIdentity.objects.get(patient_id=patient.pk)
    own_number = identity.personal_identity_number or identity.reserve_number or ""
    if identity_number is not None and identity_number.strip() != own_number:
        raise PrescriptionError(_("Personnummer: the registration carries the patient's own."))
    identity_number = own_number
    guarded = patient_guarded(patient.pk)  # PRESC-2 with PROT-5, the gate's guard
    if (
        SupplyRegistration.objects.filter(episode=episode)
        .exclude(state=RegistrationState.DEACTIVATED)
        .exists()
    ):
        raise StateNotAllowed(_("The patient is already registered for this care episode."))
    if not identity_number.strip() or not name.strip():
        raise PrescriptionError(_("Personnummer and name are needed for the registration."))
    locating = [care_of, street, postal_code, town, phone, door_code]
    if guarded:
        if any(part.strip() for part in locating):
            raise RuleRefused(
                _(
                    "No address, phone or door code for a patient with protected identity: "
                    "deliveries go to your unit."
                ),
                rule="PRESC-2",
            )
        address = None
    else:
        if not (street.strip() and postal_code.strip() and town.strip()):
            raise PrescriptionError(_("Street address, postal code and town are needed."))
        address = {
            "care_of": care_of.strip(),
            "street": street.strip(),
            "postal_code": postal_code.strip(),
            "town": town.strip(),
        }
    profile_email = getattr(getattr(ctx.user, "prescriber_profile", None), "email", "")
    registration = SupplyRegistration.objects.create(
        episode=episode,
        identity_number=identity_number.strip(),
        name=name.strip(),
        # The stubs type an encrypted JSON column as text; it takes the object.
        address=address,  # type: ignore[misc]
        phone=None if guarded else _optional(phone),
        door_code=None if guarded else _optional(door_code),
        prescriber_name=ctx.user.get_full_name() or ctx.user.get_username(),
        prescriber_email=profile_email or ctx.user.email,
        requested_by=ctx.user,
    )
    transition_created(machine=REGISTRATION_MACHINE, obj=registration, by=ctx.user, note="REGION-3")
    return registration


@transaction.atomic
def supply_registration_clear(*, ctx: AccessContext, registration_id: int) -> SupplyRegistration:
    """REGION-3: customer service clears the registration; the episode's prescriptions waiting
    for it move on."""
    if not holds_role_permission(ctx.user, CLEAR_PERMISSION):
        raise PrescriptionError(_("Only customer service can clear registrations."))
    registration = SupplyRegistration.objects.select_for_update().filter(pk=registration_id).first()
    if registration is None:
        raise StateNotAllowed(_("This registration is not waiting to be cleared."))
    # Lock, then check: the table refuses one that is not waiting, with the same message.
    REGISTRATION_MACHINE.check(registration, registration.state, RegistrationState.CLEARED)
    fields: dict[str, Any] = {"cleared_by": ctx.user, "cleared_at": timezone.now()}
    episode = CareEpisode.objects.get(pk=registration.episode_id)
    if patient_guarded(episode.patient_id):
        # LEAK-3: protected since the request; the supply organisation gets no location.
        fields.update(address=None, phone=None, door_code=None)
    transition_apply(
        machine=REGISTRATION_MACHINE,
        obj=registration,
        to_state=RegistrationState.CLEARED,
        by=ctx.user,
        note="REGION-3",
        **fields,
    )
    waiting = Prescription.objects.select_for_update().filter(
        episode_id=registration.episode_id, state=S.AWAITING_REGISTRATION
    )
    for prescription in waiting.order_by("pk"):
        prescription_route(prescription=prescription, actor=ctx.user, note="REGION-3")
    return registration


@refusals_kept
@transaction.atomic
def residence_abroad_record(
    *,
    ctx: AccessContext,
    reference: str,
    country: str,
    country_group: str,
    certificate: str,
    swedish_citizen: bool = False,
    last_registered_region_code: str | None = None,
) -> ResidenceAbroad:
    """REGION-5: the patient lives abroad; the country group and certificate decide who pays
    (evaluated on submit). Recorded on the draft's care episode."""
    prescription = prescription_for_update(ctx, reference)
    if prescription.state != S.DRAFT:
        raise StateNotAllowed(_("Record residence abroad before submitting."))
    return _residence_write(
        ctx=ctx,
        episode_id=prescription.episode_id,
        country=country,
        country_group=country_group,
        certificate=certificate,
        certificate_valid_until=None,
        swedish_citizen=swedish_citizen,
        last_registered_region_code=last_registered_region_code,
    )


@refusals_kept
@transaction.atomic
def residence_abroad_record_for_patient(
    *,
    ctx: AccessContext,
    patient_reference: str,
    country: str,
    country_group: str,
    certificate: str,
    certificate_valid_until: datetime.date | None,
    swedish_citizen: bool = False,
    last_registered_region_code: str | None = None,
    unit_id: int | None = None,
) -> ResidenceAbroad:
    """REGION-5 from the patient's devices page: recorded on the patient's care episode at the
    prescriber's unit (opened if needed), and evaluated on each submit from then on. A
    certificate needs its last valid day; an expired one counts as none."""
    profile = prescriber_profile_for(ctx.user)
    unit = acting_unit_id(ctx.user, profile, unit_id)
    patient = patient_for_prescribing(ctx, patient_reference)
    if certificate != Certificate.NONE and certificate_valid_until is None:
        raise PrescriptionError(_("Valid until: give the certificate's last valid day."))
    episode = care_episode_open(patient=patient, unit_id=unit)
    return _residence_write(
        ctx=ctx,
        episode_id=episode.pk,
        country=country,
        country_group=country_group,
        certificate=certificate,
        certificate_valid_until=certificate_valid_until,
        swedish_citizen=swedish_citizen,
        last_registered_region_code=last_registered_region_code,
    )


def _residence_write(
    *,
    ctx: AccessContext,
    episode_id: int,
    country: str,
    country_group: str,
    certificate: str,
    certificate_valid_until: datetime.date | None,
    swedish_citizen: bool,
    last_registered_region_code: str | None,
) -> ResidenceAbroad:
    if len(country.strip()) != 2 or not country.strip().isalpha():
        raise PrescriptionError(_("Country: the two-letter country code."))
    if country_group not in CountryGroup.values or certificate not in Certificate.values:
        raise PrescriptionError(_("Choose the country group and certificate."))
    if (
        last_registered_region_code
        and not Region.objects.filter(pk=last_registered_region_code).exists()
    ):
        raise PrescriptionError(_("Last registered in: choose a region."))
    swede_outside = swedish_citizen and country_group == CountryGroup.OTHER
    if last_registered_region_code and not swede_outside:
        raise PrescriptionError(
            _("Last registered in: only for a Swede abroad outside the EU/EEA and the Nordics.")
        )
    residence, _created = ResidenceAbroad.objects.update_or_create(
        episode_id=episode_id,
        defaults={
            "country": country.strip().upper(),
            "country_group": country_group,
            "certificate": certificate,
            "certificate_valid_until": (
                None if certificate == Certificate.NONE else certificate_valid_until
            ),
            "swedish_citizen": swedish_citizen,
            "last_registered_region_id": last_registered_region_code or None,
            "recorded_by": ctx.user,
        },
    )
    return residence


@refusals_kept
@transaction.atomic
def special_delivery_agreement_record(
    *, ctx: AccessContext, patient_reference: str, details: dict[str, Any]
) -> SpecialDeliveryAgreement:
    """LEAK-3, the one exception to PRESC-2: a prescriber holding a grant (stepped up) records a
    special delivery agreement with a protected patient: address, phone, door code and
    instructions, encrypted at rest. Ends any earlier one. The write is audited (AUDIT-1)."""
    prescriber_profile_for(ctx.user)
    patient = patient_for_prescribing(ctx, patient_reference)
    if not patient_guarded(patient.pk):
        raise PrescriptionError(
            _("A special delivery agreement is only for a patient with protected identity.")
        )
    cleaned = {key: str(details.get(key, "")).strip() for key in SPECIAL_DELIVERY_KEYS}
    if not cleaned["address"]:
        raise PrescriptionError(_("Delivery address: give the agreed delivery address."))
    SpecialDeliveryAgreement.objects.filter(patient=patient, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    # The stubs type an encrypted JSON column as text; it takes the object.
    agreement = SpecialDeliveryAgreement.objects.create(  # type: ignore[misc]
        patient=patient, prescriber=ctx.user, details=cleaned
    )
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="special_delivery_agreement",
        object_id=str(agreement.pk),
    )
    return agreement


@transaction.atomic
def out_of_region_deactivate(*, ctx: AccessContext, invoice_mark_id: int) -> CareEpisode:
    """REGION-4: once an out-of-region prescription for hearing, diabetes or incontinence is
    invoiced, customer service deactivates the patient: the care episode closes and its live
    registration is deactivated. A returning patient gets a new episode, whose home region is
    read from the register again (REGION-1), and a new registration cleared again (REGION-3):
    that is the re-check of the paying region before reactivation. The billing floor calls
    this when it invoices; the admin offers it as an action until then."""
    if not holds_role_permission(ctx.user, CLEAR_PERMISSION):
        raise PrescriptionError(_("Only customer service can deactivate patients."))
    mark = (
        InvoiceMark.objects.select_for_update()
        .select_related("prescription")
        .filter(pk=invoice_mark_id)
        .first()
    )
    if mark is None or not mark.deactivate_after_invoicing:
        raise StateNotAllowed(
            _("Only out-of-region hearing, diabetes and incontinence patients are deactivated.")
        )
    if mark.invoiced_at is None:
        raise StateNotAllowed(
            _("%(number)s is not invoiced yet: deactivate after invoicing.")
            % {"number": mark.prescription.reference}
        )
    episode = CareEpisode.objects.select_for_update().get(pk=mark.prescription.episode_id)
    if episode.closed_at is not None:
        raise StateNotAllowed(_("The patient is already deactivated for this care episode."))
    if Prescription.objects.filter(episode=episode, state__in=OPEN_STATES).exists():
        raise StateNotAllowed(
            _("The care episode has open prescriptions: finish or cancel them first.")
        )
    now = timezone.now()
    episode.closed_at = now
    episode.save(update_fields=["closed_at"])
    live = (
        SupplyRegistration.objects.select_for_update()
        .filter(episode=episode)
        .exclude(state=RegistrationState.DEACTIVATED)
    )
    # One move per registration, each with its history row (in practice there is one).
    for registration in live.order_by("pk"):
        transition_apply(
            machine=REGISTRATION_MACHINE,
            obj=registration,
            to_state=RegistrationState.DEACTIVATED,
            by=ctx.user,
            note="REGION-4",
            deactivated_at=now,
        )
    return episode
