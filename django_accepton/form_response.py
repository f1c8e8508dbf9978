"""Reading what AcceptOn's form POSTs to the redirect URI.

The form sends one field, ``response``, holding the charge as JSON. AcceptOn's guide calls it
"URI-escaped JSON" while its script sends plain JSON in an ordinary form field, so both are
read. Only the charge id is taken from it: the rest is the browser's word and is ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, unquote_plus

from django_accepton import jsontext
from django_accepton.services.verification import InvalidSubmission


def charge_id_from_response(text: str | None, *, max_bytes: int) -> str:
    if not text:
        raise InvalidSubmission("The form sent no 'response' field.")
    if len(text.encode()) > max_bytes:
        raise InvalidSubmission(f"The 'response' field is larger than {max_bytes} bytes.")
    document = _decode(text)
    if isinstance(document, str):  # the JSON text of a charge, written as JSON once more
        document = _decode(document)
    if not isinstance(document, dict):
        raise InvalidSubmission("The 'response' field is not a JSON object.")
    # The documented shape is the charge itself; the callback's shape nests it under "charge",
    # "the charge as JSON": an object, or the JSON text of one.
    charge = document.get("charge", document)
    if isinstance(charge, str):
        charge = _decode(charge)
    charge_id = charge.get("id") if isinstance(charge, dict) else None
    if not isinstance(charge_id, str):
        raise InvalidSubmission("The 'response' field names no charge id.")
    return charge_id


def _decode(text: str) -> Any:
    try:
        return jsontext.loads(text)
    except ValueError:
        pass
    if "%" in text or "+" in text:
        # Escaped as a URI (spaces as %20), or as a form value (spaces as +, a + as %2B).
        for unescape in (unquote, unquote_plus):
            try:
                return jsontext.loads(unescape(text))
            except ValueError:
                pass
    raise InvalidSubmission("The 'response' field is not valid JSON.")
