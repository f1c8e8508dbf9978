from importlib.util import find_spec
from typing import Any

from django.urls import path

from django_accepton import views

app_name = "accepton"

# The drf extra: djangorestframework and drf-spectacular (its OpenAPI description).
if find_spec("rest_framework") is not None and find_spec("drf_spectacular") is not None:
    from django_accepton.api_views import ChargeCallbackView, SchemaView

    verify: Any = ChargeCallbackView.as_view()
    schema: Any = SchemaView.as_view()
else:  # the drf extra is not installed: the routes say so
    verify = schema = views.json_route_unavailable

urlpatterns = [
    path("return/", views.charge_return, name="return"),
    path("api/charges/verify/", verify, name="verify"),
    path("api/schema/", schema, name="schema"),
    path("paid/", views.paid, name="success"),
    path("failed/", views.failed, name="failure"),
    path("confirming/", views.confirming, name="pending"),
]
