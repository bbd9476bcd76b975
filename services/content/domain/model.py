"""Posts and the trading components embedded in them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class PostKind(Enum):
    """Short posts and long-form articles have different size limits."""

    SHORT = "short"
    ARTICLE = "article"


class TradeSide(Enum):
    """Direction of a trade idea."""

    LONG = "long"
    SHORT = "short"


@dataclass(frozen=True)
class CoinTicker:
    """A live coin ticker embedded in a post."""

    symbol: str


@dataclass(frozen=True)
class TradeIdea:
    """A trade setup; prices are canonical decimal strings so no precision is lost."""

    pair: str
    side: TradeSide
    entry: str
    target: str
    stop: str
    # One of planetkit.trading_components.TIMEFRAMES; "" on ideas from before timeframes.
    timeframe: str = ""


@dataclass(frozen=True)
class TradeLink:
    """A "trade this" deep link into the exchange; the link is built when read."""

    pair: str
    side: TradeSide


@dataclass(frozen=True)
class CopyTrade:
    """A card linking the post's creator's copy-trading profile (built when read)."""


TradingComponent = CoinTicker | TradeIdea | TradeLink | CopyTrade


@dataclass(frozen=True)
class Post:
    """A published post: the state PostPublished carries and the projection holds."""

    post_id: str
    creator_id: str
    kind: PostKind
    title: str
    body: str
    hashtags: tuple[str, ...]
    mentions: tuple[str, ...]
    components: tuple[TradingComponent, ...]
    published_at_ms: int
    version: int = 1
    # Articles (issue 13): a summary and an https cover image; empty for short posts.
    summary: str = ""
    cover_image_url: str = ""
    # The body rendered by domain/markdown.py (sanitised HTML), derived from ``body``.
    body_html: str = ""
    # 1 when published, +1 per edit (the aggregate ``version`` also counts the deletion).
    revision: int = 1
    edited_at_ms: int = 0
    # Non-zero once deleted: shown to its author and operators only.
    deleted_at_ms: int = 0
    # Non-zero while removed after a confirmed report (services/content/domain/moderation.py):
    # shown to its author and operators only, like a deleted post, until an appeal restores
    # it. ``moderation_version`` numbers its removals and restorations (odd: removed).
    removed_at_ms: int = 0
    moderation_version: int = 0


@dataclass(frozen=True)
class Published:
    """The outcome of PublishPost: the post, and whether this call appended it here."""

    post: Post
    created: bool
