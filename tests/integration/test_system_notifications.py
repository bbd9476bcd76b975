"""Notifications through two gateway processes, black-box: KYC (the exchange simulator's
fact) -> an open identity -> a follower connected to gateway 1 and a bell subscriber to
gateway 2 by real WebSockets -> the creator publishes (mentioning the follower) and gets
followed -> each user gets each notification exactly once on the gateway they are connected
to; a socket that was away reconnects with its last position and gets what it missed, no gap,
no duplicate; nobody reads another user's notifications."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import httpx
import pytest
from system_helpers import become_creator, eventually, kyc, mint, unique
from websockets.sync.client import ClientConnection, connect

from devstack.stack import Stack
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planetkit.service_identities import SOCIAL


@pytest.fixture
def api2(stack: Stack) -> Iterator[httpx.Client]:
    """An HTTP client for the second gateway process."""
    with httpx.Client(base_url=stack.gateway2_url, timeout=15) as client:
        yield client


def _token(api: httpx.Client, user: str) -> str:
    return mint(api, user)["Authorization"].split()[1]


@contextmanager
def _socket(base_url: str, token: str, after: int) -> Iterator[ClientConnection]:
    url = base_url.replace("http", "ws", 1) + "/v1/ws/notifications"
    with connect(url, subprotocols=["planet.v1", "bearer." + token],  # type: ignore[list-item]
                 open_timeout=10) as ws:
        assert ws.subprotocol == "planet.v1"
        ws.send(json.dumps({"after": after}))
        yield ws


def _next(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=30))
    return message


def _notifications(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next ``count`` notifications (read events skipped)."""
    out: list[dict[str, Any]] = []
    while len(out) < count:
        message = _next(ws)
        if message["type"] == "notification":
            out.append(message)
    return out


def _caught_up(ws: ClientConnection) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Notifications up to the caught_up marker, and the marker."""
    out: list[dict[str, Any]] = []
    while True:
        message = _next(ws)
        if message["type"] == "caught_up":
            return out, message
        assert message["type"] == "notification", message
        out.append(message)


def _nothing_more(ws: ClientConnection) -> None:
    """A ping is answered next: no duplicate or stray notification was queued before it."""
    ws.send(json.dumps({"type": "ping"}))
    while True:
        message = _next(ws)
        if message.get("type") == "pong":
            return
        assert message.get("type") == "read", f"unexpected message {message}"


def _positions(messages: list[dict[str, Any]]) -> list[int]:
    return [int(m["position"]) for m in messages]


def test_each_notification_reaches_its_recipient_once_on_either_gateway(
    stack: Stack, api: httpx.Client, api2: httpx.Client,
) -> None:
    creator, fan, belled = unique("ncreator"), unique("nfan"), unique("nbell")
    become_creator(stack, api, creator)
    kyc(stack, fan)  # the mentioned user: an account social knows
    follow = api2.put(f"/v1/creators/{creator}/follow", headers=mint(api2, belled))
    assert follow.status_code == 200, follow.text
    bell = api2.put(f"/v1/creators/{creator}/bell", json={"on": True},
                    headers=mint(api2, belled))
    assert bell.status_code == 200 and bell.json()["bell"] is True, bell.text
    # The creator's first notification (belled followed) is there before anyone connects.
    eventually(lambda: api.get("/v1/notifications", headers=mint(api, creator)).json(),
               lambda page: page.get("last_position") == 1)

    with (_socket(stack.gateway_url, _token(api, fan), 0) as fan_ws,
          _socket(stack.gateway2_url, _token(api2, belled), 0) as bell_ws,
          _socket(stack.gateway2_url, _token(api2, creator), 0) as creator_ws):
        assert _caught_up(fan_ws)[0] == [] and _caught_up(bell_ws)[0] == []
        caught, marker = _caught_up(creator_ws)
        assert [(m["position"], m["kind"], m["actor_id"]) for m in caught] == [
            (1, "follow", belled)]
        assert (marker["last_position"], marker["read_up_to"], marker["unread"]) == (1, 0, 1)

        # A mention must name a user: an unknown one refuses the post, naming it.
        ghost = unique("ghost")
        refused = api.post("/v1/posts", json={"body": "BTC range", "mentions": [fan, ghost]},
                           headers={**mint(api, creator), "Idempotency-Key": unique("req")})
        assert refused.status_code == 422 and f"@{ghost}" in refused.text, refused.text
        post = api.post("/v1/posts", json={"body": "BTC range", "mentions": [fan]},
                        headers={**mint(api, creator), "Idempotency-Key": unique("req")})
        assert post.status_code == 201, post.text
        post_id = post.json()["post_id"]
        followed = api.put(f"/v1/creators/{creator}/follow", headers=mint(api, fan))
        assert followed.status_code == 200, followed.text

        mention = _notifications(fan_ws, 1)
        assert [(m["position"], m["kind"], m["actor_id"], m["subject_id"]) for m in mention] \
            == [(1, "mention", creator, post_id)]
        new_post = _notifications(bell_ws, 1)
        assert [(m["position"], m["kind"], m["subject_id"]) for m in new_post] == [
            (1, "new_post", post_id)]
        follow_live = _notifications(creator_ws, 1)
        assert [(m["position"], m["kind"], m["actor_id"]) for m in follow_live] == [
            (2, "follow", fan)]
        for ws in (fan_ws, bell_ws, creator_ws):
            _nothing_more(ws)

        # Marking read on one device is pushed to the others.
        marked = api.post("/v1/notifications/read", json={"up_to_position": 1},
                          headers=mint(api, creator))
        assert marked.status_code == 200, marked.text
        assert (marked.json()["read_up_to"], marked.json()["unread"]) == (1, 1)
        assert _next(creator_ws) == {"type": "read", "read_up_to": 1}

    # The bell subscriber is away while two more posts go out; back on the OTHER gateway
    # with the last position seen, it gets exactly those, in order.
    missed = []
    for i in range(2):
        again = api.post("/v1/posts", json={"body": f"update {i}"},
                         headers={**mint(api, creator), "Idempotency-Key": unique("req")})
        assert again.status_code == 201, again.text
        missed.append(again.json()["post_id"])
    eventually(lambda: api.get("/v1/notifications", headers=mint(api, belled)).json(),
               lambda page: page.get("last_position") == 3)
    with _socket(stack.gateway_url, _token(api, belled), 1) as bell_ws:
        caught, marker = _caught_up(bell_ws)
        assert _positions(caught) == [2, 3]
        assert [m["subject_id"] for m in caught] == missed
        assert marker["last_position"] == 3
        # ... and live again from there, once.
        third = api.post("/v1/posts", json={"body": "live again"},
                         headers={**mint(api, creator), "Idempotency-Key": unique("req")})
        assert third.status_code == 201, third.text
        live = _notifications(bell_ws, 1)
        assert [(m["position"], m["subject_id"]) for m in live] == [
            (4, third.json()["post_id"])]
        _nothing_more(bell_ws)

    # Pages over HTTP, the same on both gateways.
    for client in (api, api2):
        page = client.get("/v1/notifications", params={"after": 1, "limit": 2},
                          headers=mint(client, belled))
        assert page.status_code == 200, page.text
        assert _positions(page.json()["notifications"]) == [2, 3]


def test_nobody_reads_another_users_notifications(stack: Stack, api: httpx.Client) -> None:
    owner, other = unique("nowner"), unique("nother")
    # There is no route naming another user: the caller's own only.
    assert api.get(f"/v1/users/{owner}/notifications", headers=mint(api, other)
                   ).status_code == 404
    mine = api.get("/v1/notifications", params={"user_id": owner}, headers=mint(api, other))
    assert mine.status_code == 200 and mine.json()["notifications"] == []
    # Behind the gateway, social refuses anyone but the recipient, operators included.
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.social}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)
        for who, roles in ((other, ()), (unique("op"), ("operator",))):
            with pytest.raises(grpc.RpcError) as refused:
                stub.ListNotifications(
                    rpc.ListNotificationsRequest(user_id=owner),
                    metadata=stack.service_auth.metadata(SOCIAL, who, roles), timeout=10)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Bad input is a 4xx naming the problem; a socket's first message must be a position.
    for params in ({"limit": 0}, {"limit": 501}, {"after": -1}):
        bad = api.get("/v1/notifications", params=params, headers=mint(api, owner))
        assert bad.status_code == 422 and "error" in bad.json()
    bad_mark = api.post("/v1/notifications/read", json={"up_to_position": -1},
                        headers=mint(api, owner))
    assert bad_mark.status_code == 422
    url = stack.gateway_url.replace("http", "ws", 1) + "/v1/ws/notifications"
    with connect(url, subprotocols=["planet.v1", "bearer." + _token(api, owner)],  # type: ignore[list-item]
                 open_timeout=10) as ws:
        ws.send(json.dumps({"after": "yesterday"}))
        with pytest.raises(Exception):  # noqa: B017 - the close frame ends recv
            ws.recv(timeout=10)
        assert ws.close_code == 1008
