from django.urls import path

from store import views

app_name = "store"

urlpatterns = [
    path("", views.product_list, name="products"),
    path("products/<slug:slug>/", views.product_detail, name="product"),
    path("products/<slug:slug>/buy/", views.buy, name="buy"),
    path("orders/<uuid:public_id>/", views.order_detail, name="order"),
    path("orders/status/", views.order_status, name="order_status"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("memberships/<uuid:public_id>/", views.membership_detail, name="membership"),
    path("memberships/<uuid:public_id>/cancel/", views.membership_cancel, name="membership_cancel"),
]
