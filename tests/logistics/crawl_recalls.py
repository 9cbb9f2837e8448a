"""The leak crawl's safety notices (tests/test_crawl.py): a notice on the logistics world's
rollator, published by the demo ``logistics`` user, so that its campaign lists the devices the
world delivered (the protected patient Maria Ek's among them, by order number only), the
devices in the store (blocked) and the demo prescriber's patient on her list; and a draft. The
crawl opens every notice route with these ids and a missing one of each (a 404 probe)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from logistics.models import (
    CustomerOrderLine,
    DeviceStatus,
    HolderKind,
    NoticeAction,
    NoticeDevice,
    SafetyNotice,
)
from logistics.services.recalls import NoticeArticleInput, notice_create, notice_publish
from logistics.services.state import device_move

MISSING_ID = "999999"


def recall_values(protected_number: str) -> dict[str, list[str]]:
    leo = get_user_model().objects.get(username="logistics")
    line = (
        CustomerOrderLine.objects.filter(
            device__isnull=False,
            order__patient__identity__personal_identity_number=protected_number,
        )
        .select_related("article", "device", "order")
        .order_by("pk")
        .first()
    )
    assert line is not None, "the logistics world delivered no device to the protected patient"
    # The prescriber hands the device over at the unit: the protected patient holds it now.
    if line.device is not None and line.device.status == DeviceStatus.AT_UNIT:
        device_move(
            device=line.device,
            to_state=DeviceStatus.ON_LOAN,
            note=f"Överlämnad, order {line.order.number}",
            holder_kind=HolderKind.PATIENT,
            holder_unit=None,
            holder_patient_id=line.order.patient_id,
        )
    articles = [NoticeArticleInput(line.article.article_number)]
    notice = notice_create(
        by=leo,
        title="Bromsen kan lossna",
        description="Kontrollera bromsvajern och byt den vid behov.",
        action=NoticeAction.RETROFIT,
        articles=articles,
    )
    notice_publish(notice_id=notice.pk, by=leo)
    draft = notice_create(
        by=leo,
        title="Utkast",
        description="Ännu inte publicerat.",
        action=NoticeAction.INSPECT,
        articles=articles,
    )
    rows = NoticeDevice.objects.filter(notice=notice)
    assert rows.filter(protected=True).exists(), "no protected holder under the crawl's notice"
    notices = [str(pk) for pk in SafetyNotice.objects.values_list("pk", flat=True)]
    assert str(draft.pk) in notices
    return {
        "notice_id": [*notices, MISSING_ID],
        "row_id": [str(pk) for pk in rows.order_by("pk").values_list("pk", flat=True)[:10]]
        + [MISSING_ID],
        "step": ["contacted", "done"],
    }
