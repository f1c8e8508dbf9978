"""The bare view: the least a verification request must do, measured beside it.

``POST /bench/bare/`` takes the same body as the verification endpoint (``{charge_id,
token}``), under the same DRF authentication (CSRF checked for everyone), parser and renderer,
and does one SELECT (the token's row, by its key) and one INSERT (a row of a small table of
the bench project), each in autocommit. No call to AcceptOn, no row lock, no transaction.
"""

from __future__ import annotations

from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from benchmarks.models import BareHit
from django_accepton.api_views import CsrfEnforcingSessionAuthentication
from django_accepton.models import TransactionToken


class BareView(APIView):
    authentication_classes = (CsrfEnforcingSessionAuthentication,)
    permission_classes = (AllowAny,)
    parser_classes = (JSONParser,)
    renderer_classes = (JSONRenderer,)

    def post(self, request: Request) -> Response:
        token_id = str(request.data["token"])
        amount = TransactionToken.objects.filter(pk=token_id).values_list("amount", flat=True)
        found = amount.first()
        BareHit.objects.create(token_id=token_id, charge_id=str(request.data["charge_id"]))
        return Response({"token": token_id, "amount": found}, status=200 if found else 404)
