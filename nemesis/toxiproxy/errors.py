"""The errors the embedded Toxiproxy's HTTP API answers with, worded exactly as Toxiproxy 2.x words
them (``{"error": "proxy not found", "status": 404}``). Pure values, no I/O."""

from __future__ import annotations

from http import HTTPStatus


class ApiError(Exception):
    """An error that becomes an HTTP response: ``message`` is the body's ``error``, ``status``
    its code."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def joined(self, detail: str) -> ApiError:
        """Toxiproxy's ``joinError``: the same status, the message followed by ``: detail``."""
        return ApiError(f"{self.message}: {detail}", self.status)

    def to_json(self) -> dict[str, object]:
        return {"error": self.message, "status": self.status}


def bad_request_body(detail: str) -> ApiError:
    return BAD_REQUEST_BODY.joined(detail)


def internal_error(message: str) -> ApiError:
    """Errors Toxiproxy has no status for (e.g. a failed bind) are reported as 500."""
    return ApiError(message, HTTPStatus.INTERNAL_SERVER_ERROR)


BAD_REQUEST_BODY = ApiError("bad request body", HTTPStatus.BAD_REQUEST)
MISSING_FIELD = ApiError("missing required field", HTTPStatus.BAD_REQUEST)
PROXY_NOT_FOUND = ApiError("proxy not found", HTTPStatus.NOT_FOUND)
PROXY_ALREADY_EXISTS = ApiError("proxy already exists", HTTPStatus.CONFLICT)
INVALID_STREAM = ApiError(
    "stream was invalid, can be either upstream or downstream", HTTPStatus.BAD_REQUEST
)
INVALID_TOXIC_TYPE = ApiError("invalid toxic type", HTTPStatus.BAD_REQUEST)
TOXIC_ALREADY_EXISTS = ApiError("toxic already exists", HTTPStatus.CONFLICT)
TOXIC_NOT_FOUND = ApiError("toxic not found", HTTPStatus.NOT_FOUND)


class ProxyAlreadyStarted(Exception):
    """Starting a proxy that already listens (``POST /reset`` ignores it, like Toxiproxy)."""
