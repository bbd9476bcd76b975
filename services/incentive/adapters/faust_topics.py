"""The Faust topics the processor reads and writes: registry names, raw bytes codecs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planetkit import topics as registry
from planetkit.kafka.producer import check_writer
from planetkit.service_identities import INCENTIVE
from planetkit.topics import Topic, with_suffix

SOURCES: tuple[Topic, ...] = (
    registry.POSTS,
    registry.TRADE_FEES,
    registry.KYC,
    registry.ENGAGEMENT_DELTAS,
)
OUTPUTS: tuple[Topic, ...] = (registry.DLQ_SCORING,)


@dataclass(frozen=True)
class ProcessorTopics:
    """Faust topic objects (untyped) by role."""

    posts: Any
    trade_fees: Any
    kyc: Any
    engagement_deltas: Any
    dead_letters: Any


def registry_topics(suffix: str) -> list[Topic]:
    """Every registered topic the processor touches, under the suffix."""
    return [with_suffix(t, suffix) for t in (*SOURCES, *OUTPUTS)]


def declare_topics(app: Any, suffix: str) -> ProcessorTopics:
    """Declare the topics with explicit raw codecs: agents decode envelopes themselves."""
    # Faust sends with its own producer, not a writer-bound one: check the outputs here.
    for output in OUTPUTS:
        check_writer(INCENTIVE, with_suffix(output, suffix).name)

    def topic(t: Topic) -> Any:
        named = with_suffix(t, suffix)
        return app.topic(
            named.name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=named.partitions,
        )

    return ProcessorTopics(
        posts=topic(registry.POSTS),
        trade_fees=topic(registry.TRADE_FEES),
        kyc=topic(registry.KYC),
        engagement_deltas=topic(registry.ENGAGEMENT_DELTAS),
        dead_letters=topic(registry.DLQ_SCORING),
    )
