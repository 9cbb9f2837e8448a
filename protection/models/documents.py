"""Documents and letters: every PDF the product makes, and the record of how it was made.

A ``DocumentJob`` is the record of a document someone asked for: the database, not the broker,
says what must be rendered (the sweeper re-enqueues what a lost message left behind). It holds
the snapshot of what the document shows, taken when it was asked for and encrypted at rest, so
the worker prints what was asked for and never newer data. Its state moves only through
``patients.transitions`` with the machine ``protection.documents.services.jobs.DOCUMENT_JOB``,
each move written as a ``DocumentJobTransition``. A job is rendered into at most one
``Document`` (a unique key), so a message delivered twice or a worker killed mid-render never
makes two. Stored content is immutable: a trigger lets it change only to nothing, when PRINT-3
withdraws it. Letters are immutable once issued (LETTER-1..3); a correction is a new letter.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from patients.fields import EncryptedBinaryField, EncryptedJSONField, EncryptedTextField
from patients.models import Patient, Unit
from patients.transitions import TransitionRecord


class DocumentState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RENDERING = "rendering", _("Being made")
    READY = "ready", _("Ready")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    FAILED = "failed", _("Failed")


class DocumentRoute(models.TextChoices):
    """On what ground a document about a patient may exist at all (PRINT-1/2, LETTER-1)."""

    ORDINARY = "ordinary", _("Ordinary")
    # PRINT-2: printed to be forwarded to another principal, with a recorded reason.
    FORWARDED = "forwarded", _("Forwarded to another principal")
    # LETTER-1: a letter through Skatteverket's forwarding service.
    FORWARDING_LETTER = "forwarding_letter", _("Letter through Skatteverket")
    # PRINT-1: a paper that moves goods (a delivery note, a label), made with no identity.
    IDENTITY_FREE = "identity_free", _("Without identity")


class DocumentBatch(models.Model):
    """Several jobs asked for together; the documents page shows their progress."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=40)
    created_at = models.DateTimeField(_("asked for"), db_default=Now())

    def __str__(self) -> str:
        return f"document-batch:{self.pk}"


class DocumentJob(models.Model):
    """One document asked for. Holds personal data only encrypted (the snapshot): patients by
    foreign key, parameters that are internal ids (LEAK-1), the reason of a PRINT-2 forwarding
    checked for numbers."""

    kind = models.CharField(_("kind"), max_length=40)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("asked for by"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("unit")
    )
    patients = models.ManyToManyField(Patient, through="DocumentJobPatient", related_name="+")
    batch = models.ForeignKey(
        DocumentBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="jobs"
    )
    # PRINT-2: to whom the document is forwarded and why; empty on other routes.
    forward_to = models.CharField(_("forwarded to"), max_length=200, blank=True, default="")
    forward_reason = models.TextField(_("reason for printing"), blank=True, default="")
    # Internal ids only (a letter's id, say): these travel nowhere but the database.
    params = models.JSONField(default=dict, blank=True)
    # What the document shows, taken when it was asked for (the kind's build_snapshot), as the
    # requester saw it. Encrypted at rest: it holds names and addresses (LEAK-6).
    snapshot = EncryptedJSONField(_("snapshot"), null=True, blank=True)
    # The kind's declaration when asked for: a stored record is never withdrawn (PRINT-3).
    record = models.BooleanField(_("immutable record"), default=False)
    state = models.CharField(
        _("state"), max_length=16, choices=DocumentState.choices, default=DocumentState.QUEUED
    )
    # Shown to the user: why it was refused or failed, in words they can act on.
    state_reason = models.CharField(_("why"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("asked for"), db_default=Now())
    # When the render task was last sent: the sweeper re-sends a job queued too long.
    enqueued_at = models.DateTimeField(db_default=Now())
    # The claim of the worker rendering it: a claim whose lease ran out (the worker died) can
    # be taken by another; the token tells the first worker it lost the job.
    claim_token = models.UUIDField(null=True, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("document job")
        verbose_name_plural = _("document jobs")
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="document_job_user_idx"),
            # The sweeper's work: small, since jobs leave these states within seconds.
            models.Index(
                fields=["state", "enqueued_at"],
                condition=Q(state__in=["queued", "rendering"]),
                name="document_job_open_idx",
            ),
        ]
        constraints = [
            # PRINT-2: a receiver and a reason, or neither.
            models.CheckConstraint(
                condition=Q(forward_reason__gt="", forward_to__gt="")
                | Q(forward_reason="", forward_to=""),
                name="document_job_forward_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"document-job:{self.pk}"


class DocumentJobPatient(models.Model):
    """Which patients a document concerns: what PRINT-1 checks and PRINT-3 acts on."""

    job = models.ForeignKey(DocumentJob, on_delete=models.CASCADE, related_name="subjects")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    # Decided when the document was asked for. PRINT-3 withdraws ordinary documents only: a
    # forwarded one (PRINT-2) or a letter through Skatteverket was made for a protected patient.
    route = models.CharField(
        _("route"), max_length=20, choices=DocumentRoute.choices, default=DocumentRoute.ORDINARY
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "patient"], name="document_job_patient_unique")
        ]
        indexes = [models.Index(fields=["patient", "route"], name="document_subject_patient_idx")]

    def __str__(self) -> str:
        return f"document-job-patient:{self.pk}"


class DocumentJobTransition(TransitionRecord):
    """History of a job's state: who (nobody for a worker), when, from, to, and why."""

    job = models.ForeignKey(DocumentJob, on_delete=models.CASCADE, related_name="transitions")

    class Meta(TransitionRecord.Meta):
        verbose_name = _("document job transition")
        verbose_name_plural = _("document job transitions")

    def __str__(self) -> str:
        return f"document-job-transition:{self.pk}"


class Document(models.Model):
    """The rendered PDF of one job. One per job (the primary key is the job), so a job is
    never rendered into two documents; the content never changes except to nothing (PRINT-3)."""

    job = models.OneToOneField(
        DocumentJob, on_delete=models.PROTECT, primary_key=True, related_name="document"
    )
    # LEAK-6: encrypted by the application, so the database holds no readable paper about
    # anyone, a protected person's least of all, whoever queries it.
    content = EncryptedBinaryField(null=True)
    content_sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    pages = models.PositiveIntegerField()
    created_at = models.DateTimeField(db_default=Now())
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        triggers = [
            # Issued documents are immutable snapshots (house rule 7): the only change allowed
            # is the withdrawal that removes the content (PRINT-3).
            pgtrigger.Protect(
                name="document_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__content_sha256__df=pgtrigger.F("new__content_sha256"))
                | pgtrigger.Q(old__created_at__df=pgtrigger.F("new__created_at"))
                | pgtrigger.Q(
                    new__content__isnull=False,
                    old__content__df=pgtrigger.F("new__content"),
                ),
            ),
            pgtrigger.Protect(name="document_kept", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"document:{self.pk}"


class LetterChannel(models.TextChoices):
    """LETTER-3: digital first, e-mail only at the person's request, else paper."""

    DIGITAL = "digital", _("Digital mailbox")
    EMAIL = "email", _("E-mail at the person's request")
    FORWARDING = "forwarding", _("Paper through Skatteverket's forwarding service")
    POST = "post", _("Paper to the registered address")


class Letter(models.Model):
    """A letter to a patient, composed from a template. Immutable once issued (a trigger)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("sending unit")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    template = models.CharField(_("template"), max_length=40)
    # LETTER-3, LEAK-2: checked to carry no identity number and no name of the patient.
    subject = models.CharField(_("subject"), max_length=120)
    # LEAK-6: a letter's text may name and locate its reader: encrypted at rest.
    body = EncryptedTextField(_("text"))
    registered = models.BooleanField(_("registered letter"), default=False)
    channel = models.CharField(_("sent by"), max_length=16, choices=LetterChannel.choices)
    issued_at = models.DateTimeField(_("issued"), db_default=Now())
    # Several letters may be made in one job: they share an outer envelope (LETTER-1).
    job = models.ForeignKey(DocumentJob, on_delete=models.PROTECT, related_name="letters")

    class Meta:
        verbose_name = _("letter")
        verbose_name_plural = _("letters")
        triggers = [
            # House rule 7: an issued letter is a snapshot; a correction is a new letter.
            pgtrigger.Protect(
                name="letter_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__subject__df=pgtrigger.F("new__subject"))
                | pgtrigger.Q(old__body__df=pgtrigger.F("new__body"))
                | pgtrigger.Q(old__template__df=pgtrigger.F("new__template"))
                | pgtrigger.Q(old__patient_id__df=pgtrigger.F("new__patient_id"))
                | pgtrigger.Q(old__unit_id__df=pgtrigger.F("new__unit_id"))
                | pgtrigger.Q(old__registered__df=pgtrigger.F("new__registered"))
                | pgtrigger.Q(old__channel__df=pgtrigger.F("new__channel"))
                | pgtrigger.Q(old__job_id__df=pgtrigger.F("new__job_id")),
            ),
            pgtrigger.Protect(name="letter_kept", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"letter:{self.pk}"
