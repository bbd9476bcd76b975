"""The group WebSocket and the groups refusal mapping over the real app and a real GroupHub,
with the groups service stood in by a list of facts: catch-up then live in seq order, a live
duplicate dropped, a live gap read again, what the viewer may not see skipped with a position
marker, a held message to its author only, removal on a ban, a too-slow socket closed with
1013, a private group's socket closed 1008 for a non-member; slow mode as 429 with
Retry-After. (The hub's Kafka consumer and two gateway processes are covered by
tests/integration/test_system_groups.py.)"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.protobuf.message import Message
from starlette.websockets import WebSocketDisconnect

from gateway.app import create_app
from gateway.auth import Principal, issue_token
from gateway.group_hub import GroupHub
from gateway.group_refusals import GroupRefused
from gateway.ports import Backends
from gateway.routes import groups_live
from gateway.routes.estimates import Refused, live_timeout
from gateway.settings import GatewaySettings
from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc
from tests.security.gateway_apps import SECRET, Calls, Content, Events, Incentive, dev_settings
from tests.security.gateway_apps import dev_token as token

GID = "g" + "0" * 24


class Room:
    """The groups service's answers for one group (its facts in a list)."""

    def __init__(self, private: bool = True, members: tuple[str, ...] = ("alice", "bob")
                 ) -> None:
        self.facts: list[Message] = []
        self.private = private
        self.members = set(members)
        self.refusal: rpc.Refusal | None = None
        self.roles: dict[str, ev.MemberRole.ValueType] = {}
        self.deleters: set[str] = set()  # admins holding the delete right

    def post(self, author: str, text: str, held: bool = False) -> Message:
        cls = ev.MessageHeld if held else ev.MessagePosted
        fact = cls(group_id=GID, seq=len(self.facts) + 1, actor_id=author, text=text, at_ms=1)
        self.facts.append(fact)
        return fact

    def add(self, fact: Message) -> Message:
        fact.group_id = GID  # type: ignore[attr-defined]
        fact.seq = len(self.facts) + 1  # type: ignore[attr-defined]
        self.facts.append(fact)
        return fact

    async def get_group(self, caller: Principal, request: rpc.GroupRequest) -> rpc.GroupView:
        member = request.actor_id in self.members
        if self.private and not member:
            raise GroupRefused(rpc.Refusal(code="not_found", message="no such group"),
                               "NOT_FOUND")
        vis = ev.GROUP_VISIBILITY_PRIVATE if self.private else ev.GROUP_VISIBILITY_PUBLIC
        role = self.roles.get(request.actor_id, ev.MEMBER_ROLE_MEMBER) if member \
            else ev.MEMBER_ROLE_UNSPECIFIED
        return rpc.GroupView(group_id=GID, profile=ev.GroupProfile(visibility=vis),
                             caller_role=role,
                             last_seq=len(self.facts))

    async def history(self, caller: Principal, request: rpc.HistoryRequest) -> rpc.HistoryPage:
        shown = [f for f in self.facts if isinstance(f, ev.MessagePosted | ev.MessageHeld)
                 and f.seq >= request.around_seq
                 and (isinstance(f, ev.MessagePosted) or f.actor_id == request.actor_id
                      or request.actor_id in self.deleters)]
        page = shown[:request.after + 1]
        return rpc.HistoryPage(
            messages=[rpc.MessageView(seq=f.seq, author_id=f.actor_id, text=f.text,
                                      held=isinstance(f, ev.MessageHeld)) for f in page],
            has_after=len(shown) > len(page), last_seq=len(self.facts))

    async def command(self, caller: Principal, name: str, request: Message
                      ) -> rpc.CommandResult:
        if self.refusal is not None:
            raise GroupRefused(self.refusal, "RESOURCE_EXHAUSTED")
        return rpc.CommandResult(group_id=GID, seqs=[7], message_seq=7)


def _app(room: Room, hub: GroupHub, settings: GatewaySettings | None = None) -> TestClient:
    calls = Calls()

    @asynccontextmanager
    async def factory(_: GatewaySettings) -> AsyncIterator[Backends]:
        yield Backends(Content(calls), Incentive(calls), Events(),
                       lambda: time.time_ns() // 1_000_000, groups=room,  # type: ignore[arg-type]
                       group_hub=hub)

    return TestClient(create_app(settings or dev_settings(), factory))


def _never_started() -> Any:
    raise AssertionError("the hub's consumer is not started in these tests")


def _on_loop(client: TestClient, fn: Any, *args: Any) -> None:
    assert client.portal is not None
    client.portal.call(fn, *args)


def _socket(client: TestClient, user: str) -> Any:
    return client.websocket_connect(f"/v1/ws/groups/{GID}",
                                    subprotocols=["planet.v1", "bearer." + token(user)])


def _frames(ws: Any, count: int) -> list[tuple[str, int]]:
    return [(m["type"], m["seq"]) for m in (ws.receive_json() for _ in range(count))]


def _quiet(ws: Any) -> None:
    ws.send_json({"type": "ping"})
    assert ws.receive_json() == {"type": "pong"}


def test_catch_up_then_live_in_order_dropping_duplicates_reading_gaps_skipping_the_unseen(
) -> None:
    room, hub = Room(), GroupHub(_never_started, "t", 1)
    room.post("bob", "one")
    room.post("bob", "two")
    with _app(room, hub) as client, _socket(client, "alice") as ws:
        ws.send_json({"after": 1})
        assert _frames(ws, 1) == [("message", 2)]
        assert ws.receive_json() == {"type": "caught_up", "last_seq": 2}
        # Live: 3 is missed by the feed, 4 arrives -> 3 is read again through History.
        three, four = room.post("bob", "three"), room.post("bob", "four")
        _on_loop(client, hub.deliver, four)
        assert _frames(ws, 2) == [("message", 3), ("message", 4)]
        # Duplicates are dropped; an edit, a pin and a delete come in seq order.
        edit = room.add(ev.MessageEdited(message_seq=3, text="three!", actor_id="bob"))
        pin = room.add(ev.MessagePinned(message_seq=4, actor_id="bob"))
        delete = room.add(ev.MessageDeleted(message_seq=2, actor_id="bob", reason="oops",
                                            by=ev.DELETED_BY_AUTHOR))
        for fact in (three, four, edit, pin, delete, four):
            _on_loop(client, hub.deliver, fact)
        got = [ws.receive_json() for _ in range(3)]
        assert [(m["type"], m["seq"]) for m in got] == [("edit", 5), ("pin", 6), ("delete", 7)]
        assert got[0]["text"] == "three!" and "reason" not in got[2]  # reasons: staff only
        # Another member's mute and a held message of bob's: not alice's to see, but the
        # cursor moves on (a position marker whenever the queue is drained: one for both, or
        # one after each when the socket drains between the two deliveries).
        mute = room.add(ev.MemberMuted(user_id="bob", until_ms=9, actor_id="owner"))
        held = room.post("bob", "held", held=True)
        for fact in (mute, held):
            _on_loop(client, hub.deliver, fact)
        marker = ws.receive_json()
        if marker == {"type": "position", "seq": 8}:
            marker = ws.receive_json()
        assert marker == {"type": "position", "seq": 9}
        _quiet(ws)
    assert hub.sockets == 0


def test_a_held_message_reaches_its_author_and_a_ban_removes_the_viewer() -> None:
    room, hub = Room(), GroupHub(_never_started, "t", 1)
    with _app(room, hub) as client, _socket(client, "bob") as ws:
        ws.send_json({"after": 0})
        assert ws.receive_json() == {"type": "caught_up", "last_seq": 0}
        held = room.post("bob", "held", held=True)
        _on_loop(client, hub.deliver, held)
        message = ws.receive_json()
        assert message["type"] == "message" and message["message"]["held"] is True
        ban = room.add(ev.MemberBanned(user_id="bob", actor_id="owner", reason="spam"))
        _on_loop(client, hub.deliver, ban)
        assert ws.receive_json() == {"type": "removed", "seq": 2, "why": "banned"}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_an_admin_gets_a_held_message_only_when_the_service_shows_it_to_them() -> None:
    room, hub = Room(members=("alice", "bob", "carol", "dave")), GroupHub(_never_started, "t", 1)
    room.roles = {"carol": ev.MEMBER_ROLE_ADMIN, "dave": ev.MEMBER_ROLE_ADMIN}
    room.deleters = {"carol"}
    with _app(room, hub) as client, _socket(client, "carol") as carol, \
            _socket(client, "dave") as dave:
        for ws in (carol, dave):
            ws.send_json({"after": 0})
            assert ws.receive_json() == {"type": "caught_up", "last_seq": 0}
        held = room.post("bob", "held", held=True)
        _on_loop(client, hub.deliver, held)
        got = carol.receive_json()
        assert got["type"] == "message" and got["message"]["held"] is True
        assert dave.receive_json() == {"type": "position", "seq": 1}


def test_a_socket_behind_the_hub_reads_again_without_a_push(monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    # The hub saw seq 3 before the socket subscribed, and the service's store has not shown
    # it yet when the socket catches up (one try here): the socket knows it is behind and
    # reads again on its poll, with nothing pushed.
    monkeypatch.setattr(groups_live, "CATCH_UP_RETRIES", 1)
    room, hub = Room(), GroupHub(_never_started, "t", 1)
    room.post("bob", "one")
    room.post("bob", "two")
    three = ev.MessagePosted(group_id=GID, seq=3, actor_id="bob", text="three", at_ms=1)
    with _app(room, hub) as client:
        _on_loop(client, hub.deliver, three)  # no socket yet: nobody's queue gets it
        with _socket(client, "alice") as ws:
            ws.send_json({"after": 0})
            assert _frames(ws, 2) == [("message", 1), ("message", 2)]
            assert ws.receive_json() == {"type": "caught_up", "last_seq": 2}
            room.facts.append(three)  # the store catches up
            time.sleep(0.5)  # ten polls of 0.05 s; then a ping's pong comes after message 3
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "message"  # a pong first: it never polled
            assert ws.receive_json() == {"type": "pong"}


def test_an_idle_socket_waits_for_its_token_to_expire_not_for_a_poll() -> None:
    # With a poll of an hour, only the wait's deadline at the token's expiry closes it.
    room, hub = Room(), GroupHub(_never_started, "t", 1)
    short = issue_token(SECRET, "alice", [], now_s=int(time.time()), ttl_s=2)
    with _app(room, hub, dev_settings(ws_poll_s=3600)) as client, \
            client.websocket_connect(f"/v1/ws/groups/{GID}",
                                     subprotocols=["planet.v1", "bearer." + short]) as ws:
        ws.send_json({"after": 0})
        assert ws.receive_json() == {"type": "caught_up", "last_seq": 0}
        started = time.monotonic()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008 and "expired" in closed.value.reason
        assert time.monotonic() - started < 60


def test_the_live_wait_lasts_until_expiry_or_the_poll_when_behind() -> None:
    now = time.time()
    assert live_timeout(None, False, 1.0) is None
    assert live_timeout(None, True, 1.0) == 1.0
    assert 99 < (live_timeout(now + 100, False, 1.0) or 0) <= 100
    assert live_timeout(now + 100, True, 1.0) == 1.0
    assert (live_timeout(now + 0.5, True, 1.0) or 1) <= 0.5
    with pytest.raises(Refused, match="expired"):
        live_timeout(now - 1, False, 1.0)


def test_a_private_group_socket_is_closed_for_a_non_member() -> None:
    room, hub = Room(), GroupHub(_never_started, "t", 1)
    with _app(room, hub) as client, _socket(client, "mallory") as ws:
        ws.send_json({"after": 0})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_a_client_too_slow_for_its_queue_is_closed_with_1013() -> None:
    room, hub = Room(), GroupHub(_never_started, "t", 1, queue_size=2)
    with _app(room, hub) as client, _socket(client, "alice") as ws:
        ws.send_json({"after": 0})
        assert ws.receive_json()["type"] == "caught_up"
        burst = [room.post("bob", f"m{i}") for i in range(5)]

        def flood() -> None:
            for fact in burst:
                hub.deliver(fact)

        _on_loop(client, flood)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 1013


def test_slow_mode_is_429_with_retry_after_and_the_seconds_left() -> None:
    room, hub = Room(), GroupHub(_never_started, "t", 1)
    room.refusal = rpc.Refusal(code="slow_mode", message="slow mode: wait", retry_after_s=17)
    with _app(room, hub) as client:
        got = client.post(f"/v1/groups/{GID}/messages", json={"text": "hi"},
                          headers={"Authorization": "Bearer " + token("alice")})
    assert got.status_code == 429
    assert got.headers["Retry-After"] == "17"
    assert got.json() == {"error": "slow mode: wait", "code": "slow_mode", "retry_after_s": 17}


@pytest.mark.parametrize(("code", "status"), [
    ("muted", 403), ("not_found", 404), ("link_revoked", 410), ("too_long", 413),
    ("filtered", 422), ("flood", 429), ("member_limit", 409), ("a_future_code", 429)])
def test_each_refusal_code_maps_to_its_status(code: str, status: int) -> None:
    refused = GroupRefused(rpc.Refusal(code=code, message="no", until_ms=5), "RESOURCE_EXHAUSTED")
    assert refused.status == status
    assert refused.body["until_ms"] == 5
