"""Post once, earn forever, through the real scoring job and the real read side: a post that
earned three weeks ago, earned nothing the week after (nobody looked), and is viewed again
last week earns again, and its ledger shows both weeks and their lifetime total. The week in
between still settles (nothing engaged: its whole pool carries into the next week's pool)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import grpc
import pytest
from incentive_api_harness import Api, IncentiveProcess, poll_until

from planet.incentive.v1.incentive_service_pb2 import (
    ItemLedgerPage,
    ListItemLedgerRequest,
    ListSettledWeeksRequest,
    SettledWeeks,
)
from services.incentive.domain.facts import MS_PER_WEEK, IsoWeek
from services.incentive.scoring.job import JobTopics

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
POOL = 500_000


def _job_harness() -> ModuleType:
    here = Path(__file__).resolve().parents[1] / "scoring"
    if str(here) not in sys.path:
        sys.path.insert(0, str(here))
    return importlib.import_module("scoring_job_harness")


async def test_an_old_post_viewed_again_earns_again_and_its_ledger_keeps_every_week(
    kafka_bootstrap: str, incentive: IncentiveProcess, tmp_path: Path,
) -> None:
    h = _job_harness()
    suffix = incentive.env["PLANET_TOPIC_SUFFIX"]
    topics = JobTopics.named(suffix)
    last = h.last_week()
    old = IsoWeek.containing(last.start_ms - 2 * MS_PER_WEEK)
    quiet = IsoWeek.containing(last.start_ms - MS_PER_WEEK)
    cast = h.Cast()
    creator, item = cast.creators[0], f"post-{cast.creators[0]}-1"
    feeder = h.Feeder(kafka_bootstrap, topics)
    await feeder.statuses(cast, old)
    for week in (old, quiet, last):
        await feeder.fund(str(week), POOL, f"fund-{week}")
    day = 86_400_000
    await feeder.views("con-1", [(f"old-{n}", creator, old.start_ms + day + n, 120)
                                 for n in range(3)], "rows-old")
    await feeder.views("con-2", [(f"new-{n}", creator, last.start_ms + day + n, 90)
                                 for n in range(2)], "rows-new")
    job = h.JobProcess(kafka_bootstrap, suffix, tmp_path)
    job.start()
    incentive.start()
    try:
        await incentive.wait_serving()
        async with grpc.aio.insecure_channel(incentive.address) as channel:
            api = Api(incentive, channel)

            async def settled() -> SettledWeeks:
                reply: SettledWeeks = await api.call("ListSettledWeeks",
                                                     ListSettledWeeksRequest(), "anyone")
                return reply

            weeks = await poll_until(settled, lambda s: len(s.weeks) == 3, 120,
                                     f"three weeks never settled\n{job.log_tail()}")
            by_week = {w.week: w for w in weeks.weeks}
            # The quiet week paid nobody: its pool plus the old week's remainder carried on.
            assert by_week[str(quiet)].payable_minor == 0
            assert by_week[str(quiet)].unallocated_minor == \
                by_week[str(quiet)].pool_minor == POOL + by_week[str(old)].unallocated_minor
            assert by_week[str(last)].pool_minor == POOL + by_week[str(quiet)].unallocated_minor

            async def ledger() -> ItemLedgerPage:
                page: ItemLedgerPage = await api.call(
                    "ListItemLedger", ListItemLedgerRequest(creator_id=creator), creator)
                return page

            page = await poll_until(
                ledger, lambda p: any(len(i.weeks) == 2 for i in p.items if i.item_id == item),
                60, f"the item's second week never reached its ledger\n{job.log_tail()}")
            row = next(i for i in page.items if i.item_id == item)
            assert sorted(w.week for w in row.weeks) == [str(old), str(last)]
            assert all(w.amount_minor > 0 for w in row.weeks)
            assert row.lifetime_minor == sum(w.amount_minor for w in row.weeks)
    finally:
        job.stop()
