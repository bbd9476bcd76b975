"""A stand-in incentive gRPC server behind a real gateway app, for the weekly pool's routes
(tests/unit/gateway/test_weekly_pool_*.py, tests/kafka/gateway/test_estimate_hub.py).

The gateway's real incentive client (gateway/adapters/incentive_client.py) calls a real
grpc.aio server on a local port; the server checks every call's signed assertion with the
real verifier and records whom it was made for, and answers fixed results (or the status
code a test asks for). The server and the channel live in the app's lifespan, on the app's
own event loop.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from fastapi.testclient import TestClient

from gateway.adapters.incentive_client import GrpcIncentive
from gateway.adapters.service_calls import CallSigner
from gateway.app import create_app
from gateway.estimate_hub import EstimateHub
from gateway.ports import Backends
from gateway.settings import GatewaySettings
from planet.incentive.v1 import incentive_service_pb2 as rpc
from planet.incentive.v1 import incentive_service_pb2_grpc as rpc_grpc
from planet.incentive.v1 import weekly_pool_pb2 as pool
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import GATEWAY, INCENTIVE
from tests.security.gateway_apps import Calls, Content, Events, dev_settings, idle_estimate_hub

WEEK = "2026-W10"


@dataclass(frozen=True)
class Call:
    """One call the stand-in received: the method, the verified user and roles, the request."""

    method: str
    user_id: str
    roles: frozenset[str]
    request: Any


def estimate(creator_id: str, as_of_ms: int, minor: int, week: str = WEEK
             ) -> pool.CreatorEstimate:
    """A CreatorEstimate with one item, tier, discount and some activity."""
    return pool.CreatorEstimate(
        creator_id=creator_id, week=week, as_of_ms=as_of_ms, estimated_minor=minor,
        score=minor // 10, asset="USDT", pool_minor=100_000_000,
        items=[pool.ItemAmount(item_id="post_" + "a" * 24, item_int_id=3, amount_minor=minor,
                               dwell_minor=minor - minor // 4, interaction_minor=minor // 4,
                               dwell_seconds=120, interaction_milli_points=2500)],
        tiers=[pool.TierAmount(tier="fee>=100", amount_minor=minor, consumers=2)],
        discounts=[pool.DiscountLine(reason="self_engagement", item_id="", events=2,
                                     quantity=40)],
        policy_version="v3", policy_hash="ab" * 32,
        activity=pool.WeekActivity(views=9, unique_viewers=4, dwell_seconds=300,
                                   followers_gained=1, items=[pool.ItemActivity(
                                       item_id="post_" + "a" * 24, views=9, unique_viewers=4,
                                       dwell_seconds=300)]))


@dataclass
class StandInIncentive(rpc_grpc.IncentiveServiceServicer):
    """Answers every weekly pool RPC; ``fail`` makes a method answer a status code instead."""

    calls: list[Call] = field(default_factory=list)
    fail: dict[str, grpc.StatusCode] = field(default_factory=dict)
    current: pool.CreatorEstimate | None = None
    auth: DevServiceAuth | None = None  # set by pool_client

    async def _seen(self, method: str, request: Any, context: grpc.aio.ServicerContext
                    ) -> None:
        assert self.auth is not None
        verifier = load_verifier(INCENTIVE, self.auth.settings(INCENTIVE))
        caller = verifier.verify_metadata(context.invocation_metadata())
        self.calls.append(Call(method, caller.user_id, caller.roles, request))
        if method in self.fail:
            await context.abort(self.fail[method], f"{method} says no")

    async def GetCreatorEstimate(self, request: rpc.CreatorWeekRequest,
                                 context: grpc.aio.ServicerContext) -> pool.CreatorEstimate:
        await self._seen("GetCreatorEstimate", request, context)
        return self.current or estimate(request.creator_id, 1, 1_000_000)

    async def ListCreatorWeeks(self, request: rpc.ListCreatorWeeksRequest,
                               context: grpc.aio.ServicerContext) -> rpc.CreatorWeeks:
        await self._seen("ListCreatorWeeks", request, context)
        return rpc.CreatorWeeks(weeks=[rpc.CreatorWeekSummary(
            week=WEEK, allocated_minor=7, payable_minor=0, rollover_out_minor=7, asset="USDT",
            payout_state="rolled_over", merkle_root="cd" * 32)], next_before_week=WEEK)

    async def GetCreatorWeek(self, request: rpc.CreatorWeekRequest,
                             context: grpc.aio.ServicerContext) -> pool.CreatorWeekResult:
        await self._seen("GetCreatorWeek", request, context)
        return pool.CreatorWeekResult(
            week=request.week, creator_id=request.creator_id, creator_int_id=42, status="paid",
            score=10, allocated_minor=9_000_001, payable_minor=9_000_001, asset="USDT",
            items=[pool.ItemAmount(item_id="post_" + "b" * 24, amount_minor=9_000_001)],
            tiers=[pool.TierAmount(tier="unverified", amount_minor=9_000_001, consumers=1)],
            discounts=[pool.DiscountLine(reason="dwell_cap", item_id="post_" + "b" * 24,
                                         events=1, quantity=3)],
            proof=[pool.ProofStep(sibling="01" * 32, sibling_is_left=False),
                   pool.ProofStep(sibling="02" * 32, sibling_is_left=True)],
            merkle_root="cd" * 32, policy_version="v3", policy_hash="ab" * 32)

    async def ListItemLedger(self, request: rpc.ListItemLedgerRequest,
                             context: grpc.aio.ServicerContext) -> rpc.ItemLedgerPage:
        await self._seen("ListItemLedger", request, context)
        return rpc.ItemLedgerPage(items=[rpc.ItemLedger(
            item_id="post_" + "b" * 24, lifetime_minor=12, asset="USDT",
            weeks=[rpc.ItemLedgerWeek(week="2025-W01", amount_minor=5, policy_hash="ab" * 32),
                   rpc.ItemLedgerWeek(week=WEEK, amount_minor=7, policy_hash="ab" * 32)])],
            next_cursor="")

    async def GetCreatorCenter(self, request: rpc.CreatorCenterRequest,
                               context: grpc.aio.ServicerContext) -> rpc.CreatorCenter:
        await self._seen("GetCreatorCenter", request, context)
        return rpc.CreatorCenter(creator_id=request.creator_id, asset="USDT", weeks=[
            rpc.CreatorWeekStats(week=WEEK, views=3, unique_viewers=2, dwell_seconds=40,
                                 effective_interaction_milli_points=1500, followers_gained=1,
                                 estimated_minor=8, settled_minor=0, settled=False)])

    async def ListSettledWeeks(self, request: rpc.ListSettledWeeksRequest,
                               context: grpc.aio.ServicerContext) -> rpc.SettledWeeks:
        await self._seen("ListSettledWeeks", request, context)
        return rpc.SettledWeeks(weeks=[pool.WeekSettled(
            week=WEEK, policy_version="v3", policy_hash="ab" * 32, pool_minor=100, asset="USDT",
            payable_minor=90, unallocated_minor=10, merkle_root="cd" * 32, creators_paid=3,
            creators=4)])

    async def FundPool(self, request: rpc.FundPoolRequest,
                       context: grpc.aio.ServicerContext) -> rpc.PoolFunding:
        await self._seen("FundPool", request, context)
        first = next(c for c in self.calls if c.method == "FundPool"
                 and c.request.funding_id == request.funding_id)
        return rpc.PoolFunding(week=request.week, funded_minor=request.amount_minor,
                               asset=request.asset, applied=first.request is request)

    async def PublishPolicy(self, request: rpc.PublishPolicyRequest,
                            context: grpc.aio.ServicerContext) -> pool.PolicyPublished:
        await self._seen("PublishPolicy", request, context)
        return pool.PolicyPublished(version=request.version,
                                    effective_week=request.effective_week,
                                    policy_json=request.policy_json, policy_hash="ef" * 32,
                                    operator_id=self.calls[-1].user_id, at_ms=5)

    async def ShadowCompare(self, request: rpc.ShadowCompareRequest,
                            context: grpc.aio.ServicerContext) -> rpc.ShadowComparison:
        await self._seen("ShadowCompare", request, context)
        return rpc.ShadowComparison(
            week=request.week, current_policy_hash="ab" * 32, candidate_policy_hash="ef" * 32,
            pool_minor=100, moved_minor=4, mode="final", differences=[
                rpc.CreatorDifference(creator_id="alice", current_minor=60, candidate_minor=56,
                                      delta_minor=-4),
                rpc.CreatorDifference(creator_id="bob", current_minor=40, candidate_minor=44,
                                      delta_minor=4)])

    async def CloseWeek(self, request: rpc.CloseWeekRequest,
                        context: grpc.aio.ServicerContext) -> rpc.CloseWeekAnswer:
        await self._seen("CloseWeek", request, context)
        return rpc.CloseWeekAnswer(week=request.week, accepted=True, detail="early:" +
                                   request.request_id)

    async def DecideHeld(self, request: rpc.DecideHeldRequest,
                         context: grpc.aio.ServicerContext) -> pool.HeldDecided:
        await self._seen("DecideHeld", request, context)
        return pool.HeldDecided(week=request.week, creator_id=request.creator_id,
                                decision=request.decision, amount_minor=33, asset="USDT",
                                operator_id=self.calls[-1].user_id, reason=request.reason,
                                at_ms=6, decision_id=request.decision_id)

    async def ListLateFacts(self, request: rpc.ListLateFactsRequest,
                            context: grpc.aio.ServicerContext) -> rpc.LateFactsPage:
        await self._seen("ListLateFacts", request, context)
        return rpc.LateFactsPage(late=[pool.FactsLate(
            week=request.week, topic="planet.incentive.view-facts.v1", partition=2, offset=77,
            rows=3, reason="arrived after the week's cut", event_ids=["ev1", "ev2"])],
            next_cursor="c:2")


def pool_backends(standin: StandInIncentive, auth: DevServiceAuth,
                  estimates: EstimateHub | None, *, start_hub: bool = False
                  ) -> Callable[[GatewaySettings], AbstractAsyncContextManager[Backends]]:
    """A backends factory: the stand-in server on a local port and the real incentive client
    calling it, both on the app's loop; ``start_hub``: the hub reads Kafka while it runs."""
    standin.auth = auth

    @asynccontextmanager
    async def factory(settings: GatewaySettings) -> AsyncIterator[Backends]:
        server = grpc.aio.server()
        rpc_grpc.add_IncentiveServiceServicer_to_server(standin, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        if start_hub and estimates is not None:
            await estimates.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                calls = Calls()
                yield Backends(Content(calls), GrpcIncentive(
                    channel, settings.grpc_timeout_s, CallSigner(auth.signer(GATEWAY), INCENTIVE)),
                    Events(), lambda: time.time_ns() // 1_000_000, estimates=estimates)
        finally:
            if start_hub and estimates is not None:
                await estimates.stop()
            await server.stop(0)

    return factory


def pool_client(tmp_path: Path, standin: StandInIncentive | None = None,
                hub: EstimateHub | None = None, live: bool = True, **overrides: Any
                ) -> tuple[TestClient, StandInIncentive]:
    """A TestClient of the real app whose incentive backend is the real gRPC client of a
    stand-in server (started in the app's lifespan), and the stand-in. ``live`` False: a
    gateway without an estimate hub."""
    auth = DevServiceAuth.create(tmp_path / "service-auth")
    standin = standin or StandInIncentive()
    estimates = (hub or idle_estimate_hub()) if live else None
    factory = pool_backends(standin, auth, estimates)
    return TestClient(create_app(dev_settings(**overrides), factory)), standin
