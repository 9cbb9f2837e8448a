"""The patient register, split by who may see what.

``Patient`` holds what every staff member may see: an internal reference, birth year,
protection state, home region and register status. ``PatientIdentity`` holds what identifies
or locates the person: numbers, name, addresses, phone. Masking (ACCESS-1, LEAK-1) therefore has
one table to guard. Everything in it that identifies or locates the person is encrypted at rest
by the application (LEAK-3, LEAK-6), and so are the numbers of relations and number changes: the
database, which never holds the keys, has no name, number or address to give away, whoever
asks it and whatever they set.
"""

from __future__ import annotations

import re
import secrets

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Left, Now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patients.crypto import IDENTITY_DIGEST_LENGTH
from patients.fields import EncryptedJSONField, EncryptedNumberField, EncryptedTextField

# Crockford-style alphabet without look-alike characters: references are read over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


# What a reference looks like, for forms that take one (never a personnummer).
PATIENT_REFERENCE = re.compile(r"P-[0-9A-Z]{10}")


def random_reference(prefix: str, length: int) -> str:
    """A random reference: ``prefix`` and ``length`` characters of a 32-letter alphabet (5 random
    bits each). Random, not sequential: it reveals neither order nor count."""
    bits = secrets.randbits(5 * length)
    return prefix + "".join(
        _REFERENCE_ALPHABET[(bits >> shift) & 31] for shift in range(0, 5 * length, 5)
    )


def new_patient_reference() -> str:
    """A patient's internal reference: ten characters, 50 random bits."""
    return random_reference("P-", 10)


# What a sealed number starts with (patients.fields.EncryptedNumberField).
_DIGEST_FORM = rf"^[0-9a-f]{{{IDENTITY_DIGEST_LENGTH}}}$"


class Region(models.Model):
    """One of Sweden's 21 regions, keyed by the register's county code (LanKod)."""

    county_code = models.CharField(_("county code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    county_letter = models.CharField(_("county letter"), max_length=2)

    class Meta:
        ordering = ["county_code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return f"{self.county_code} {self.name}"


@pghistory.track(append_only=True)
class Unit(models.Model):
    """A care or prescribing unit; staff act on behalf of one (AUDIT-1 records which)."""

    name = models.CharField(_("name"), max_length=200)
    hsa_id = models.CharField(_("HSA-id"), max_length=64, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("region"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.name


@pghistory.track(append_only=True)
class StaffProfile(models.Model):
    """A user's working identity: HSA-id and the unit they act for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("user"),
    )
    hsa_id = models.CharField(_("HSA-id"), max_length=64, unique=True, null=True, blank=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("unit")
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        # The admin's heading and breadcrumbs: the person, as colleagues know them.
        return str(self.user.get_full_name() or self.user.get_username())


class PatientStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DECEASED = "deceased", _("Deceased")
    EMIGRATED = "emigrated", _("Emigrated")
    INACTIVE = "inactive", _("Deregistered")


class RegistrationSource(models.TextChoices):
    REGISTER = "register", _("Population register")
    HAND = "hand", _("Registered by hand")


# Write history (who changed what, when, from which page: pghistory's context). Updates only:
# patients are created in bulk by the register import, which records each file it applied.
@pghistory.track(pghistory.UpdateEvent(), append_only=True)
class Patient(models.Model):
    """What every staff member may see about a patient. Never a name or a number."""

    reference = models.CharField(
        _("reference"), max_length=12, unique=True, default=new_patient_reference, editable=False
    )
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    home_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("home region")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PatientStatus.choices, default=PatientStatus.ACTIVE
    )
    deregistration_code = models.CharField(
        _("deregistration code"), max_length=2, blank=True, default=""
    )
    # PROT-1 register kinds, as the latest register record says.
    confidentiality_marking = models.BooleanField(_("sekretessmarkering"), default=False)
    protected_registration = models.BooleanField(_("skyddad folkbokföring"), default=False)
    # PROT-3/PROT-4: protection the register no longer reports is held until a protection
    # administrator records a decision; nothing is revealed by the register alone.
    protection_held = models.BooleanField(_("protection held for review"), default=False)
    # PROT-1 kinds decided in health care; the decisions themselves live on the protection
    # floor, which sets these through its services.
    local_protection = models.BooleanField(_("local protection"), default=False, db_default=False)
    local_protection_until = models.DateField(_("local protection until"), null=True, blank=True)
    reserve_number_protection = models.BooleanField(
        _("reservnummer protection"), default=False, db_default=False
    )
    # LETTER-3: the person has a digital mailbox, so letters go there first. Not identifying,
    # so it lives here, where the letter service reads it without opening the identity.
    has_digital_mailbox = models.BooleanField(
        _("has a digital mailbox"), default=False, db_default=False
    )
    # The one flag every access check reads. Generated by Postgres so no code path can set it
    # inconsistently with the kinds above.
    is_protected = models.GeneratedField(
        # A Q is a valid generated expression in Django; the stubs only admit Expression.
        expression=Q(confidentiality_marking=True)  # type: ignore[arg-type]
        | Q(protected_registration=True)
        | Q(protection_held=True)
        | Q(local_protection=True)
        | Q(reserve_number_protection=True),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("protected identity"),
    )
    # REG-1: who registered the patient by hand, and when; the register import turns the source
    # back to "register" when it matches the person (and writes a register event saying so).
    registration_source = models.CharField(
        _("registered from"),
        max_length=16,
        choices=RegistrationSource.choices,
        default=RegistrationSource.REGISTER,
        db_default=RegistrationSource.REGISTER,
    )
    hand_registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by hand by"),
    )
    hand_registered_at = models.DateTimeField(_("registered by hand"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [models.Index(fields=["is_protected"], name="patient_protected_idx")]
        permissions = [
            # Held only as a personal object permission from a grant (ACCESS-1/2); the gate
            # never accepts it as a global or group permission.
            ("view_protected_identity", _("Can see a protected patient's identity")),
            # A role's: the admin's patient list holds protected patients, masked (ACCESS-1).
            ("list_protected", _("Can list protected patients, masked, in the admin")),
            # REG-1: customer service, acting as the administration unit.
            ("register_by_hand", _("Can register a patient the register does not give")),
            # REG-2: the prescribing unit.
            ("record_reserve_number", _("Can issue or record a reservnummer")),
            # REG-2: told of every reservnummer issued or linked (the administration unit).
            ("receive_reserve_number_notice", _("Is told of reservnummer issued")),
            # REG-3: customer service's button on the patient page.
            ("refresh_from_register", _("Can refresh a patient from the register")),
        ]

    def __str__(self) -> str:
        return self.reference

    def __repr__(self) -> str:
        return f"<Patient {self.reference}>"


# That an identity changed, and by whom, but never what it holds: the history table is not
# guarded like the identity table, so it stores no identifying value.
@pghistory.track(
    pghistory.UpdateEvent(),
    fields=["updated_at"],
    model_name="PatientIdentityEvent",
    append_only=True,
)
class PatientIdentity(models.Model):
    """What identifies or locates a patient. Read only through the access selectors."""

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, primary_key=True, related_name="identity"
    )
    # LEAK-6: numbers and names are encrypted like the address; numbers are found by a keyed
    # digest (patients.fields.EncryptedNumberField), which also makes them unique.
    personal_identity_number = EncryptedNumberField(
        _("personnummer or samordningsnummer"),
        canonical=r"[0-9]{12}",
        null=True,
        blank=True,
        digest_column="number_digest",
    )
    reserve_number = EncryptedNumberField(
        _("reservnummer"), null=True, blank=True, digest_column="reserve_digest"
    )
    # The numbers' digests as columns of their own, kept by PostgreSQL: what every lookup by
    # number and the PROT-5 joins compare, through plain indexes that row-level security lets
    # the planner use (patients.fields.EncryptedNumberField.digest_column).
    number_digest = models.GeneratedField(
        expression=Left("personal_identity_number", IDENTITY_DIGEST_LENGTH),
        output_field=models.CharField(max_length=IDENTITY_DIGEST_LENGTH, null=True),
        db_persist=True,
    )
    reserve_digest = models.GeneratedField(
        expression=Left("reserve_number", IDENTITY_DIGEST_LENGTH),
        output_field=models.CharField(max_length=IDENTITY_DIGEST_LENGTH, null=True),
        db_persist=True,
    )
    reserve_number_format = models.CharField(max_length=20, blank=True, default="")
    given_names = EncryptedTextField(_("given names"), blank=True, default="")
    middle_name = EncryptedTextField(_("middle name"), blank=True, default="")
    surname = EncryptedTextField(_("surname"), blank=True, default="")
    # Tilltalsnamnsmarkering: which given name is in use (e.g. 10 = the first, 20 = the second).
    name_in_use_marker = models.PositiveSmallIntegerField(null=True, blank=True)
    # LEAK-3: everything that can locate the person is encrypted at rest.
    registered_address = EncryptedJSONField(_("registered address"), null=True, blank=True)
    special_postal_address = EncryptedJSONField(_("special postal address"), null=True, blank=True)
    foreign_address = EncryptedJSONField(_("address abroad"), null=True, blank=True)
    municipality_code = EncryptedTextField(_("municipality code"), null=True, blank=True)
    phone = EncryptedTextField(_("phone"), null=True, blank=True)
    # LETTER-3: e-mail only at the person's own recorded request; the address locates them.
    email = EncryptedTextField(_("e-mail"), null=True, blank=True)
    email_requested_at = models.DateTimeField(
        _("asked for letters by e-mail"), null=True, blank=True
    )
    deregistration_date = models.CharField(max_length=8, blank=True, default="")
    # Keyed digest of the last applied register record: an unchanged record is skipped.
    register_digest = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("patient identity")
        verbose_name_plural = _("patient identities")
        constraints = [
            models.CheckConstraint(
                condition=Q(personal_identity_number__isnull=False)
                | Q(reserve_number__isnull=False),
                name="identity_has_a_number",
            ),
            # A number is stored sealed or not at all: a plain number written by any other
            # path than the field is refused.
            models.CheckConstraint(
                condition=Q(personal_identity_number__digest__regex=_DIGEST_FORM)
                | Q(personal_identity_number__isnull=True),
                name="identity_number_sealed",
            ),
            models.CheckConstraint(
                condition=Q(reserve_number__digest__regex=_DIGEST_FORM)
                | Q(reserve_number__isnull=True),
                name="identity_reserve_number_sealed",
            ),
            # As expressions, so that they are unique indexes (not table constraints), which
            # the register's first load drops and builds again by name (patients 0014).
            models.UniqueConstraint(F("number_digest"), name="identity_number_unique"),
            models.UniqueConstraint(F("reserve_digest"), name="identity_reserve_number_unique"),
        ]

    def __str__(self) -> str:
        return f"identity:{self.patient_id}"

    def __repr__(self) -> str:
        return f"<PatientIdentity {self.patient_id}>"


class RelationKind(models.TextChoices):
    CHILD = "B", _("Child")
    MOTHER = "MO", _("Mother")
    FATHER = "FA", _("Father")
    PARENT = "F", _("Parent")
    GUARDIAN = "V", _("Guardian")
    GUARDIAN_OF = "VF", _("Child in custody")
    SPOUSE = "M", _("Spouse")
    PARTNER = "P", _("Registered partner")


class PatientRelation(models.Model):
    """A relation from the register (PROT-5: relations of a protected person are masked too).

    The related person is kept by number, since they need not be a patient; the number is
    identifying data and is read through the same selectors as ``PatientIdentity``.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(max_length=2, choices=RelationKind.choices)
    # Sealed with the identity's digests, so PROT-5 joins the two by digest.
    related_identity_number = EncryptedNumberField(digest_column="related_digest")
    related_digest = models.GeneratedField(
        expression=Left("related_identity_number", IDENTITY_DIGEST_LENGTH),
        output_field=models.CharField(max_length=IDENTITY_DIGEST_LENGTH),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                F("patient"), F("kind"), F("related_digest"), name="relation_unique"
            ),
            models.CheckConstraint(
                condition=Q(related_identity_number__digest__regex=_DIGEST_FORM),
                name="relation_number_sealed",
            ),
        ]
        indexes = [models.Index(fields=["related_digest"], name="relation_number_idx")]

    def __str__(self) -> str:
        return f"relation:{self.pk}"


class RegisterFile(models.Model):
    """A population-register file that has been applied; the key makes the import idempotent."""

    identity_key = models.CharField(_("file identity"), max_length=200, unique=True)
    file_name = models.CharField(_("file name"), max_length=255)
    order_id = models.CharField(_("order id"), max_length=40, blank=True, default="")
    file_number = models.PositiveIntegerField(_("file number"), null=True, blank=True)
    content_sha256 = models.CharField(_("SHA-256 of the content"), max_length=64)
    imported_at = models.DateTimeField(_("imported"), db_default=Now())
    summary = models.JSONField(_("summary"), default=dict)

    class Meta:
        verbose_name = _("register file")
        verbose_name_plural = _("register files")

    def __str__(self) -> str:
        return self.file_name


class QuarantinedRecord(models.Model):
    """A register record that could not be applied, kept with its reason so nothing is lost."""

    register_file = models.ForeignKey(
        RegisterFile,
        on_delete=models.PROTECT,
        related_name="quarantined",
        verbose_name=_("register file"),
    )
    position = models.PositiveIntegerField(_("position in the file"))
    post_id = models.CharField(_("PostId"), max_length=16, blank=True, default="")
    reason = models.CharField(_("reason"), max_length=300)
    # The record as delivered, encrypted: it holds personal data and may be a protected person.
    record_xml = EncryptedTextField(_("record"))
    created_at = models.DateTimeField(_("quarantined"), db_default=Now())
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["register_file_id", "position"]
        verbose_name = _("quarantined record")
        verbose_name_plural = _("quarantined records")

    def __str__(self) -> str:
        return f"quarantine:{self.register_file_id}:{self.position}"


class RegisterEventKind(models.TextChoices):
    PROTECTION_ADDED = "protection_added", _("Protection added by the register")
    PROTECTION_REMOVED = "protection_removed", _("Protection dropped by the register")
    DECEASED = "deceased", _("Deceased")
    EMIGRATED = "emigrated", _("Emigrated")
    NUMBER_CHANGED = "number_changed", _("Identity number replaced")
    # REG-1: the register sent a person registered by hand; the same patient now follows it.
    HAND_REGISTRATION_MATCHED = "hand_matched", _("Registered by hand, now found in the register")


class RegisterEvent(models.Model):
    """What the register changed that higher floors must react to.

    The patients floor cannot call protection or logistics; it writes these rows and their
    tasks pick them up (PROT-4 notifications, PRINT-3 withdrawals), marking ``handled_at``.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="register_events")
    kind = models.CharField(max_length=32, choices=RegisterEventKind.choices)
    register_file = models.ForeignKey(RegisterFile, on_delete=models.PROTECT)
    created_at = models.DateTimeField(db_default=Now())
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["kind"], condition=Q(handled_at__isnull=True), name="event_unhandled_idx"
            )
        ]

    def __str__(self) -> str:
        return f"event:{self.pk}"


class NumberChange(models.Model):
    """History of HanvisningsPersonNr: the patient moved from the old number to the new one."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="number_changes")
    old_number = EncryptedNumberField()
    new_number = EncryptedNumberField()
    register_file = models.ForeignKey(RegisterFile, on_delete=models.PROTECT)
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"number-change:{self.pk}"


class AccessAction(models.TextChoices):
    SEARCH = "search", pgettext_lazy("access action", "Search")
    SEARCH_HIT = "search_hit", _("Search hit")
    READ = "read", _("Read")
    CHANGE = "change", _("Change")
    EXPORT = "export", _("Export")
    PRINT = "print", _("Print")
    GRANT = "grant", _("Access grant changed")
    BREAK_GLASS = "break_glass", _("Emergency access")
    STEP_UP = "step_up", _("Password confirmed")


class AccessOutcome(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    DENIED = "denied", _("Denied")
    NO_MATCH = "no_match", _("No match")


class AccessEntry(models.Model):
    """AUDIT-1: who, in which unit, when, what, which patient, from where, with what outcome.

    Carries no personal data beyond the internal patient id (AUDIT-4): never a search term.
    """

    at = models.DateTimeField(_("when"), db_default=Now(), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("user"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("unit")
    )
    action = models.CharField(_("action"), max_length=16, choices=AccessAction.choices)
    object_type = models.CharField(_("object type"), max_length=40, blank=True, default="")
    object_id = models.CharField(_("object"), max_length=40, blank=True, default="")
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        related_name="access_entries",
        verbose_name=_("patient"),
    )
    patient_protected = models.BooleanField(_("protected identity"), default=False)
    outcome = models.CharField(_("outcome"), max_length=16, choices=AccessOutcome.choices)
    ip_address = models.GenericIPAddressField(_("address"), null=True)
    # A digest of the session key: enough to tie entries of one session together.
    session_ref = models.CharField(_("session"), max_length=16, blank=True, default="")
    # AUDIT-2 hash chain, written once by the database's sealing function (through
    # ``patients.audit.access_entries_seal``) after the entry has committed, so that inserting an
    # entry takes no lock; the application role cannot write these columns itself. All four are
    # NULL until the entry is sealed and never change afterwards (a database trigger refuses any
    # other update). The chain runs in ``chain_seq`` order, which is sealing order, not id order.
    chain_seq = models.BigIntegerField(_("position in the chain"), null=True, unique=True)
    # NULL, not "", means "not sealed": the constraint and the trigger below rely on it.
    prev_hash = models.CharField(_("previous hash"), max_length=64, null=True)  # noqa: DJ001
    entry_hash = models.CharField(_("hash"), max_length=64, null=True)  # noqa: DJ001
    sealed_at = models.DateTimeField(_("sealed"), null=True)

    class Meta:
        verbose_name = _("access entry")
        verbose_name_plural = _("access entries")
        indexes = [
            models.Index(fields=["patient", "at"], name="access_patient_at_idx"),
            # The sealer's queue: small, since entries leave it within a minute or so.
            models.Index(
                fields=["id"], condition=Q(chain_seq__isnull=True), name="access_unsealed_idx"
            ),
        ]
        constraints = [
            # Sealed entirely or not at all: a half-written link cannot be verified.
            models.CheckConstraint(
                condition=Q(
                    chain_seq__isnull=True,
                    prev_hash__isnull=True,
                    entry_hash__isnull=True,
                    sealed_at__isnull=True,
                )
                | Q(
                    chain_seq__gte=1,
                    prev_hash__regex=r"^[0-9a-f]{64}$",
                    entry_hash__regex=r"^[0-9a-f]{64}$",
                    sealed_at__isnull=False,
                ),
                name="access_sealed_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"access:{self.pk}"


class Notification(models.Model):
    """A message to one user in the product. LEAK-2: the subject never names a person; it
    carries a case or order number or an internal reference only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True, default="")
    created_at = models.DateTimeField(_("sent"), db_default=Now())
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            )
        ]

    def __str__(self) -> str:
        return f"notification:{self.pk}"
