"""The social service's state survives a restart and rebuilds from the log (issue 12's
property), against the real broker.

A realistic mixed history runs through the running service: KYC facts, identities, handle
changes, profile edits, suspensions, a closure, sanctions with appeals granted and denied and
a lift, follows, bells, unfollows, blocks (ending follows both ways), mutes. Every answer a
client can get is captured. Then:

- a restart with the same data directory starts from the stored offsets: it reads next to
  nothing back (far fewer records than the history) and every answer is equal;
- a start with the data directory deleted rebuilds every store from the topics: it reads the
  whole history and every answer is equal again.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from planet.social.v1 import events_pb2 as ev
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planetkit.service_auth_dev import DevServiceAuth
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import handle_for, open_when_verified
from tests.kafka.social.social_harness import signed as _as

pytestmark = pytest.mark.kafka

StartSocial = Callable[[], Awaitable[RunningSocial]]
Kyc = Callable[[str], Awaitable[None]]
Stub = Any  # rpc_grpc.SocialServiceAsyncStub (typed stubs only)
OPS = ("operator",)
CREATORS = [f"cr{i}" for i in range(6)]
FANS = [f"fan{i:02d}" for i in range(24)]


async def _history(stub: Stub, auth: DevServiceAuth, kyc: Kyc) -> dict[str, str]:
    """Drive a mixed history through the service; the handles each creator ends with."""
    rng = random.Random(12)
    handles = {c: handle_for(c) for c in CREATORS}
    for creator in CREATORS:
        await kyc(creator)
    for fan in FANS[:8]:  # some consumers pass KYC too (never open an identity)
        await kyc(fan)
    for creator in CREATORS:
        await open_when_verified(stub, auth, creator, handles[creator])
    for creator in CREATORS[:2]:  # handle changes: the old handle stays reserved
        handles[creator] = handles[creator][:-2] + "zz"
        await stub.ChangeHandle(rpc.ChangeHandleRequest(user_id=creator,
                                                        handle=handles[creator]),
                                metadata=_as(auth, creator), timeout=10)
    await stub.UpdateProfile(rpc.UpdateProfileRequest(user_id="cr2", profile=ev.Profile(
        display_name="Cr two", bio="edited", topics=["eth"])), metadata=_as(auth, "cr2"),
        timeout=10)
    # Follows and bells at random, some undone.
    for fan in FANS:
        for creator in rng.sample(CREATORS, rng.randint(1, 4)):
            await stub.Follow(rpc.FollowRequest(user_id=fan, creator_id=creator),
                              metadata=_as(auth, fan), timeout=10)
            if rng.random() < 0.4:
                await stub.SetBell(rpc.SetBellRequest(user_id=fan, creator_id=creator,
                                                      on=True),
                                   metadata=_as(auth, fan), timeout=10)
            if rng.random() < 0.15:
                await stub.Unfollow(rpc.FollowRequest(user_id=fan, creator_id=creator),
                                    metadata=_as(auth, fan), timeout=10)
    for a, b in (("cr0", "cr1"), ("cr1", "cr0"), ("cr3", "cr0")):
        await stub.Follow(rpc.FollowRequest(user_id=a, creator_id=b), metadata=_as(auth, a),
                          timeout=10)
    # Blocks (both directions of follows end), an unblock, mutes and an unmute.
    for blocker, blocked in (("cr0", "cr1"), ("cr2", "fan03"), ("fan05", "cr4"),
                             ("cr4", "fan06"), ("cr5", "fan07")):
        await stub.Block(rpc.RelationRequest(user_id=blocker, other_id=blocked),
                         metadata=_as(auth, blocker), timeout=10)
    await stub.Unblock(rpc.RelationRequest(user_id="cr5", other_id="fan07"),
                       metadata=_as(auth, "cr5"), timeout=10)
    for muter, muted in (("fan01", "cr1"), ("fan02", "cr3"), ("cr3", "fan10"),
                         ("fan02", "cr5")):
        await stub.Mute(rpc.RelationRequest(user_id=muter, other_id=muted),
                        metadata=_as(auth, muter), timeout=10)
    await stub.Unmute(rpc.RelationRequest(user_id="fan02", other_id="cr5"),
                      metadata=_as(auth, "fan02"), timeout=10)
    # Moderation: a suspension and reinstatement, a suspension that stands, a closure.
    for action, user in (("SuspendIdentity", "cr3"), ("ReinstateIdentity", "cr3"),
                         ("SuspendIdentity", "cr4"), ("CloseIdentity", "cr5")):
        await getattr(stub, action)(rpc.IdentityActionRequest(user_id=user, reason=action),
                                    metadata=_as(auth, "ops", OPS), timeout=10)
    # Sanctions: one lifted, one appealed and granted, one appealed and denied, one standing.
    made = []
    for user in ("fan11", "fan12", "cr2", "fan13"):
        s = await stub.SanctionAccount(rpc.SanctionAccountRequest(user_id=user, reason="spam"),
                                       metadata=_as(auth, "ops", OPS), timeout=10)
        made.append(s)
    await stub.LiftSanction(rpc.LiftSanctionRequest(
        user_id="fan11", sanction_id=made[0].sanction_id, reason="mistake"),
        metadata=_as(auth, "ops", OPS), timeout=10)
    for s, grant in ((made[1], True), (made[2], False)):
        await stub.AppealSanction(rpc.AppealSanctionRequest(
            user_id=s.user_id, sanction_id=s.sanction_id, text="please"),
            metadata=_as(auth, s.user_id), timeout=10)
        await stub.DecideAppeal(rpc.DecideAppealRequest(
            user_id=s.user_id, sanction_id=s.sanction_id, grant=grant, reason="reviewed"),
            metadata=_as(auth, "ops", OPS), timeout=10)
    return handles


async def _pages(method: Any, auth: DevServiceAuth, user: str, as_: str) -> list[str]:
    out: list[str] = []
    cursor = ""
    while True:
        page = await method(rpc.ListFollowsRequest(user_id=user, cursor=cursor, limit=3),
                            metadata=_as(auth, as_), timeout=10)
        out.extend(page.user_ids)
        if not page.next_cursor:
            return out
        cursor = page.next_cursor


async def _answer(call: Awaitable[Any]) -> bytes | tuple[str, str]:
    """A message's bytes, or the refusal's status and message (a refusal is an answer too)."""
    try:
        message = await call
    except grpc.aio.AioRpcError as exc:
        return exc.code().name, exc.details() or ""
    if isinstance(message, rpc.HomePage):
        # The track record says "as of now" (the clock, not the state): its own tests
        # cover it; everything else on the page is state.
        message.ClearField("track_record")
    serialized: bytes = message.SerializeToString(deterministic=True)
    return serialized


async def _answers(stub: Stub, auth: DevServiceAuth,
                   handles: dict[str, str]) -> dict[str, Any]:
    """Every answer a client can get about the history's users."""
    out: dict[str, Any] = {}
    for creator in CREATORS:
        out[f"home/{creator}"] = await _answer(stub.GetProfile(
            rpc.GetProfileRequest(user_id=creator), metadata=_as(auth, "x"), timeout=10))
        out[f"handle/{handles[creator]}"] = await _answer(stub.GetProfile(
            rpc.GetProfileRequest(handle=handles[creator]), metadata=_as(auth, "x"),
            timeout=10))
        out[f"publisher/{creator}"] = (await stub.CheckPublisher(
            rpc.CheckPublisherRequest(user_id=creator),
            metadata=_as(auth, creator, service="content"), timeout=10)).reason
    for user in CREATORS + FANS:
        out[f"followers/{user}"] = await _pages(stub.ListFollowers, auth, user, "x")
        out[f"following/{user}"] = await _pages(stub.ListFollowing, auth, user, "x")
        out[f"blocked/{user}"] = await _pages(stub.ListBlocked, auth, user, user)
        out[f"muted/{user}"] = await _pages(stub.ListMuted, auth, user, user)
        sanctions = await stub.GetSanctions(rpc.GetSanctionsRequest(user_id=user),
                                            metadata=_as(auth, "ops", OPS), timeout=10)
        out[f"sanctions/{user}"] = sanctions.SerializeToString(deterministic=True)
    return out


async def test_state_survives_a_restart_and_rebuilds_from_the_log(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    auth = service_auth
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        handles = await _history(stub, auth, kyc)
        before = await _answers(stub, auth, handles)
    # The history is what it says: blocks ended follows both ways, decisions are shown.
    assert "cr1" not in before["following/cr0"] and "cr0" not in before["following/cr1"]
    assert "fan03" not in before["followers/cr2"] and before["blocked/cr2"] == ["fan03"]
    assert before["blocked/cr5"] == [] and before["muted/fan02"] == ["cr3"]
    assert before["publisher/cr4"] == "identity suspended"
    await social.stop()

    restarted = await social_service()  # the same data directory
    async with grpc.aio.insecure_channel(f"127.0.0.1:{restarted.port}") as channel:
        assert await _answers(rpc_grpc.SocialServiceStub(channel), auth, handles) == before
    await restarted.stop()

    shutil.rmtree(tmp_path / "social-data")  # every store lost: rebuilt from the topics
    rebuilt = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        assert await _answers(rpc_grpc.SocialServiceStub(channel), auth, handles) == before
    await rebuilt.stop()

    history = rebuilt.service.stats.restore_records
    # KYC + identities + handles + graph + blocks: well over a hundred records.
    assert history > 150, history
    # From the stored offsets a restart reads (next to) nothing of the history back.
    assert restarted.service.stats.restore_records * 20 < history, (
        restarted.service.stats.restore_records, history)
