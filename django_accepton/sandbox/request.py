"""Reading a WSGI request the way AcceptOn's Rails server would: query string, form or JSON body,
``a[b]`` nested keys, and the API key from a Bearer header or an ``access_token`` parameter."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from django_accepton import jsontext

from .errors import bad_request

MAX_BODY_BYTES = 10 * 1024 * 1024

_NESTED_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])+)")
_SUBKEY = re.compile(r"\[([^\[\]]*)\]")


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    environ: dict[str, Any]
    body: bytes = b""
    params: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return str(self.environ.get("HTTP_" + name.upper().replace("-", "_"), ""))

    def api_key(self) -> str | None:
        """The Bearer key, else ``access_token`` (how AcceptOn's iOS SDK and forms send keys)."""
        authorization = self.header("Authorization").strip()
        if authorization:
            scheme, _, key = authorization.partition(" ")
            if scheme.lower() != "bearer":
                return None
            return key.strip() or None
        token = self.params.get("access_token")
        return token if isinstance(token, str) and token else None

    def parse_body(self) -> None:
        """Merge the query string and the body into ``params`` (the body wins, as in Rails).

        Raises a 400 ``invalid_request`` for a body that claims or looks like JSON but is not a
        JSON object.
        """
        params = nest(parse_qsl(self.query_string, keep_blank_values=True))
        params.update(_body_params(self.body, str(self.environ.get("CONTENT_TYPE", ""))))
        self.params = params


def read_request(environ: dict[str, Any]) -> Request:
    """The request with its body read in full, so a kept-alive connection stays in step."""
    raw_path = str(environ.get("PATH_INFO", "") or "/")
    # PEP 3333 hands the path over as latin-1 decoded bytes; promo code names may be UTF-8.
    path = raw_path.encode("latin-1", "replace").decode("utf-8", "replace")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    request = Request(
        method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
        path=path,
        query_string=str(environ.get("QUERY_STRING", "")),
        environ=environ,
    )
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        request.body = environ["wsgi.input"].read(min(length, MAX_BODY_BYTES + 1))
    if len(request.body) > MAX_BODY_BYTES:
        raise bad_request("invalid_request", "The request body is too large.")
    return request


def nest(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``card[number]=4242`` -> ``{"card": {"number": "4242"}}``; ``a[]=1&a[]=2`` -> a list.

    A key with a dot (``plan.token``) stays a plain key, as in Rails.
    """
    result: dict[str, Any] = {}
    for key, value in pairs:
        match = _NESTED_KEY.fullmatch(key)
        if match is None:
            result[key] = value
            continue
        parts = [match.group(1), *_SUBKEY.findall(match.group(2))]
        append = parts[-1] == ""
        if append:
            parts.pop()
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        if append:
            existing = node.get(parts[-1])
            if not isinstance(existing, list):
                existing = []
                node[parts[-1]] = existing
            existing.append(value)
        else:
            node[parts[-1]] = value
    return result


def _body_params(body: bytes, content_type: str) -> dict[str, Any]:
    if not body.strip():
        return {}
    media_type = content_type.split(";", 1)[0].strip().lower()
    is_json = media_type == "application/json" or media_type.endswith("+json")
    # PHP's client sends JSON with no Content-Type at all; a leading "{" gives it away.
    if is_json or (media_type != "application/x-www-form-urlencoded" and _looks_like_json(body)):
        try:
            data = jsontext.loads(body)
        except ValueError:
            raise bad_request("invalid_request", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise bad_request("invalid_request", "The request body must be a JSON object.")
        return data
    text = body.decode("utf-8", "replace")
    return nest(parse_qsl(text, keep_blank_values=True))


def _looks_like_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")
