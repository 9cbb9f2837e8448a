"""CAT-1: the catalogue owners' pages: agreements and their rows, the assortment, the roles.

No route takes an id: rows, articles and users are named in the posted form and looked up by the
services, which check the actor's role and ownership themselves (a foreign row is refused with a
message next to the field, as a mistyped one is). No page shows patient data.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from patients import roles
from prescriptions.models import (
    Agreement,
    AgreementKind,
    AgreementRow,
    AgreementRowState,
    AgreementState,
    Article,
    ArticleKind,
    AssortmentPeriod,
    ProductArea,
    Supplier,
    SupplierUser,
    Supply,
)
from prescriptions.selectors.ownership import agreement_history_for_owner
from prescriptions.services.errors import FieldRefused, PrescriptionError
from prescriptions.services.ownership import (
    ASSIGN_ROLES,
    OWN_AGREEMENTS,
    PUBLISH,
    REGISTER_ROWS,
    agreement_create,
    agreement_row_approve,
    agreement_row_refuse,
    agreement_row_register,
    agreement_state_set,
    article_publish,
    article_withdraw,
    catalogue_role_give,
    catalogue_role_take,
)
from protection.permissions import holds_role_permission, role_permission_required

ROLE_LABELS = {
    roles.AGREEMENT_OWNER: gettext_lazy("Agreement owner"),
    roles.SUPPLIER_USER: gettext_lazy("Supplier user"),
    roles.ASSORTMENT_OWNER: gettext_lazy("Assortment owner"),
    roles.CATALOGUE_SEARCH: gettext_lazy("Product and agreement search"),
}


def _refused(form: forms.Form, error: PrescriptionError) -> None:
    # The message goes next to the field it names; otherwise to the top of the form.
    field = getattr(error, "field", None)
    shown = field in form.fields and not form.fields[field].widget.is_hidden
    form.add_error(field if shown else None, str(error))


class AgreementForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Agreement code"), max_length=64)
    supplier = forms.ModelChoiceField(
        label=gettext_lazy("Supplier"), queryset=Supplier.objects.order_by("name")
    )
    kind = forms.ChoiceField(label=gettext_lazy("Agreement type"), choices=AgreementKind.choices)
    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=[(s.value, s.label) for s in (AgreementState.DRAFT, AgreementState.ACTIVE)],
    )
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), required=False)
    valid_until = forms.DateField(label=gettext_lazy("Valid until"), required=False)


class DecisionForm(forms.Form):
    row = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("approve", gettext_lazy("Approve")), ("refuse", gettext_lazy("Refuse"))],
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for a refusal"), max_length=300, required=False
    )


class StateForm(forms.Form):
    """CAT-1: activate a draft or end an agreement; ``confirm`` is set by the second step."""

    agreement = forms.IntegerField(widget=forms.HiddenInput)
    state = forms.ChoiceField(
        widget=forms.HiddenInput,
        choices=[(s.value, s.label) for s in (AgreementState.ACTIVE, AgreementState.ENDED)],
    )
    confirm = forms.BooleanField(widget=forms.HiddenInput, required=False)


@login_required
@role_permission_required(OWN_AGREEMENTS)
@require_http_methods(["GET", "POST"])
def agreements_view(request: HttpRequest) -> HttpResponse:
    """CAT-1: the agreement owner's agreements, a new header, and the rows waiting for them."""
    form = AgreementForm(prefix="agreement")
    decision = DecisionForm(prefix="decision")
    state_form = StateForm(prefix="state")
    # The agreement the owner asked to move: shown with a confirm button before anything changes.
    confirming: Agreement | None = None
    if request.method == "POST" and "state-agreement" in request.POST:
        state_form = StateForm(request.POST, prefix="state")
        if state_form.is_valid():
            data = state_form.cleaned_data
            if data["confirm"]:
                try:
                    moved = agreement_state_set(
                        user=request.user, agreement_id=data["agreement"], state=data["state"]
                    )
                except PrescriptionError as error:
                    _refused(state_form, error)
                else:
                    messages.success(
                        request,
                        _("The agreement %(code)s is now %(state)s.")
                        % {"code": moved.code, "state": moved.get_state_display()},
                    )
                    return redirect("catalogue:agreements")
            else:
                confirming = Agreement.objects.filter(
                    pk=data["agreement"], owner_id=request.user.pk
                ).first()
                if confirming is None:
                    state_form.add_error(None, _("You do not own this agreement."))
    elif request.method == "POST" and "agreement-code" in request.POST:
        form = AgreementForm(request.POST, prefix="agreement")
        if form.is_valid():
            data = form.cleaned_data
            try:
                agreement_create(
                    user=request.user,
                    code=data["code"],
                    supplier_id=data["supplier"].pk,
                    kind=data["kind"],
                    state=data["state"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                )
            except PrescriptionError as error:
                _refused(form, error)
            else:
                messages.success(request, _("The agreement was created."))
                return redirect("catalogue:agreements")
    elif request.method == "POST":
        decision = DecisionForm(request.POST, prefix="decision")
        if decision.is_valid():
            data = decision.cleaned_data
            try:
                if data["decision"] == "approve":
                    agreement_row_approve(user=request.user, row_id=data["row"])
                else:
                    agreement_row_refuse(
                        user=request.user, row_id=data["row"], reason=data["reason"]
                    )
            except PrescriptionError as error:
                _refused(decision, error)
            else:
                messages.success(request, _("The decision was recorded."))
                return redirect("catalogue:agreements")
    agreements = Agreement.objects.filter(owner_id=request.user.pk).select_related("supplier")
    pending = (
        AgreementRow.objects.filter(
            agreement__owner_id=request.user.pk, state=AgreementRowState.SUBMITTED
        )
        .select_related("agreement", "product_area")
        .order_by("registered_at", "pk")
    )
    return render(
        request,
        "prescriptions/catalogue/agreements.html",
        {
            "form": form,
            "decision": decision,
            "agreements": agreements,
            "pending": pending,
            "history": agreement_history_for_owner(request.user),
            "state_form": state_form,
            "confirming": confirming,
            "confirm_state": state_form.data.get("state-state", "") if confirming else "",
            # The row whose decision failed: its reason field shows the error and keeps the text.
            "decided_row": decision.data.get("decision-row") if decision.errors else None,
            "typed_reason": decision.data.get("decision-reason", "") if decision.errors else "",
        },
    )


class RowForm(forms.Form):
    agreement = forms.ModelChoiceField(
        label=gettext_lazy("Agreement"), queryset=Agreement.objects.none()
    )
    article_number = forms.CharField(label=gettext_lazy("Article number"), max_length=32)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    iso9999 = forms.CharField(label=gettext_lazy("ISO 9999 code"), max_length=6, required=False)
    product_area = forms.ModelChoiceField(
        label=gettext_lazy("Product area"), queryset=ProductArea.objects.order_by("name")
    )
    price_sek = forms.DecimalField(
        label=gettext_lazy("Price (SEK)"), max_digits=12, decimal_places=2
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind of article"), choices=ArticleKind.choices)
    supply = forms.ChoiceField(label=gettext_lazy("Rent or buy"), choices=Supply.choices)
    assortment_days = forms.IntegerField(label=gettext_lazy("Delivery promise (days)"), min_value=1)
    weight_kg = forms.DecimalField(
        label=gettext_lazy("Weight (kg)"), max_digits=8, decimal_places=3
    )
    length_cm = forms.IntegerField(label=gettext_lazy("Length (cm)"), min_value=1)
    girth_cm = forms.IntegerField(label=gettext_lazy("Girth (cm)"), min_value=1)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["agreement"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = _agreements_for_rows(user)


def _agreements_for_rows(user: Any) -> Any:
    mine = Agreement.objects.none()
    if holds_role_permission(user, OWN_AGREEMENTS):
        mine = Agreement.objects.filter(owner=user)
    link = SupplierUser.objects.filter(user=user).first()
    if link is not None and holds_role_permission(user, REGISTER_ROWS):
        mine = mine | Agreement.objects.filter(supplier_id=link.supplier_id)
    return mine.exclude(state=AgreementState.ENDED).order_by("code")


@login_required
@require_http_methods(["GET", "POST"])
def agreement_rows_view(request: HttpRequest) -> HttpResponse:
    """CAT-1: a supplier (or the owner on its behalf) registers an article and its price under an
    agreement; their own rows and the owner's decisions are listed below."""
    if not (
        holds_role_permission(request.user, REGISTER_ROWS)
        or holds_role_permission(request.user, OWN_AGREEMENTS)
    ):
        raise PermissionDenied
    form = RowForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agreement_row_register(
                user=request.user,
                agreement_id=data["agreement"].pk,
                article_number=data["article_number"],
                name=data["name"],
                iso9999=data["iso9999"],
                product_area_id=data["product_area"].pk,
                price_sek=data["price_sek"],
                kind=data["kind"],
                supply=data["supply"],
                assortment_days=data["assortment_days"],
                weight_kg=data["weight_kg"],
                length_cm=data["length_cm"],
                girth_cm=data["girth_cm"],
            )
        except PrescriptionError as error:
            _refused(form, error)
        else:
            messages.success(
                request, _("The row was registered for the agreement owner's decision.")
            )
            return redirect("catalogue:agreement_rows")
    rows = (
        AgreementRow.objects.filter(registered_by_id=request.user.pk)
        .select_related("agreement")
        .order_by("-registered_at", "-pk")[:50]
    )
    return render(
        request, "prescriptions/catalogue/agreement_rows.html", {"form": form, "rows": rows}
    )


class PublishForm(forms.Form):
    article_number = forms.CharField(label=gettext_lazy("Article number"), max_length=32)
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        choices=[("publish", gettext_lazy("Publish")), ("withdraw", gettext_lazy("Withdraw"))],
    )
    on = forms.DateField(
        label=gettext_lazy("Date"),
        required=False,
        help_text=gettext_lazy("Publication date, or last day in the assortment; empty: today."),
    )


@login_required
@role_permission_required(PUBLISH)
@require_http_methods(["GET", "POST"])
def assortment_manage_view(request: HttpRequest) -> HttpResponse:
    """CAT-1: the assortment owner publishes and withdraws articles; the latest periods show."""
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        article = Article.objects.filter(article_number=data["article_number"].strip()).first()
        try:
            if article is None:
                form.add_error("article_number", _("No article has this number."))
            elif data["action"] == "publish":
                article_publish(user=request.user, article_id=article.pk, published_from=data["on"])
            else:
                article_withdraw(user=request.user, article_id=article.pk, until=data["on"])
        except FieldRefused as error:
            # Both dates are the one date field of this form: the message goes next to it.
            if error.field in ("published_from", "until"):
                form.add_error("on", str(error))
            else:
                _refused(form, error)
        except PrescriptionError as error:
            _refused(form, error)
        if not form.errors:
            messages.success(request, _("The assortment was updated."))
            return redirect("catalogue:assortment_manage")
    unpublished = (
        Article.objects.filter(in_assortment=False)
        .select_related("agreement")
        .order_by("article_number")[:50]
    )
    periods = AssortmentPeriod.objects.select_related("article").order_by("-pk")[:50]
    return render(
        request,
        "prescriptions/catalogue/assortment_manage.html",
        {"form": form, "unpublished": unpublished, "periods": periods},
    )


class RoleForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=list(ROLE_LABELS.items()))
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        choices=[("give", gettext_lazy("Give the role")), ("take", gettext_lazy("Take the role"))],
    )
    supplier = forms.ModelChoiceField(
        label=gettext_lazy("Supplier (for a supplier user)"),
        queryset=Supplier.objects.order_by("name"),
        required=False,
    )


@login_required
@role_permission_required(ASSIGN_ROLES)
@require_http_methods(["GET", "POST"])
def catalogue_roles_view(request: HttpRequest) -> HttpResponse:
    """CAT-1: the role assigner gives and takes the catalogue's roles (ACCESS-10 events)."""
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subject = get_user_model().objects.filter(username=data["username"].strip()).first()
        try:
            if subject is None:
                form.add_error("username", _("No user has this user name."))
            elif data["action"] == "give":
                supplier = data["supplier"]
                catalogue_role_give(
                    user=request.user,
                    subject_id=subject.pk,
                    role=data["role"],
                    supplier_id=supplier.pk if supplier else None,
                )
            else:
                catalogue_role_take(user=request.user, subject_id=subject.pk, role=data["role"])
        except PrescriptionError as error:
            _refused(form, error)
        if not form.errors:
            messages.success(request, _("The role was changed."))
            return redirect("catalogue:roles")
    holders = [
        (
            label,
            get_user_model().objects.filter(groups__name=role, is_active=True).order_by("username"),
        )
        for role, label in ROLE_LABELS.items()
    ]
    return render(request, "prescriptions/catalogue/roles.html", {"form": form, "holders": holders})
