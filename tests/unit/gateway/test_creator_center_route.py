"""The creator center page's route: static files only, public, cacheable, locked down."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from gateway.routes.creator_center_page import CSP, STATIC
from planetkit.assets import MINOR_DIGITS


def test_the_page_and_its_parts_are_public_cacheable_and_under_a_strict_csp(
        client: TestClient) -> None:
    for path, media in [("/creator-center", "text/html"),
                        ("/creator-center/creator_center.js", "text/javascript"),
                        ("/creator-center/creator_center.css", "text/css"),
                        ("/creator-center/minor-units.json", "application/json")]:
        response = client.get(path)  # no token: the page holds no data
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(media), path
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["x-content-type-options"] == "nosniff"
        etag = response.headers["etag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/creator-center/minor-units.json").json() == dict(MINOR_DIGITS)
    assert client.get("/creator-center/../app.py").status_code == 404
    assert client.get("/creator-center/creator_center.html").status_code == 404


def test_the_csp_allows_only_this_origin_and_no_inline_code() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CSP and "http" not in CSP


def test_the_files_hold_no_inline_code_and_load_nothing_from_elsewhere() -> None:
    html = (STATIC / "creator_center.html").read_text()
    script = (STATIC / "creator_center.js").read_text()
    # Scripts only by src, no inline handlers or styles (the CSP would refuse them).
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/creator-center/creator_center.js" defer>']
    assert not re.search(r"\son[a-z]+=", html) and "style=" not in html
    for text in (html, script, (STATIC / "creator_center.css").read_text()):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text.replace(
            "http://www.w3.org/2000/svg", "")), "nothing is fetched from another origin"
    # The token is sent in a header and kept per tab, never in a query string or localStorage.
    assert "Authorization: `Bearer ${token}`" in script
    assert "sessionStorage" in script and "localStorage" not in script
    assert "?token=" not in script and "innerHTML" not in script


def test_only_the_page_is_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    page = paths["/creator-center"]["get"]
    assert set(page["responses"]) == {"200", "304"}
    assert "text/html" in page["responses"]["200"]["content"]
    assert not [p for p in paths if p.startswith("/creator-center/")]
