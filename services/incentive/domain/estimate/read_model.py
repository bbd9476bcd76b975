"""Weekly estimates read from the scoring processor's tables (any string→bytes mapping)."""

from __future__ import annotations

from collections.abc import Mapping

from planet.incentive.v1.incentive_service_pb2 import WeeklyEstimate
from services.incentive.domain.estimate.keys import creator_week_key, fees_key, posts_key
from services.incentive.domain.estimate.placeholder_score import (
    FORMULA,
    ConsumerWeek,
    placeholder_score_v0,
)
from services.incentive.domain.estimate.state import CreatorWeek, IdTally, decode_kyc

Table = Mapping[str, bytes]


class TableReadModel:
    """Answers estimates from the tables a worker holds (all partitions when it runs alone)."""

    def __init__(
        self, *, creator_weeks: Table, posts: Table, fees: Table, kyc: Table, posts_partitions: int
    ) -> None:
        self._creator_weeks = creator_weeks
        self._posts = posts
        self._fees = fees
        self._kyc = kyc
        self._posts_partitions = posts_partitions

    def estimate(self, creator_id: str, week: str) -> WeeklyEstimate:
        """The running estimate of ``creator_id`` in ``week`` (zeros when nothing is known)."""
        cw = CreatorWeek.decode(self._creator_weeks.get(creator_week_key(creator_id, week)))
        posts = sum(
            IdTally.decode(self._posts.get(posts_key(creator_id, week, p))).amount
            for p in range(self._posts_partitions)
        )
        consumers = [
            ConsumerWeek(
                dwell_seconds=e.dwell_seconds,
                interactions=e.interactions,
                fees_minor=IdTally.decode(self._fees.get(fees_key(consumer_id, week))).amount,
                kyc_verified=decode_kyc(self._kyc.get(consumer_id)),
            )
            for consumer_id, e in sorted(cw.consumers.items())
        ]
        return WeeklyEstimate(
            creator_id=creator_id,
            week=week,
            posts=posts,
            views=cw.total.views,
            dwell_seconds=cw.total.dwell_seconds,
            interactions=cw.total.interactions,
            engaged_consumers=len(cw.consumers),
            score_milli=placeholder_score_v0(consumers),
            formula=FORMULA,
        )
