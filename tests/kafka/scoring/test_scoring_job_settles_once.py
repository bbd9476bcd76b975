"""The scoring job closes a week after its grace and settles it exactly once, even when it is
killed inside the settlement's transaction: the restarted job's result is byte-identical to an
undisturbed run's. Payout answers count once; a held amount is released by an operator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from scoring_job_harness import (
    Cast,
    Feeder,
    JobProcess,
    Reader,
    last_week,
    make_topics,
    poll_until,
)

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed, PayoutRefused
from planet.incentive.v1.weekly_pool_pb2 import HeldDecided
from services.incentive.domain.facts import IsoWeek
from services.incentive.scoring.job import JobTopics

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
POOL = 1_000_000


async def _seed(bootstrap: str, topics: JobTopics, cast: Cast, week: IsoWeek) -> None:
    feeder = Feeder(bootstrap, topics)
    await feeder.statuses(cast, week)
    await feeder.fund(str(week), POOL, f"fund-{week}")
    await feeder.week_of_engagement(cast, week)


def test_settled_once_and_byte_identical_after_a_kill(
        kafka_bootstrap: str, topic_suffix: str, tmp_path: Path) -> None:
    cast, week = Cast(), last_week()
    # Two deployments on topics of their own, the same facts in each.
    calm_topics = make_topics(kafka_bootstrap, topic_suffix)
    killed_suffix = f"{topic_suffix}k"
    killed_topics = make_topics(kafka_bootstrap, killed_suffix)
    for topics in (calm_topics, killed_topics):
        asyncio.run(_seed(kafka_bootstrap, topics, cast, week))

    calm = JobProcess(kafka_bootstrap, topic_suffix, tmp_path)
    killed = JobProcess(kafka_bootstrap, killed_suffix, tmp_path)
    calm_read, killed_read = Reader(kafka_bootstrap, calm_topics), \
        Reader(kafka_bootstrap, killed_topics)
    try:
        calm.start()
        # The fault: the process exits inside the settlement's transaction, records sent.
        killed.start(fault_injection="mid_settlement")
        assert killed.wait_exit() == 137, killed.log_tail()

        async def after_crash() -> None:
            assert len(await killed_read.closed(str(week))) == 1
            # Nothing of the open transaction is visible to read_committed readers.
            assert await killed_read.settled(str(week)) == []
            assert await killed_read.creator_weeks(str(week)) == []
            assert await killed_read.states() == []
        asyncio.run(after_crash())

        killed.start()
        calm_settled = asyncio.run(poll_until(
            lambda: calm_read.settled(str(week)), lambda s: len(s) == 1, 90,
            f"calm run never settled\n{calm.log_tail()}"))[0]
        killed_settled = asyncio.run(poll_until(
            lambda: killed_read.settled(str(week)), lambda s: len(s) == 1, 90,
            f"restarted run never settled\n{killed.log_tail()}"))[0]

        assert calm_settled.result_sha256 == killed_settled.result_sha256
        assert calm_settled.merkle_root == killed_settled.merkle_root
        assert calm_settled.pool_minor == POOL
        assert calm_settled.payable_minor + calm_settled.held_minor \
            + calm_settled.rollover_out_minor + calm_settled.unallocated_minor \
            == POOL + calm_settled.rollover_in_minor
        calm_results = asyncio.run(calm_read.creator_weeks(str(week)))
        killed_results = asyncio.run(killed_read.creator_weeks(str(week)))
        assert sorted(r.SerializeToString(deterministic=True) for r in calm_results) == \
            sorted(r.SerializeToString(deterministic=True) for r in killed_results)
        assert sorted(r.creator_id for r in killed_results) == sorted(cast.creators)
        by_creator = {r.creator_id: r for r in killed_results}
        assert by_creator[cast.sanctioned].status == "held"
        assert by_creator[cast.sanctioned].held_minor > 0
        assert all(r.proof or r.allocated_minor == 0 for r in killed_results)

        # Payouts: one instruction per payable creator, pending; the held one is held.
        states = asyncio.run(killed_read.states())
        assert sorted((s.creator_id, s.state) for s in states) == sorted(
            [(c, "pending") for c in cast.creators if c != cast.sanctioned]
            + [(cast.sanctioned, "held")])
        instructions = asyncio.run(killed_read.instructions())
        assert sorted(i.payout_id for i in instructions) == sorted(
            f"{week}:{c}" for c in cast.creators if c != cast.sanctioned)

        # The exchange answers the first payout twice and refuses the second; an operator
        # releases the held amount.
        paid, refused = (c for c in cast.creators if c != cast.sanctioned)
        held = by_creator[cast.sanctioned]
        feeder = Feeder(kafka_bootstrap, killed_topics)

        async def answer() -> None:
            confirm = PayoutConfirmed(payout_id=f"{week}:{paid}", creator_id=paid,
                                      amount_minor=by_creator[paid].payable_minor, asset="USDT",
                                      exchange_reference="x-1", at_ms=1)
            await feeder.answer(confirm)
            await feeder.answer(confirm)
            await feeder.answer(PayoutRefused(payout_id=f"{week}:{refused}", creator_id=refused,
                                              reason="account closed", at_ms=2))
            await feeder.decide(HeldDecided(
                week=str(week), creator_id=held.creator_id,
                decision=HeldDecided.DECISION_RELEASE, amount_minor=held.held_minor,
                asset="USDT", operator_id="olga", reason="appeal upheld", at_ms=3,
                decision_id="d-1"))
        asyncio.run(answer())

        def after_answers(states: list) -> bool:  # type: ignore[type-arg]
            seen = {(s.creator_id, s.state) for s in states}
            return {(paid, "paid"), (refused, "refused"), (held.creator_id, "released")} <= seen
        asyncio.run(poll_until(killed_read.states, after_answers, 60,
                               f"answers never recorded\n{killed.log_tail()}"))

        # A restarted job reads the answers again (and a third copy): nothing changes twice.
        killed.stop()
        killed.start()
        asyncio.run(killed.wait_serving())
        asyncio.run(feeder.answer(PayoutConfirmed(
            payout_id=f"{week}:{paid}", creator_id=paid, amount_minor=1, asset="USDT",
            exchange_reference="x-2", at_ms=4)))
        # The released payout is paid: proof that the restarted job answered after reading
        # everything before it.
        asyncio.run(feeder.answer(PayoutConfirmed(
            payout_id=f"{week}:{held.creator_id}", creator_id=held.creator_id,
            amount_minor=held.held_minor, asset="USDT", exchange_reference="x-3", at_ms=5)))
        states = asyncio.run(poll_until(
            killed_read.states, lambda ss: any(s.creator_id == held.creator_id and
                                               s.state == "paid" for s in ss), 60,
            f"released payout never paid\n{killed.log_tail()}"))
        counted = sorted((s.creator_id, s.state) for s in states)
        assert counted == sorted([(paid, "pending"), (paid, "paid"), (refused, "pending"),
                                  (refused, "refused"), (held.creator_id, "held"),
                                  (held.creator_id, "released"), (held.creator_id, "paid")])
        instructions = asyncio.run(killed_read.instructions())
        assert sorted(i.payout_id for i in instructions) == sorted(
            f"{week}:{c}" for c in cast.creators)
        # Still one close and one settlement after three starts.
        assert len(asyncio.run(killed_read.closed(str(week)))) == 1
        assert len(asyncio.run(killed_read.settled(str(week)))) == 1
        assert len(asyncio.run(killed_read.creator_weeks(str(week)))) == len(cast.creators)
    finally:
        calm.stop()
        killed.stop()
