"""One Faust agent per source topic: decode, call a handler, dead-letter what is unreadable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from planetkit.envelope import UndecodableEvent
from services.incentive.processor.dead_letters import DeadLetters
from services.incentive.processor.handlers import on_deltas, on_fee, on_kyc, on_post
from services.incentive.processor.tables import ProcessorTables
from services.incentive.processor.topics import ProcessorTopics


def register(
    app: Any, topic: Any, name: str, handle: Callable[[Any], object], dead_letters: DeadLetters
) -> None:
    """Attach agent ``name``: ``handle`` each message of ``topic``, dead-letter unreadable ones."""

    async def agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                handle(message)
            except UndecodableEvent as exc:
                await dead_letters.send(message, str(exc))

    app.agent(topic, name=name)(agent)


def register_all(
    app: Any, topics: ProcessorTopics, tables: ProcessorTables, dead_letters: DeadLetters
) -> None:
    """The processor's agents: posts, trade fees, KYC and engagement deltas."""
    # Count PostPublished per creator and ISO week.
    register(app, topics.posts, "count-posts",
             lambda m: on_post(m.value, m.partition, tables.posts), dead_letters)
    # Sum TradeFeeCharged per consumer and ISO week, once per fee id.
    register(app, topics.trade_fees, "sum-fees",
             lambda m: on_fee(m.value, tables.fees), dead_letters)
    # Remember KYC-verified users.
    register(app, topics.kyc, "mark-verified",
             lambda m: on_kyc(m.value, tables.kyc), dead_letters)
    # Apply engagement-delta records, one table write per (creator, week) per record.
    register(app, topics.engagement_deltas, "apply-engagement-deltas",
             lambda m: on_deltas(m.value, m.partition, tables.creator_weeks,
                                 tables.applied_deltas),
             dead_letters)
