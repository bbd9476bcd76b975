"""The track record served by the real social service from the real fills topic: fills in,
figures out (equal to the library folding the same fills); a redelivered fill and an
undecodable record change nothing (the skip is counted in the store); a restart on the same
data dir resumes from the stored offset and changes nothing; a lost data dir rebuilds equal;
visibility: a hidden record is NOT_FOUND but for its owner and operators."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import pytest

from planet.exchange.v2 import events_pb2 as v2
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planet.social.v1 import track_record_pb2 as tr
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, EXCHANGE
from planetkit.topics import FILLS, with_suffix
from services.social.adapters.grpc_track_record import track_record_pb
from services.social.bootstrap import RunningSocial
from services.social.domain.track_record import compute, figures, fill_of
from services.social.track_records import TrackRecordTail
from simulators.exchange.facts import ExchangeTopics, publish_fill
from tests.kafka.social.social_harness import handle_for
from tests.kafka.social.social_harness import open_when_verified as _until_kyc
from tests.kafka.social.social_harness import signed as _as

pytestmark = pytest.mark.kafka

StartSocial = Callable[[], Awaitable[RunningSocial]]
Kyc = Callable[[str], Awaitable[None]]
DAY = 86_400_000


async def _fills(bootstrap: str, suffix: str, user: str, n: int, first: int, base_ms: int,
                 ) -> list[v2.OrderFilled]:
    """``n`` round trips (buy then sell, fees in quote, base and a third asset) of ``user``."""
    producer = make_producer(bootstrap, writer=EXCHANGE)
    await producer.start()
    topics = ExchangeTopics.with_suffix(suffix)
    out = []
    try:
        for i in range(first, first + n):
            at = base_ms + i * 60_000
            out.append(await publish_fill(
                producer, topics, user, "BTC/USDT", "buy", "60000", "0.01", 60,
                fill_id=f"{user}-b{i:03d}", filled_at_ms=at))
            fee_asset, fee, valued = (("BNB", 3, 45) if i % 3 == 0 else
                                      ("BTC", 20, None) if i % 3 == 1 else ("USDT", 61, None))
            out.append(await publish_fill(
                producer, topics, user, "BTC/USDT", "sell", f"{60000 + (i % 4 - 1) * 500}",
                "0.0099", fee, fill_id=f"{user}-s{i:03d}", filled_at_ms=at + 30_000,
                fee_asset=fee_asset, fee_quote_value_minor=valued))
    finally:
        await producer.stop()
    return out


async def _junk(bootstrap: str, suffix: str, user: str) -> None:
    """A record that is no fill at all, on the user's key (the exchange's topic)."""
    producer = make_producer(bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        await producer.send_and_wait(with_suffix(FILLS, suffix).name, b"\x00not a fill",
                                     key=user.encode())
    finally:
        await producer.stop()


def _expected(user: str, fills: list[v2.OrderFilled], as_of_ms: int) -> tr.TrackRecord:
    return track_record_pb(figures(compute(user, [fill_of(f) for f in fills]), as_of_ms))


async def _record(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth, user: str,
                  viewer: str, roles: tuple[str, ...] = ()) -> tr.TrackRecord:
    record: tr.TrackRecord = await stub.GetTrackRecord(
        rpc.GetTrackRecordRequest(user_id=user), metadata=_as(auth, viewer, roles), timeout=10)
    return record


async def _until_fills(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth, user: str,
                       fills: int, timeout_s: float = 30) -> tr.TrackRecord:
    deadline = time.monotonic() + timeout_s
    while True:
        record = await _record(stub, auth, user, user)
        if record.rows and record.rows[0].windows[0].provenance.fills == fills:
            return record
        assert time.monotonic() < deadline, f"fills not served: {record}"
        await asyncio.sleep(0.1)


def _tail(social: RunningSocial) -> TrackRecordTail:
    tails = [t for group in social.service._tails.values() for t in group
             if isinstance(t, TrackRecordTail)]
    assert len(tails) == 1
    return tails[0]


async def _refused(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


async def test_fills_in_figures_out_restart_resumes_and_rebuild_is_equal(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth, kafka_bootstrap: str,
    topic_suffix: str, tmp_path: Path,
) -> None:
    auth, user = service_auth, "tara"
    base = (int(time.time() * 1000) // DAY - 3) * DAY  # three days ago, inside every window
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        await kyc(user)
        await _until_kyc(stub, auth, user, handle_for(user))
        fills = await _fills(kafka_bootstrap, topic_suffix, user, 8, 0, base)
        await _junk(kafka_bootstrap, topic_suffix, user)
        # The exchange redelivers a fill: counted once.
        fills_again = await _fills(kafka_bootstrap, topic_suffix, user, 1, 7, base)
        assert fills_again[0] == fills[14]
        record = await _until_fills(stub, auth, user, 16)
        assert list(record.rows) == list(_expected(user, fills, record.as_of_ms).rows)
        (row,) = record.rows
        assert row.quote_asset == "USDT"
        assert [w.window for w in row.windows] == ["7d", "30d", "90d", "all"]
        assert all(w.has_figures and w.closed_trades == 8 for w in row.windows)
        assert "computed from 16 fills" in row.windows[0].provenance.text
        assert _tail(social).skipped_total() == 1
        # The home page carries the same figures for anyone.
        page = await stub.GetProfile(rpc.GetProfileRequest(user_id=user),
                                     metadata=_as(auth, "stranger"), timeout=10)
        assert not page.track_record_hidden
        assert list(page.track_record.rows) == list(record.rows)
    await social.stop()

    # Restart on the same data dir: SERVING means caught up, and nothing was re-read.
    social = await social_service()
    tail = _tail(social)
    fills_tp = tail.partitions()
    assert sum(tail.store.applied(f"{tp.topic}/{tp.partition}") for tp in fills_tp) == 19
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        again = await _record(stub, auth, user, user)
        assert list(again.rows) == list(_expected(user, fills, again.as_of_ms).rows)
        # More fills after the restart continue the same record.
        fills += await _fills(kafka_bootstrap, topic_suffix, user, 2, 8, base)
        record = await _until_fills(stub, auth, user, 20)
        assert list(record.rows) == list(_expected(user, fills, record.as_of_ms).rows)
        assert _tail(social).skipped_total() == 1
    await social.stop()

    # A lost data dir: rebuilt from the topics, equal.
    shutil.rmtree(tmp_path / "social-data")
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        rebuilt = await _until_fills(stub, auth, user, 20)
        assert list(rebuilt.rows) == list(record.rows)
        assert _tail(social).skipped_total() == 1


async def test_visibility_hides_from_others_never_from_owner_or_operators(
    social_service: StartSocial, kyc: Kyc, service_auth: DevServiceAuth, kafka_bootstrap: str,
    topic_suffix: str,
) -> None:
    auth, user = service_auth, "vera"
    base = (int(time.time() * 1000) // DAY - 1) * DAY
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        # No identity: strangers get NOT_FOUND, the holder sees their own (empty) record.
        missing = await _refused(_record(stub, auth, "nobody", "stranger"))
        assert missing.code() == grpc.StatusCode.NOT_FOUND
        assert list((await _record(stub, auth, "nobody", "nobody")).rows) == []
        no_identity = await _refused(stub.SetTrackRecordVisibility(
            rpc.SetTrackRecordVisibilityRequest(user_id="nobody", hidden=True),
            metadata=_as(auth, "nobody"), timeout=10))
        assert no_identity.code() == grpc.StatusCode.NOT_FOUND

        await kyc(user)
        await _until_kyc(stub, auth, user, handle_for(user))
        await _fills(kafka_bootstrap, topic_suffix, user, 5, 0, base)
        shown = await _until_fills(stub, auth, user, 10)

        hide = rpc.SetTrackRecordVisibilityRequest(user_id=user, hidden=True)
        # Only the creator, only through the gateway.
        other = await _refused(stub.SetTrackRecordVisibility(
            hide, metadata=_as(auth, "mallory"), timeout=10))
        assert other.code() == grpc.StatusCode.PERMISSION_DENIED
        via_content = await _refused(stub.SetTrackRecordVisibility(
            hide, metadata=_as(auth, user, service=CONTENT), timeout=10))
        assert via_content.code() == grpc.StatusCode.PERMISSION_DENIED
        identity = await stub.SetTrackRecordVisibility(hide, metadata=_as(auth, user),
                                                       timeout=10)
        assert identity.user_id == user
        again = await stub.SetTrackRecordVisibility(hide, metadata=_as(auth, user), timeout=10)
        assert again.version == identity.version  # a repeat appends nothing

        stranger = await _refused(_record(stub, auth, user, "stranger"))
        assert stranger.code() == grpc.StatusCode.NOT_FOUND
        owner = await _record(stub, auth, user, user)
        operator = await _record(stub, auth, user, "olga", ("operator",))
        assert list(owner.rows) == list(operator.rows) == list(shown.rows)
        page = await stub.GetProfile(rpc.GetProfileRequest(user_id=user),
                                     metadata=_as(auth, "stranger"), timeout=10)
        assert page.track_record_hidden and not page.HasField("track_record")
        own_page = await stub.GetProfile(rpc.GetProfileRequest(user_id=user),
                                         metadata=_as(auth, user), timeout=10)
        assert own_page.track_record_hidden and list(own_page.track_record.rows) == list(
            shown.rows)
    await social.stop()

    # The switch is an event on the identities topic: a restart keeps it.
    social = await social_service()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        stranger = await _refused(_record(stub, auth, user, "stranger"))
        assert stranger.code() == grpc.StatusCode.NOT_FOUND
        await stub.SetTrackRecordVisibility(
            rpc.SetTrackRecordVisibilityRequest(user_id=user, hidden=False),
            metadata=_as(auth, user), timeout=10)
        assert list((await _record(stub, auth, user, "stranger")).rows) == list(shown.rows)
