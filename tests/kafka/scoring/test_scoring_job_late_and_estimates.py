"""Facts of a settled week that arrive after its cut are listed once as FactsLate and counted
nowhere; the current week's estimate is written per creator and changes as engagement does."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from scoring_job_harness import (
    DAY_MS,
    Cast,
    Feeder,
    JobProcess,
    Reader,
    last_week,
    make_topics,
    poll_until,
    this_week,
)

from planet.incentive.v1.weekly_pool_pb2 import CreatorEstimate

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def _latest(estimates: list[CreatorEstimate], week: str) -> dict[str, CreatorEstimate]:
    out: dict[str, CreatorEstimate] = {}
    for e in estimates:  # one partition per creator: log order is the creator's order
        if e.week == week:
            out[e.creator_id] = e
    return out


def test_late_facts_listed_once_and_estimates_follow_engagement(
        kafka_bootstrap: str, topic_suffix: str, tmp_path: Path) -> None:
    cast, week, now_week = Cast(), last_week(), this_week()
    topics = make_topics(kafka_bootstrap, topic_suffix)
    feeder, reader = Feeder(kafka_bootstrap, topics), Reader(kafka_bootstrap, topics)
    # This week's facts lie in the past of now (the estimate counts what happened so far).
    now_ms = int(time.time() * 1000)
    recent = max(now_week.start_ms, now_ms - 3_600_000)

    async def seed() -> None:
        await feeder.statuses(cast, week)
        await feeder.fund(str(week), 1_000_000, "fund-last")
        await feeder.fund(str(now_week), 500_000, "fund-now")
        await feeder.week_of_engagement(cast, week)
        await feeder.views("con-1", [("now-1", "cre-ana", recent, 120)], "now-rows-1")
    asyncio.run(seed())

    job = JobProcess(kafka_bootstrap, topic_suffix, tmp_path)
    try:
        job.start()
        settled = asyncio.run(poll_until(lambda: reader.settled(str(week)),
                                         lambda s: len(s) == 1, 90,
                                         f"never settled\n{job.log_tail()}"))[0]

        # A view of last week stored after its close: late, listed, not counted.
        late_at = week.start_ms + 2 * DAY_MS
        asyncio.run(feeder.views("con-2", [("late-1", "cre-bo", late_at, 300)], "late-rows-1"))
        late = asyncio.run(poll_until(lambda: reader.late(str(week)), lambda ls: len(ls) == 1,
                                      60, f"late fact never listed\n{job.log_tail()}"))[0]
        assert late.topic == topics.pool.view_facts
        assert late.rows == 1 and list(late.event_ids) == ["late-1"]
        assert late.reason.startswith("arrived after the week closed at ")

        # The estimate of this week: only cre-ana has engagement so far.
        first = asyncio.run(poll_until(
            reader.estimates, lambda es: "cre-ana" in _latest(es, str(now_week)), 60,
            f"no estimate\n{job.log_tail()}"))
        ana = _latest(first, str(now_week))["cre-ana"]
        assert ana.estimated_minor == 500_000 and ana.pool_minor == 500_000
        assert [i.item_id for i in ana.items] == ["post-cre-ana-1"]
        assert ana.activity.views == 1 and ana.activity.dwell_seconds == 120

        # More engagement with another creator: both estimates move.
        asyncio.run(feeder.views("con-3", [("now-2", "cre-bo", recent + 1, 200)], "now-rows-2"))

        def moved(es: list[CreatorEstimate]) -> bool:
            latest = _latest(es, str(now_week))
            return "cre-bo" in latest and latest["cre-ana"].estimated_minor < 500_000
        latest = _latest(asyncio.run(poll_until(
            reader.estimates, moved, 60, f"estimate never changed\n{job.log_tail()}")),
            str(now_week))
        assert latest["cre-ana"].estimated_minor + latest["cre-bo"].estimated_minor == 500_000
        assert latest["cre-bo"].activity.views == 1

        # A job restarted after SIGKILL does not list the first late record again, and lists
        # a new one.
        job.kill9()
        job.start()
        asyncio.run(job.wait_serving())
        asyncio.run(feeder.views("con-4", [("late-2", "cre-ana", late_at, 60)], "late-rows-2"))
        lates = asyncio.run(poll_until(lambda: reader.late(str(week)),
                                       lambda ls: any(list(x.event_ids) == ["late-2"]
                                                      for x in ls), 60,
                                       f"second late fact never listed\n{job.log_tail()}"))
        assert sorted(x.event_ids[0] for x in lates) == ["late-1", "late-2"]
        # Settled once, unchanged by the late facts.
        assert asyncio.run(reader.settled(str(week))) == [settled]
    finally:
        job.stop()
