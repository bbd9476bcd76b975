"""What the OpenAPI document says each operation can answer, with the real error body.

FastAPI documents a 422 ``{"detail": [...]}`` body on its own; the gateway never sends it
(every error is ``{"error": "..."}``), so every operation declares its errors here instead.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}

_DESCRIPTIONS = {
    400: "The request was refused as a whole: a body that cannot be decoded at all (not "
         "UTF-8), or (analytics) a statement that is not allowed.",
    401: "No token, or a token that is malformed, expired, or not from the identity provider.",
    403: "The token is valid but its subject may not do this.",
    404: "There is no such resource.",
    409: "The request contradicts what exists (e.g. an idempotency key reused differently).",
    413: "The request body is larger than the limit (see the API description).",
    422: "A parameter or the body breaks a rule; the message names the field.",
    429: "A rate limit was hit; retry after Retry-After seconds.",
    503: "A backend is unavailable; retry after Retry-After seconds.",
}


class ReadyBody(BaseModel):
    """The gateway takes traffic."""

    status: str


class ErrorBody(BaseModel):
    """The one shape of every error response."""

    error: str


def errors(*statuses: int, **overrides: str) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` for ``statuses``; ``s503="..."`` overrides a description."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "model": ErrorBody,
            "description": overrides.get(f"s{status}", _DESCRIPTIONS[status]),
        }
        if status in (429, 503):
            entry["headers"] = RETRY_AFTER
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        out[status] = entry
    return out


# Common sets: every authenticated operation can answer 401, 422 (a parameter), 429 (the
# per-address token limit) and 503 (keys or a backend unavailable).
AUTHED = (401, 422, 429, 503)
WITH_BODY = (400, 413, 422)
