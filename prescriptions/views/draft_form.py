"""The draft form of the prescription page: one form with several buttons (issue 15, "nothing
typed is lost"). Which fields every action saves first, how they are read from the POST, saved
each through its service, and kept in the session (database-backed, never a URL or a log) when
step-up interrupts an action. The views in prescriptions/views/prescription.py use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from prescriptions.forms import (
    DeliveryForm,
    DetailsForm,
    LineChangeForm,
)
from prescriptions.selectors.prescription import PrescriptionDetail
from prescriptions.services.delivery import prescription_delivery_set
from prescriptions.services.drafts import prescription_details_set
from prescriptions.services.errors import PrescriptionError
from prescriptions.services.lines import (
    prescription_line_change,
)
from protection.gate import AccessContext

ErrorList = list[tuple[str, str]]

# The draft form's fields that every action saves first, and that wait in the session when
# step-up interrupts an action (with the search and the text fields of the other forms).
DETAILS_FIELDS = ("need", "urgency", "fitting_note")
DELIVERY_FIELDS = ("kind", "pickup_point")
KEPT_FIELDS = frozenset(
    {
        *DETAILS_FIELDS,
        *DELIVERY_FIELDS,
        "q",
        "area",
        "cancel-reason",
        "issuing_region",
        "agreement_reference",
        "issued_on",
        "supply",
    }
)
LINE_FIELD = re.compile(r"line-(\d+)-(quantity|supply|special_adaptation)")


def typed_session_key(number: str) -> str:
    """Where what was typed on a prescription's page waits while the user confirms the
    password (the prescription number only: no patient in the key)."""
    return f"prescription_typed:{number}"


def form_errors(form: forms.Form, section: str) -> ErrorList:
    """Each error with the field it belongs to, for the error summary (WCAG 3.3.1)."""
    found: ErrorList = []
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS:
            found += [(section, str(error)) for error in errors]
            continue
        field_ = form[name]
        anchor = field_.id_for_label or field_.auto_id or section
        found += [(anchor, f"{field_.label}: {error}") for error in errors]
    return found


@dataclass
class DraftForms:
    """The draft form's parts: each bound to what the POST carries of it, else showing what is
    saved (or, after step-up, what was typed)."""

    details: DetailsForm
    delivery: DeliveryForm | None
    lines: dict[int, LineChangeForm] = field(default_factory=dict)

    def all(self) -> list[tuple[str, str, forms.Form]]:
        """(key in the page's ``bound``, section of the error summary, form)."""
        parts: list[tuple[str, str, forms.Form]] = [
            (f"line-{pk}", "lines", form) for pk, form in self.lines.items()
        ]
        parts.append(("details", "details", self.details))
        if self.delivery is not None:
            parts.append(("delivery", "delivery", self.delivery))
        return parts

    def bound(self) -> dict[str, forms.Form]:
        return {key: form for key, _section, form in self.all()}

    def errors(self) -> ErrorList:
        found: ErrorList = []
        for _key, section, form in self.all():
            if form.is_bound and not form.is_valid():
                found += form_errors(form, section)
        return found


def draft_forms(
    detail: PrescriptionDetail,
    data: Mapping[str, Any] | None = None,
    typed: Mapping[str, Any] | None = None,
) -> DraftForms:
    """The draft's forms, bound to ``data`` where it carries them. ``typed`` (what was typed
    before a step-up) shows as the forms' values without being checked yet."""
    prescription = detail.prescription

    def sent(*names: str) -> bool:
        return data is not None and any(name in data for name in names)

    def shown(defaults: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        if not typed:
            return defaults
        values = dict(defaults)
        for name in defaults:
            key = f"{prefix}{name}"
            if key in typed:
                values[name] = typed[key]
        return values

    details = DetailsForm(
        data if sent(*DETAILS_FIELDS) else None,
        initial=shown(
            {
                "need": prescription.need,
                "urgency": prescription.urgency,
                "fitting_note": prescription.fitting_note,
            }
        ),
    )
    delivery = None
    # A protected patient's page offers no choice (PRESC-2); one sent all the same is bound, so
    # that the service refuses it on the page.
    if not prescription.patient_protected or sent("kind"):
        delivery = DeliveryForm(
            data if sent("kind") else None,
            initial=shown(
                {"kind": prescription.delivery_kind, "pickup_point": prescription.pickup_point_id}
            ),
        )
    lines: dict[int, LineChangeForm] = {}
    for line in detail.lines:
        prefix = f"line-{line.pk}"
        initial = shown(
            {
                "quantity": line.quantity,
                "supply": line.supply,
                "special_adaptation": line.special_adaptation,
            },
            f"{prefix}-",
        )
        if typed and f"{prefix}-quantity" in typed:
            # An unticked box is not sent: absent means not ticked.
            initial["special_adaptation"] = f"{prefix}-special_adaptation" in typed
        lines[line.pk] = LineChangeForm(
            data if sent(f"{prefix}-quantity") else None, prefix=prefix, initial=initial
        )
    return DraftForms(details=details, delivery=delivery, lines=lines)


def draft_save(ctx: AccessContext, detail: PrescriptionDetail, drafts: DraftForms) -> ErrorList:
    """Save what the draft form carries and the user changed, each part through its service.
    A refusal goes on the form it belongs to; the other parts are saved all the same."""
    prescription = detail.prescription
    reference = prescription.reference
    errors: ErrorList = []
    by_pk = {line.pk: line for line in detail.lines}
    for pk, form in drafts.lines.items():
        if not form.is_bound:
            continue
        line = by_pk[pk]
        data = form.cleaned_data
        if (data["quantity"], data["supply"], data["special_adaptation"]) == (
            line.quantity,
            line.supply,
            line.special_adaptation,
        ):
            continue
        try:
            prescription_line_change(ctx=ctx, reference=reference, line_id=pk, **data)
        except PrescriptionError as exc:
            form.add_error(None, str(exc))
            errors += form_errors(form, "lines")
    details = drafts.details
    if details.is_bound:
        data = details.cleaned_data
        if (data["need"], data["urgency"], data["fitting_note"]) != (
            prescription.need,
            prescription.urgency,
            prescription.fitting_note,
        ):
            try:
                prescription_details_set(ctx=ctx, reference=reference, **data)
            except PrescriptionError as exc:
                details.add_error(None, str(exc))
                errors += form_errors(details, "details")
    delivery = drafts.delivery
    if delivery is not None and delivery.is_bound:
        data = delivery.cleaned_data
        point = data.get("pickup_point")
        point_id = point.pk if point is not None else None
        if (data["kind"], point_id) != (prescription.delivery_kind, prescription.pickup_point_id):
            try:
                prescription_delivery_set(
                    ctx=ctx, reference=reference, kind=data["kind"], pickup_point_id=point_id
                )
            except PrescriptionError as exc:
                delivery.add_error(None, str(exc))
                errors += form_errors(delivery, "delivery")
    return errors
