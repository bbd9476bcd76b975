"""IncentiveService in-process over dict tables: who may call what, refusals with reasons,
readiness. Operator writes are projected at once by a stand-in writer (the Kafka tests in
tests/kafka/incentive_api run the real producer, topics and Faust tables)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from planet.incentive.v1 import incentive_service_pb2 as api
from planet.incentive.v1.incentive_service_pb2_grpc import IncentiveServiceStub
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorWeekResult,
    HeldDecided,
    PolicyPublished,
    PoolFunded,
    WeekClosed,
    WeekCloseRequested,
    WeekSettled,
)
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import INCENTIVE
from planetkit.weeks import week_start_ms
from services.incentive.adapters.grpc_server import IncentiveGrpcServer
from services.incentive.adapters.grpc_servicer import IncentiveServicer
from services.incentive.domain.policy import ScoringPolicy, default_policy
from services.incentive.readside.creators import apply_creator_week
from services.incentive.readside.weeks import apply_operation, apply_week_record

NOW_WEEK = "2026-W20"
PAST = "2026-W19"
CLOSED = "2026-W18"
FUTURE = "2026-W22"
OPERATOR = ("olga", ("operator",))


@dataclass
class ProjectingWriter:
    """Applies each operation to the weeks table at once, as the read side's agent would."""

    weeks: dict[str, bytes]
    written: list[Message] = field(default_factory=list)

    async def write(self, key: str, payload: Message, at_ms: int) -> str:
        event_id = str(uuid.uuid4())
        assert isinstance(payload, PoolFunded | PolicyPublished | WeekCloseRequested
                          | HeldDecided)
        apply_operation(self.weeks, payload, event_id)
        self.written.append(payload)
        return event_id


class NoShadow:
    async def compare(self, week: str, candidate: ScoringPolicy | None,
                      now_ms: int) -> api.ShadowComparison:
        if candidate is None:
            raise LookupError("no policy has been published: give a candidate policy")
        return api.ShadowComparison(week=week, mode="estimate",
                                    candidate_policy_hash=candidate.hash)


@dataclass
class Stack:
    stub: IncentiveServiceStub
    auth: DevServiceAuth
    writer: ProjectingWriter
    ready: list[bool]

    async def call(self, method: str, request: Message, user: str = "ana",
                   roles: Iterable[str] = ()) -> Any:
        metadata = self.auth.metadata(INCENTIVE, user, roles)
        return await getattr(self.stub, method)(request, metadata=metadata, timeout=10)

    async def code(self, method: str, request: Message, user: str = "ana",
                   roles: Iterable[str] = ()) -> tuple[grpc.StatusCode, str]:
        try:
            await self.call(method, request, user, roles)
        except grpc.aio.AioRpcError as exc:
            return exc.code(), str(exc.details())
        return grpc.StatusCode.OK, ""


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    creators: dict[str, bytes] = {}
    weeks: dict[str, bytes] = {}
    apply_creator_week(creators, CreatorWeekResult(week=PAST, creator_id="ana", status="paid",
                                                   allocated_minor=5, asset="USDT"))
    apply_creator_week(creators, CreatorWeekResult(week=PAST, creator_id="hal", status="held",
                                                   held_minor=9, asset="USDT"))
    apply_week_record(weeks, WeekSettled(week=PAST, pool_minor=14))
    apply_week_record(weeks, WeekClosed(week=CLOSED, closed_at_ms=1, cause="grace"))
    writer = ProjectingWriter(weeks)
    ready = [True]
    auth = DevServiceAuth.create(tmp_path / "keys")
    server = IncentiveGrpcServer(
        IncentiveServicer(creators_table=creators, weeks_table=weeks, operations=writer,
                          shadow=NoShadow(), quote_asset="USDT",
                          now_ms=lambda: week_start_ms(NOW_WEEK) + 1000,
                          ready=lambda: ready[0]),
        "127.0.0.1:0", load_verifier(INCENTIVE, auth.settings(INCENTIVE)))
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield Stack(IncentiveServiceStub(channel), auth, writer, ready)
    await server.stop(0)


CREATOR_CALLS: list[tuple[str, Message]] = [
    ("GetWeeklyEstimate", api.GetWeeklyEstimateRequest(creator_id="ana")),
    ("GetCreatorEstimate", api.CreatorWeekRequest(creator_id="ana")),
    ("ListCreatorWeeks", api.ListCreatorWeeksRequest(creator_id="ana")),
    ("GetCreatorWeek", api.CreatorWeekRequest(creator_id="ana", week=PAST)),
    ("ListItemLedger", api.ListItemLedgerRequest(creator_id="ana")),
    ("GetCreatorCenter", api.CreatorCenterRequest(creator_id="ana")),
]
OPERATOR_CALLS: list[tuple[str, Message]] = [
    ("FundPool", api.FundPoolRequest(week=NOW_WEEK, amount_minor=10, asset="USDT",
                                     funding_id="f1")),
    ("PublishPolicy", api.PublishPolicyRequest(policy_json=default_policy().evolve(
        version="v2", effective_from_week=FUTURE).canonical_bytes())),
    ("ShadowCompare", api.ShadowCompareRequest(
        candidate_policy_json=default_policy().canonical_bytes())),
    ("CloseWeek", api.CloseWeekRequest(week=NOW_WEEK, request_id="r1")),
    ("DecideHeld", api.DecideHeldRequest(week=PAST, creator_id="hal", decision_id="d1",
                                         decision=HeldDecided.DECISION_FORFEIT)),
    ("ListLateFacts", api.ListLateFactsRequest(week=PAST)),
]


@pytest.mark.parametrize(("method", "request_"), CREATOR_CALLS, ids=[m for m, _ in CREATOR_CALLS])
async def test_creator_calls_are_the_creators_own_or_an_operators(
    stack: Stack, method: str, request_: Message,
) -> None:
    assert (await stack.code(method, request_, "ana"))[0] == grpc.StatusCode.OK
    assert (await stack.code(method, request_, *OPERATOR))[0] == grpc.StatusCode.OK
    code, detail = await stack.code(method, request_, "bob")
    assert code == grpc.StatusCode.PERMISSION_DENIED and "creator" in detail
    code, _ = await stack.code(method, request_, "")  # a service acting for itself
    assert code == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(("method", "request_"), OPERATOR_CALLS,
                         ids=[m for m, _ in OPERATOR_CALLS])
async def test_operator_calls_are_operators_only(stack: Stack, method: str,
                                                 request_: Message) -> None:
    code, detail = await stack.code(method, request_, "ana", ("creator",))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "operator" in detail
    assert not stack.writer.written
    assert (await stack.code(method, request_, *OPERATOR))[0] == grpc.StatusCode.OK
    assert (await stack.code(method, request_, "root", ("admin",)))[0] == grpc.StatusCode.OK


async def test_settled_weeks_are_shown_to_any_signed_in_user(stack: Stack) -> None:
    weeks = await stack.call("ListSettledWeeks", api.ListSettledWeeksRequest(), "bob")
    assert [w.week for w in weeks.weeks] == [PAST]
    code, _ = await stack.code("ListSettledWeeks", api.ListSettledWeeksRequest(), "")
    assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_not_ready_answers_unavailable_after_authorization(stack: Stack) -> None:
    stack.ready[0] = False
    request = api.ListCreatorWeeksRequest(creator_id="ana")
    assert (await stack.code("ListCreatorWeeks", request, "bob"))[0] == (
        grpc.StatusCode.PERMISSION_DENIED)
    code, detail = await stack.code("ListCreatorWeeks", request, "ana")
    assert code == grpc.StatusCode.UNAVAILABLE and "catching up" in detail


@pytest.mark.parametrize(("method", "request_", "code", "words"), [
    ("FundPool", api.FundPoolRequest(week=PAST, amount_minor=1, asset="USDT", funding_id="x"),
     grpc.StatusCode.FAILED_PRECONDITION, "settled"),
    ("FundPool", api.FundPoolRequest(week=CLOSED, amount_minor=1, asset="USDT",
                                     funding_id="x"),
     grpc.StatusCode.FAILED_PRECONDITION, "closed"),
    ("FundPool", api.FundPoolRequest(week=NOW_WEEK, amount_minor=1, asset="USDT"),
     grpc.StatusCode.INVALID_ARGUMENT, "funding_id"),
    ("FundPool", api.FundPoolRequest(week="2026-20", amount_minor=1, asset="USDT",
                                     funding_id="x"),
     grpc.StatusCode.INVALID_ARGUMENT, "ISO week"),
    ("PublishPolicy", api.PublishPolicyRequest(version="other", policy_json=default_policy(
    ).evolve(version="v2", effective_from_week=FUTURE).canonical_bytes()),
     grpc.StatusCode.INVALID_ARGUMENT, "differ"),
    ("PublishPolicy", api.PublishPolicyRequest(policy_json=default_policy().evolve(
        version="v2", effective_from_week=NOW_WEEK).canonical_bytes()),
     grpc.StatusCode.FAILED_PRECONDITION, "after the current week"),
    ("PublishPolicy", api.PublishPolicyRequest(policy_json=b'{"version": "v3"}'),
     grpc.StatusCode.INVALID_ARGUMENT, "not a valid policy"),
    ("ShadowCompare", api.ShadowCompareRequest(week=FUTURE),
     grpc.StatusCode.FAILED_PRECONDITION, "not started"),
    ("ShadowCompare", api.ShadowCompareRequest(),
     grpc.StatusCode.FAILED_PRECONDITION, "no policy"),
    ("DecideHeld", api.DecideHeldRequest(week=PAST, creator_id="ana", decision_id="d",
                                         decision=HeldDecided.DECISION_RELEASE),
     grpc.StatusCode.FAILED_PRECONDITION, "holds nothing"),
    ("DecideHeld", api.DecideHeldRequest(week=PAST, creator_id="hal", decision_id="d"),
     grpc.StatusCode.INVALID_ARGUMENT, "DECISION_RELEASE"),
    ("DecideHeld", api.DecideHeldRequest(week=NOW_WEEK, creator_id="hal", decision_id="d",
                                         decision=HeldDecided.DECISION_RELEASE),
     grpc.StatusCode.NOT_FOUND, "no settled week"),
    ("ListLateFacts", api.ListLateFactsRequest(week=PAST, cursor="abc"),
     grpc.StatusCode.INVALID_ARGUMENT, "cursor"),
], ids=lambda v: v if isinstance(v, str) and v[:1].isupper() else "")
async def test_refusals_name_their_reason(stack: Stack, method: str, request_: Message,
                                          code: grpc.StatusCode, words: str) -> None:
    got, detail = await stack.code(method, request_, *OPERATOR)
    assert (got, words in detail) == (code, True), detail
    assert not stack.writer.written


@pytest.mark.parametrize(("method", "request_", "words"), [
    ("GetCreatorEstimate", api.CreatorWeekRequest(creator_id="ana", week=PAST), "current"),
    ("GetCreatorCenter", api.CreatorCenterRequest(creator_id="ana", from_week="2024-W01"),
     "at most"),
    ("GetCreatorCenter", api.CreatorCenterRequest(creator_id="ana", from_week=FUTURE,
                                                  to_week=PAST), "after"),
    ("ListCreatorWeeks", api.ListCreatorWeeksRequest(creator_id="ana", before_week="x"),
     "ISO week"),
])
async def test_creator_requests_out_of_range_are_invalid(stack: Stack, method: str,
                                                         request_: Message, words: str) -> None:
    code, detail = await stack.code(method, request_, "ana")
    assert code == grpc.StatusCode.INVALID_ARGUMENT and words in detail, detail


async def test_fund_pool_twice_applies_once(stack: Stack) -> None:
    request = api.FundPoolRequest(week=NOW_WEEK, amount_minor=10, asset="USDT", funding_id="f9")
    first = await stack.call("FundPool", request, *OPERATOR)
    again = await stack.call("FundPool", request, *OPERATOR)
    assert [(a.applied, a.funded_minor) for a in (first, again)] == [(True, 10), (False, 10)]
    assert len(stack.writer.written) == 1  # the retry wrote nothing
