"""The error envelope and the messages AcceptOn uses (some with AcceptOn's own typos)."""

from __future__ import annotations

from typing import Any

# Messages copied from AcceptOn's fixtures; the "postive" typo and the Rails placeholder are theirs.
INVALID_AMOUNT = "The amount is not a postive integer."
NAME_TAKEN = "That name was already taken. Did you already create the promo code?"
NO_SUCH_CHARGE = "There is no charge with that ID."
NO_SUCH_PLAN = "translation missing: en.invalid_plan_id"
UNKNOWN_TXN = "The transaction token is invalid."
UNABLE_TO_CANCEL = "Unable to cancel subscription with that ID."
INVALID_API_KEY = "Invalid API key."

# Error types for statuses the sandbox only produces when a test injects them.
STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be processed."),
    401: ("unauthorized", INVALID_API_KEY),
    404: ("not_found", "The requested resource was not found."),
    500: ("internal_server_error", "Something went wrong on AcceptOn's end."),
    502: ("bad_gateway", "AcceptOn received an invalid response from an upstream server."),
    503: ("service_unavailable", "AcceptOn is down for maintenance. Please try again later."),
    504: ("gateway_timeout", "AcceptOn timed out waiting for an upstream server."),
}


class SandboxError(Exception):
    """An API error: the HTTP status and the ``{"error": {"type", "message"}}`` body."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message

    def to_json(self) -> dict[str, Any]:
        return {"error": {"type": self.error_type, "message": self.message}}


def bad_request(error_type: str, message: str) -> SandboxError:
    return SandboxError(400, error_type, message)


def not_found(error_type: str, message: str) -> SandboxError:
    return SandboxError(404, error_type, message)
