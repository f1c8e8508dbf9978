"""The views measured beside the verification endpoint, in the same server.

``POST /bench/bare/`` (the *bare view*) takes the same body as the verification endpoint
(``{charge_id, token}``), under the same DRF authentication (CSRF checked for everyone), parser
and renderer, and does one SELECT (the token's row, by its key) and one INSERT (a row of a small
table of the bench project), each in autocommit. No call to AcceptOn, no row lock, no
transaction: the least any request that writes must do.

``POST /bench/floor/`` (the *rules' floor*) does, with the same scaffolding, what the
exactly-once rules of ``django_accepton.services.verification`` and ``fulfilment`` require of a
sale, as raw SQL on Django's connection with no ORM: the token read; the claim, a row of the
charge table committed on its own before AcceptOn is asked; the one API call
(``client.charges.retrieve``, the package's client); the verdict, the token consumed and the
charge verified in one transaction; the delivery's lease and its end, each committed. The same
statements against the same tables and indexes as the endpoint, so the endpoint's time over
the floor's is what the package adds to its rules (the ORM, the judging, the signals), and the
floor's over the bare view's is what the rules cost. Its claim is the charge id with a suffix,
a row of its own beside the endpoint's.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from benchmarks.models import BareHit
from django_accepton.api import current_environment, get_client
from django_accepton.api_views import CsrfEnforcingSessionAuthentication
from django_accepton.models import Charge, TransactionToken

FLOOR_SUFFIX = "F"


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


@functools.cache
def _claim_sql() -> tuple[str, list[str], list[Any]]:
    """The INSERT of a claim naming every column of the charge table, as ``Charge.objects.create``
    does, and the defaults of the columns a request does not set (prepared once)."""
    fields = Charge._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    defaults = [field.get_db_prep_save(field.get_default(), connection) for field in fields]
    sql = f"INSERT INTO {quote(Charge._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    return sql, [field.attname for field in fields], defaults


class FloorView(BareView):
    def post(self, request: Request) -> Response:
        token_id = str(request.data["token"])
        charge_id = str(request.data["charge_id"])
        claim_id = charge_id + FLOOR_SUFFIX
        environment = current_environment()
        charges, tokens = Charge._meta.db_table, TransactionToken._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT amount, currency, description FROM {tokens} "  # noqa: S608
                "WHERE id = %s AND environment = %s",
                [token_id, environment],
            )
            found = cursor.fetchone()
            if found is None:
                return Response({"token": token_id}, status=404)
            sql, names, defaults = _claim_sql()
            now = timezone.now()
            chosen = {"id": claim_id, "environment": environment, "token_id": token_id}
            chosen |= {"claimed_at": now, "verification": "pending"}
            cursor.execute(
                sql, [chosen.get(name, value) for name, value in zip(names, defaults, strict=True)]
            )
        remote = get_client().charges.retrieve(charge_id)
        paid = remote.amount == found[0] and remote.currency.lower() == found[1]
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {tokens} SET consumed_at = %s WHERE id = %s",  # noqa: S608
                [now, token_id],
            )
            cursor.execute(
                f"UPDATE {charges} SET amount = %s, currency = %s, status = %s, "  # noqa: S608
                "description = %s, verification = 'verified', reason = 'ok', verified_at = %s, "
                "last_attempt_at = %s, attempts = attempts + 1 WHERE id = %s AND token_id = %s "
                "AND verification = 'pending' AND NOT refunded AND amount_refunded = 0",
                [
                    remote.amount,
                    remote.currency,
                    remote.status,
                    found[2],
                    now,
                    now,
                    claim_id,
                    token_id,
                ],
            )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {charges} SET delivery_started_at = %s, "  # noqa: S608
                "delivery_attempts = delivery_attempts + 1 WHERE id = %s "
                "AND verification = 'verified' AND fulfilled_at IS NULL AND NOT refunded "
                "AND amount_refunded = 0 AND (delivery_started_at IS NULL "
                "OR delivery_started_at < %s)",
                [now, claim_id, now],
            )
            cursor.execute(
                f"UPDATE {charges} SET fulfilled_at = %s, delivery_error = '', "  # noqa: S608
                "delivery_started_at = NULL WHERE id = %s AND fulfilled_at IS NULL",
                [timezone.now(), claim_id],
            )
        return Response({"token": token_id, "paid": paid}, status=200)
