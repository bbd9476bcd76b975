"""The read side against the REAL scoring job: a week of facts settled by
`python -m services.incentive.scoring`, answered through the incentive service's gRPC API.

What the creator is shown must be exactly what the job wrote (result, proof, root), payout
states follow the exchange's answers and an operator's release made through the API, the
estimate is the job's latest, and a shadow comparison of the settled week reproduces the
settled amounts under the policy in force."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import grpc
import pytest
from incentive_api_harness import Api, IncentiveProcess, poll_until

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed
from planet.incentive.v1.incentive_service_pb2 import (
    CreatorWeekRequest,
    CreatorWeeks,
    DecideHeldRequest,
    FundPoolRequest,
    ListCreatorWeeksRequest,
    ListSettledWeeksRequest,
    SettledWeeks,
    ShadowCompareRequest,
)
from planet.incentive.v1.weekly_pool_pb2 import CreatorEstimate, HeldDecided
from services.incentive.domain.policy import default_policy
from services.incentive.scoring.job import JobTopics

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
POOL = 1_000_000
OLGA = ("olga", ["operator"])


def _job_harness() -> ModuleType:
    """The scoring job's harness (tests/kafka/scoring), loaded by path: test directories are
    not packages."""
    here = Path(__file__).resolve().parents[1] / "scoring"
    if str(here) not in sys.path:
        sys.path.insert(0, str(here))
    return importlib.import_module("scoring_job_harness")


async def test_the_api_shows_what_the_scoring_job_settled(
    kafka_bootstrap: str, incentive: IncentiveProcess, tmp_path: Path,
) -> None:
    h = _job_harness()
    suffix = incentive.env["PLANET_TOPIC_SUFFIX"]
    topics = JobTopics.named(suffix)
    cast, week, now_week = h.Cast(), h.last_week(), h.this_week()
    feeder, reader = h.Feeder(kafka_bootstrap, topics), h.Reader(kafka_bootstrap, topics)
    await feeder.statuses(cast, week)
    await feeder.fund(str(week), POOL, f"fund-{week}")
    await feeder.week_of_engagement(cast, week)
    await feeder.week_of_engagement(cast, now_week, tag="now")
    job = h.JobProcess(kafka_bootstrap, suffix, tmp_path)
    job.start()
    incentive.start()
    try:
        await incentive.wait_serving()
        async with grpc.aio.insecure_channel(incentive.address) as channel:
            api = Api(incentive, channel)

            async def settled_weeks() -> SettledWeeks:
                reply: SettledWeeks = await api.call("ListSettledWeeks",
                                                     ListSettledWeeksRequest(), "anyone")
                return reply

            public = await poll_until(settled_weeks, lambda s: len(s.weeks) == 1, 120,
                                      f"never settled\n{job.log_tail()}")
            [settled] = await reader.settled(str(week))
            assert public.weeks[0] == settled

            results = {r.creator_id: r for r in await reader.creator_weeks(str(week))}
            assert sorted(results) == sorted(cast.creators)
            for creator, written in results.items():
                shown = await api.call("GetCreatorWeek",
                                       CreatorWeekRequest(creator_id=creator, week=str(week)),
                                       creator)
                assert shown == written  # breakdown, proof and root as the job wrote them
                assert shown.merkle_root == settled.merkle_root

            # Payout states: the exchange pays one creator; an operator releases the held one.
            paid = next(c for c in cast.creators if c != cast.sanctioned)
            await feeder.answer(PayoutConfirmed(
                payout_id=f"{week}:{paid}", creator_id=paid,
                amount_minor=results[paid].payable_minor, asset="USDT",
                exchange_reference="x-1", at_ms=1))
            decided = await api.call("DecideHeld", DecideHeldRequest(
                week=str(week), creator_id=cast.sanctioned, decision_id="d-1",
                decision=HeldDecided.DECISION_RELEASE, reason="appeal upheld"), *OLGA)
            assert decided.amount_minor == results[cast.sanctioned].held_minor > 0

            async def state_of(creator: str) -> str:
                weeks: CreatorWeeks = await api.call(
                    "ListCreatorWeeks", ListCreatorWeeksRequest(creator_id=creator), creator)
                return weeks.weeks[0].payout_state

            await poll_until(lambda: state_of(paid), lambda s: s == "paid", 60,
                             f"payout never paid\n{job.log_tail()}")
            await poll_until(lambda: state_of(cast.sanctioned), lambda s: s != "held", 60,
                             f"release never recorded\n{job.log_tail()}")

            # The estimate is the job's latest for the current week, funded through the API.
            funded = await api.call("FundPool", FundPoolRequest(
                week=str(now_week), amount_minor=POOL, asset="USDT", funding_id="f-now"), *OLGA)
            assert (funded.applied, funded.funded_minor) == (True, POOL)
            creator = cast.creators[0]

            async def estimate() -> tuple[CreatorEstimate, CreatorEstimate | None]:
                shown = await api.call("GetCreatorEstimate",
                                       CreatorWeekRequest(creator_id=creator), creator)
                written = [e for e in await reader.estimates() if e.creator_id == creator]
                return shown, (written[-1] if written else None)

            shown, _ = await poll_until(
                estimate, lambda p: p[1] is not None and p[0] == p[1] and p[0].pool_minor == POOL,
                60, f"funded estimate never shown\n{job.log_tail()}")
            assert shown.week == str(now_week) and shown.estimated_minor > 0

            # Shadow: the policy in force reproduces the settled amounts; a stricter minimum
            # dwell moves money between creators.
            candidate = default_policy().evolve(version="strict", min_dwell_seconds=60)
            shadow = await api.call("ShadowCompare", ShadowCompareRequest(
                week=str(week), candidate_policy_json=candidate.canonical_bytes()), *OLGA)
            assert (shadow.mode, shadow.pool_minor) == ("final", POOL)
            assert shadow.current_policy_hash == settled.policy_hash
            assert shadow.differences, "a stricter minimum dwell changes nothing?"
            for diff in shadow.differences:
                assert diff.current_minor == results[diff.creator_id].allocated_minor
                assert diff.delta_minor == diff.candidate_minor - diff.current_minor
    finally:
        job.stop()
