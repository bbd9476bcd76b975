"""Follow, unfollow and bell through SocialService against the real broker: idempotent, exact
counts on both sides, refusals, pagination, a restart keeps the graph, and a lost store is
rebuilt from planet.social.graph.v1."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest

from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import handle_for
from tests.kafka.social.social_harness import open_when_verified as _until_kyc
from tests.kafka.social.social_harness import signed as _as

pytestmark = pytest.mark.kafka

StartSocial = Callable[[], Awaitable[RunningSocial]]
Kyc = Callable[[str], Awaitable[None]]


def _follow(user: str, creator: str) -> rpc.FollowRequest:
    return rpc.FollowRequest(user_id=user, creator_id=creator)


async def _counts(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth,
                  user: str) -> tuple[int, int]:
    page = await stub.GetProfile(rpc.GetProfileRequest(user_id=user),
                                 metadata=_as(auth, "anyone"), timeout=10)
    return page.follower_count, page.following_count


async def _all(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth, which: str,
               user: str, limit: int) -> list[str]:
    out: list[str] = []
    cursor = ""
    while True:
        req = rpc.ListFollowsRequest(user_id=user, cursor=cursor, limit=limit)
        method = stub.ListFollowers if which == "followers" else stub.ListFollowing
        page = await method(req, metadata=_as(auth, "anyone"), timeout=10)
        assert len(page.user_ids) <= limit
        out.extend(page.user_ids)
        if not page.next_cursor:
            return out
        cursor = page.next_cursor


async def _refused(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


async def test_follows_are_idempotent_exact_paginated_and_survive_restart_and_rebuild(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    auth = service_auth
    fans = [f"fan{i:02d}" for i in range(7)]
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        for creator in ("cara", "dave"):
            await kyc(creator)
            await _until_kyc(stub, auth, creator, handle_for(creator))

        state = await stub.Follow(_follow("fan00", "cara"), metadata=_as(auth, "fan00"),
                                  timeout=10)
        assert state.following and not state.bell and state.creator_follower_count == 1
        again = await stub.Follow(_follow("fan00", "cara"), metadata=_as(auth, "fan00"),
                                  timeout=10)
        assert again.following and again.creator_follower_count == 1
        for fan in fans[1:]:
            await stub.Follow(_follow(fan, "cara"), metadata=_as(auth, fan), timeout=10)
        await stub.Follow(_follow("fan00", "dave"), metadata=_as(auth, "fan00"), timeout=10)
        await stub.Follow(_follow("cara", "dave"), metadata=_as(auth, "cara"), timeout=10)
        assert await _counts(stub, auth, "cara") == (7, 1)
        assert await _counts(stub, auth, "dave") == (2, 0)

        bell = await stub.SetBell(rpc.SetBellRequest(user_id="fan01", creator_id="cara", on=True),
                                  metadata=_as(auth, "fan01"), timeout=10)
        assert bell.following and bell.bell

        gone = await stub.Unfollow(_follow("fan01", "cara"), metadata=_as(auth, "fan01"),
                                   timeout=10)
        assert not gone.following and not gone.bell and gone.creator_follower_count == 6
        gone = await stub.Unfollow(_follow("fan01", "cara"), metadata=_as(auth, "fan01"),
                                   timeout=10)
        assert gone.creator_follower_count == 6

        expected = sorted(set(fans) - {"fan01"})
        assert await _all(stub, auth, "followers", "cara", 2) == expected
        assert await _all(stub, auth, "followers", "cara", 1000) == expected
        assert await _all(stub, auth, "following", "fan00", 1) == ["cara", "dave"]

        refusals = [
            (stub.Follow(_follow("cara", "cara"), metadata=_as(auth, "cara"), timeout=10),
             grpc.StatusCode.INVALID_ARGUMENT),
            (stub.Follow(_follow("fan00", "nobody"), metadata=_as(auth, "fan00"), timeout=10),
             grpc.StatusCode.NOT_FOUND),
            (stub.SetBell(rpc.SetBellRequest(user_id="fan01", creator_id="cara", on=True),
                          metadata=_as(auth, "fan01"), timeout=10),
             grpc.StatusCode.FAILED_PRECONDITION),
            # Someone else's follow, and a caller other than the gateway.
            (stub.Follow(_follow("fan00", "dave"), metadata=_as(auth, "fan02"), timeout=10),
             grpc.StatusCode.PERMISSION_DENIED),
            (stub.Follow(_follow("fan00", "dave"),
                         metadata=_as(auth, "fan00", service=CONTENT), timeout=10),
             grpc.StatusCode.PERMISSION_DENIED),
            (stub.ListFollowers(rpc.ListFollowsRequest(user_id="cara", limit=5000),
                                metadata=_as(auth, "anyone"), timeout=10),
             grpc.StatusCode.INVALID_ARGUMENT),
        ]
        for call, code in refusals:
            assert (await _refused(call)).code() == code
        assert await _counts(stub, auth, "cara") == (6, 1)

    await social.stop()
    social = await social_service()  # a restart from the kept stores
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        assert await _counts(stub, auth, "cara") == (6, 1)
        assert await _counts(stub, auth, "dave") == (2, 0)
        again = await stub.Follow(_follow("fan02", "cara"), metadata=_as(auth, "fan02"),
                                  timeout=10)
        assert again.creator_follower_count == 6

    await social.stop()
    shutil.rmtree(tmp_path / "social-data" / "graph")  # a lost graph store: rebuilt from the log
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        assert await _counts(stub, auth, "cara") == (6, 1)
        assert await _counts(stub, auth, "dave") == (2, 0)
        assert await _all(stub, auth, "followers", "cara", 3) == expected
        bell = await stub.SetBell(rpc.SetBellRequest(user_id="fan02", creator_id="cara", on=True),
                                  metadata=_as(auth, "fan02"), timeout=10)
        assert bell.bell and bell.creator_follower_count == 6
    await social.stop()
