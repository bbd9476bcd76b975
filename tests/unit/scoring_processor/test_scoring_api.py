"""The gRPC API in-process over dict tables: estimates, current week, INVALID_ARGUMENT."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planet.incentive.v1.incentive_service_pb2 import GetWeeklyEstimateRequest
from planet.incentive.v1.incentive_service_pb2_grpc import IncentiveServiceStub
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import INCENTIVE
from planetkit.weeks import week_start_ms
from services.incentive.adapters.grpc_server import IncentiveGrpcServer
from services.incentive.adapters.grpc_servicer import IncentiveServicer
from services.incentive.domain.estimate.keys import creator_week_key, fees_key, posts_key
from services.incentive.domain.estimate.read_model import TableReadModel
from services.incentive.domain.estimate.state import CreatorWeek, Engagement, IdTally, encode_kyc

W = "2026-W48"


@pytest.fixture
async def stub(tmp_path: Path) -> AsyncIterator[IncentiveServiceStub]:
    cw = CreatorWeek().apply({"u1": Engagement(3, 100, 2), "u2": Engagement(1, 50, 0)})
    model = TableReadModel(
        creator_weeks={creator_week_key("c1", W): cw.encode()},
        posts={
            posts_key("c1", W, 0): IdTally(2, ("a", "b")).encode(),
            posts_key("c1", W, 3): IdTally(1, ("c",)).encode(),
        },
        fees={
            fees_key("u1", W): IdTally(50_000, ("f",)).encode(),
            fees_key("u2", W): IdTally(20_000, ("g",)).encode(),
        },
        kyc={"u1": encode_kyc(1)},
        posts_partitions=4,
    )
    auth = DevServiceAuth.create(tmp_path / "keys")
    server = IncentiveGrpcServer(
        IncentiveServicer(model, lambda: week_start_ms(W) + 1000, ready=lambda: True),
        "127.0.0.1:0",
        load_verifier(INCENTIVE, auth.settings(INCENTIVE)),
    )
    await server.start()
    # Calls made by the gateway for an operator, who may see any creator's estimate.
    signing = auth.interceptor(INCENTIVE, "olga", ["operator"])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}",
                                         interceptors=[signing]) as channel:
        yield IncentiveServiceStub(channel)  # type: ignore[misc]
    await server.stop(0)


async def test_estimate_sums_partitions_and_weights_fees_of_verified_consumers(
    stub: IncentiveServiceStub,
) -> None:
    est = await stub.GetWeeklyEstimate(GetWeeklyEstimateRequest(creator_id="c1", week=W))  # type: ignore[misc]
    assert (est.posts, est.views, est.dwell_seconds, est.interactions) == (3, 4, 150, 2)
    assert est.engaged_consumers == 2
    assert est.score_milli == 160 * 1500 + 50 * 1000
    assert est.formula == "placeholder_score_v0"


async def test_empty_week_means_current_week(stub: IncentiveServiceStub) -> None:
    est = await stub.GetWeeklyEstimate(GetWeeklyEstimateRequest(creator_id="c1"))  # type: ignore[misc]
    assert est.week == W and est.posts == 3


async def test_unknown_creator_gets_zeros(stub: IncentiveServiceStub) -> None:
    est = await stub.GetWeeklyEstimate(GetWeeklyEstimateRequest(creator_id="nobody", week=W))  # type: ignore[misc]
    assert est.score_milli == 0 and est.posts == 0


@pytest.mark.parametrize("week", ["2026-48", "2026-W99", "2025-W53"])
async def test_malformed_week_is_invalid_argument(stub: IncentiveServiceStub, week: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetWeeklyEstimate(GetWeeklyEstimateRequest(creator_id="c1", week=week))  # type: ignore[misc]
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_not_ready_answers_unavailable_and_health_not_serving(tmp_path: Path) -> None:
    """While the tables recover, no estimate is answered and health says NOT_SERVING."""
    ready = False
    auth = DevServiceAuth.create(tmp_path / "keys")
    model = TableReadModel(creator_weeks={}, posts={}, fees={}, kyc={}, posts_partitions=1)
    server = IncentiveGrpcServer(
        IncentiveServicer(model, lambda: week_start_ms(W), ready=lambda: ready),
        "127.0.0.1:0", load_verifier(INCENTIVE, auth.settings(INCENTIVE)),
    )
    await server.start()
    signing = auth.interceptor(INCENTIVE, "olga", ["operator"])
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}",
                                             interceptors=[signing]) as channel:
            stub = IncentiveServiceStub(channel)  # type: ignore[misc]
            health = health_pb2_grpc.HealthStub(channel)
            status = await health.Check(health_pb2.HealthCheckRequest())
            assert status.status == health_pb2.HealthCheckResponse.NOT_SERVING
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.GetWeeklyEstimate(GetWeeklyEstimateRequest(creator_id="c1", week=W))  # type: ignore[misc]
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
            ready = True
            await server.set_serving(True)
            status = await health.Check(health_pb2.HealthCheckRequest())
            assert status.status == health_pb2.HealthCheckResponse.SERVING
            est = await stub.GetWeeklyEstimate(GetWeeklyEstimateRequest(creator_id="c1", week=W))  # type: ignore[misc]
            assert est.score_milli == 0
    finally:
        await server.stop(0)
