"""The customer order pages' routes (included by ``logistics.urls``)."""

from django.urls import URLPattern, path

from logistics.views import orders

urlpatterns: list[URLPattern] = [
    path("orders/mine/", orders.orders_mine_view, name="orders_mine"),
    path("orders/allocate/", orders.orders_allocate_view, name="orders_allocate"),
    path("orders/<str:number>/", orders.order_detail_view, name="order"),
    path("orders/<str:number>/cancel/", orders.order_cancel_view, name="order_cancel"),
]
