"""The read side end to end: the scoring job's records on real Kafka, the real service, real
gRPC. Records are produced BEFORE the service starts: once it says SERVING, every answer must
already hold them (no polling), which is what its readiness promises."""

from __future__ import annotations

import grpc
import pytest
from incentive_api_harness import Api, IncentiveProcess, Records, read_values

from planet.events.v1.envelope_pb2 import DeadLetter
from planet.incentive.v1.incentive_service_pb2 import (
    CreatorCenterRequest,
    CreatorWeekRequest,
    GetWeeklyEstimateRequest,
    ListCreatorWeeksRequest,
    ListItemLedgerRequest,
    ListSettledWeeksRequest,
)
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    ItemActivity,
    ItemAmount,
    PayoutStateChanged,
    ProofStep,
    WeekActivity,
    WeekSettled,
)
from planetkit import topics as registry
from planetkit.weeks import iso_week_of_ms, week_start_ms

pytestmark = pytest.mark.kafka
OPERATOR = ("olga", ["operator"])
MS_PER_WEEK = 7 * 24 * 3600 * 1000


def result(week: str, creator: str, items: dict[str, int]) -> CreatorWeekResult:
    total = sum(items.values())
    return CreatorWeekResult(
        week=week, creator_id=creator, status="paid", allocated_minor=total,
        payable_minor=total, asset="USDT", merkle_root=f"root-{week}", policy_version="v1",
        policy_hash=f"hash-{week}", proof=[ProofStep(sibling="ab" * 32, sibling_is_left=True)],
        items=[ItemAmount(item_id=i, amount_minor=a, interaction_milli_points=1500)
               for i, a in items.items()],
        activity=WeekActivity(views=10, unique_viewers=4, dwell_seconds=120, followers_gained=2,
                              items=[ItemActivity(item_id=i, views=5, unique_viewers=2,
                                                  dwell_seconds=60) for i in items]))


async def test_creator_rpcs_answer_what_was_on_the_topics_when_serving_began(
    kafka_bootstrap: str, incentive: IncentiveProcess,
) -> None:
    records = Records(kafka_bootstrap, incentive.env["PLANET_TOPIC_SUFFIX"])
    await records.producer.start()
    current = iso_week_of_ms(records.now)
    w1, w2 = (iso_week_of_ms(week_start_ms(current) - k * MS_PER_WEEK) for k in (2, 1))
    try:
        await records.send([
            (registry.CREATOR_WEEKS, "ana", result(w1, "ana", {"p1": 300, "p2": 200})),
            (registry.CREATOR_WEEKS, "bob", result(w1, "bob", {"b1": 50})),
            (registry.INCENTIVE_WEEKS, w1, WeekSettled(week=w1, pool_minor=550, asset="USDT",
                                                       merkle_root=f"root-{w1}",
                                                       creators_paid=2, creators=2)),
            (registry.PAYOUT_STATES, "ana", PayoutStateChanged(
                payout_id="pay-ana-1", week=w1, creator_id="ana", amount_minor=500,
                asset="USDT", state="pending")),
        ])
        await records.send([
            (registry.PAYOUT_STATES, "ana", PayoutStateChanged(
                payout_id="pay-ana-1", week=w1, creator_id="ana", amount_minor=500,
                asset="USDT", state="paid")),
            (registry.CREATOR_WEEKS, "ana", result(w2, "ana", {"p1": 70})),  # p1 earns again
            (registry.INCENTIVE_WEEKS, w2, WeekSettled(week=w2, pool_minor=70, asset="USDT",
                                                       merkle_root=f"root-{w2}")),
            (registry.ESTIMATES, "ana", CreatorEstimate(
                week=current, creator_id="ana", as_of_ms=records.now, estimated_minor=42,
                score=900, asset="USDT", policy_version="v1",
                items=[ItemAmount(item_id="p3", amount_minor=42, interaction_milli_points=2000)],
                activity=WeekActivity(views=3, unique_viewers=3, dwell_seconds=30,
                                      items=[ItemActivity(item_id="p3", views=3)]))),
        ])
        # Two records the read side cannot project: dead-lettered with a reason, not a crash.
        async with records.producer.transaction():
            await records.producer.send(records.topic(registry.CREATOR_WEEKS), b"not protobuf",
                                        key=b"ana")
        await records.send([(registry.CREATOR_WEEKS, "x|y", result(w1, "x|y", {"p": 1}))])
    finally:
        await records.producer.stop()

    incentive.start()
    await incentive.wait_serving()
    async with grpc.aio.insecure_channel(incentive.address) as channel:
        api = Api(incentive, channel)

        weeks = await api.call("ListCreatorWeeks", ListCreatorWeeksRequest(creator_id="ana"),
                               "ana")
        assert [(w.week, w.allocated_minor, w.payout_state) for w in weeks.weeks] == [
            (w2, 70, "pending"), (w1, 500, "paid")]

        week = await api.call("GetCreatorWeek", CreatorWeekRequest(creator_id="ana", week=w1),
                              "ana")
        assert week.merkle_root == f"root-{w1}" and len(week.proof) == 1
        assert {i.item_id: i.amount_minor for i in week.items} == {"p1": 300, "p2": 200}
        latest = await api.call("GetCreatorWeek", CreatorWeekRequest(creator_id="ana"), "ana")
        assert latest.week == w2

        ledger = await api.call("ListItemLedger", ListItemLedgerRequest(creator_id="ana"), "ana")
        lifetime = {i.item_id: (i.lifetime_minor, [w.week for w in i.weeks])
                    for i in ledger.items}
        assert lifetime == {"p1": (370, [w2, w1]), "p2": (200, [w1])}

        estimate = await api.call("GetCreatorEstimate", CreatorWeekRequest(creator_id="ana"),
                                  "ana")
        assert (estimate.week, estimate.estimated_minor) == (current, 42)
        legacy = await api.call("GetWeeklyEstimate", GetWeeklyEstimateRequest(creator_id="ana"),
                                "ana")
        assert (legacy.week, legacy.views, legacy.formula) == (current, 3, "weekly_pool:v1")

        center = await api.call("GetCreatorCenter", CreatorCenterRequest(creator_id="ana"),
                                "ana")
        by_week = {w.week: w for w in center.weeks}
        assert len(center.weeks) == 8
        assert (by_week[w1].settled, by_week[w1].settled_minor, by_week[w1].views,
                by_week[w1].followers_gained,
                by_week[w1].effective_interaction_milli_points) == (True, 500, 10, 2, 3000)
        assert (by_week[current].settled, by_week[current].estimated_minor) == (False, 42)

        public = await api.call("ListSettledWeeks", ListSettledWeeksRequest(), "bob")
        assert [(w.week, w.pool_minor) for w in public.weeks] == [(w2, 70), (w1, 550)]

        # Authorization: a creator sees only their own; operators see anyone's.
        for method, request in (
            ("ListCreatorWeeks", ListCreatorWeeksRequest(creator_id="ana")),
            ("GetCreatorWeek", CreatorWeekRequest(creator_id="ana", week=w1)),
            ("ListItemLedger", ListItemLedgerRequest(creator_id="ana")),
            ("GetCreatorEstimate", CreatorWeekRequest(creator_id="ana")),
            ("GetCreatorCenter", CreatorCenterRequest(creator_id="ana")),
            ("GetWeeklyEstimate", GetWeeklyEstimateRequest(creator_id="ana")),
        ):
            code, _ = await api.refused(method, request, "bob")
            assert code == grpc.StatusCode.PERMISSION_DENIED, method
        seen = await api.call("GetCreatorWeek", CreatorWeekRequest(creator_id="ana", week=w1),
                              *OPERATOR)
        assert seen.creator_id == "ana"
        code, _ = await api.refused("ListSettledWeeks", ListSettledWeeksRequest(), "")
        assert code == grpc.StatusCode.PERMISSION_DENIED
        code, _ = await api.refused("GetCreatorWeek",
                                    CreatorWeekRequest(creator_id="bob", week=w2), "bob")
        assert code == grpc.StatusCode.NOT_FOUND

    letters = [DeadLetter.FromString(v) for v in await read_values(
        kafka_bootstrap, records.topic(registry.DLQ_SCORING))]
    assert sorted(letter.source_topic for letter in letters) == [
        records.topic(registry.CREATOR_WEEKS)] * 2
    reasons = " / ".join(letter.reason for letter in letters)
    assert "Envelope" in reasons and "'x|y' holds '|'" in reasons, reasons
