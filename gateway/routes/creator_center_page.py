"""The creator center web page: static files only (gateway/static/creator_center.*).

The page is plain HTML, CSS and JavaScript with no build step and nothing fetched from
elsewhere: the browser calls the API itself (``/v1/creators/{id}/center``, ``/estimate``,
``/pool/weeks``) with the bearer token the creator gives it, and draws its charts as inline
SVG. So these routes hold no data and need no token: they are public and cacheable, served
with a strict Content-Security-Policy (``default-src 'self'``, no inline script or style)
that leaves the page only its own files and the gateway's API to talk to.

Only the page itself is in the OpenAPI document; its script, stylesheet and the minor-unit
table are parts of the page, not operations of the API.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response

from planetkit.assets import MINOR_DIGITS

router = APIRouter(tags=["creator center page"])

STATIC = Path(__file__).resolve().parents[1] / "static"
PAGE_PATH = "/creator-center"
# Nothing but this origin: no inline script or style, no frames, no plugins, no forms posting
# elsewhere, not framable. connect-src 'self' is the API the page calls.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
# Public and cacheable, but revalidated after 5 minutes so a deployment shows within minutes
# (the ETag makes the revalidation a 304).
CACHE_CONTROL = "public, max-age=300"


@dataclass(frozen=True)
class StaticFile:
    """One file of the page, read once at import, with its validator."""

    body: bytes
    media_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> StaticFile:
        """``body`` with a strong ETag of its bytes."""
        return cls(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def _read(name: str, media_type: str) -> StaticFile:
    return StaticFile.of((STATIC / name).read_bytes(), media_type)


PAGE = _read("creator_center.html", "text/html; charset=utf-8")
SCRIPT = _read("creator_center.js", "text/javascript; charset=utf-8")
STYLE = _read("creator_center.css", "text/css; charset=utf-8")
# The exchange's minor unit per asset (planetkit.assets), so the page formats money with the
# same table every other part of Planet books with.
MINOR_UNITS = StaticFile.of(json.dumps(dict(MINOR_DIGITS), sort_keys=True).encode(),
                            "application/json")


def _serve(request: Request, file: StaticFile) -> Response:
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": file.etag,
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
    if file.etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(file.body, media_type=file.media_type, headers=headers)


@router.get(
    PAGE_PATH,
    response_class=Response,
    responses={
        200: {"description": "The page (HTML). It calls GET /v1/creators/{creator_id}/center, "
                             "/estimate and /pool/weeks with the bearer token entered on it or "
                             "given in the URL fragment (#token=...; never in the query).",
              "content": {"text/html": {"schema": {"type": "string"}}},
              "headers": {"ETag": {"schema": {"type": "string"}},
                          "Cache-Control": {"schema": {"type": "string"}},
                          "Content-Security-Policy": {"schema": {"type": "string"}}}},
        304: {"description": "Not modified (If-None-Match matched the ETag)."},
    },
)
async def creator_center_page(request: Request) -> Response:
    """The creator center: per week and per post, views, unique viewers, dwell, effective
    interactions, followers gained, estimated and settled earnings, with a bar chart per
    week. A static page (no data, no token needed to load it); the data comes from the API,
    called by the browser with the creator's token, which stays in the tab's sessionStorage."""
    return _serve(request, PAGE)


@router.get(f"{PAGE_PATH}/creator_center.js", include_in_schema=False)
async def creator_center_script(request: Request) -> Response:
    """The page's script."""
    return _serve(request, SCRIPT)


@router.get(f"{PAGE_PATH}/creator_center.css", include_in_schema=False)
async def creator_center_style(request: Request) -> Response:
    """The page's stylesheet."""
    return _serve(request, STYLE)


@router.get(f"{PAGE_PATH}/minor-units.json", include_in_schema=False)
async def creator_center_minor_units(request: Request) -> Response:
    """Decimal digits of one minor unit per asset (planetkit.assets.MINOR_DIGITS)."""
    return _serve(request, MINOR_UNITS)
