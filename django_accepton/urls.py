from django.urls import path

from django_accepton import views

app_name = "accepton"

urlpatterns = [
    path("return/", views.charge_return, name="return"),
    path("api/charges/verify/", views.ChargeCallbackView.as_view(), name="verify"),
    path("paid/", views.paid, name="success"),
    path("failed/", views.failed, name="failure"),
    path("confirming/", views.confirming, name="pending"),
]
