"""Keyword and link filters: which rule a message hits, if any.

The message is read by the real Markdown parser (planetkit.markdown.read_chat, the same
parser content renders posts with): keywords are matched on the words a reader sees (markup
removed: "b**a**d" reads "bad"), compared after Unicode NFKC and casefolding, as whole words
or whole phrases ("buy now" hits "BUY   now!", not "buying nowhere"). Links come from the
parser's link tokens and from bare words urllib reads as a URL; a domain rule hits a link's
host or any subdomain of it, and also a bare host name ("spam.example/x"). No regular
expression decides anything here.
"""

from __future__ import annotations

from collections.abc import Iterable

from planet.groups.v1 import group_events_pb2 as ev
from planetkit.markdown import ChatText, normalized_words, read_chat
from services.groups.domain.state import Rule


def read(text: str) -> ChatText:
    """``text`` as a reader sees it (the chat subset of the shared Markdown parser)."""
    return read_chat(text)


def shows_anything(chat: ChatText) -> bool:
    """Whether a reader sees anything: a visible character or a link (an empty list item
    "-" or an empty quote ">" shows nothing)."""
    return bool(chat.visible.strip() or chat.links)


def hit(chat: ChatText, rules: Iterable[Rule]) -> Rule | None:
    """The first rule the message hits: block rules before hold rules (a message that would be
    both is refused, not held), each in the group's order; None when none does."""
    ordered = sorted(rules, key=lambda rule: rule.action != ev.FILTER_ACTION_BLOCK)
    if not ordered:
        return None
    words = normalized_words(chat.visible)
    for rule in ordered:
        if _matches(rule, chat, words):
            return rule
    return None


def _matches(rule: Rule, chat: ChatText, words: tuple[str, ...]) -> bool:
    if rule.kind == ev.FILTER_KIND_KEYWORD:
        return _contains(words, normalized_words(rule.pattern))
    if rule.kind == ev.FILTER_KIND_ANY_LINK:
        return bool(chat.links)
    if rule.kind == ev.FILTER_KIND_LINK_DOMAIN:
        return any(host == rule.pattern or host.endswith("." + rule.pattern)
                   for host in chat.hosts)
    return False


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if n == 0:
        return False
    return any(words[i:i + n] == phrase for i in range(len(words) - n + 1))
