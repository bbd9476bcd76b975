"""Gateway errors and how every error becomes {"error": "..."}.

Every 503 and 429 carries Retry-After, so a client never has to guess how long to back off.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)

# Used when nothing more specific is known (GatewaySettings.retry_after_s overrides it).
DEFAULT_RETRY_AFTER_S = 5


class GatewayError(Exception):
    """An error with the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UpstreamUnavailable(GatewayError):
    """A backend (gRPC service or Kafka) did not answer in time."""

    status = 503


class OutcomeUnknown(UpstreamUnavailable):
    """A write was handed to the event log, which did not confirm it in time.

    It may still land. The 503 says so, and the ids make the retry harmless.
    """


class NotFound(GatewayError):
    """The thing asked for does not exist."""

    status = 404


class Forbidden(GatewayError):
    """The caller is known but may not do this."""

    status = 403


class Conflict(GatewayError):
    """The request contradicts the current state (e.g. an id reused for other content)."""

    status = 409


class Unprocessable(GatewayError):
    """The request is well-formed but breaks a rule."""

    status = 422


class TooManyRequests(GatewayError):
    """A rate limit was hit; retry after ``retry_after_s``."""

    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UpstreamFailed(GatewayError):
    """A backend answered with an error the gateway cannot explain to the client."""

    status = 502


def error_body(message: str) -> dict[str, str]:
    """The one shape of every error response."""
    return {"error": message}


def describe_validation(exc: RequestValidationError) -> str:
    """One line naming each invalid field, or saying the JSON is malformed."""
    parts: list[str] = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            reason = err.get("ctx", {}).get("error", "JSON decode error")
            return f"malformed JSON: {reason}"
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        where = ".".join(loc) if loc else "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _headers(status: int, given: Mapping[str, str] | None, retry_after_s: int) -> dict[str, str]:
    headers = dict(given or {})
    if status in (429, 503) and not any(k.lower() == "retry-after" for k in headers):
        headers["Retry-After"] = str(retry_after_s)
    return headers


def install_error_handlers(app: FastAPI, retry_after_s: int = DEFAULT_RETRY_AFTER_S) -> None:
    """Render HTTP, validation, gateway and unexpected errors as {"error": ...}."""

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return JSONResponse(
            error_body(str(exc.detail)), status_code=exc.status_code,
            headers=_headers(exc.status_code, exc.headers, retry_after_s),
        )

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(error_body(describe_validation(exc)), status_code=422)

    async def on_gateway(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GatewayError)
        wait = exc.retry_after_s if isinstance(exc, TooManyRequests) else retry_after_s
        return JSONResponse(error_body(exc.message), status_code=exc.status,
                            headers=_headers(exc.status, None, wait))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not the client's doing: the details go to the log, never to the client.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(error_body("internal error"), status_code=500)

    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(GatewayError, on_gateway)
    app.add_exception_handler(Exception, on_unexpected)
