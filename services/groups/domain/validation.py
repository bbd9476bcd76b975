"""Checks on what a command carries: each returns the normalized value or an error message.

Strict alphabets and real parsers only: URLs through urllib, words through Unicode categories,
emoji through Unicode categories (never a regular expression).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from urllib.parse import urlsplit

from planet.content.v1 import events_pb2 as tc
from planet.content.v1.events_pb2 import TradingComponent
from planet.groups.v1 import group_events_pb2 as ev
from planetkit import trading_components as tc_rules
from planetkit.markdown import normalized_words
from services.groups.domain import limits as lim
from services.groups.domain.state import Profile, Rule

# Invite link codes: URL-safe base64's alphabet (the service makes them with secrets).
LINK_ID_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
ID_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
HOST_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")
# Inside an emoji sequence besides symbols and marks: zero-width joiner, variation selector
# 16, keycap bases.
_EMOJI_EXTRA = frozenset("\u200d\ufe0f0123456789#*")
_TEXT_CONTROLS_ALLOWED = frozenset("\n\t")


class Invalid(ValueError):
    """An input breaks a rule; the message says which, for the end user."""


def group_id(value: str) -> str:
    """A group id: 1-128 characters of a-z, 0-9, '-', '_' (the service mints them)."""
    if not 0 < len(value) <= lim.MAX_ID_CHARS or not set(value) <= ID_ALPHABET:
        raise Invalid("a group id is 1 to 128 characters of a-z, 0-9, '-' and '_'")
    return value


def bounded(value: str, what: str, most: int, least: int = 0) -> str:
    """``value`` when its length is in range and it holds no control character."""
    if not least <= len(value) <= most:
        raise Invalid(f"{what} must be {least} to {most} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROLS_ALLOWED
           for ch in value):
        raise Invalid(f"{what} holds a control character")
    return value


def https_url(value: str, what: str) -> str:
    """An absolute https URL with a host and no credentials, or ''."""
    if not value:
        return ""
    bounded(value, what, lim.MAX_URL_CHARS)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise Invalid(f"{what} is not a URL") from None
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise Invalid(f"{what} must be an https URL with a host")
    return value


def profile(pb: ev.GroupProfile, member_count: int = 0) -> Profile:
    """A checked, normalized profile."""
    name = bounded(pb.name.strip(), "name", lim.MAX_NAME_CHARS, least=1)
    topics: list[str] = []
    for topic in pb.topics:
        words = normalized_words(topic)
        if len(words) != 1 or len(words[0]) > lim.MAX_TOPIC_CHARS:
            raise Invalid(f"a topic is one word of at most {lim.MAX_TOPIC_CHARS} characters")
        if words[0] not in topics:
            topics.append(words[0])
    if len(topics) > lim.MAX_TOPICS:
        raise Invalid(f"at most {lim.MAX_TOPICS} topics")
    if pb.visibility not in (ev.GROUP_VISIBILITY_PUBLIC, ev.GROUP_VISIBILITY_PRIVATE):
        raise Invalid("visibility must be public or private")
    if pb.join_mode not in (ev.JOIN_MODE_FREE, ev.JOIN_MODE_REQUEST, ev.JOIN_MODE_INVITE_ONLY):
        raise Invalid("join mode must be free, request or invite only")
    if pb.visibility == ev.GROUP_VISIBILITY_PRIVATE and pb.join_mode != ev.JOIN_MODE_INVITE_ONLY:
        raise Invalid("a private group is invite only")
    if not max(1, member_count) <= pb.member_limit <= lim.MAX_MEMBER_LIMIT:
        raise Invalid(f"member limit must be {max(1, member_count)} to {lim.MAX_MEMBER_LIMIT}"
                      " (never below the current member count)")
    return Profile(
        name=name,
        description=bounded(pb.description, "description", lim.MAX_DESCRIPTION_CHARS),
        avatar_url=https_url(pb.avatar_url, "avatar_url"),
        rules=bounded(pb.rules, "rules", lim.MAX_RULES_CHARS),
        topics=tuple(topics), visibility=pb.visibility, join_mode=pb.join_mode,
        member_limit=pb.member_limit)


def mentions(values: Sequence[str]) -> tuple[str, ...]:
    """Distinct mentioned user ids, in order, at most 20."""
    out: list[str] = []
    for user in values:
        bounded(user, "a mention", lim.MAX_ID_CHARS, least=1)
        if user not in out:
            out.append(user)
    if len(out) > lim.MAX_MENTIONS:
        raise Invalid(f"at most {lim.MAX_MENTIONS} mentions")
    return tuple(out)


def attachments(values: Sequence[TradingComponent]) -> tuple[TradingComponent, ...]:
    """Trading components (at most 4) in their normal form (symbols and pairs trimmed and
    upper case), checked by the rules posts follow (``planetkit.trading_components``); the
    refusal names each bad component by its place and kind. Whether the exchange lists the
    instrument is not checked here (content holds the instrument list)."""
    if len(values) > lim.MAX_ATTACHMENTS:
        raise Invalid(f"at most {lim.MAX_ATTACHMENTS} attachments")
    out: list[TradingComponent] = []
    problems: list[str] = []
    for i, component in enumerate(values, start=1):
        kind = component.WhichOneof("component")
        where = f"component {i}" + (f" ({kind})" if kind else "")
        found, normal = _component(component)
        problems += [f"{where}: {problem}" for problem in found]
        out.append(normal)
    if problems:
        raise Invalid("; ".join(problems))
    return tuple(out)


_SIDE_NAMES = {tc.TRADE_SIDE_LONG: "long", tc.TRADE_SIDE_SHORT: "short"}


def _component(c: TradingComponent) -> tuple[list[str], TradingComponent]:
    """The problems of one component, and its normal form."""
    kind = c.WhichOneof("component")
    if kind == "ticker":
        symbol = c.ticker.symbol
        problem = tc_rules.ticker_problem(symbol)
        return [problem] if problem else [], TradingComponent(
            ticker=tc.CoinTicker(symbol=symbol.strip().upper()))
    if kind == "trade_idea":
        i = c.trade_idea
        side = _SIDE_NAMES.get(i.side, "")
        found = tc_rules.trade_idea_problems(i.pair, side, i.entry, i.target, i.stop)
        timeframe = i.timeframe.strip()
        if timeframe and (problem := tc_rules.timeframe_problem(timeframe)):
            found.append(problem)
        return found, TradingComponent(trade_idea=tc.TradeIdea(
            pair=i.pair.strip().upper(), side=i.side, entry=i.entry.strip(),
            target=i.target.strip(), stop=i.stop.strip(), timeframe=timeframe))
    if kind == "trade_link":
        pair = c.trade_link.pair.strip().upper()
        found = [p for p in (tc_rules.pair_problem(pair),) if p]
        if c.trade_link.side not in _SIDE_NAMES:
            found.append("side must be long or short")
        return found, TradingComponent(trade_link=tc.TradeLink(pair=pair,
                                                               side=c.trade_link.side))
    if kind == "copy_trade":
        return [], TradingComponent(copy_trade=tc.CopyTradeCard())
    return ["must be a ticker, a trade idea, a trade link or a copy-trade card"], c


def emoji(value: str) -> str:
    """One emoji sequence: symbols and marks (and joiners), at most 32 bytes."""
    size = len(value.encode())
    if not 0 < size <= lim.MAX_EMOJI_BYTES:
        raise Invalid(f"a reaction is one emoji of at most {lim.MAX_EMOJI_BYTES} bytes")
    for ch in value:
        category = unicodedata.category(ch)
        tag = 0xE0020 <= ord(ch) <= 0xE007F
        if category not in ("So", "Sk", "Mn", "Me") and ch not in _EMOJI_EXTRA and not tag:
            raise Invalid("a reaction is an emoji")
    if not any(unicodedata.category(ch) == "So" for ch in value):
        raise Invalid("a reaction is an emoji")
    return value


def link_id(value: str) -> str:
    """An invite code: 16-64 characters of URL-safe base64."""
    if (not lim.MIN_LINK_ID_CHARS <= len(value) <= lim.MAX_LINK_ID_CHARS
            or not set(value) <= LINK_ID_ALPHABET):
        raise Invalid("an invite link code is 16 to 64 URL-safe characters")
    return value


def rules(values: Sequence[ev.FilterRule]) -> tuple[Rule, ...]:
    """Checked filter rules with normalized patterns (keywords: their normalized words joined
    by one space; domains: lower-case host names)."""
    if len(values) > lim.MAX_FILTER_RULES:
        raise Invalid(f"at most {lim.MAX_FILTER_RULES} filter rules")
    out: list[Rule] = []
    for pb in values:
        if pb.action not in (ev.FILTER_ACTION_BLOCK, ev.FILTER_ACTION_HOLD):
            raise Invalid("a filter rule blocks or holds")
        if len(pb.pattern) > lim.MAX_PATTERN_CHARS:
            raise Invalid(f"a filter pattern is at most {lim.MAX_PATTERN_CHARS} characters")
        if pb.kind == ev.FILTER_KIND_KEYWORD:
            words = normalized_words(pb.pattern)
            if not words:
                raise Invalid("a keyword rule needs at least one word")
            pattern = " ".join(words)
        elif pb.kind == ev.FILTER_KIND_LINK_DOMAIN:
            pattern = pb.pattern.strip().casefold().rstrip(".")
            labels = pattern.split(".")
            if (not set(pattern) <= HOST_ALPHABET or len(labels) < 2
                    or not all(labels)):
                raise Invalid("a domain rule names a host, like spam.example")
        elif pb.kind == ev.FILTER_KIND_ANY_LINK:
            if pb.pattern:
                raise Invalid("an any-link rule has no pattern")
            pattern = ""
        else:
            raise Invalid("a filter rule is a keyword, a domain or any link")
        rule = Rule(kind=pb.kind, pattern=pattern, action=pb.action)
        if rule not in out:
            out.append(rule)
    return tuple(out)
