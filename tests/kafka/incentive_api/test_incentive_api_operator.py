"""Operator RPCs end to end on real Kafka: writes land on INCENTIVE_OPERATIONS once, FundPool
is idempotent by funding_id (also under concurrent twins), bad input is refused with a
reason, only operators may call."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from incentive_api_harness import Api, IncentiveProcess, Records, read_all

from planet.incentive.v1.incentive_service_pb2 import (
    CloseWeekRequest,
    DecideHeldRequest,
    FundPoolRequest,
    ListLateFactsRequest,
    PublishPolicyRequest,
    ShadowCompareRequest,
)
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorWeekResult,
    FactsLate,
    HeldDecided,
    PoolFunded,
    WeekClosed,
)
from planetkit import topics as registry
from planetkit.topics import with_suffix
from planetkit.weeks import iso_week_of_ms, week_start_ms
from services.incentive.domain.policy import default_policy

pytestmark = pytest.mark.kafka
OLGA = ("olga", ["operator"])
MS_PER_WEEK = 7 * 24 * 3600 * 1000


async def test_operator_rpcs(kafka_bootstrap: str, incentive: IncentiveProcess) -> None:
    suffix = incentive.env["PLANET_TOPIC_SUFFIX"]
    records = Records(kafka_bootstrap, suffix)
    current = iso_week_of_ms(records.now)
    past = iso_week_of_ms(week_start_ms(current) - MS_PER_WEEK)
    future = iso_week_of_ms(week_start_ms(current) + 2 * MS_PER_WEEK)
    late = [FactsLate(week=past, topic="views", partition=0, offset=n, rows=1,
                      reason="after the cut") for n in (7, 8, 7)]  # offset 7 twice
    await records.producer.start()
    try:
        await records.send([
            (registry.CREATOR_WEEKS, "hal", CreatorWeekResult(
                week=past, creator_id="hal", status="held", allocated_minor=300,
                held_minor=300, asset="USDT")),
            (registry.CREATOR_WEEKS, "ana", CreatorWeekResult(
                week=past, creator_id="ana", status="paid", allocated_minor=90,
                payable_minor=90, asset="USDT")),
            (registry.INCENTIVE_WEEKS, past, WeekClosed(week=past, closed_at_ms=records.now,
                                                        cause="grace")),
            *((registry.INCENTIVE_WEEKS, past, f) for f in late),
        ])
    finally:
        await records.producer.stop()
    incentive.start()
    await incentive.wait_serving()
    operations = with_suffix(registry.INCENTIVE_OPERATIONS, suffix).name

    async with grpc.aio.insecure_channel(incentive.address) as channel:
        api = Api(incentive, channel)

        # ---- FundPool ----
        def fund(fid: str, amount: int = 1000, asset: str = "USDT") -> FundPoolRequest:
            return FundPoolRequest(week=current, amount_minor=amount, asset=asset, funding_id=fid)

        code, _ = await api.refused("FundPool", fund("f0"), "ana")
        assert code == grpc.StatusCode.PERMISSION_DENIED
        code, detail = await api.refused("FundPool", fund("f0", asset="EUR"), *OLGA)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "USDT" in detail
        code, detail = await api.refused("FundPool", fund("f0", amount=0), *OLGA)
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "positive" in detail

        first = await api.call("FundPool", fund("f1"), *OLGA)
        assert (first.applied, first.funded_minor, first.asset) == (True, 1000, "USDT")
        again = await api.call("FundPool", fund("f1"), *OLGA)
        assert (again.applied, again.funded_minor) == (False, 1000)
        assert (await api.call("FundPool", fund("f2", 500), *OLGA)).funded_minor == 1500
        twins = await asyncio.gather(*(api.call("FundPool", fund("f3", 7), *OLGA)
                                       for _ in range(3)))
        assert sorted(t.applied for t in twins) == [False, False, True]
        assert max(t.funded_minor for t in twins) == 1507

        # ---- PublishPolicy ----
        def policy(week: str, version: str = "v2", **changes: int) -> PublishPolicyRequest:
            p = default_policy().evolve(version=version, effective_from_week=week, **changes)
            return PublishPolicyRequest(version=version, effective_week=week,
                                        policy_json=p.canonical_bytes())

        code, detail = await api.refused("PublishPolicy", policy(current), *OLGA)
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "after the current" in detail
        code, _ = await api.refused("PublishPolicy", PublishPolicyRequest(
            version="v9", effective_week=future, policy_json=b"{not json"), *OLGA)
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        published = await api.call("PublishPolicy", policy(future), *OLGA)
        assert published.policy_hash == default_policy().evolve(
            version="v2", effective_from_week=future).hash
        assert await api.call("PublishPolicy", policy(future), *OLGA) == published  # a retry
        code, _ = await api.refused("PublishPolicy", policy(future, min_dwell_seconds=9), *OLGA)
        assert code == grpc.StatusCode.ALREADY_EXISTS

        # ---- CloseWeek ----
        closed = await api.call("CloseWeek", CloseWeekRequest(week=past, request_id="r0"), *OLGA)
        assert not closed.accepted and "already closed" in closed.detail
        asked = await api.call("CloseWeek", CloseWeekRequest(week=current, reason="audit",
                                                             request_id="r1"), *OLGA)
        assert asked.accepted
        code, _ = await api.refused("CloseWeek", CloseWeekRequest(week=future), *OLGA)
        assert code == grpc.StatusCode.FAILED_PRECONDITION

        # ---- DecideHeld ----
        def decide(creator: str, decision_id: str) -> DecideHeldRequest:
            return DecideHeldRequest(week=past, creator_id=creator, decision_id=decision_id,
                                     decision=HeldDecided.DECISION_RELEASE, reason="cleared")

        code, detail = await api.refused("DecideHeld", decide("ana", "d0"), *OLGA)
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "holds nothing" in detail
        code, _ = await api.refused("DecideHeld", decide("hal", "d1"), "hal")
        assert code == grpc.StatusCode.PERMISSION_DENIED
        decided = await api.call("DecideHeld", decide("hal", "d1"), *OLGA)
        assert (decided.amount_minor, decided.operator_id) == (300, "olga")
        assert await api.call("DecideHeld", decide("hal", "d1"), *OLGA) == decided  # a retry
        code, detail = await api.refused("DecideHeld", decide("hal", "d2"), *OLGA)
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "d1" in detail

        # ---- ListLateFacts ----
        page = await api.call("ListLateFacts", ListLateFactsRequest(week=past, limit=1), *OLGA)
        assert [f.offset for f in page.late] == [7] and page.next_cursor == "1"
        rest = await api.call("ListLateFacts", ListLateFactsRequest(
            week=past, cursor=page.next_cursor), *OLGA)
        assert [f.offset for f in rest.late] == [8] and rest.next_cursor == ""

        # ---- ShadowCompare (no facts: nothing moves; the mode says which cut) ----
        candidate = default_policy().evolve(version="cand", min_dwell_seconds=9)
        final = await api.call("ShadowCompare", ShadowCompareRequest(
            week=past, candidate_policy_json=candidate.canonical_bytes()), *OLGA)
        assert (final.mode, final.candidate_policy_hash, list(final.differences)) == (
            "final", candidate.hash, [])
        now = await api.call("ShadowCompare", ShadowCompareRequest(), *OLGA)
        assert (now.week, now.mode, now.pool_minor) == (current, "estimate", 1507)
        assert now.candidate_policy_hash == published.policy_hash  # the latest published

    # What the operator RPCs wrote: each funding id counted once by every reader.
    written = await read_all(kafka_bootstrap, operations)
    fundings = [PoolFunded.FromString(env.payload) for t, env in written
                if t == PoolFunded.DESCRIPTOR.full_name]
    assert {f.funding_id for f in fundings} == {"f1", "f2", "f3"}
    assert sum(1 for t, _ in written if t.endswith("WeekCloseRequested")) == 1
    assert sum(1 for t, _ in written if t.endswith("PolicyPublished")) == 1
    assert sum(1 for t, _ in written if t.endswith("HeldDecided")) == 1
