"""The one place where errors become HTTP responses.

Rules of this file:

1. Every error the API answers with is ``{"error": <message>, "code": <CODE>, "details"?}``.
2. The status is chosen from the error's ``code`` (``AttuneError.code``), here and only here.
3. Anything that is not an :class:`AttuneError` is a server fault: it is logged with the request
   id (also sent as the ``X-Request-ID`` header) and answered with a 500 without a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, Response, g, jsonify
from werkzeug.exceptions import HTTPException

from attune_core.errors import AttuneError

log = logging.getLogger(__name__)

STATUS_BY_CODE = {
    "BAD_REQUEST": 400,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "VALIDATION_ERROR": 422,
    "TOO_MANY_REQUESTS": 429,
    "INTERNAL_SERVER_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "SERVICE_UNAVAILABLE": 503,
}
CODE_BY_STATUS = {status: code for code, status in STATUS_BY_CODE.items()}


class Unauthorized(AttuneError):
    code = "UNAUTHORIZED"


class Forbidden(AttuneError):
    code = "FORBIDDEN"


class TooManyRequests(AttuneError):
    code = "TOO_MANY_REQUESTS"

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotImplementedYet(AttuneError):
    code = "NOT_IMPLEMENTED"


class PayloadTooLarge(AttuneError):
    code = "PAYLOAD_TOO_LARGE"


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    body: dict[str, Any] = {"error": message, "code": code}
    if details is not None:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


def install(app: Quart) -> None:
    """Register the error handlers on ``app``."""

    @app.errorhandler(AttuneError)
    async def attune_error(exc: AttuneError) -> Response:
        status = STATUS_BY_CODE.get(exc.code, 500)
        if _out_of_range(exc):
            return error_response(400, "BAD_REQUEST", "a value in the request is out of range")
        if status >= 500:
            log.error("request %s failed: %s", _request_id(), exc, exc_info=exc)
            return error_response(500, "INTERNAL_SERVER_ERROR", "internal server error")
        details = exc.details
        field = getattr(exc, "field", None)
        if details is None and field:
            details = {"field": field}
        response = error_response(status, exc.code, exc.message, details)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = CODE_BY_STATUS.get(
            status, "BAD_REQUEST" if status < 500 else "INTERNAL_SERVER_ERROR"
        )
        messages = {
            404: "not found",
            405: "method not allowed",
            413: "request body too large",
        }
        return error_response(status, code, messages.get(status, exc.description or exc.name))

    @app.errorhandler(OverflowError)
    async def out_of_range(exc: OverflowError) -> Response:
        # an integer from the request too large for a 64-bit database column: the caller's fault
        return error_response(400, "BAD_REQUEST", "an integer in the request is out of range")

    @app.errorhandler(Exception)
    async def server_fault(exc: Exception) -> Response:
        log.error("request %s failed", _request_id(), exc_info=exc)
        return error_response(500, "INTERNAL_SERVER_ERROR", "internal server error")


def _out_of_range(exc: BaseException) -> bool:
    """A database error caused by a request value the column cannot hold (an integer out of
    its range): the caller's fault, a 400 and not a 500."""
    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 10:
        if isinstance(cause, OverflowError) or type(cause).__name__ == "DataError":
            return True
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return False


def _request_id() -> str:
    return str(getattr(g, "request_id", "-"))
