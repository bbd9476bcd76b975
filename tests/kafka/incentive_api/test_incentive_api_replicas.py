"""Two replicas of the service in one group: the sources' partitions are split between them,
yet each answers for every creator and week (the read side's tables are GlobalTables)."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from incentive_api_harness import Api, IncentiveProcess, Records, poll_until

from planet.incentive.v1.incentive_service_pb2 import (
    CreatorWeeks,
    FundPoolRequest,
    ListCreatorWeeksRequest,
    ListSettledWeeksRequest,
)
from planet.incentive.v1.weekly_pool_pb2 import CreatorWeekResult, WeekSettled
from planetkit import topics as registry
from planetkit.kafka.partitioning import partition_for
from planetkit.weeks import iso_week_of_ms, week_start_ms

pytestmark = pytest.mark.kafka
MS_PER_WEEK = 7 * 24 * 3600 * 1000


async def test_every_replica_answers_for_every_creator(
    kafka_bootstrap: str, incentive: IncentiveProcess, tmp_path: Path,
) -> None:
    suffix = incentive.env["PLANET_TOPIC_SUFFIX"]
    second = IncentiveProcess(kafka_bootstrap, suffix, tmp_path / "second")
    incentive.start()
    second.start()
    try:
        await incentive.wait_serving()
        await second.wait_serving()
        records = Records(kafka_bootstrap, suffix)
        week = iso_week_of_ms(week_start_ms(iso_week_of_ms(records.now)) - MS_PER_WEEK)
        # Creators on every partition of CREATOR_WEEKS, so both replicas own some of them.
        creators: dict[int, str] = {}
        n = 0
        while len(creators) < registry.CREATOR_WEEKS.partitions:
            name = f"creator-{n}"
            creators.setdefault(partition_for(name, registry.CREATOR_WEEKS.partitions),
                                name)
            n += 1
        await records.producer.start()
        try:
            await records.send([
                *((registry.CREATOR_WEEKS, c, CreatorWeekResult(
                    week=week, creator_id=c, status="paid", allocated_minor=10 + p,
                    payable_minor=10 + p, asset="USDT")) for p, c in creators.items()),
                (registry.INCENTIVE_WEEKS, week, WeekSettled(week=week, pool_minor=99)),
            ])
        finally:
            await records.producer.stop()

        for replica in (incentive, second):
            async with grpc.aio.insecure_channel(replica.address) as channel:
                api = Api(replica, channel)
                for p, creator in creators.items():
                    async def weeks(c: str = creator, on: Api = api) -> CreatorWeeks:
                        reply: CreatorWeeks = await on.call(
                            "ListCreatorWeeks", ListCreatorWeeksRequest(creator_id=c), c)
                        return reply

                    got = await poll_until(weeks, lambda w: len(w.weeks) == 1, 60,
                                           f"{creator} at {replica.address}")
                    assert got.weeks[0].allocated_minor == 10 + p
                public = await api.call("ListSettledWeeks", ListSettledWeeksRequest(), "x")
                assert [w.pool_minor for w in public.weeks] == [99]

        # An operator write through either replica counts once.
        fund = FundPoolRequest(week=iso_week_of_ms(records.now), amount_minor=5, asset="USDT",
                               funding_id="f-rep")
        answers = []
        for replica in (incentive, second):
            async with grpc.aio.insecure_channel(replica.address) as channel:
                answers.append(await Api(replica, channel).call("FundPool", fund, "olga",
                                                                ["operator"]))
        assert [(a.applied, a.funded_minor) for a in answers] == [(True, 5), (False, 5)]
    finally:
        second.stop()
