"""The logistics floor's pages, under /logistics/ (namespace ``logistics``). Each part of the
floor keeps its views in its own module under ``logistics/views/``."""

from django.urls import URLPattern, URLResolver, path

from logistics.urls_orders import urlpatterns as order_patterns
from logistics.urls_recalls import urlpatterns as recall_patterns
from logistics.views import (
    adaptations,
    deviations,
    devices,
    direct,
    incidents,
    kpi,
    losses,
    picking,
    pickups,
    queues,
    replacement_followup,
    reservations,
    stock,
    stock_pages,
    workorders,
)

Patterns = tuple[list[URLPattern | URLResolver], str]

logistics_patterns: Patterns = (
    [
        # The start page with the store's queues, and a queue's list of order lines.
        path("", queues.queues_view, name="queues"),
        path("queue/<slug:slug>/", queues.queue_list_view, name="queue"),
        # KPI-1: delivery reliability, and a cell's missed lines.
        path("kpi/", kpi.kpi_view, name="kpi"),
        path("kpi/missed/", kpi.kpi_missed_view, name="kpi_missed"),
        # KPI-4: replacement groups, prescribed against bought, and their stock.
        path(
            "kpi/replacement-groups/",
            replacement_followup.replacement_follow_up_view,
            name="kpi_replacement_groups",
        ),
        # Customer orders: the prescriber's open orders, an order, allocation, cancelling.
        *order_patterns,
        # LOG-1: the prescriber's reserved articles.
        path("reservations/", reservations.reservations_view, name="reservations"),
        path(
            "reservations/release-all/",
            reservations.reservations_release_all_view,
            name="reservations_release_all",
        ),
        path(
            "reservations/<int:pk>/release/",
            reservations.reservation_release_view,
            name="reservation_release",
        ),
        # LOG-2: a unit's buffer store replenishments.
        path("replenishments/", stock.replenishments_view, name="replenishments"),
        # The staff's stock pages: stores, a store's levels, the purchase proposal list.
        path("stock/", stock_pages.stores_view, name="stores"),
        path("stock/proposals/", stock_pages.proposals_view, name="proposals"),
        path("stock/purchase-orders/", stock_pages.purchase_orders_view, name="purchase_orders"),
        path(
            "stock/purchase-orders/<str:number>/receive/",
            stock_pages.goods_receipt_view,
            name="goods_receipt",
        ),
        path("stock/<slug:code>/", stock_pages.store_view, name="store"),
        path(
            "stock/<slug:code>/<str:article_number>/",
            stock_pages.article_stock_view,
            name="article_stock",
        ),
        # Picking, packing, routes and deliveries.
        path("waves/", picking.waves, name="waves"),
        path("waves/create/", picking.wave_create, name="wave_create"),
        path("waves/<int:wave_id>/", picking.wave, name="wave"),
        path("waves/<int:wave_id>/items/<int:item_id>/pick/", picking.pick, name="pick"),
        path("waves/<int:wave_id>/pick-list/", picking.pick_list, name="pick_list"),
        path("pack/", picking.to_pack, name="to_pack"),
        path("pack/scan/", picking.pack, name="pack"),
        path("packages/<int:package_id>/<str:paper>/", picking.package_paper, name="package_paper"),
        path("routes/", picking.routes, name="routes"),
        path("routes/dispatch/", picking.dispatch, name="dispatch"),
        path("deliveries/", picking.deliveries, name="deliveries"),
        path("deliveries/<int:package_id>/", picking.deliver, name="deliver"),
        path("deliveries/failed/", picking.failed, name="failed"),
        # Direct deliveries by suppliers (LOG-3) and their withdrawal (LEAK-4).
        path("direct/", direct.direct_deliveries_view, name="direct_deliveries"),
        path("direct/<int:delivery_id>/", direct.direct_delivery_view, name="direct_delivery"),
        path(
            "direct/<int:delivery_id>/withdrawn/",
            direct.direct_withdrawal_confirm_view,
            name="direct_withdrawal_confirm",
        ),
        # The device register (DEVICE-1).
        path("devices/", devices.device_search_view, name="device_search"),
        path("devices/<int:device_id>/", devices.device_detail_view, name="device"),
        # Safety notices and recalls (DEVICE-2, DEVICE-5).
        *recall_patterns,
        # Work orders (issue 11): the technician's queue, a work order, the author's returned
        # ones, a service order for a device falling due, customer service's fault report.
        path("work-orders/", workorders.work_order_queue_view, name="work_orders"),
        path(
            "work-orders/returned/",
            workorders.returned_work_orders_view,
            name="work_orders_returned",
        ),
        path(
            "work-orders/service/",
            workorders.service_order_create_view,
            name="work_order_service_create",
        ),
        path("work-orders/fault-report/", workorders.fault_report_view, name="fault_report"),
        path("work-orders/new/", workorders.work_order_new_view, name="work_order_new"),
        path(
            "work-orders/<int:work_order_id>/",
            workorders.work_order_detail_view,
            name="work_order",
        ),
        # DEVICE-3: the workshop's reconditioning of a returned device.
        path(
            "devices/<int:device_id>/reconditioning/",
            losses.device_reconditioning_view,
            name="device_reconditioning",
        ),
        # DEVICE-4: the holder has lost it (a call to customer service).
        path(
            "devices/<int:device_id>/lost/",
            losses.device_report_lost_view,
            name="device_report_lost",
        ),
        # PRESC-9: pickup orders, ordered from the patient page; the staff's queue and actions.
        path("pickups/", pickups.pickups_view, name="pickups"),
        path("pickups/new/<str:reference>/", pickups.pickup_new_view, name="pickup_new"),
        path("pickups/<int:pickup_id>/", pickups.pickup_view, name="pickup"),
        path(
            "pickups/<int:pickup_id>/lines/<int:line_id>/collect/",
            pickups.pickup_collect_view,
            name="pickup_collect",
        ),
        path(
            "pickups/<int:pickup_id>/lines/<int:line_id>/missing/",
            pickups.pickup_missing_view,
            name="pickup_missing",
        ),
        # DEVICE-4: the loss process; KPI-3: losses per care unit.
        path("losses/", losses.losses_view, name="losses"),
        path("losses/kpi/", losses.loss_kpi_view, name="loss_kpi"),
        path("losses/<int:case_id>/", losses.loss_case_view, name="loss_case"),
        path("losses/<int:case_id>/decide/", losses.loss_case_decide_view, name="loss_decide"),
        path("losses/<int:case_id>/found/", losses.loss_case_found_view, name="loss_found"),
        # QUAL-1: deviations reported by anyone, handled by quality staff, attached to a
        # patient by a user the gate shows the patient to.
        path("deviations/report/", deviations.deviation_report_view, name="deviation_report"),
        path("deviations/", deviations.deviations_view, name="deviations"),
        path("deviations/<int:deviation_id>/", deviations.deviation_view, name="deviation"),
        path(
            "patients/<str:reference>/deviations/attach/",
            deviations.deviation_attach_view,
            name="deviation_attach",
        ),
        # QUAL-2: medical-device incidents, raised from a device's card.
        path(
            "devices/<int:device_id>/incident/",
            incidents.incident_raise_view,
            name="incident_raise",
        ),
        path("incidents/", incidents.incidents_view, name="incidents"),
        path("incidents/<int:incident_id>/", incidents.incident_view, name="incident"),
        path(
            "incidents/<int:incident_id>/report/",
            incidents.incident_report_view,
            name="incident_report",
        ),
        # PRESC-6: the prescriber signs special adaptations; the technician asks for it.
        path("adaptations/", adaptations.to_sign_view, name="adaptations_to_sign"),
        path("adaptations/<int:signing_id>/", adaptations.sign_view, name="adaptation_sign"),
        path(
            "adaptations/<int:signing_id>/decline/",
            adaptations.decline_view,
            name="adaptation_decline",
        ),
        path(
            "adaptations/<int:signing_id>/document/",
            adaptations.request_document_view,
            name="adaptation_request_document",
        ),
        path(
            "adaptations/signed/<int:record_id>/document/",
            adaptations.record_document_view,
            name="adaptation_record_document",
        ),
        path(
            "work-orders/<int:work_order_id>/adaptation/",
            adaptations.work_order_view,
            name="adaptation_work_order",
        ),
        path(
            "work-orders/<int:work_order_id>/adaptation/send/",
            adaptations.send_view,
            name="adaptation_send",
        ),
        path(
            "work-orders/<int:work_order_id>/adaptation/paper/",
            adaptations.paper_view,
            name="adaptation_paper",
        ),
    ],
    "logistics",
)
