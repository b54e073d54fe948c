"""API errors: each one is a code and an HTTP status of DESIGN §3.1.

ApiError
 ├── BadRequest            400 BAD_REQUEST
 ├── ValidationFailed      400 VALIDATION_ERROR
 ├── BrowserUnavailable    400 BROWSER_NOT_AVAILABLE
 ├── Unauthorized          401 UNAUTHORIZED
 ├── Forbidden             403 FORBIDDEN
 ├── NotFound              404 NOT_FOUND
 ├── MethodNotAllowed      405 METHOD_NOT_ALLOWED
 ├── Conflict              409 CONFLICT
 ├── PayloadTooLarge       413 PAYLOAD_TOO_LARGE
 ├── RateLimitExceeded     429 RATE_LIMIT_EXCEEDED
 └── InternalError         500 INTERNAL_ERROR
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationError


class ApiError(Exception):
    """An error answered to the client as ``{"success": false, "error": {...}}``."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        """The canonical error body."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"success": False, "error": error}


class BadRequest(ApiError):
    """Malformed JSON, wrong content type or an unusable request."""

    status, code = 400, "BAD_REQUEST"


class ValidationFailed(ApiError):
    """A well-formed request whose values are wrong; ``details`` names the fields."""

    status, code = 400, "VALIDATION_ERROR"

    @classmethod
    def from_pydantic(cls, error: ValidationError, prefix: str = "") -> ValidationFailed:
        """One detail per pydantic error, the field as a dotted path under ``prefix``."""
        details = []
        for item in error.errors(include_url=False):
            parts = [prefix, *map(str, item["loc"])] if prefix else list(map(str, item["loc"]))
            field = ".".join(parts) or "body"
            details.append({"field": field, "message": item["msg"]})
        message = "; ".join(f"invalid {d['field']}: {d['message']}" for d in details)
        return cls(message, details)

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        """A validation error about one field."""
        return cls(f"invalid {field}: {message}", [{"field": field, "message": message}])


class BrowserUnavailable(ApiError):
    """The requested browser is not installed or reachable."""

    status, code = 400, "BROWSER_NOT_AVAILABLE"


class Unauthorized(ApiError):
    """Missing, unknown or revoked API key."""

    status, code = 401, "UNAUTHORIZED"


class Forbidden(ApiError):
    """The key's scope or project does not allow this."""

    status, code = 403, "FORBIDDEN"


class NotFound(ApiError):
    """Unknown id or unknown route."""

    status, code = 404, "NOT_FOUND"


class MethodNotAllowed(ApiError):
    """The route exists but not with this method."""

    status, code = 405, "METHOD_NOT_ALLOWED"


class Conflict(ApiError):
    """The resource is not in a state that allows this."""

    status, code = 409, "CONFLICT"


class PayloadTooLarge(ApiError):
    """The request body exceeds the limit."""

    status, code = 413, "PAYLOAD_TOO_LARGE"


class RateLimitExceeded(ApiError):
    """The key has used its requests for this minute."""

    status, code = 429, "RATE_LIMIT_EXCEEDED"


class InternalError(ApiError):
    """Something failed on our side; the log has the traceback."""

    status, code = 500, "INTERNAL_ERROR"
