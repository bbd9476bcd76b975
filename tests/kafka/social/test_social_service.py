"""The social service against the real broker: KYC gate, handle races, restart from stores."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import grpc
import pytest

from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import open_request as _open
from tests.kafka.social.social_harness import open_when_verified as _until_kyc
from tests.kafka.social.social_harness import signed as _as

pytestmark = pytest.mark.kafka


StartSocial = Callable[[], Awaitable[RunningSocial]]
Kyc = Callable[[str], Awaitable[None]]


async def test_only_kyc_verified_users_open_and_publishing_follows_the_identity(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth,
) -> None:
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.OpenIdentity(_open("nokyc", "nokyc_handle"),
                                    metadata=_as(service_auth, "nokyc"), timeout=10)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "KYC verification required" in (refused.value.details() or "")

        check = rpc.CheckPublisherRequest(user_id="erin")
        status = await stub.CheckPublisher(check, metadata=_as(service_auth, "erin",
                                                               service=CONTENT), timeout=10)
        assert not status.may_publish and status.reason == "open a creator identity first"

        await kyc("erin")
        identity = await _until_kyc(stub, service_auth, "erin", "erin_t")
        assert identity.handle == "erin_t" and identity.status == rpc.IDENTITY_STATUS_OPEN
        assert list(identity.profile.topics) == ["btc", "macro"]
        status = await stub.CheckPublisher(check, metadata=_as(service_auth, "erin",
                                                               service=CONTENT), timeout=10)
        assert status.may_publish
        # Mentions resolve to a handle's holder or a user id social knows; the others are
        # named back (content refuses the post), in the order asked.
        mentioning = rpc.CheckPublisherRequest(
            user_id="erin", mentions=["Erin_T", "erin", "ghost", "no_such_handle"])
        status = await stub.CheckPublisher(mentioning, metadata=_as(
            service_auth, "erin", service=CONTENT), timeout=10)
        assert status.may_publish and list(status.unknown_mentions) == [
            "ghost", "no_such_handle"]
        with pytest.raises(grpc.aio.AioRpcError) as too_many:
            await stub.CheckPublisher(
                rpc.CheckPublisherRequest(user_id="erin", mentions=["erin"] * 21),
                metadata=_as(service_auth, "erin", service=CONTENT), timeout=10)
        assert too_many.value.code() == grpc.StatusCode.INVALID_ARGUMENT

        await stub.SuspendIdentity(rpc.IdentityActionRequest(user_id="erin", reason="spam"),
                                   metadata=_as(service_auth, "olga", ("operator",)), timeout=10)
        status = await stub.CheckPublisher(check, metadata=_as(service_auth, "erin",
                                                               service=CONTENT), timeout=10)
        assert not status.may_publish and status.reason == "identity suspended"

        page = await stub.GetProfile(rpc.GetProfileRequest(handle="erin_t"),
                                     metadata=_as(service_auth, "anyone"), timeout=10)
        assert page.user_id == "erin" and page.display_name == "erin trades"


async def test_two_users_racing_for_one_handle_exactly_one_wins(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth,
) -> None:
    social = await social_service()
    users = [f"racer{i}" for i in range(8)]
    for user in users:
        await kyc(user)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        # Every user is known to be verified first (each opens its own handle, then they race).
        for user in users:
            await _until_kyc(stub, service_auth, user, f"own_{user}")

        async def claim(user: str) -> grpc.StatusCode:
            try:
                await stub.ChangeHandle(rpc.ChangeHandleRequest(user_id=user, handle="the_one"),
                                        metadata=_as(service_auth, user), timeout=20)
            except grpc.aio.AioRpcError as exc:
                return exc.code()
            return grpc.StatusCode.OK

        codes = await asyncio.gather(*(claim(u) for u in users))
        assert codes.count(grpc.StatusCode.OK) == 1, codes
        assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.ALREADY_EXISTS}
        winner = users[codes.index(grpc.StatusCode.OK)]
        page = await stub.GetProfile(rpc.GetProfileRequest(handle="the_one"),
                                     metadata=_as(service_auth, "x"), timeout=10)
        assert page.user_id == winner

        # The winner's old handle is reserved for them: nobody else may take it yet.
        loser = users[(users.index(winner) + 1) % len(users)]
        with pytest.raises(grpc.aio.AioRpcError) as taken:
            await stub.ChangeHandle(rpc.ChangeHandleRequest(user_id=loser,
                                                            handle=f"own_{winner}"),
                                    metadata=_as(service_auth, loser), timeout=10)
        assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
        assert "reserved" in (taken.value.details() or "")


async def test_a_restart_restores_state_from_the_stores_without_replaying_history(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth,
) -> None:
    first = await social_service()
    await kyc("rita")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        await _until_kyc(stub, service_auth, "rita", "rita_r")
        sanction = await stub.SanctionAccount(
            rpc.SanctionAccountRequest(user_id="rita", reason="spam links"),
            metadata=_as(service_auth, "olga", ("operator",)), timeout=10)
        await stub.AppealSanction(rpc.AppealSanctionRequest(
            user_id="rita", sanction_id=sanction.sanction_id, text="those were my own links"),
            metadata=_as(service_auth, "rita"), timeout=10)
    # Wait until the tail has read back what was written (and stored its offsets).
    deadline = time.monotonic() + 30
    while first.service.stats.records_read < 5 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await first.stop()

    second = await social_service()
    assert second.service.stats.restore_records == 0  # nothing replayed: all in the stores
    async with grpc.aio.insecure_channel(f"127.0.0.1:{second.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        page = await stub.GetProfile(rpc.GetProfileRequest(user_id="rita"),
                                     metadata=_as(service_auth, "x"), timeout=10)
        assert page.handle == "rita_r"
        got = await stub.GetSanctions(rpc.GetSanctionsRequest(user_id="rita"),
                                      metadata=_as(service_auth, "rita"), timeout=10)
        [only] = got.sanctions
        assert only.appealed and only.status == rpc.SANCTION_STATUS_ACTIVE
        with pytest.raises(grpc.aio.AioRpcError) as again:
            await stub.AppealSanction(rpc.AppealSanctionRequest(
                user_id="rita", sanction_id=sanction.sanction_id, text="again"),
                metadata=_as(service_auth, "rita"), timeout=10)
        assert again.value.code() == grpc.StatusCode.ALREADY_EXISTS
        # A taken handle stays taken after the restart.
        await kyc("sam")
        with pytest.raises(grpc.aio.AioRpcError) as taken:
            await _until_kyc(stub, service_auth, "sam", "rita_r")
        assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
