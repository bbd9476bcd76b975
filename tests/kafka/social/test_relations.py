"""Blocks, mutes and appeal decisions through SocialService against the real broker: a block
ends follows both ways with exact counts, a blocked user's follow is refused with the reason,
lists are the caller's own, refusals have their statuses; an appeal is decided once by an
operator and a grant lifts the sanction from that moment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
import pytest

from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import handle_for, open_when_verified
from tests.kafka.social.social_harness import signed as _as

pytestmark = pytest.mark.kafka

StartSocial = Callable[[], Awaitable[RunningSocial]]
Kyc = Callable[[str], Awaitable[None]]
OPS = ("operator",)


def _rel(user: str, other: str) -> rpc.RelationRequest:
    return rpc.RelationRequest(user_id=user, other_id=other)


async def _code(call: Awaitable[object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value.code(), refused.value.details() or ""


async def _counts(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth,
                  user: str) -> tuple[int, int]:
    page = await stub.GetProfile(rpc.GetProfileRequest(user_id=user),
                                 metadata=_as(auth, "anyone"), timeout=10)
    return page.follower_count, page.following_count


async def _list(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth, which: str, user: str,
                limit: int = 1) -> list[str]:
    out: list[str] = []
    cursor = ""
    method = stub.ListBlocked if which == "blocked" else stub.ListMuted
    while True:
        page = await method(rpc.ListFollowsRequest(user_id=user, cursor=cursor, limit=limit),
                            metadata=_as(auth, user), timeout=10)
        out.extend(page.user_ids)
        if not page.next_cursor:
            return out
        cursor = page.next_cursor


async def test_block_ends_follows_both_ways_and_refuses_the_blocked_users_follow(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth,
) -> None:
    auth = service_auth
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        for creator in ("cara", "dave"):
            await kyc(creator)
            await open_when_verified(stub, auth, creator, handle_for(creator))
        # cara and dave follow each other; two fans follow cara.
        await stub.Follow(rpc.FollowRequest(user_id="cara", creator_id="dave"),
                          metadata=_as(auth, "cara"), timeout=10)
        await stub.Follow(rpc.FollowRequest(user_id="dave", creator_id="cara"),
                          metadata=_as(auth, "dave"), timeout=10)
        for fan in ("fan1", "fan2"):
            await stub.Follow(rpc.FollowRequest(user_id=fan, creator_id="cara"),
                              metadata=_as(auth, fan), timeout=10)
        assert await _counts(stub, auth, "cara") == (3, 1)
        assert await _counts(stub, auth, "dave") == (1, 1)

        state = await stub.Block(_rel("cara", "dave"), metadata=_as(auth, "cara"), timeout=10)
        assert state.blocking and not state.following and not state.muting
        assert await _counts(stub, auth, "cara") == (2, 0)
        assert await _counts(stub, auth, "dave") == (0, 0)
        again = await stub.Block(_rel("cara", "dave"), metadata=_as(auth, "cara"), timeout=10)
        assert again.blocking
        assert await _counts(stub, auth, "cara") == (2, 0)

        # The blocked user cannot follow the blocker, nor the blocker the blocked.
        code, why = await _code(stub.Follow(rpc.FollowRequest(user_id="dave", creator_id="cara"),
                                            metadata=_as(auth, "dave"), timeout=10))
        assert code == grpc.StatusCode.PERMISSION_DENIED and "cannot follow" in why
        code, why = await _code(stub.Follow(rpc.FollowRequest(user_id="cara", creator_id="dave"),
                                            metadata=_as(auth, "cara"), timeout=10))
        assert code == grpc.StatusCode.PERMISSION_DENIED and "unblock" in why

        # A fan (no KYC, but in the graph) can be blocked; a mute keeps the follow.
        await stub.Block(_rel("cara", "fan1"), metadata=_as(auth, "cara"), timeout=10)
        muted = await stub.Mute(_rel("fan2", "cara"), metadata=_as(auth, "fan2"), timeout=10)
        assert muted.muting and muted.following
        assert await _counts(stub, auth, "cara") == (1, 0)
        assert await _list(stub, auth, "blocked", "cara") == ["dave", "fan1"]
        assert await _list(stub, auth, "muted", "fan2") == ["cara"]
        assert await _list(stub, auth, "blocked", "dave") == []

        # Unblocking lets a follow happen again (the ended follow stays ended).
        lifted = await stub.Unblock(_rel("cara", "dave"), metadata=_as(auth, "cara"),
                                    timeout=10)
        assert not lifted.blocking and not lifted.following
        await stub.Follow(rpc.FollowRequest(user_id="dave", creator_id="cara"),
                          metadata=_as(auth, "dave"), timeout=10)
        assert await _counts(stub, auth, "cara") == (2, 0)
        unmuted = await stub.Unmute(_rel("fan2", "cara"), metadata=_as(auth, "fan2"),
                                    timeout=10)
        assert not unmuted.muting and unmuted.following
        assert await _list(stub, auth, "muted", "fan2") == []

        refusals: list[tuple[Awaitable[object], grpc.StatusCode]] = [
            (stub.Block(_rel("cara", "cara"), metadata=_as(auth, "cara"), timeout=10),
             grpc.StatusCode.INVALID_ARGUMENT),
            (stub.Mute(_rel("cara", "cara"), metadata=_as(auth, "cara"), timeout=10),
             grpc.StatusCode.INVALID_ARGUMENT),
            (stub.Block(_rel("cara", "nobody-at-all"), metadata=_as(auth, "cara"), timeout=10),
             grpc.StatusCode.NOT_FOUND),
            (stub.Mute(_rel("cara", "nobody-at-all"), metadata=_as(auth, "cara"), timeout=10),
             grpc.StatusCode.NOT_FOUND),
            # Acting for someone else, reading someone else's lists (operators included),
            # and a caller service other than the gateway.
            (stub.Block(_rel("cara", "fan2"), metadata=_as(auth, "dave"), timeout=10),
             grpc.StatusCode.PERMISSION_DENIED),
            (stub.ListBlocked(rpc.ListFollowsRequest(user_id="cara"),
                              metadata=_as(auth, "dave"), timeout=10),
             grpc.StatusCode.PERMISSION_DENIED),
            (stub.ListMuted(rpc.ListFollowsRequest(user_id="fan2"),
                            metadata=_as(auth, "ops", OPS), timeout=10),
             grpc.StatusCode.PERMISSION_DENIED),
            (stub.Block(_rel("cara", "fan2"), metadata=_as(auth, "cara", service=CONTENT),
                        timeout=10),
             grpc.StatusCode.PERMISSION_DENIED),
            (stub.ListBlocked(rpc.ListFollowsRequest(user_id="cara", limit=5000),
                              metadata=_as(auth, "cara"), timeout=10),
             grpc.StatusCode.INVALID_ARGUMENT),
        ]
        for call, expected in refusals:
            assert (await _code(call))[0] == expected
        assert await _list(stub, auth, "blocked", "cara") == ["fan1"]
    await social.stop()


async def test_an_appeal_is_decided_once_by_an_operator_and_a_grant_lifts_from_then(
    social_service: StartSocial, service_auth: DevServiceAuth,
) -> None:
    auth = service_auth
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)

        async def sanction(user: str) -> rpc.Sanction:
            s: rpc.Sanction = await stub.SanctionAccount(rpc.SanctionAccountRequest(
                user_id=user, reason="spam"), metadata=_as(auth, "ops", OPS), timeout=10)
            return s

        def decide(user: str, sid: str, grant: bool, as_: str = "ops",
                   roles: tuple[str, ...] = OPS) -> Awaitable[rpc.Sanction]:
            return stub.DecideAppeal(rpc.DecideAppealRequest(
                user_id=user, sanction_id=sid, grant=grant, reason="reviewed"),
                metadata=_as(auth, as_, roles), timeout=10)

        granted, denied = await sanction("erin"), await sanction("erin")
        # Nothing to decide before an appeal.
        code, _ = await _code(decide("erin", granted.sanction_id, True))
        assert code == grpc.StatusCode.FAILED_PRECONDITION
        for s in (granted, denied):
            await stub.AppealSanction(rpc.AppealSanctionRequest(
                user_id="erin", sanction_id=s.sanction_id, text="it was not spam"),
                metadata=_as(auth, "erin"), timeout=10)
        # Not an operator (the holder herself included): refused.
        code, _ = await _code(decide("erin", granted.sanction_id, True, as_="erin", roles=()))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        code, _ = await _code(decide("erin", "sanc_" + "0" * 20, True))
        assert code == grpc.StatusCode.NOT_FOUND

        out = await decide("erin", granted.sanction_id, True)
        assert out.status == rpc.SANCTION_STATUS_LIFTED and out.appeal_decision == "granted"
        assert out.appeal_note == "reviewed" and out.lifted_at_ms >= granted.at_ms
        assert out.lifted_at_ms == out.appeal_decided_at_ms
        out = await decide("erin", denied.sanction_id, False)
        assert out.status == rpc.SANCTION_STATUS_ACTIVE and out.appeal_decision == "denied"
        assert out.lifted_at_ms == 0
        # Once only, either way.
        for sid in (granted.sanction_id, denied.sanction_id):
            code, why = await _code(decide("erin", sid, True))
            assert code == grpc.StatusCode.ALREADY_EXISTS and "once" in why

        seen = await stub.GetSanctions(rpc.GetSanctionsRequest(user_id="erin"),
                                       metadata=_as(auth, "erin"), timeout=10)
        by_id = {s.sanction_id: s for s in seen.sanctions}
        assert by_id[granted.sanction_id].status == rpc.SANCTION_STATUS_LIFTED
        assert by_id[granted.sanction_id].appeal_decision == "granted"
        assert by_id[denied.sanction_id].status == rpc.SANCTION_STATUS_ACTIVE
        assert by_id[denied.sanction_id].appeal_decision == "denied"
    await social.stop()
