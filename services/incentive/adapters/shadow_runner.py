"""ShadowCompare's I/O: load a week's facts from the log as the scoring job would, then run
the pure comparison in a worker thread (it settles the week twice; the event loop keeps
answering the other RPCs meanwhile)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from planet.incentive.v1.incentive_service_pb2 import CreatorDifference, ShadowComparison
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.id_map import IdKind
from services.incentive.domain.policy import ScoringPolicy
from services.incentive.domain.shadow import shadow_compare
from services.incentive.scoring.fact_log import PoolTopics, cut_of, load_week, read_pool_book


@dataclass(frozen=True)
class ShadowRunner:
    """Compares a candidate policy with the one in force on a closed or the current week."""

    bootstrap: str
    suffix: str
    quote_asset: str

    async def compare(self, week: str, candidate: ScoringPolicy | None,
                      now_ms: int) -> ShadowComparison:
        """A closed week is read up to its cut ("final"); an open one up to the end offsets
        now, as of now ("estimate"). ``candidate`` None = the latest published policy;
        LookupError when there is none."""
        topics = PoolTopics.named(self.suffix)
        book = await read_pool_book(self.bootstrap, topics, self.quote_asset)
        if candidate is None:
            published = book.policies()
            if not published:
                raise LookupError("no policy has been published: give a candidate policy")
            candidate = published[-1][1]
        closed = book.closed(week)
        if closed is not None:
            cut, status_at_ms, as_of_ms, mode = cut_of(closed), closed.closed_at_ms, None, "final"
        else:
            cut, status_at_ms, as_of_ms, mode = {}, now_ms, now_ms, "estimate"
        built = await load_week(self.bootstrap, topics, IsoWeek.parse(week), cut, book,
                                self.quote_asset, status_at_ms=status_at_ms)
        report = await asyncio.to_thread(shadow_compare, built.facts, book.policy_for(week),
                                         candidate, as_of_ms=as_of_ms)
        return ShadowComparison(
            week=week, current_policy_hash=report.current_policy_hash,
            candidate_policy_hash=report.candidate_policy_hash,
            pool_minor=book.pool_minor(week), moved_minor=report.moved_minor, mode=mode,
            differences=[CreatorDifference(
                creator_id=built.ids.name(IdKind.CREATOR, d.creator_id),
                current_minor=d.current_minor, candidate_minor=d.candidate_minor,
                delta_minor=d.delta_minor) for d in report.diffs],
        )
