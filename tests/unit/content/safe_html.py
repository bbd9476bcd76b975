"""An independent check of rendered HTML (Python's own HTML parser, not the sanitiser under
test): which elements, attributes and URLs in it could run script or leak the reader."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

ALLOWED_TAGS = frozenset({"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
                          "pre", "code", "em", "strong", "ul", "ol", "li", "a", "img"})


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in ("href", "src"):
                scheme = urlsplit((value or "").strip()).scheme.lower()
                allowed = {"https"} if name == "src" else {"http", "https", "mailto"}
                if scheme not in allowed:
                    self.problems.append(f"{name}={value!r} on <{tag}>")
            if tag == "a" and name == "rel" and value != "nofollow noopener ugc":
                self.problems.append(f"rel={value!r}")

    def handle_comment(self, data: str) -> None:
        self.problems.append("a comment")


def unsafe_parts(html: str) -> list[str]:
    """Every element, attribute or URL in ``html`` outside the allow-list (empty: safe)."""
    audit = _Audit()
    audit.feed(html)
    audit.close()
    if "<a " in html and 'rel="nofollow noopener ugc"' not in html:
        audit.problems.append("a link without rel")
    return audit.problems
