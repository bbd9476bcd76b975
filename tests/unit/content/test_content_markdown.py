"""Markdown rendering: CommonMark through markdown-it-py, then nh3's allow-list. Every XSS
payload below comes out inert; the output is audited by Python's own HTML parser
(safe_html.py), not by the sanitiser under test."""

from __future__ import annotations

import pytest

from services.content.domain.markdown import render
from tests.unit.content.safe_html import unsafe_parts

PAYLOADS = [
    # raw HTML: tags, blocks, event handlers
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<div onclick=\"alert(1)\">\n\nclick\n\n</div>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<!-- <script>alert(1)</script> -->",
    "<details open ontoggle=alert(1)>",
    "text <b onmouseover=alert(1)>bold</b>",
    # links and images with dangerous schemes
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&#58;alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](file:///etc/passwd)",
    "![i](javascript:alert(1))",
    "![i](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![i](data:image/png;base64,iVBORw0KGgo=)",
    "![i](http://tracker.example/pixel.png)",
    "![i](//evil.example/i.png)",
    "[x](/relative/path)",
    # reference links, autolinks, titles that try to break out
    "[x][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[x](https://ok.example \"t\\\" onmouseover=\\\"alert(1)\")",
    "![a\" onerror=\"alert(1)](https://ok.example/i.png)",
    # nesting tricks
    "[![i](javascript:alert(1))](javascript:alert(1))",
    "<scr<script>ipt>alert(1)</script>",
    "`<script>` and ```\n<script>alert(1)</script>\n```",
    "> <script>alert(1)</script>\n> [q](javascript:alert(1))",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "* [x](javascript:alert(1))\n* <img src=x onerror=alert(1)>",
]


@pytest.mark.parametrize("source", PAYLOADS)
def test_no_payload_survives(source: str) -> None:
    html = render(source)
    assert unsafe_parts(html) == [], html
    assert "<script" not in html.lower() and "<iframe" not in html.lower()


def test_markdown_still_renders_what_it_should() -> None:
    html = render("# Title\n\n**bold** _it_ `code`\n\n- a\n- b\n\n> quote\n\n"
                  "[link](https://ok.example/a?b=1) <https://auto.example> "
                  "<mailto:me@ok.example> ![alt](https://cdn.example/i.png)")
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<code>code</code>" in html and "<li>a</li>" in html
    assert "<blockquote>" in html
    assert '<a href="https://ok.example/a?b=1" rel="nofollow noopener ugc">link</a>' in html
    assert '<a href="https://auto.example" rel="nofollow noopener ugc">' in html
    assert 'href="mailto:me@ok.example"' in html
    assert '<img src="https://cdn.example/i.png" alt="alt">' in html
    assert unsafe_parts(html) == []


def test_raw_html_is_shown_as_text_not_markup() -> None:
    assert render("<b>hi</b>") == "<p>&lt;b&gt;hi&lt;/b&gt;</p>\n"


def test_an_http_image_loses_its_source_but_an_http_link_stays() -> None:
    html = render("![i](http://x.example/i.png) [l](http://x.example/)")
    assert "src=" not in html
    assert 'href="http://x.example/"' in html


def test_a_large_article_renders() -> None:
    body = ("## Section\n\n" + "word " * 200 + "\n\n") * 80  # ~ 80 KB
    html = render(body)
    assert html.count("<h2>") == 80 and unsafe_parts(html) == []
