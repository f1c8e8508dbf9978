"""Exceptions raised by the AcceptOn client, and the mapping from HTTP answers to them."""

from __future__ import annotations

from typing import Any

from django_accepton import jsontext

# AcceptOn answers "no such charge/plan" with a 400 rather than a 404 (and "no such token" with
# either, depending on the source), so these error types mean "not found" whatever the status.
# What it answers for a missing subscription or promo code is undocumented: the client's calls
# that address one object and send no parameters also read any 400 as "not found"
# (``Service.lookup``), since there is nothing else such a request could have got wrong.
NOT_FOUND_ERROR_TYPES = frozenset({"invalid_charge_id", "invalid_plan_id", "invalid_token"})


class AcceptOnError(Exception):
    """Base class of every error raised by the client.

    ``http_status`` and ``error_type`` are ``None`` when no HTTP answer was received or the answer
    carried no error type. ``request_method`` and ``request_path`` name the call (the path has no
    host and no query string).
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        error_type: str | None = None,
        request_method: str | None = None,
        request_path: str | None = None,
        http_body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.error_type = error_type
        self.request_method = request_method
        self.request_path = request_path
        self.http_body = http_body

    def __str__(self) -> str:
        head = " ".join(str(part) for part in (self.http_status, self.error_type) if part)
        where = " ".join(part for part in (self.request_method, self.request_path) if part)
        if head and where:
            return f"{head} on {where}: {self.message}"
        if head or where:
            return f"{head or where}: {self.message}"
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, http_status={self.http_status!r}, "
            f"error_type={self.error_type!r}, request_method={self.request_method!r}, "
            f"request_path={self.request_path!r})"
        )


class AuthenticationError(AcceptOnError):
    """401: the secret key is wrong, missing, or belongs to the other environment."""


class InvalidRequestError(AcceptOnError):
    """400: AcceptOn refused the parameters; ``error_type`` and ``message`` say why."""


class NotFoundError(InvalidRequestError):
    """404, or a 400 whose error type names an unknown id (see ``NOT_FOUND_ERROR_TYPES``), or
    any 400 to a call that addresses one object and sends nothing else."""

    @classmethod
    def from_error(cls, error: AcceptOnError) -> NotFoundError:
        return cls(
            error.message,
            http_status=error.http_status,
            error_type=error.error_type,
            request_method=error.request_method,
            request_path=error.request_path,
            http_body=error.http_body,
        )


class APIError(AcceptOnError):
    """5xx, any other non-2xx status, or a 2xx answer whose body is not what the call returns."""


class PagingIgnored(APIError):
    """Page ``page`` of a list came back as the page before it: the server ignores ``page``,
    so walking pages would repeat the first one forever. (Paging on charges is undocumented;
    ``Charges.walk_by_date`` reads them without it.)"""

    def __init__(self, page: int, **kwargs: Any) -> None:
        super().__init__(
            f"Page {page} repeats page {page - 1}: the server ignores paging.", **kwargs
        )
        self.page = page


class ServiceUnavailableError(APIError):
    """503: AcceptOn is unavailable (its documents say "maintenance"). Nothing says a write
    answered 503 was not processed: reconcile before repeating it."""


class APIConnectionError(AcceptOnError):
    """No HTTP answer: DNS failure, refused connection, timeout, connection dropped.

    ``request_sent`` is ``False`` only when the request provably never left this machine (the
    connection could not be established). When it is ``True`` the request may have reached
    AcceptOn and been processed: after a refund or token creation, reconcile before retrying.
    """

    def __init__(self, message: str, *, request_sent: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_sent = request_sent

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]}, request_sent={self.request_sent!r})"


def _error_fields(body: str) -> tuple[str | None, str | None]:
    """The ``(type, message)`` of an AcceptOn error body, tolerating other shapes."""
    try:
        decoded = jsontext.loads(body)
    except ValueError:
        return None, None
    if not isinstance(decoded, dict):
        return None, None
    error = decoded.get("error")
    if isinstance(error, dict):
        error_type = error.get("type")
        message = error.get("message")
        return (
            error_type if isinstance(error_type, str) and error_type else None,
            message if isinstance(message, str) and message else None,
        )
    if isinstance(error, str) and error:
        return None, error
    message = decoded.get("message")
    return None, message if isinstance(message, str) and message else None


def error_for_response(
    status: int,
    body: str,
    *,
    reason: str | None = None,
    request_method: str | None = None,
    request_path: str | None = None,
) -> AcceptOnError:
    """The exception for a non-2xx answer; the body may be anything, JSON or not."""
    error_type, message = _error_fields(body)
    if message is None:
        message = f"HTTP {status} {reason}" if reason else f"HTTP {status}"
    cls: type[AcceptOnError]
    if status == 401:
        cls = AuthenticationError
    elif status == 404 or (status == 400 and error_type in NOT_FOUND_ERROR_TYPES):
        cls = NotFoundError
    elif status == 400:
        cls = InvalidRequestError
    elif status == 503:
        cls = ServiceUnavailableError
    else:
        cls = APIError
    return cls(
        message,
        http_status=status,
        error_type=error_type,
        request_method=request_method,
        request_path=request_path,
        http_body=body,
    )
