"""What each event does to the tables; plain functions over mappings, so tests need no Faust.

Each handler raises UndecodableEvent for a record it cannot read; the agent dead-letters it.
Duplicates are recognised by business id (post id, fee id) or by the envelope's event id
(engagement-delta records) and change nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, MutableMapping

from planet.content.v1.events_pb2 import PostPublished
from planet.exchange.v1.events_pb2 import KycVerified
from planet.incentive.v1.engagement_pb2 import EngagementDeltas
from planetkit.engagement_deltas import Delta, iter_deltas
from planetkit.envelope import UndecodableEvent, decode
from planetkit.money import AssetMismatch
from planetkit.upcasters import decode_fee, fee_quote_value
from planetkit.weeks import iso_week_of_ms
from services.incentive.domain.estimate.keys import (
    applied_deltas_key,
    creator_week_key,
    fees_key,
    posts_key,
)
from services.incentive.domain.estimate.state import (
    MAX_APPLIED_RECORDS,
    MAX_FEE_IDS,
    MAX_POST_IDS,
    CreatorWeek,
    Engagement,
    IdTally,
    MoneyTally,
    RecentIds,
    encode_kyc,
)

Table = MutableMapping[str, bytes]


def on_post(raw: bytes | None, partition: int, posts: Table) -> bool:
    """Count a published post in its creator's ISO week; False when it was already counted."""
    event = decode(raw, PostPublished)
    post = event.payload
    if not post.creator_id or not post.post_id:
        raise UndecodableEvent("PostPublished lacks creator_id or post_id")
    week = iso_week_of_ms(post.published_at_ms or event.envelope.occurred_at_ms)
    key = posts_key(post.creator_id, week, partition)
    return _count_once(posts, key, post.post_id, 1, MAX_POST_IDS)


def on_fee(raw: bytes | None, fees: Table, quote_asset: str) -> bool:
    """Add a trade fee's value in the pool's quote asset to its payer's ISO week; False when
    that fee id was already counted.

    v1 and v2 fee records both arrive here (upcast to v2). Only the quote value the exchange
    reported is summed, never the fee's own amount: a fee without one in ``quote_asset`` (a v1
    fee in another currency) raises UndecodableEvent and is dead-lettered with that reason.
    """
    event = decode_fee(raw, quote_asset)
    fee = event.payload
    value = fee_quote_value(fee, quote_asset)
    fee_id = fee.fee_id or event.event_id
    key = fees_key(fee.user_id, iso_week_of_ms(fee.charged_at_ms or event.envelope.occurred_at_ms))
    try:
        updated = MoneyTally.decode(fees.get(key), quote_asset).add(fee_id, value, MAX_FEE_IDS)
    except AssetMismatch as exc:
        # The tally was summed under another quote asset (the setting changed mid-week).
        raise UndecodableEvent(f"fee {fee_id} not counted: {exc}") from None
    if updated is None:
        return False
    fees[key] = updated.encode()
    return True


def _count_once(table: Table, key: str, item_id: str, amount: int, max_ids: int) -> bool:
    """Add ``amount`` to the tally at ``key`` under ``item_id``; False when already counted."""
    updated = IdTally.decode(table.get(key)).add(item_id, amount, max_ids)
    if updated is None:
        return False
    table[key] = updated.encode()
    return True


def on_kyc(raw: bytes | None, kyc: Table) -> bool:
    """Mark a user KYC-verified; False when they already were (the first verification stays)."""
    event = decode(raw, KycVerified)
    user_id = event.payload.user_id
    if not user_id:
        raise UndecodableEvent("KycVerified lacks user_id")
    if user_id in kyc:
        return False
    kyc[user_id] = encode_kyc(event.payload.verified_at_ms or event.envelope.occurred_at_ms)
    return True


def group_deltas(deltas: Iterable[Delta]) -> dict[tuple[str, str], dict[str, Engagement]]:
    """Sum deltas per (creator, week) and consumer, so each (creator, week) is written once."""
    grouped: dict[tuple[str, str], dict[str, Engagement]] = defaultdict(dict)
    for d in deltas:
        if not d.creator_id or not d.week or not d.consumer_id:
            raise UndecodableEvent("EngagementDelta lacks creator_id, week or consumer_id")
        per_consumer = grouped[(d.creator_id, d.week)]
        delta = Engagement(d.views, d.dwell_seconds, d.interactions)
        per_consumer[d.consumer_id] = per_consumer.get(d.consumer_id, Engagement()).plus(delta)
    return dict(grouped)


def on_deltas(raw: bytes | None, partition: int, creator_weeks: Table, applied: Table) -> int:
    """Apply one engagement-deltas record; the number of (creator, week) values written."""
    event = decode(raw, EngagementDeltas)
    try:
        # Validates every row before any write, so a bad record changes nothing.
        grouped = group_deltas(iter_deltas(event.payload))
    except ValueError as exc:
        raise UndecodableEvent(f"inconsistent EngagementDeltas: {exc}") from None
    applied_key = applied_deltas_key(partition)
    remembered = RecentIds.decode(applied.get(applied_key)).remember(
        event.event_id, MAX_APPLIED_RECORDS
    )
    if remembered is None:
        return 0
    for (creator_id, week), per_consumer in grouped.items():
        key = creator_week_key(creator_id, week)
        creator_weeks[key] = CreatorWeek.decode(creator_weeks.get(key)).apply(per_consumer).encode()
    applied[applied_key] = remembered.encode()
    return len(grouped)
