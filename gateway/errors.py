"""Gateway errors and how every error becomes {"error": "..."}."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


class GatewayError(Exception):
    """An error with the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UpstreamUnavailable(GatewayError):
    """A backend (gRPC service or Kafka) did not answer in time."""

    status = 503


class NotFound(GatewayError):
    """The thing asked for does not exist."""

    status = 404


class Unprocessable(GatewayError):
    """The request is well-formed but breaks a rule."""

    status = 422


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


def install_error_handlers(app: FastAPI) -> None:
    """Render HTTP, validation and gateway errors as {"error": ...}."""

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return JSONResponse(
            error_body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(error_body(describe_validation(exc)), status_code=422)

    async def on_gateway(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GatewayError)
        return JSONResponse(error_body(exc.message), status_code=exc.status)

    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(GatewayError, on_gateway)
