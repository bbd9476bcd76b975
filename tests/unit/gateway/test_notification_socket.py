"""The notifications WebSocket over the real app and a real NotificationHub, with the social
service's inbox stood in by a list: catch-up then live in position order, a live duplicate
dropped, a live gap read again, a too-slow socket closed with 1013, the hub's bounded memory.
(The hub's Kafka consumer and two gateway processes are covered by
tests/integration/test_system_notifications.py.)"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway import notification_hub
from gateway.app import create_app
from gateway.auth import Principal
from gateway.notification_hub import NotificationHub
from gateway.ports import Backends
from gateway.settings import GatewaySettings
from planet.social.v1 import social_service_pb2 as social
from planet.social.v1.notifications_pb2 import (
    NOTIFICATION_KIND_FOLLOW,
    NotificationCreated,
    NotificationsRead,
)
from tests.security.gateway_apps import Calls, Content, Events, Incentive, Social, dev_settings
from tests.security.gateway_apps import dev_token as token


class Inbox(Social):
    """The social service's answers for one store of notifications (a list here)."""

    def __init__(self) -> None:
        super().__init__(Calls())
        self.items: list[NotificationCreated] = []
        self.reads = 0

    def add(self, user: str, count: int) -> list[NotificationCreated]:
        made = []
        for _ in range(count):
            mine = [n for n in self.items if n.recipient_id == user]
            n = NotificationCreated(recipient_id=user, notification_id=f"ntf_{len(self.items)}",
                                    kind=NOTIFICATION_KIND_FOLLOW, actor_id="bob",
                                    position=len(mine) + 1, at_ms=1)
            self.items.append(n)
            made.append(n)
        return made

    async def list_notifications(
            self, caller: Principal, request: social.ListNotificationsRequest,
    ) -> social.NotificationPage:
        self.reads += 1
        mine = [n for n in self.items if n.recipient_id == request.user_id]
        after = [n for n in mine if n.position > request.after_position][:request.limit]
        return social.NotificationPage(notifications=after, last_position=len(mine),
                                       unread=len(mine))


def _app(settings: GatewaySettings, inbox: Inbox, hub: NotificationHub) -> TestClient:
    calls = Calls()

    @asynccontextmanager
    async def factory(_: GatewaySettings) -> AsyncIterator[Backends]:
        yield Backends(Content(calls), Incentive(calls), Events(),
                       lambda: time.time_ns() // 1_000_000, social=inbox, notifications=hub)

    return TestClient(create_app(settings, factory))


def _never_started() -> Any:
    raise AssertionError("the hub's consumer is not started in these tests")


def _on_loop(client: TestClient, fn: Any, *args: Any) -> None:
    """Run ``fn`` on the app's event loop (where the Kafka consumer would deliver)."""
    assert client.portal is not None
    client.portal.call(fn, *args)


def _positions(ws: Any, count: int) -> list[int]:
    out: list[int] = []
    while len(out) < count:
        message = ws.receive_json()
        assert message["type"] == "notification", message
        out.append(message["position"])
    return out


def _quiet(ws: Any) -> None:
    """Nothing else was queued: the next answer is the pong."""
    ws.send_json({"type": "ping"})
    assert ws.receive_json() == {"type": "pong"}


def test_catch_up_then_live_in_order_dropping_duplicates_and_reading_gaps() -> None:
    inbox, hub = Inbox(), NotificationHub(_never_started, "t", 1)
    inbox.add("alice", 2)
    with _app(dev_settings(), inbox, hub) as client, client.websocket_connect(
            "/v1/ws/notifications", subprotocols=["planet.v1", "bearer." + token("alice")]) as ws:
        ws.send_json({"after": 0})
        assert _positions(ws, 2) == [1, 2]
        marker = ws.receive_json()
        assert marker == {"type": "caught_up", "last_position": 2, "read_up_to": 0, "unread": 2}
        # Live: 3 is missed by the feed, 4 arrives -> the gap is read from the inbox.
        three, four = inbox.add("alice", 2)
        _on_loop(client, hub.deliver, four)
        assert _positions(ws, 2) == [3, 4]
        # Duplicates (3 late, 4 again, 2 old) and another user's are never sent.
        for event in (three, four, inbox.items[1], *inbox.add("bob", 1)):
            _on_loop(client, hub.deliver, event)
        _on_loop(client, hub.deliver, NotificationsRead(recipient_id="alice",
                                                          up_to_position=4))
        assert ws.receive_json() == {"type": "read", "read_up_to": 4}
        _quiet(ws)
        (five,) = inbox.add("alice", 1)
        _on_loop(client, hub.deliver, five)
        assert _positions(ws, 1) == [5]
        _quiet(ws)
    assert hub.sockets == 0  # unsubscribed when the socket closed


def test_a_client_too_slow_for_its_queue_is_closed_with_1013() -> None:
    inbox, hub = Inbox(), NotificationHub(_never_started, "t", 1, queue_size=2)
    with _app(dev_settings(), inbox, hub) as client, client.websocket_connect(
            "/v1/ws/notifications", subprotocols=["planet.v1", "bearer." + token("alice")]) as ws:
        ws.send_json({"after": 0})
        assert ws.receive_json()["type"] == "caught_up"
        burst = inbox.add("alice", 5)

        def flood() -> None:  # the feed hands over faster than the socket drains
            for event in burst:
                hub.deliver(event)

        _on_loop(client, flood)
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 1013


@pytest.mark.parametrize("first", [{"after": -1}, {"after": "1"}, {"after": True}, {"x": 1}, []])
def test_the_first_message_must_be_a_position(first: object) -> None:
    inbox, hub = Inbox(), NotificationHub(_never_started, "t", 1)
    with _app(dev_settings(), inbox, hub) as client, client.websocket_connect(
            "/v1/ws/notifications", subprotocols=["planet.v1", "bearer." + token("alice")]) as ws:
        ws.send_json(first)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_the_hub_remembers_a_bounded_number_of_recipients(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notification_hub, "REMEMBERED_RECIPIENTS", 3)
    hub = NotificationHub(_never_started, "t", 1)
    for i in range(5):
        hub.deliver(NotificationCreated(recipient_id=f"u{i}", position=i + 1))
    assert [hub.latest(f"u{i}") for i in range(5)] == [0, 0, 3, 4, 5]
