"""Safety notices and recalls (DEVICE-2, DEVICE-5): the pages of logistics staff who publish a
notice and follow its campaign, the message board everyone with the notice permission reads,
and the prescriber's list of their patients holding a notice's articles.

Staff pages name a patient's device by the order it went out on and its prescriber only
(LEAK-5); the prescriber's list names a patient as the gate's labels allow (a masked row for a
patient they may not see now), each row logged (AUDIT-1). No page here prints (PRINT-1): the
pages that can name a protected patient carry the print-protection stylesheet.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from logistics.models import (
    NoticeAction,
    NoticeDevice,
    NoticeState,
    OutreachState,
    SafetyNotice,
)
from logistics.selectors.recalls import (
    campaign_devices,
    campaign_for,
    notices_list,
    notices_on_board,
    prescriber_notice_rows,
)
from logistics.services.errors import LogisticsError
from logistics.services.recalls import (
    NoticeArticleInput,
    notice_close,
    notice_create,
    notice_publish,
    outreach_record,
)
from patients.presenters import prints_only_notice
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user
from protection.permissions import role_permission_required

MANAGE = "logistics.manage_safetynotice"
VIEW = "logistics.view_safetynotice"
PRESCRIBE = "prescriptions.add_prescription"
# The word in a notice's article line before its lot range (the same in Swedish).
LOT_WORD = "lot"


class NoticeForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    manufacturer_reference = forms.CharField(
        label=gettext_lazy("Manufacturer's reference"), max_length=100, required=False
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        choices=NoticeAction.choices,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=gettext_lazy("What the notice says"), widget=forms.Textarea(attrs={"rows": 5})
    )
    articles = forms.CharField(
        label=gettext_lazy("Articles"),
        help_text=gettext_lazy(
            "One article per line: the article number; where the notice names a serial range, "
            "the first and the last serial number; where it names a lot range, the word lot "
            "and the first and the last lot number. Separate them by spaces."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_articles(self) -> list[NoticeArticleInput]:
        """One entry per line: ``article [first last] [lot first last]``. A lot range given
        by half is passed on as such, so the service's check names it (both or neither)."""
        entries = []
        for raw in str(self.cleaned_data["articles"]).splitlines():
            parts = raw.split()
            if not parts:
                continue
            words = [part.casefold() for part in parts]
            at = words.index(LOT_WORD) if LOT_WORD in words else len(parts)
            serials, lots = parts[1:at], parts[at + 1 :]
            if len(serials) not in (0, 2) or len(lots) > 2 or (at < len(parts) and not lots):
                raise forms.ValidationError(
                    _(
                        "Write the article number alone, or with the first and the last serial "
                        "number, and then the word lot and the first and the last lot number "
                        "where the notice names a lot range: %(line)s"
                    )
                    % {"line": raw.strip()[:80]}
                )
            serials += ["", ""][len(serials) :]
            lots += ["", ""][len(lots) :]
            entries.append(
                NoticeArticleInput(
                    article_number=parts[0],
                    serial_from=serials[0],
                    serial_to=serials[1],
                    lot_from=lots[0],
                    lot_to=lots[1],
                )
            )
        if not entries:
            raise forms.ValidationError(_("Name at least one article."))
        return entries


@never_cache
@login_required
@role_permission_required(MANAGE)
@require_GET
def notices_view(request: HttpRequest) -> HttpResponse:
    return render(request, "logistics/recalls/list.html", {"notices": list(notices_list())})


@never_cache
@login_required
@role_permission_required(MANAGE)
@require_http_methods(["GET", "POST"])
def notice_create_view(request: HttpRequest) -> HttpResponse:
    form = NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notice = notice_create(
                by=request.user,
                title=data["title"],
                description=data["description"],
                action=data["action"],
                manufacturer_reference=data["manufacturer_reference"],
                articles=data["articles"],
            )
        except LogisticsError as error:
            form.add_error("articles", str(error))
        else:
            messages.success(
                request,
                _("Safety notice %(number)s was saved as a draft. Publish it to find the devices.")
                % {"number": notice.number},
            )
            return redirect("logistics:notice", notice_id=notice.pk)
    return render(request, "logistics/recalls/create.html", {"form": form})


def _notice(notice_id: int) -> SafetyNotice:
    notice = (
        SafetyNotice.objects.filter(pk=notice_id)
        .select_related("created_by")
        .prefetch_related("articles__article", "history__by")
        .first()
    )
    if notice is None:
        raise Http404
    return notice


@never_cache
@login_required
@role_permission_required(MANAGE)
@require_GET
def notice_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    """The notice and its campaign: the reach (found, contacted, done) in all and per week, and
    a page of its devices."""
    notice = _notice(notice_id)
    state = request.GET.get("state", "")
    state = state if state in OutreachState.values else ""
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    return render(
        request,
        "logistics/recalls/campaign.html",
        {
            "notice": notice,
            "history": [(move, NoticeState(move.to_state).label) for move in notice.history.all()],
            "campaign": campaign_for(notice),
            "devices": campaign_devices(notice=notice, state=state, page=page),
            "state": state,
            "states": OutreachState.choices,
        },
    )


@never_cache
@login_required
@role_permission_required(MANAGE)
@require_POST
def notice_publish_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _notice(notice_id)
    try:
        found = notice_publish(notice_id=notice.pk, by=request.user)
    except LogisticsError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _(
                "Safety notice %(number)s was published: %(found)s devices found, %(patients)s "
                "held by patients (%(protected)s with protected identity, reached through their "
                "prescriber), %(blocked)s in stores blocked from delivery."
            )
            % {
                "number": notice.number,
                "found": found.found,
                "patients": found.patients,
                "protected": found.protected,
                "blocked": found.blocked,
            },
        )
    return redirect("logistics:notice", notice_id=notice.pk)


@never_cache
@login_required
@role_permission_required(MANAGE)
@require_POST
def notice_close_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _notice(notice_id)
    try:
        notice_close(notice_id=notice.pk, by=request.user, note=request.POST.get("note", ""))
    except LogisticsError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The campaign of safety notice %(number)s was closed.") % {"number": notice.number},
        )
    return redirect("logistics:notice", notice_id=notice.pk)


@never_cache
@login_required
@role_permission_required(MANAGE)
@require_POST
def outreach_view(request: HttpRequest, notice_id: int, row_id: int, step: str) -> HttpResponse:
    try:
        outreach_record(notice_id=notice_id, row_id=row_id, step=step, by=request.user)
    except NoticeDevice.DoesNotExist:
        raise Http404 from None
    except LogisticsError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The device's outreach was recorded."))
    return redirect("logistics:notice", notice_id=notice_id)


@never_cache
@login_required
@role_permission_required(VIEW)
@require_GET
def notice_board_view(request: HttpRequest) -> HttpResponse:
    """The message board: the published notices, what they name and what they ask for."""
    return render(request, "logistics/recalls/board.html", {"notices": notices_on_board()})


@never_cache
@login_required
@role_permission_required(PRESCRIBE)
@require_GET
def notice_patients_view(request: HttpRequest) -> HttpResponse:
    """DEVICE-5: the prescriber's patients holding devices under published notices (those the
    prescriber lent them to). Names as the gate allows, every row logged as a read of the
    order (AUDIT-1); a patient the prescriber may not see now is a masked row."""
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    rows = prescriber_notice_rows(user=request.user, page=page)
    cards = patient_labels_for_user(
        ctx=AccessContext.from_request(request),
        rows=[
            (row.holder_patient_id, row.order_number or str(row.device_id))
            for row in rows.rows
            if row.holder_patient_id is not None
        ],
        object_type="customer_order",
    )
    return render(
        request,
        "logistics/recalls/my_patients.html",
        {
            "rows": [(row, cards.get(row.holder_patient_id or 0)) for row in rows.rows],
            "result": rows,
            "protected": prints_only_notice(cards.values()),
        },
    )


@never_cache
@login_required
@role_permission_required(PRESCRIBE)
@require_POST
def notice_patient_contacted_view(request: HttpRequest, row_id: int) -> HttpResponse:
    """The prescriber records that the patient was reached (the way to a protected patient)."""
    row = NoticeDevice.objects.filter(pk=row_id, prescriber_id=request.user.pk).first()
    if row is None:
        raise Http404
    try:
        outreach_record(
            notice_id=row.notice_id,
            row_id=row.pk,
            step=OutreachState.CONTACTED,
            by=request.user,
            prescriber_only=True,
        )
    except LogisticsError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Recorded: the patient of order %(number)s was contacted.")
            % {"number": row.order_number or "-"},
        )
    return redirect("logistics:notice_patients")
