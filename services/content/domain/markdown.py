"""A post's Markdown source rendered to HTML a client can display without script injection.

Two real parsers, never a regular expression:

1. ``markdown-it-py`` in its CommonMark preset parses the source, with raw HTML turned
   off: an HTML tag or block written in the source is rendered as escaped text, never as
   markup. Its own link check already refuses ``javascript:``, ``vbscript:`` and
   ``file:`` targets.
2. ``nh3`` (Rust's ammonia, an HTML5 parser and allow-list sanitiser) then keeps only the
   tags and attributes below, whatever the renderer emitted: the allow-list, not the
   renderer, is what guarantees the output. Links keep ``http``, ``https`` and ``mailto``
   targets and get ``rel="nofollow noopener ugc"`` (user-generated, never followed by
   crawlers, no ``window.opener``); images keep ``https`` sources only (a client that
   loads an ``http`` image leaks the reader's address in clear and mixes content); relative
   URLs are dropped (a post is shown on other origins than the one it was written for).

The source is what is stored and logged; the HTML is derived from it (a change of policy
bumps the stores' format, which rebuilds them from the log).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

# Bump with any change below: stored posts carry HTML rendered under this policy.
POLICY_VERSION = 1

_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "em", "strong", "ul", "ol", "li", "a", "img",
})
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_IMAGE_SCHEMES = frozenset({"https"})
LINK_REL = "nofollow noopener ugc"

# CommonMark, raw HTML off (escaped as text), no typographer rewriting of the author's text.
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _scheme(url: str) -> str | None:
    """The URL's scheme, lower-case; None when it has none or does not parse."""
    try:
        scheme = urlsplit(url.strip()).scheme
    except ValueError:
        return None
    return scheme.lower() or None


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    """Per attribute, after the allow-list: images load from https only."""
    if element == "img" and attribute == "src" and _scheme(value) not in _IMAGE_SCHEMES:
        return None
    if element == "a" and attribute == "href" and _scheme(value) not in _LINK_SCHEMES:
        return None
    return value


def render(source: str) -> str:
    """The safe HTML of a Markdown ``source``."""
    html = _MD.render(source)
    return nh3.clean(
        html,
        tags=set(_TAGS),
        clean_content_tags={"script", "style"},
        attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
        attribute_filter=_attribute_filter,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes=set(_LINK_SCHEMES),
        url_relative="deny",
    )
