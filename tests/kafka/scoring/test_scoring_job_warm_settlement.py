"""The settlement from the input the job folded as the facts arrived (warm_weeks.py) is the
settlement from the log: the week rolls over while the job runs, the grace period brings more
of the week's facts and a status change, the week closes, and the job settles from the folded
input without reading the week again; reading the week back from the log (``load_week``
with the close's cut) gives the same bytes for every creator and the same Merkle root.

The job runs in this process with a clock of its own (the real clock shifted into a past
week, so the week can end during the test) against the real broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scoring_job_harness import ASSET, DAY_MS, Cast, Feeder, Reader, make_topics, poll_until

from planet.incentive.v1.facts_pb2 import Period, UserStatus
from planetkit.grpc_health import Health
from planetkit.kafka.producer import make_producer
from planetkit.runner import Lifecycle
from planetkit.service_identities import INCENTIVE
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.settlement import settle
from services.incentive.scoring.fact_log import cut_of, load_week, read_pool_book
from services.incentive.scoring.job import JobConfig, JobTopics, ScoringJob
from services.incentive.scoring.log_tail import LogTail
from services.incentive.scoring.results import creator_results, week_settled

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
GRACE_MS = 600_000


class Clock:
    """The real clock, shifted: ``at(ms)`` makes now ``ms`` and lets it run on from there."""

    def __init__(self, start_ms: int) -> None:
        self.at(start_ms)

    def at(self, ms: int) -> None:
        self._offset = ms - time.time_ns() // 1_000_000

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self._offset


def _job(bootstrap: str, topics: JobTopics, suffix: str, clock: Clock) -> ScoringJob:
    pool = topics.pool
    producer = make_producer(bootstrap, writer=INCENTIVE,
                             transactional_id=f"incentive-scoring-{suffix}", linger_ms=0)
    return ScoringJob(
        JobConfig(bootstrap=bootstrap, quote_asset=ASSET, grace_ms=GRACE_MS,
                  early_close_policies=frozenset(), estimate_interval_ms=1_000, tick_s=0.2),
        topics, producer,
        control=LogTail(bootstrap, [pool.operations, pool.weeks, topics.payout_states,
                                    topics.payouts]),
        facts=LogTail(bootstrap, list(pool.facts)),
        statuses=LogTail(bootstrap, [pool.user_status, pool.item_status]),
        now_ms=clock.now_ms, timer=time.perf_counter, exit_now=_no_exit)


def _no_exit(code: int) -> None:
    raise AssertionError(f"the job asked to exit ({code})")


@contextlib.contextmanager
def _loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


def test_a_week_settled_from_its_folded_input_equals_the_log(
        kafka_bootstrap: str, topic_suffix: str, tmp_path: Path) -> None:
    del tmp_path
    cast = Cast()
    week = IsoWeek.containing(int(time.time() * 1000) - 60 * DAY_MS)
    topics = make_topics(kafka_bootstrap, topic_suffix)
    feeder, reader = Feeder(kafka_bootstrap, topics), Reader(kafka_bootstrap, topics)
    clock = Clock(week.start_ms + 3 * DAY_MS)

    async def scenario() -> None:
        await feeder.statuses(cast, week)
        await feeder.fund(str(week), 1_000_000, "fund-warm")
        await feeder.week_of_engagement(cast, week)
        job = _job(kafka_bootstrap, topics, topic_suffix, clock)
        lifecycle = Lifecycle(Health("incentive-scoring"), 0)
        running = asyncio.create_task(job.run(lifecycle))
        try:
            await poll_until(reader.estimates, lambda es: len(es) >= 2, 60,
                             "the live week was never estimated")
            # Sunday evening: more of the week's facts, then the week ends while it runs.
            await feeder.week_of_engagement(cast, week, tag="-sun")
            await poll_until(lambda: asyncio.sleep(0, job.stats.estimate_runs),
                             lambda n: n >= 3, 60, "no estimate after Sunday's facts")
            clock.at(week.end_ms + 60_000)
            await poll_until(lambda: asyncio.sleep(0, job.warm_weeks()),
                             lambda ws: ws == [str(week)], 60, "the ended week was not kept")
            # The grace period: a late view of the week (still before the close, so it
            # counts), a view of the new week, and a sanction standing at the close.
            await feeder.views("con-3", [("v-grace", "cre-bo", week.end_ms - 5_000, 120),
                                         ("v-next", "cre-bo", week.end_ms + 5_000, 120)],
                               "rows-grace")
            await feeder._send(INCENTIVE, topics.pool.user_status, UserStatus(
                user_id="con-1", kyc_verified_at_ms=week.start_ms - 30 * DAY_MS,
                identity_open=[Period(from_ms=week.start_ms - 30 * DAY_MS)],
                sanctioned=[Period(from_ms=week.end_ms)]), "con-1")
            await asyncio.sleep(1.0)  # let the tails read them before the clock moves on
            clock.at(week.end_ms + GRACE_MS + 1_000)
            await poll_until(lambda: reader.settled(str(week)), lambda s: len(s) == 1, 90,
                             "the week never settled")
        finally:
            lifecycle.request_stop()
            await asyncio.wait_for(running, 60)
        # The weeks before it (nothing in them, closed when the job started) were read from
        # the log: the job was not running during them. This one was folded.
        assert job.stats.settled_warm == 1
        assert job.warm_weeks() == []

        # The same week read back from the log, with the close's cut.
        [closed] = await reader.closed(str(week))
        [settled] = await reader.settled(str(week))
        book = await read_pool_book(kafka_bootstrap, topics.pool, ASSET)
        built = await load_week(kafka_bootstrap, topics.pool, week, cut_of(closed), book, ASSET,
                                status_at_ms=closed.closed_at_ms)
        result = settle(built.facts, book.policy_for(str(week)))
        summary = week_settled(result, ASSET, settled_at_ms=settled.settled_at_ms,
                               facts_counted=built.rows, facts_late=settled.facts_late)
        assert summary.SerializeToString(deterministic=True) == settled.SerializeToString(
            deterministic=True)
        published = {r.creator_id: r.SerializeToString(deterministic=True)
                     for r in await reader.creator_weeks(str(week))}
        from_log = {r.creator_id: r.SerializeToString(deterministic=True)
                    for r in creator_results(result, built, ASSET)}
        assert published == from_log and len(published) >= 2
        # The grace period's view and sanction are in it: the view counted, and con-1's
        # engagement is discounted as a sanctioned consumer's.
        assert built.rows == settled.facts_counted
        assert any(a.item_id == "post-cre-bo-1" and a.views >= 2
                   for a in built.activity["cre-bo"].items)

    with _loop() as loop:
        loop.run_until_complete(scenario())
