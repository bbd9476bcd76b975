"""An operator's early close is honoured only under a policy configured for it; a second job
instance fences the first (the zombie's next write fails and it exits), so one answer is
recorded once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from scoring_job_harness import (
    Cast,
    Feeder,
    JobProcess,
    Reader,
    make_topics,
    poll_until,
    this_week,
)

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed
from planet.incentive.v1.weekly_pool_pb2 import WeekCloseRequested
from planetkit.service_identities import INCENTIVE

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_early_close_by_policy_and_a_fenced_zombie(
        kafka_bootstrap: str, topic_suffix: str, tmp_path: Path) -> None:
    cast, week = Cast(), this_week()
    topics = make_topics(kafka_bootstrap, topic_suffix)
    feeder, reader = Feeder(kafka_bootstrap, topics), Reader(kafka_bootstrap, topics)
    recent = max(week.start_ms, int(time.time() * 1000) - 3_600_000)

    async def seed() -> None:
        await feeder.statuses(cast, week)
        await feeder.fund(str(week), 10_000, "fund-now")
        await feeder.views("con-1", [("v-1", "cre-ana", recent, 90)], "rows-1")
        await feeder._send(INCENTIVE, topics.pool.operations, WeekCloseRequested(
            week=str(week), operator_id="olga", reason="launch", at_ms=1,
            request_id="close-1"), str(week))
    asyncio.run(seed())

    # The default policy (version "1") is not configured for early close: the request waits.
    first = JobProcess(kafka_bootstrap, topic_suffix, tmp_path, grace_s="60")
    second = JobProcess(kafka_bootstrap, topic_suffix, tmp_path, grace_s="60")
    try:
        first.start()
        asyncio.run(poll_until(lambda: asyncio.sleep(0, first.log_tail()),
                               lambda text: "early close not honoured" in text, 60,
                               "the refused request was never logged"))
        asyncio.run(poll_until(reader.estimates, lambda es: len(es) == 1, 60,
                               f"no estimate\n{first.log_tail()}"))
        assert asyncio.run(reader.closed(str(week))) == []

        # A second instance fences the first. New engagement changes the estimate: both
        # compute it, the second writes it, the first's write is refused and it exits (1).
        second.start()
        asyncio.run(second.wait_serving())
        asyncio.run(feeder.views("con-2", [("v-2", "cre-bo", recent + 1, 90)], "rows-2"))
        assert first.wait_exit(60) == 1, first.log_tail()
        estimates = asyncio.run(poll_until(
            reader.estimates, lambda es: any(e.creator_id == "cre-bo" for e in es), 60,
            f"no estimate from the second instance\n{second.log_tail()}"))
        assert [e.creator_id for e in estimates].count("cre-bo") == 1
        # The restarted instance waited for the week's stored facts: no dip to zero.
        assert all(e.estimated_minor > 0 for e in estimates), estimates
        assert second.proc is not None and second.proc.poll() is None
        second.stop()

        # Under a configuration that lets policy "1" close early, it closes and settles.
        second.start(early_close_policies="1")
        settled = asyncio.run(poll_until(lambda: reader.settled(str(week)),
                                         lambda s: len(s) == 1, 90,
                                         f"never settled\n{second.log_tail()}"))[0]
        closed = asyncio.run(reader.closed(str(week)))
        assert [c.cause for c in closed] == ["early:close-1"]
        # No engagement after the last estimate: the estimate was the settled amount.
        last = {e.creator_id: e for e in asyncio.run(reader.estimates())}
        results = asyncio.run(reader.creator_weeks(str(week)))
        assert {r.creator_id: r.allocated_minor for r in results} == {
            c: e.estimated_minor for c, e in last.items()}
        assert {r.creator_id: list(r.items) for r in results} == {
            c: list(e.items) for c, e in last.items()}
        assert settled.pool_minor == 10_000
        assert settled.payable_minor + settled.unallocated_minor == 10_000

        # Answered twice: paid once.
        confirm = PayoutConfirmed(payout_id=f"{week}:cre-ana", creator_id="cre-ana",
                                  amount_minor=1, asset="USDT", exchange_reference="x-1",
                                  at_ms=1)
        asyncio.run(feeder.answer(confirm))
        asyncio.run(feeder.answer(confirm))
        asyncio.run(feeder.answer(PayoutConfirmed(
            payout_id=f"{week}:cre-bo", creator_id="cre-bo", amount_minor=1, asset="USDT",
            exchange_reference="x-2", at_ms=2)))
        states = asyncio.run(poll_until(
            reader.states, lambda ss: sum(s.state == "paid" for s in ss) >= 2, 60,
            f"never paid\n{second.log_tail()}"))
        assert sorted((s.creator_id, s.state) for s in states) == [
            ("cre-ana", "paid"), ("cre-ana", "pending"), ("cre-bo", "paid"),
            ("cre-bo", "pending")]
    finally:
        first.stop()
        second.stop()
