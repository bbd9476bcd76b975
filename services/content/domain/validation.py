"""Rules a post must satisfy before it is published, with size limits on every input."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from planetkit.trading_components import ticker_problem, trade_idea_problems
from services.content.domain.commands import PublishPost
from services.content.domain.components import checked_extra, checked_timeframe
from services.content.domain.model import (
    CoinTicker,
    PostKind,
    TradeIdea,
    TradingComponent,
)

MAX_ID_CHARS = 128
MAX_TITLE_CHARS = 200
MAX_SHORT_BODY_CHARS = 2_000
MAX_ARTICLE_BODY_CHARS = 100_000
MAX_HASHTAGS = 10
MAX_HASHTAG_CHARS = 50
MAX_MENTIONS = 20
MAX_MENTION_CHARS = 64
MAX_COMPONENTS = 5
MAX_SUMMARY_CHARS = 500
MAX_COVER_URL_CHARS = 2_048

_HASHTAG = re.compile(r"^\w+$")
_MENTION = re.compile(r"^[\w.\-]+$")


class InvalidPost(ValueError):
    """A PublishPost that breaks a rule; the message names every problem."""


@dataclass
class _Problems:
    items: list[str]

    def add(self, problem: str) -> None:
        self.items.append(problem)


def validate(cmd: PublishPost) -> PublishPost:
    """The command with hashtags, mentions and symbols normalized; InvalidPost otherwise."""
    problems = _Problems([])
    _check_id("request_id", cmd.request_id, problems)
    _check_id("creator_id", cmd.creator_id, problems)
    title = cmd.title.strip()
    body = cmd.body.strip()
    if len(title) > MAX_TITLE_CHARS:
        problems.add(f"title has {len(title)} characters; the limit is {MAX_TITLE_CHARS}")
    if cmd.kind is PostKind.ARTICLE and not title:
        problems.add("an article needs a title")
    limit = MAX_ARTICLE_BODY_CHARS if cmd.kind is PostKind.ARTICLE else MAX_SHORT_BODY_CHARS
    if not body:
        problems.add("body is empty")
    elif len(body) > limit:
        problems.add(
            f"body has {len(body)} characters; the limit for a {cmd.kind.value} post is {limit}"
        )
    hashtags = _names("hashtag", cmd.hashtags, "#", _HASHTAG, MAX_HASHTAGS,
                      MAX_HASHTAG_CHARS, problems)
    mentions = _names("mention", cmd.mentions, "@", _MENTION, MAX_MENTIONS,
                      MAX_MENTION_CHARS, problems)
    components = _components(cmd, problems)
    summary, cover = check_article_fields(cmd.kind, cmd.summary, cmd.cover_image_url, problems)
    if problems.items:
        raise InvalidPost("; ".join(problems.items))
    return replace(
        cmd, title=title, body=body, hashtags=hashtags, mentions=mentions, components=components,
        summary=summary, cover_image_url=cover,
    )


def check_article_fields(
    kind: PostKind, summary: str, cover_image_url: str, problems: _Problems
) -> tuple[str, str]:
    """An article's summary and cover image URL, trimmed; a short post has neither."""
    summary = summary.strip()
    cover = cover_image_url.strip()
    if kind is not PostKind.ARTICLE and (summary or cover):
        problems.add("only an article has a summary or a cover image")
    if len(summary) > MAX_SUMMARY_CHARS:
        problems.add(f"summary has {len(summary)} characters; the limit is {MAX_SUMMARY_CHARS}")
    if cover:
        problem = https_url_problem("cover_image_url", cover, MAX_COVER_URL_CHARS)
        if problem:
            problems.add(problem)
    return summary, cover


def https_url_problem(field: str, url: str, limit: int) -> str:
    """Why ``url`` is not an absolute https URL with a host and no credentials ("" if it is).

    Parsed by urllib (as social's profile links are), never matched by a pattern.
    """
    if len(url) > limit:
        return f"{field} has {len(url)} characters; the limit is {limit}"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return f"{field} must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        return f"{field} is not a URL: {exc}"
    if parts.scheme != "https":
        return f"{field} must be an https URL"
    if not host or "." not in host:
        return f"{field} must name a host"
    if parts.username is not None or parts.password is not None:
        return f"{field} must not carry credentials"
    return ""


def _check_id(name: str, value: str, problems: _Problems) -> None:
    if not value.strip():
        problems.add(f"{name} is required")
    elif len(value) > MAX_ID_CHARS:
        problems.add(f"{name} has {len(value)} characters; the limit is {MAX_ID_CHARS}")


def _names(
    what: str,
    raw: tuple[str, ...],
    sigil: str,
    pattern: re.Pattern[str],
    max_count: int,
    max_chars: int,
    problems: _Problems,
) -> tuple[str, ...]:
    if len(raw) > max_count:
        problems.add(f"{len(raw)} {what}s; the limit is {max_count}")
        return ()
    out: list[str] = []
    for item in raw:
        name = item.strip().removeprefix(sigil)
        if not name or len(name) > max_chars or not pattern.match(name):
            problems.add(
                f"{what} {item[:max_chars + 1]!r} is not 1-{max_chars} letters, digits or _"
                + (" . -" if what == "mention" else "")
            )
        elif name not in out:
            out.append(name)
    return tuple(out)


def _components(
    cmd: PublishPost, problems: _Problems
) -> tuple[TradingComponent, ...]:
    if len(cmd.components) > MAX_COMPONENTS:
        problems.add(f"{len(cmd.components)} trading components; the limit is {MAX_COMPONENTS}")
        return ()
    out: list[TradingComponent] = []
    for i, comp in enumerate(cmd.components, start=1):
        where = f"component {i}"
        if isinstance(comp, CoinTicker):
            symbol = comp.symbol.strip().upper()
            if problem := ticker_problem(comp.symbol):
                problems.add(f"{where}: {problem}")
            out.append(CoinTicker(symbol))
        elif not isinstance(comp, TradeIdea):
            # Trade links and copy-trade cards: domain/components.py checks them.
            if (extra := checked_extra(comp, where, problems.items)) is not None:
                out.append(extra)
        else:
            idea = _trade_idea(comp, where, problems)
            if idea is not None:
                out.append(idea)
    return tuple(out)


def _trade_idea(idea: TradeIdea, where: str, problems: _Problems) -> TradeIdea | None:
    # The shape rules are shared with group messages (planetkit/trading_components.py).
    found = trade_idea_problems(idea.pair, idea.side.value, idea.entry, idea.target, idea.stop)
    for problem in found:
        problems.add(f"{where}: {problem}")
    timeframe = checked_timeframe(idea, where, problems.items)
    if found:
        return None
    return TradeIdea(idea.pair.strip().upper(), idea.side, idea.entry.strip(),
                     idea.target.strip(), idea.stop.strip(), timeframe)
