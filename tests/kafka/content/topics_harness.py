"""Helpers for the topic tests: the topic side's topics and the exchange's demo instruments,
made as the topics tool and the exchange (its simulator) would."""

from __future__ import annotations

from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import EXCHANGE
from services.content.topics import TopicTopics
from simulators.exchange.instruments import (
    InstrumentSpec,
    default_specs,
    instruments_topic,
    publish_instruments,
)


async def topic_side(bootstrap: str, suffix: str,
                     instruments: list[InstrumentSpec] | None = None) -> None:
    """Create the topic side's topics and list ``instruments`` (default: the demo list)."""
    await ensure_topics(bootstrap, TopicTopics.with_suffix(suffix).all())
    producer = make_producer(bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        await publish_instruments(producer, instruments_topic(suffix),
                                  default_specs() if instruments is None else instruments)
    finally:
        await producer.stop()
