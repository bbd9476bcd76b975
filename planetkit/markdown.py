"""Markdown, parsed by one real parser for every service: posts rendered to safe HTML, and the
chat subset group messages are written in (its visible text and its links, for filters).

Shared here (moved from services/content/domain/markdown.py, which re-exports it) because
content and groups are separate deployables that may not import each other, and both must
read a text the same way: what a post renders and what a group filter sees come from one
configuration of one parser.

Posts: two real parsers, never a regular expression:

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

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

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


# ---- the chat subset (group messages) ------------------------------------------------------
#
# The same parser and preset as posts, with the block and inline rules a chat line has no use
# for turned off: headings, rules, images, reference definitions and raw HTML stay literal
# text. Emphasis, code, code blocks, quotes, lists, links and autolinks remain. Clients render
# the source under this subset; the service reads it to find what a reader will see.
CHAT_DISABLED_RULES = ("heading", "lheading", "hr", "image", "reference", "html_block",
                       "html_inline", "table")
_CHAT = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_CHAT.disable(list(CHAT_DISABLED_RULES), ignoreInvalid=True)

# A bare word is a link when urllib finds one of these schemes and a host in it.
_BARE_LINK_SCHEMES = frozenset({"http", "https", "ftp"})
# Punctuation a sentence wraps a bare link in ("(see https://x.io/a).").
_WRAPPING = "()[]{}<>\"'.,;:!?*_~`"
# A host name's alphabet (after IDNA-free casefolding); anything else is not a host.
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


@dataclass(frozen=True, slots=True)
class ChatText:
    """What a reader of a chat message sees, read by the parser."""

    # The visible text (markup removed, link targets not included), blocks separated by
    # newlines: what keyword filters read.
    visible: str
    # Every link target: Markdown links, autolinks, and bare words with a scheme and a host
    # or starting with "www." (clients turn those into links).
    links: tuple[str, ...]
    # The host of every link, and every bare word shaped like a host name ("spam.example",
    # "spam.example/x"), lower-case: what domain filters read. A bare host is not counted as
    # a link (a word like "node.js" would be), only matched against named domains.
    hosts: tuple[str, ...]


def read_chat(source: str) -> ChatText:
    """Parse a chat message's Markdown ``source`` (the chat subset) into what a reader sees."""
    visible: list[str] = []
    links: list[str] = []
    hosts: list[str] = []
    for token in _CHAT.parse(source):
        if token.type == "inline":
            _inline(token.children or [], visible, links, hosts)
            visible.append("\n")
        elif token.type in ("code_block", "fence"):
            visible.append(token.content)
            _bare_links(token.content, links, hosts)
            visible.append("\n")
    return ChatText(visible="".join(visible), links=tuple(links), hosts=tuple(hosts))


def _inline(children: list[Token], visible: list[str], links: list[str],
            hosts: list[str]) -> None:
    in_link = 0
    for child in children:
        if child.type == "link_open":
            in_link += 1
            href = str(child.attrGet("href") or "")
            links.append(href)
            host = _host_of(href)
            if host:
                hosts.append(host)
        elif child.type == "link_close":
            in_link -= 1
        elif child.type in ("text", "code_inline"):
            visible.append(child.content)
            # A link's own text is not a second link (an autolink's text is its target).
            if not in_link:
                _bare_links(child.content, links, hosts)
        elif child.type in ("softbreak", "hardbreak"):
            visible.append("\n")


def _bare_links(text: str, links: list[str], hosts: list[str]) -> None:
    for raw in text.split():
        word = raw.strip(_WRAPPING)
        if not word:
            continue
        scheme = _scheme(word)
        if scheme in _BARE_LINK_SCHEMES:
            host = _host_of(word)
            if host:
                links.append(word)
                hosts.append(host)
        elif scheme is None and word.casefold().startswith("www."):
            links.append("http://" + word)
            host = _host_of("http://" + word)
            if host:
                hosts.append(host)
        elif scheme is None:
            host = _host_of("//" + word)
            if host and _host_shaped(host):
                hosts.append(host)


def _host_of(url: str) -> str:
    """The lower-case host of ``url`` ("" when it has none or does not parse)."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return ""
    return (host or "").rstrip(".")


def _host_shaped(host: str) -> bool:
    """Whether a scheme-less word's host reads as a domain: two or more labels of letters,
    digits and hyphens, the last alphabetic and at least two letters long."""
    if not host or not set(host) <= _HOST_CHARS:
        return False
    labels = host.split(".")
    return len(labels) >= 2 and all(labels) and labels[-1].isalpha() and len(labels[-1]) >= 2


def normalized_words(text: str) -> tuple[str, ...]:
    """``text``'s words, compared the way filters compare them: Unicode NFKC (full-width and
    compatibility forms fold to their plain letters), then casefold; a word is a run of
    letters, marks and digits (Unicode categories L*, M*, N*), everything else separates."""
    return tuple(_words(unicodedata.normalize("NFKC", text).casefold()))


def _words(text: str) -> Iterator[str]:
    word: list[str] = []
    for ch in text:
        if unicodedata.category(ch)[0] in "LMN":
            word.append(ch)
        elif word:
            yield "".join(word)
            word = []
    if word:
        yield "".join(word)
