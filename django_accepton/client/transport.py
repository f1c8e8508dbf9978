"""HTTP transport: authentication, encoding, timeouts, retries, and error mapping."""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import requests
import urllib3.exceptions

from django_accepton import __version__, jsontext

from .errors import AcceptOnError, APIConnectionError, APIError, error_for_response
from .secret import Secret

logger = logging.getLogger("django_accepton.client")

R = TypeVar("R")
ParamValue = str | int | bool | Decimal | None
Params = Mapping[str, ParamValue]
Timeout = float | tuple[float, float]

USER_AGENT = f"django-accepton/{__version__} python-requests/{requests.__version__}"


def encode_params(params: Params | None) -> dict[str, str]:
    """Form/query values as AcceptOn reads them: ``true``/``false``, no ``None``, no exponents."""
    encoded: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        elif isinstance(value, Decimal):
            encoded[key] = format(value, "f")
        else:
            encoded[key] = str(value)
    return encoded


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and all it wraps: args, urllib3's ``reason``, ``__cause__``, ``__context__``."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)


def provably_unsent(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so no byte of the request was sent."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        # urllib3 raises NewConnectionError (and its NameResolutionError) only before sending.
        return any(isinstance(e, urllib3.exceptions.NewConnectionError) for e in _causes(exc))
    return False


def _describe(exc: requests.RequestException, unsent: bool) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        summary = "Timed out connecting to AcceptOn"
    elif isinstance(exc, requests.exceptions.Timeout):
        summary = "Timed out waiting for AcceptOn's answer; the request may have been processed"
    elif unsent:
        summary = "Could not connect to AcceptOn"
    elif isinstance(
        exc, requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError
    ):
        summary = "The connection to AcceptOn failed; the request may have been processed"
    else:
        summary = "The request to AcceptOn failed"
    # str() of a requests exception names the host and path, never the request's headers.
    return f"{summary} ({type(exc).__name__}: {exc})"


class Transport:
    """Sends one API call, retrying only where a retry cannot repeat a side effect.

    GET, and a write the caller marks ``repeatable`` (one whose duplicate is harmless, such as
    making a transaction token), are retried on connection failures, timeouts and 502/503/504.
    Any other write is retried only when it provably never left this machine (the connection
    could not be established). A 503 is not such a proof: AcceptOn's documents call it
    "maintenance", but nothing says the request was refused before it was processed (a proxy in
    front of a working server answers 503 too), so a refund answered 503 is never sent again.
    """

    idempotent_methods = frozenset({"GET", "HEAD", "OPTIONS"})
    idempotent_retry_statuses = frozenset({502, 503, 504})
    backoff_base = 0.5
    backoff_max = 8.0

    def __init__(
        self,
        secret_key: Secret | str,
        base_url: str,
        *,
        timeout: Timeout = (5, 30),
        max_retries: int = 2,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError("max_retries must be a non-negative integer")
        _check_timeout(timeout)
        self._auth = _BearerAuth(Secret.of(secret_key))
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.sleep = sleep

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the session, unless it was passed in (then its owner closes it)."""
        if self._owns_session:
            self.session.close()

    def _headers(self) -> dict[str, str]:
        # The key is not among them: _BearerAuth writes it into the prepared request, per
        # request rather than on the session, so that a shared session never holds it.
        return {"Accept": "application/json", "User-Agent": USER_AGENT}

    def redact(self, text: str) -> str:
        """``text`` with the secret key masked, for anything that ends up in an exception."""
        return text.replace(self._auth.secret.reveal(), "skey_[redacted]")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): exponential, half jittered."""
        ceiling = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        # Jitter spreads retries from many workers; it has nothing to do with security.
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311

    def should_retry_exception(
        self, method: str, exc: requests.RequestException, *, repeatable: bool = False
    ) -> bool:
        if repeatable or method in self.idempotent_methods:
            return isinstance(
                exc,
                requests.exceptions.ConnectionError
                | requests.exceptions.Timeout
                | requests.exceptions.ChunkedEncodingError,
            )
        return provably_unsent(exc)

    def should_retry_status(self, method: str, status: int, *, repeatable: bool = False) -> bool:
        if repeatable or method in self.idempotent_methods:
            return status in self.idempotent_retry_statuses
        return False

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        data: Params | None = None,
        repeatable: bool = False,
    ) -> requests.Response:
        """Make the call and return the 2xx response; raise an ``AcceptOnError`` otherwise.

        ``repeatable``: a duplicate of this write is harmless, so it is retried like a GET."""
        method = method.upper()
        url = self.base_url + path
        query = encode_params(params) or None
        body = encode_params(data) if data is not None else None
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            failure: APIConnectionError | None = None
            try:
                # Redirects are not followed: requests would turn a redirected POST into a GET.
                response = self.session.request(
                    method,
                    url,
                    params=query,
                    data=body,
                    headers=self._headers(),
                    auth=self._auth,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                self._log(method, path, type(exc).__name__, started, attempt)
                if attempt <= self.max_retries and self.should_retry_exception(
                    method, exc, repeatable=repeatable
                ):
                    self.sleep(self.backoff(attempt))
                    continue
                unsent = provably_unsent(exc)
                failure = APIConnectionError(
                    self.redact(_describe(exc, unsent)),
                    request_sent=not unsent,
                    request_method=method,
                    request_path=path,
                )
            except Exception as exc:  # noqa: BLE001 - anything else from requests or urllib3
                # An invalid URL, an overflowing timeout...: requests lets these through as
                # they are, and their frames hold the headers too.
                self._log(method, path, type(exc).__name__, started, attempt)
                failure = APIConnectionError(
                    self.redact(f"The request could not be made: {type(exc).__name__}: {exc}"),
                    request_sent=False,
                    request_method=method,
                    request_path=path,
                )
            except BaseException as exc:
                # Raised on as it is (a signal, a task's time limit), with the variables of
                # every frame below this one dropped first.
                if exc.__traceback__ is not None and exc.__traceback__.tb_next is not None:
                    traceback.clear_frames(exc.__traceback__.tb_next)
                raise
            if failure is not None:
                # Raised outside the handler, unchained: the frames of requests and urllib3
                # below it hold the prepared headers, key included, and an error page or an
                # error tracker would show their variables.
                raise failure
            self._log(method, path, response.status_code, started, attempt)
            if 200 <= response.status_code < 300:
                return response
            if attempt <= self.max_retries and self.should_retry_status(
                method, response.status_code, repeatable=repeatable
            ):
                response.close()
                self.sleep(self.backoff(attempt))
                continue
            raise self._error(response, method, path)

    def request(
        self,
        method: str,
        path: str,
        parse: Callable[[Any], R],
        *,
        params: Params | None = None,
        data: Params | None = None,
        repeatable: bool = False,
    ) -> R:
        """Make the call and return ``parse`` of its decoded JSON body."""
        response = self.send(method, path, params=params, data=data, repeatable=repeatable)
        try:
            payload = jsontext.loads(response.content)
        except ValueError:
            raise self._unexpected(response, method, path, "the body is not JSON") from None
        try:
            return parse(payload)
        except (ValueError, TypeError, KeyError) as exc:
            raise self._unexpected(response, method, path, str(exc)) from exc

    def _error(self, response: requests.Response, method: str, path: str) -> AcceptOnError:
        error = error_for_response(
            response.status_code,
            response.text,
            reason=response.reason,
            request_method=method,
            request_path=path,
        )
        # A server may echo the key it rejected; keep it out of the exception.
        error.message = self.redact(error.message)
        error.http_body = self.redact(error.http_body or "")
        error.args = (error.message,)
        return error

    def _unexpected(
        self, response: requests.Response, method: str, path: str, detail: str
    ) -> APIError:
        return APIError(
            self.redact(f"Unexpected answer from AcceptOn: {detail}"),
            http_status=response.status_code,
            request_method=method,
            request_path=path,
            http_body=self.redact(response.text),
        )

    def _log(
        self, method: str, path: str, outcome: int | str, started: float, attempt: int
    ) -> None:
        logger.debug(
            "AcceptOn %s %s -> %s in %.0f ms (attempt %d of %d)",
            method,
            path,
            outcome,
            (time.monotonic() - started) * 1000,
            attempt,
            self.max_retries + 1,
        )


class _BearerAuth(requests.auth.AuthBase):
    """Writes ``Authorization: Bearer …`` into each prepared request; its ``repr`` is masked."""

    def __init__(self, secret: Secret) -> None:
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self.secret.reveal()
        return request

    def __repr__(self) -> str:
        return f"_BearerAuth({self.secret!r})"


def _check_timeout(timeout: Timeout) -> None:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if (
        not values
        or len(values) > 2
        or any(
            isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 86_400
            for v in values
        )
    ):
        raise ValueError("timeout must be seconds > 0, or a (connect, read) pair of them")
