"""The JSON route the in-page verification posts to (djangorestframework, the ``drf`` extra).

Thin like the form's route in :mod:`django_accepton.views`: parse, call the service, answer.
JSON only: a browser opening the route gets a JSON 405, never DRF's browsable page (which needs
``rest_framework`` in ``INSTALLED_APPS``).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.decorators import method_decorator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from drf_spectacular.views import SpectacularAPIView
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_accepton import __version__, jsontext
from django_accepton.outcomes import destination
from django_accepton.serializers import ChargeSubmissionSerializer, VerificationSerializer
from django_accepton.services.verification import InvalidSubmission, Reason, VerificationResult
from django_accepton.views import _submit


class CsrfEnforcingSessionAuthentication(SessionAuthentication):
    """Session authentication that checks CSRF for anonymous customers too.

    DRF checks CSRF only for logged-in users; a checkout endpoint must refuse cross-site posts
    from everyone.
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        self.enforce_csrf(request)
        user = getattr(request._request, "user", None)
        if user is None or not user.is_active:
            return None
        return (user, None)


def _result_status(result: VerificationResult) -> int:
    if result.ok or result.paid:
        return status.HTTP_200_OK
    if result.pending:
        return status.HTTP_202_ACCEPTED
    if result.reason in (Reason.ALREADY_CLAIMED, Reason.TOKEN_ALREADY_FULFILLED):
        return status.HTTP_409_CONFLICT
    if result.reason is Reason.UNKNOWN_TOKEN:
        return status.HTTP_400_BAD_REQUEST
    return status.HTTP_422_UNPROCESSABLE_ENTITY


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, measuring the nesting first (:mod:`django_accepton.jsontext`): JSON
    nested too deep is a 400, and is never handed to Python's recursive decoder."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        body = stream.read()
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            jsontext.check(body.decode(encoding))
        except (ValueError, LookupError) as exc:  # undecodable, or a charset that is no text's
            raise ParseError(f"JSON parse error - {exc}") from None
        return super().parse(io.BytesIO(body), media_type, parser_context)


class VerifyRouteSchema(AutoSchema):
    """The JSON route's OpenAPI operation. Written as drf-spectacular's own ``AutoSchema``
    rather than with ``@extend_schema``: that decorator builds its schema class, when this
    module is imported, on the site's ``DEFAULT_SCHEMA_CLASS``, and DRF's default one cannot
    describe the route (the schema route answered 500 on a site that had not set it)."""

    def get_operation_id(self) -> str:
        return "accepton_verify_charge"

    def get_summary(self) -> str:
        return "Verify a charge the AcceptOn form reports as paid"

    def get_auth(self) -> list[dict[str, Any]]:
        # Anyone, with the CSRF token of the page (403 without): no security scheme to name.
        return [{}]

    def get_request_serializer(self) -> Any:
        return ChargeSubmissionSerializer

    def get_response_serializers(self) -> Any:
        return {
            200: VerificationSerializer,
            202: OpenApiResponse(VerificationSerializer, "AcceptOn unreachable: pending"),
            400: OpenApiResponse(description="Malformed input or unknown token; nothing changed"),
            403: OpenApiResponse(description="Missing or wrong CSRF token"),
            409: OpenApiResponse(VerificationSerializer, "Charge or token already used"),
            422: OpenApiResponse(VerificationSerializer, "The charge does not pay for the token"),
        }


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class ChargeCallbackView(APIView):
    """The route the page's success callback posts ``{charge_id, token}`` to (outside
    ``ATOMIC_REQUESTS``, like ``charge_return``)."""

    authentication_classes = (CsrfEnforcingSessionAuthentication,)
    permission_classes = (AllowAny,)
    parser_classes = (BoundedJSONParser,)
    renderer_classes = (JSONRenderer,)
    # drf-spectacular's, whatever the site's DEFAULT_SCHEMA_CLASS: the schema route needs it.
    schema = VerifyRouteSchema()

    def post(self, request: Request) -> Response:
        submission = ChargeSubmissionSerializer(data=request.data)
        submission.is_valid(raise_exception=True)
        try:
            result = _submit(
                request._request,
                submission.validated_data["charge_id"],
                submission.validated_data["token"],
            )
        except InvalidSubmission as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        body = {
            "reason": result.reason.value,
            "paid": result.ok or result.paid,
            "pending": result.pending,
            "charge_id": result.charge_id,
            "token": result.token_id,
            "redirect_url": destination(result),
        }
        return Response(body, status=_result_status(result))


# The views the schema route describes.
SCHEMA_VIEWS = (ChargeCallbackView,)


def package_endpoints_only(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """drf-spectacular preprocessing hook: the package's own routes, at the paths the site
    mounts them under, and none of the site's other API views."""
    return [endpoint for endpoint in endpoints if getattr(endpoint[3], "cls", None) in SCHEMA_VIEWS]


class SchemaView(SpectacularAPIView):
    """``GET api/schema/``: the OpenAPI 3 description of the package's JSON route, YAML by
    default, JSON with ``?format=json`` (drf-spectacular). Public, like the route it describes;
    it needs neither ``drf_spectacular`` in ``INSTALLED_APPS`` nor a ``DEFAULT_SCHEMA_CLASS``."""

    custom_settings = {
        "TITLE": "django-accepton",
        "DESCRIPTION": "The JSON route the AcceptOn form's in-page verification posts to.",
        "VERSION": __version__,
        "PREPROCESSING_HOOKS": ["django_accepton.api_views.package_endpoints_only"],
    }
