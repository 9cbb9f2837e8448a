"""PRINT-3: when a patient becomes protected, their queued print jobs are cancelled and their
stored documents withdrawn (the content removed, the row kept), with the linked persons' (PROT-5).

Documents made for the protection stay: a copy forwarded under PRINT-2, a letter through
Skatteverket (LETTER-1), an identity-free paper. So do immutable records (a kind declared
``record``: an issued invoice, a signed adaptation document): a correction is a new document.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patients.models import Patient, PatientIdentity, PatientRelation
from patients.services import notification_send
from patients.tasking import task_send
from protection.documents import kinds
from protection.documents.services.ban import shown_reason
from protection.documents.services.jobs import OPEN_STATES, WITHDRAW_TASK, job_close, job_move
from protection.gate import guarding_patient_ids, linked_patient_ids
from protection.models import Document, DocumentJob, DocumentJobPatient, DocumentRoute
from protection.models import DocumentState as S
from protection.rls import system_context

WITHDRAWN_PROTECTED = gettext_noop(
    "Withdrawn: a patient the document concerns now has protected identity."
)


def _withdrawable() -> Q:
    """The jobs PRINT-3 acts on: open ones, and stored ones that are not records."""
    return Q(state__in=OPEN_STATES) | Q(state=S.READY, record=False)


def _jobs_for(patient_ids: list[int]) -> QuerySet[DocumentJob]:
    return DocumentJob.objects.filter(
        _withdrawable(),
        pk__in=DocumentJobPatient.objects.filter(
            patient_id__in=patient_ids, route=DocumentRoute.ORDINARY
        ).values("job_id"),
    )


@transaction.atomic
def documents_withdraw_for_patient(*, patient_id: int) -> int:
    """PRINT-3 for one patient who became protected, and the persons linked to them. Idempotent:
    returns how many jobs it changed. The requesters are told by job number (LEAK-2)."""
    with system_context():
        if not Patient.objects.filter(pk=patient_id, is_protected=True).exists():
            return 0
        jobs = list(_jobs_for(linked_patient_ids(patient_id)).select_for_update().order_by("pk"))
        now = timezone.now()
        for job in jobs:
            reason = shown_reason(kinds.get(job.kind), WITHDRAWN_PROTECTED)
            if job.state == S.READY:
                Document.objects.filter(pk=job.pk).update(content=None, withdrawn_at=now)
                job_move(job, S.WITHDRAWN, note="PRINT-3", state_reason=reason)
            else:
                job_close(job, S.CANCELLED, note="PRINT-3", reason=reason)
        requesters = get_user_model().objects.in_bulk({job.requested_by_id for job in jobs})
        for job in jobs:
            notification_send(
                user=requesters.get(job.requested_by_id),
                subject=_("Document %(id)s withdrawn") % {"id": job.pk},
                body=_(job.state_reason),
            )
    return len(jobs)


def withdraw_send(patient_id: int) -> None:
    """Send the PRINT-3 task: a ``protection.registry.protection_added_handlers`` entry
    (``ProtectionConfig.ready``), called once the transaction that protected the patient
    commits. A lost message is found by the sweeper (PRINT-3's safety net)."""
    task_send(WITHDRAW_TASK, patient_id, what="withdrawal for patient")


def protected_with_open_documents() -> list[int]:
    """The protected patients whose guard covers a subject of an ordinary document still open
    or stored (not a record): the subject itself, or a person the register links to them
    (PROT-5). The PRINT-3 run for each withdraws the documents of the patient and of their
    linked persons."""
    with system_context():  # the links are found in rows no user context may see
        # Numbers are sealed (LEAK-6): compared by their digests.
        protected_numbers = PatientIdentity.objects.filter(
            patient__is_protected=True, personal_identity_number__isnull=False
        ).values("personal_identity_number__digest")
        numbers_linked_to_protected = PatientRelation.objects.filter(
            patient__is_protected=True
        ).values("related_identity_number__digest")
        subjects = (
            DocumentJobPatient.objects.filter(
                Q(patient__is_protected=True)
                | Q(patient__relations__related_identity_number__digest__in=protected_numbers)
                | Q(
                    patient__identity__personal_identity_number__digest__in=(
                        numbers_linked_to_protected
                    )
                ),
                route=DocumentRoute.ORDINARY,
                job__in=DocumentJob.objects.filter(_withdrawable()),
            )
            .values_list("patient_id", flat=True)
            .distinct()
        )
        guarding: set[int] = set()
        for patient in Patient.objects.select_related("identity").filter(pk__in=list(subjects)):
            try:
                guarding.update(guarding_patient_ids(patient, patient.identity))
            except PatientIdentity.DoesNotExist:  # no identity row: no register links either
                guarding.add(patient.pk)
    return sorted(guarding)
