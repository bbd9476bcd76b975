"""Rebuilt from the log equals live: a fresh store (another data directory) folded from the
two topics holds every key and value the live store holds, byte for byte (state, admin log,
remembered request results, member index and read positions, offsets), and answers the
same reads; a restart on the live store reads no record again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

from planet.groups.v1 import group_events_pb2 as ev
from planetkit.service_auth_dev import DevServiceAuth
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, dump, eventually, profile
from tests.kafka.social.social_harness import open_creators


async def test_groups_service_rebuilt_from_the_log_equals_live(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth, tmp_path: Path,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    await open_creators(social, service_auth, kafka_bootstrap, topic_suffix, ["owner2"])
    live_dir, rebuilt_dir = tmp_path / "live", tmp_path / "rebuilt"
    live = await groups_service(live_dir)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{live.port}") as channel:
        owner = Client(channel, service_auth, "owner2")
        users = [Client(channel, service_auth, f"u{i}") for i in range(6)]
        groups = []
        for n in range(3):
            groups.append((await owner.call("CreateGroup", request_id=f"c{n}",
                                            profile=profile(f"Group {n}"))).group_id)
        for g in groups:
            await owner.call("SetFilterRules", request_id="f", group_id=g, rules=[
                ev.FilterRule(kind=ev.FILTER_KIND_KEYWORD, pattern="pump",
                              action=ev.FILTER_ACTION_HOLD)])
            for u in users:
                await u.call("JoinGroup", request_id="j", group_id=g)
            seqs = []
            for i, u in enumerate(users):
                seqs.append((await u.call("PostMessage", request_id="p", group_id=g,
                                          text=f"msg {i}")).message_seq)
            held = await users[0].call("PostMessage", request_id="h", group_id=g,
                                       text="pump it")
            assert held.held
            await owner.call("DecideHeldMessage", request_id="d", group_id=g,
                             message_seq=held.message_seq, approve=True, reason="fine")
            await users[1].call("SetReaction", request_id="r", group_id=g,
                                message_seq=seqs[0], emoji="👍")
            await owner.call("PinMessage", request_id="pin", group_id=g, message_seq=seqs[1])
            await owner.call("DeleteMessage", request_id="del", group_id=g,
                             message_seq=seqs[2], reason="off topic")
            await owner.call("MuteMember", request_id="m", group_id=g, user_id="u3",
                             duration_s=600, reason="calm down")
            await owner.call("KickMember", request_id="k", group_id=g, user_id="u4")
            await users[5].call("LeaveGroup", request_id="l", group_id=g)
            await users[0].call("SetReadPosition", request_id="rp", group_id=g,
                                read_seq=seqs[3])

        async def live_unread() -> list[tuple[str, int, int]]:
            page = await users[0].call("Unread")
            got = sorted((u.group_id, u.read_seq, u.unread) for u in page.groups)
            assert len(got) == 3 and all(r for _, r, _ in got)
            return got
        unread_live = await eventually(live_unread)
        history_live = [await users[0].call("History", group_id=g, before=50) for g in groups]
    await live.stop()

    # A restart on its own stores reads nothing again: start-up does not grow with history.
    restarted = await groups_service(live_dir)
    assert restarted.service.records_read == 0
    await restarted.stop()

    rebuilt = await groups_service(rebuilt_dir)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        reader = Client(channel, service_auth, "u0")
        assert [await reader.call("History", group_id=g, before=50)
                for g in groups] == history_live
        page = await reader.call("Unread")
        assert sorted((u.group_id, u.read_seq, u.unread) for u in page.groups) == unread_live
    await rebuilt.stop()

    live_keys, rebuilt_keys = dump(live_dir), dump(rebuilt_dir)
    assert len(live_keys) > 100
    assert rebuilt_keys == live_keys
