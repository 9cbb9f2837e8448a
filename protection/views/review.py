"""The log review (AUDIT-3) and the review of emergency accesses (ACCESS-7).

Staff are named by their full name; patients as the gate shows them to the reviewer
(``patient_labels_for_user``): a reviewer without a grant reads "Skyddade personuppgifter" and
the birth year (LEAK-1). Each patient named on a page is an access to patient data and is
logged once per page (AUDIT-1), not once per log row: reading the log must not multiply it.
Filters travel as GET parameters because they are internal references, usernames and dates; a
field that receives something looking like an identity number refuses it and does not echo it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from patients.identity import contains_identity_number
from patients.models import PATIENT_REFERENCE, AccessEntry
from patients.presenters import PatientCard
from protection import review
from protection.documents.selectors import forwarded_documents_for_review
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user
from protection.models import AccountSuspension, EmergencyAccess
from protection.permissions import (
    PROTECTION_ADMIN_PERMISSION,
    holds_role_permission,
    role_permission_required,
)
from protection.services import ProtectionError
from protection.services.accounts import account_suspension_lift
from protection.services.review import REVIEW_PERMISSION, emergency_access_review

LIST_LIMIT = 200


class AccessReviewFilterForm(forms.Form):
    patient = forms.CharField(
        label=gettext_lazy("Patient reference"),
        required=False,
        help_text=gettext_lazy("The internal reference, for example P-7N9357L3WM."),
    )
    username = forms.CharField(label=gettext_lazy("Username"), required=False)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    only_flagged = forms.BooleanField(
        label=gettext_lazy("Only highlighted entries"), required=False
    )

    def _refuse(self, name: str, message: str) -> ValidationError:
        """Blank the field first: the re-rendered form must not repeat what was typed, which
        may be a number or a name (LEAK-1)."""
        self.data = {**{key: self.data.get(key) for key in self.data}, name: ""}
        return ValidationError(message, code="refused")

    def clean_patient(self) -> str:
        value = str(self.cleaned_data.get("patient") or "").strip().upper()
        if not value or PATIENT_REFERENCE.fullmatch(value):
            return value
        if contains_identity_number(value):
            raise self._refuse(
                "patient",
                _("Give the internal reference (P- and ten characters), never a personnummer."),
            )
        raise self._refuse(
            "patient", _("Give the internal reference: P- followed by ten letters or digits.")
        )

    def clean_username(self) -> str:
        value = str(self.cleaned_data.get("username") or "").strip()
        if contains_identity_number(value):
            raise self._refuse("username", _("Give a username, never a personnummer."))
        return value

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        date_from, date_to = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class AccessSampleForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("Until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    size = forms.IntegerField(
        label=gettext_lazy("Number of entries"), min_value=1, max_value=LIST_LIMIT, initial=20
    )
    seed = forms.IntegerField(
        label=gettext_lazy("Seed"),
        required=False,
        min_value=0,
        max_value=review.SEED_LIMIT - 1,
        help_text=gettext_lazy(
            "Leave empty for a new sample; give the seed of an earlier sample to draw it again."
        ),
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        date_from, date_to = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class EmergencyReviewForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What the review found"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _patient_cards(
    request: HttpRequest, patient_ids: Iterable[int | None]
) -> dict[int, PatientCard]:
    """The page's patients as the gate shows them to the reviewer, one access entry each."""
    return patient_labels_for_user(
        ctx=AccessContext.from_request(request),
        rows=[(patient_id, "") for patient_id in patient_ids if patient_id is not None],
        object_type="access_log_review",
    )


def _with_cards(
    entries: Sequence[AccessEntry], cards: dict[int, PatientCard]
) -> list[tuple[AccessEntry, PatientCard | None]]:
    return [(e, cards.get(e.patient_id) if e.patient_id else None) for e in entries]


@never_cache
@login_required
@role_permission_required(review.MANAGER_PERMISSION)
@require_GET
def access_review_view(request: HttpRequest) -> HttpResponse:
    return _review_page(request, AccessReviewFilterForm(request.GET or None))


def _review_page(
    request: HttpRequest,
    form: AccessReviewFilterForm,
    *,
    refused: EmergencyReviewForm | None = None,
    refused_id: int | None = None,
) -> HttpResponse:
    """The log review page; ``refused`` is an emergency review the product did not accept, shown
    bound in its own row (what was typed stays) and summarised at the top, with status 400."""
    # The log is the managers' and administrators' whichever view shows it: the emergency
    # review's own permission does not open the log (AUDIT-3).
    if not holds_role_permission(request.user, review.MANAGER_PERMISSION):
        raise PermissionDenied

    entries: list[AccessEntry] | None = None
    if not form.is_bound or form.is_valid():
        filters = form.cleaned_data if form.is_bound else {}
        entries = list(
            review.access_entries_list_for_user(
                user=request.user,
                patient_reference=filters.get("patient") or None,
                username=filters.get("username") or None,
                date_from=filters.get("date_from"),
                date_to=filters.get("date_to"),
                only_flagged=bool(filters.get("only_flagged")),
                limit=LIST_LIMIT,
            )
        )
    forwarded = list(forwarded_documents_for_review(user=request.user))
    emergencies = list(review.emergency_accesses_to_review(user=request.user))
    cards = _patient_cards(
        request,
        [
            *(e.patient_id for e in entries or ()),
            *(access.patient_id for access in emergencies),
            *(subject.patient_id for job in forwarded for subject in job.subjects.all()),
        ],
    )

    def review_form(access_id: int) -> EmergencyReviewForm:
        if refused is not None and access_id == refused_id:
            return refused
        return EmergencyReviewForm(auto_id=f"id_review_{access_id}_%s")

    return render(
        request,
        "protection/review/list.html",
        {
            "form": form,
            "review_refused": refused,
            "entries": None if entries is None else _with_cards(entries, cards),
            "limit": LIST_LIMIT,
            # PRINT-2: documents printed for forwarding to another principal, with the reason.
            "forwarded": [
                (job, [(s.patient, cards.get(s.patient_id)) for s in job.subjects.all()])
                for job in forwarded
            ],
            # One form per row, with ids of its own so each label points at its own field.
            "emergencies": [
                (access, cards.get(access.patient_id), review_form(access.pk))
                for access in emergencies
            ],
            # ACCESS-10: changes to accounts, shown at once and all highlighted.
            "account_events": review.account_events_list_for_user(user=request.user),
            "suspensions": review.account_suspensions_list_for_user(user=request.user),
            "may_confirm": holds_role_permission(request.user, PROTECTION_ADMIN_PERMISSION),
        },
        status=400 if refused is not None else 200,
    )


@never_cache
@login_required
@role_permission_required(review.MANAGER_PERMISSION)
@require_GET
def access_sample_view(request: HttpRequest) -> HttpResponse:
    """The random sample for the systematic review that Patientdatalagen asks for."""
    form = AccessSampleForm(request.GET or None)
    sample = None
    if form.is_bound and form.is_valid():
        sample = review.access_entries_sample_for_user(
            user=request.user,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            size=form.cleaned_data["size"],
            seed=form.cleaned_data["seed"],
        )
    rows = None
    if sample is not None:
        cards = _patient_cards(request, (e.patient_id for e in sample.rows))
        rows = _with_cards(sample.rows, cards)
    return render(
        request, "protection/review/sample.html", {"form": form, "sample": sample, "rows": rows}
    )


@never_cache
@login_required
@role_permission_required(REVIEW_PERMISSION)
@require_POST
def emergency_access_review_view(request: HttpRequest, access_id: int) -> HttpResponse:
    form = EmergencyReviewForm(request.POST, auto_id=f"id_review_{access_id}_%s")
    if form.is_valid():
        try:
            emergency_access_review(
                ctx=AccessContext.from_request(request),
                access_id=access_id,
                note=form.cleaned_data["note"],
            )
        except EmergencyAccess.DoesNotExist as exc:
            raise Http404 from exc
        except ProtectionError as exc:
            form.add_error(None, str(exc))
    if form.errors:
        # The page again, with the note as typed beside its error (not a message that loses it).
        return _review_page(
            request, AccessReviewFilterForm(None), refused=form, refused_id=access_id
        )
    messages.success(request, _("Emergency access %(id)s is marked reviewed.") % {"id": access_id})
    return redirect("protection:review")


@never_cache
@login_required
@role_permission_required(PROTECTION_ADMIN_PERMISSION)
@require_POST
def account_suspension_lift_view(request: HttpRequest, suspension_id: int) -> HttpResponse:
    """ACCESS-10: a protection administrator confirms an account whose user has set their own
    password again."""
    try:
        suspension = account_suspension_lift(
            ctx=AccessContext.from_request(request), suspension_id=suspension_id
        )
    except AccountSuspension.DoesNotExist as exc:
        raise Http404 from exc
    except ProtectionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The account %(username)s is confirmed; its grants count again.")
            % {"username": suspension.user.get_full_name() or suspension.user.get_username()},
        )
    return redirect("protection:review")
