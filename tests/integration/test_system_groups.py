"""Group chats through two gateway processes, black-box (issue 15): a creator makes a
private group, two members join by an invite link and watch it live by real WebSockets, one
on each gateway; every message, edit, delete and pin reaches both in seq order; a reconnect
with the last seq seen catches up with no gap and no duplicate; a non-member is told the
group does not exist (HTTP 404, socket closed 1008); a muted member's post is 403 with the
mute's end; slow mode is 429 with Retry-After; a banned member is removed from their socket
and cannot come back by the link."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from system_helpers import become_creator, mint, unique
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]

LIVE = ("message", "edit", "delete", "pin", "unpin", "reaction")


@dataclass
class Group:
    """A private group: its id, owner, two members and the link they joined by."""

    group_id: str
    owner: str
    alice: str
    bob: str
    link_id: str


def _h(api: httpx.Client, user: str) -> dict[str, str]:
    return {**mint(api, user), "Idempotency-Key": unique("k")}


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def group(stack: Stack) -> Group:
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        owner, alice, bob = unique("g-owner"), unique("g-alice"), unique("g-bob")
        become_creator(stack, api, owner)
        made = _ok(api.post("/v1/groups", headers=_h(api, owner), json={
            "name": "Private desk", "topics": ["btc"], "visibility": "private",
            "join_mode": "invite_only"}), 201)
        group_id = made["group_id"]
        link = _ok(api.post(f"/v1/groups/{group_id}/invite-links", headers=_h(api, owner),
                            json={"name": "desk"}), 201)["link_id"]
        for user in (alice, bob):
            _ok(api.post(f"/v1/groups/{group_id}/join-by-link", headers=_h(api, user),
                         json={"link_id": link}))
        return Group(group_id, owner, alice, bob, link)


def _token(api: httpx.Client, user: str) -> str:
    return mint(api, user)["Authorization"].split()[1]


@contextmanager
def _socket(base_url: str, token: str, group_id: str, after: int
            ) -> Iterator[ClientConnection]:
    url = base_url.replace("http", "ws", 1) + f"/v1/ws/groups/{group_id}"
    with connect(url, subprotocols=["planet.v1", "bearer." + token],  # type: ignore[list-item]
                 open_timeout=10) as ws:
        assert ws.subprotocol == "planet.v1"
        ws.send(json.dumps({"after": after}))
        yield ws


def _next(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=30))
    return message


def _caught_up(ws: ClientConnection) -> tuple[list[dict[str, Any]], int]:
    """The message frames a catch-up sent (its change frames: ``_catch_up_frames``)."""
    frames, last = _catch_up_frames(ws)
    return [f for f in frames if f["type"] == "message"], last


def _catch_up_frames(ws: ClientConnection) -> tuple[list[dict[str, Any]], int]:
    out: list[dict[str, Any]] = []
    while (message := _next(ws))["type"] != "caught_up":
        assert message["type"] in LIVE, message
        out.append(message)
    _in_order(out)
    return out, int(message["last_seq"])


def _live(ws: ClientConnection, until_seq: int) -> list[dict[str, Any]]:
    """Live frames up to and including ``until_seq`` (position markers dropped)."""
    out: list[dict[str, Any]] = []
    while True:
        message = _next(ws)
        if message["type"] in LIVE:
            out.append(message)
        if message.get("seq", 0) >= until_seq:
            return out


def _in_order(frames: list[dict[str, Any]]) -> None:
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(set(seqs)), seqs  # increasing: no duplicate, no reordering


def test_members_on_two_gateways_get_every_change_in_order(stack: Stack, group: Group) -> None:
    gid = group.group_id
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api, \
            _socket(stack.gateway_url, _token(api, group.alice), gid, 0) as on_a, \
            _socket(stack.gateway2_url, _token(api, group.bob), gid, 0) as on_b:
        _, start_a = _caught_up(on_a)
        _, start_b = _caught_up(on_b)
        posted = [_ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, group.owner),
                               json={"text": f"note {i}"}), 201) for i in range(3)]
        first, second, third = (p["message_seq"] for p in posted)
        changes = [
            _ok(api.patch(f"/v1/groups/{gid}/messages/{first}", headers=_h(api, group.owner),
                          json={"text": "note 0, edited"})),
            _ok(api.delete(f"/v1/groups/{gid}/messages/{second}",
                           headers=_h(api, group.owner))),
            _ok(api.put(f"/v1/groups/{gid}/pins/{third}", headers=_h(api, group.owner))),
        ]
        last = changes[-1]["seqs"][-1]
        got_a, got_b = _live(on_a, last), _live(on_b, last)
    assert start_a == start_b < first
    for got in (got_a, got_b):
        _in_order(got)
        assert [(f["type"], f["seq"]) for f in got] == [
            ("message", first), ("message", second), ("message", third),
            ("edit", changes[0]["seqs"][0]), ("delete", changes[1]["seqs"][0]),
            ("pin", changes[2]["seqs"][0])]
        assert got[0]["message"]["text"] == "note 0"
        assert got[3]["message_seq"] == first and got[3]["text"] == "note 0, edited"
        assert got[4]["message_seq"] == second and got[5]["message_seq"] == third
    assert got_a == got_b


def test_a_reconnect_catches_up_with_no_gap_and_no_duplicate(stack: Stack,
                                                             group: Group) -> None:
    gid = group.group_id
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        seqs = [_ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, group.alice),
                             json={"text": f"away {i}"}), 201)["message_seq"]
                for i in range(4)]
        seen = seqs[1]  # the client saw up to the second, then lost its connection
        with _socket(stack.gateway2_url, _token(api, group.bob), gid, seen) as ws:
            missed, last = _caught_up(ws)
            assert [m["seq"] for m in missed] == seqs[2:]
            assert [m["message"]["text"] for m in missed] == ["away 2", "away 3"]
            assert last >= seqs[-1]
            new = _ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, group.alice),
                               json={"text": "back"}), 201)["message_seq"]
            live = _live(ws, new)
            assert [(f["type"], f["seq"]) for f in live] == [("message", new)]
            ws.send(json.dumps({"type": "ping"}))  # nothing stray queued before the pong
            assert _next(ws) == {"type": "pong"}
        # The whole history, read back, has each message once, in order.
        history = _ok(api.get(f"/v1/groups/{gid}/messages", params={"before": 100},
                              headers=mint(api, group.bob)))
        all_seqs = [m["seq"] for m in history["messages"]]
        assert all_seqs == sorted(set(all_seqs)) and set(seqs) <= set(all_seqs)


def test_reactions_reach_both_gateways_live(stack: Stack, group: Group) -> None:
    gid = group.group_id
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        target = _ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, group.owner),
                              json={"text": "react to me"}), 201)["message_seq"]
        with _socket(stack.gateway_url, _token(api, group.alice), gid, target) as on_a, \
                _socket(stack.gateway2_url, _token(api, group.bob), gid, target) as on_b:
            _catch_up_frames(on_a)
            _catch_up_frames(on_b)
            put = _ok(api.put(f"/v1/groups/{gid}/messages/{target}/reactions",
                              params={"emoji": "🚀"}, headers=_h(api, group.alice)))
            removed = _ok(api.delete(f"/v1/groups/{gid}/messages/{target}/reactions",
                                     params={"emoji": "🚀"}, headers=_h(api, group.alice)))
            last = removed["seqs"][-1]
            got_a, got_b = _live(on_a, last), _live(on_b, last)
    for got in (got_a, got_b):
        assert [(f["type"], f["seq"], f["message_seq"], f["user_id"], f["emoji"], f["removed"])
                for f in got] == [
            ("reaction", put["seqs"][0], target, group.alice, "🚀", False),
            ("reaction", last, target, group.alice, "🚀", True)]
        assert all(f["at_ms"] > 0 for f in got)
    assert got_a == got_b


def test_a_reconnect_learns_what_changed_before_its_position(stack: Stack,
                                                            group: Group) -> None:
    """Edits, deletions, pins and reactions made while a client was away reach it on
    reconnect even when they touch messages it had already seen (before its position);
    messages it had not seen come in their current form, their changes not sent again."""
    gid = group.group_id
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        # A fresh author: the flood bucket (5 at once) is per member.
        poster = unique("g-poster")
        _ok(api.post(f"/v1/groups/{gid}/join-by-link", headers=_h(api, poster),
                     json={"link_id": group.link_id}))
        old = [_ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, poster),
                            json={"text": f"before {i}"}), 201)["message_seq"] for i in range(3)]
        with _socket(stack.gateway2_url, _token(api, group.bob), gid, old[0] - 1) as ws:
            _, seen = _caught_up(ws)  # the client saw up to here, then lost its connection
        assert seen >= old[-1]
        edit = _ok(api.patch(f"/v1/groups/{gid}/messages/{old[0]}", headers=_h(api, poster),
                             json={"text": "before 0, edited"}))["seqs"][0]
        pin = _ok(api.put(f"/v1/groups/{gid}/pins/{old[1]}", headers=_h(api, group.owner)))
        react = _ok(api.put(f"/v1/groups/{gid}/messages/{old[1]}/reactions",
                            params={"emoji": "👍"}, headers=_h(api, group.owner)))
        delete = _ok(api.delete(f"/v1/groups/{gid}/messages/{old[2]}",
                                headers=_h(api, poster)))["seqs"][0]
        new = _ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, poster),
                           json={"text": "after"}), 201)["message_seq"]
        liked = _ok(api.put(f"/v1/groups/{gid}/messages/{new}/reactions",
                            params={"emoji": "🔥"}, headers=_h(api, group.owner)))["seqs"][0]
        for base_url in (stack.gateway_url, stack.gateway2_url):
            with _socket(base_url, _token(api, group.bob), gid, seen) as ws:
                frames, last = _catch_up_frames(ws)
            assert last >= liked
            assert [(f["type"], f["seq"]) for f in frames] == [
                ("edit", edit), ("pin", pin["seqs"][0]), ("reaction", react["seqs"][0]),
                ("delete", delete), ("message", new)], base_url
            assert frames[0]["message_seq"] == old[0]
            assert frames[0]["text"] == "before 0, edited"
            assert frames[1]["message_seq"] == old[1] and frames[2]["message_seq"] == old[1]
            assert frames[2]["emoji"] == "👍" and frames[2]["user_id"] == group.owner
            assert frames[3]["message_seq"] == old[2] and frames[3]["by"] == "author"
            # The new message shows its reaction; the 🔥 reaction frame is not sent again.
            assert frames[4]["message"]["reactions"] == {"🔥": 1}


def test_a_private_group_does_not_exist_for_a_non_member(stack: Stack, group: Group) -> None:
    gid = group.group_id
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        stranger = unique("g-stranger")
        for path in (f"/v1/groups/{gid}", f"/v1/groups/{gid}/messages",
                     f"/v1/groups/{gid}/members"):
            got = api.get(path, headers=mint(api, stranger))
            assert got.status_code == 404, (path, got.text)
            assert got.json()["code"] == "not_found"
        with _socket(stack.gateway2_url, _token(api, stranger), gid, 0) as ws, \
                pytest.raises(ConnectionClosed) as closed:
            _next(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_a_muted_member_is_told_until_when(stack: Stack, group: Group) -> None:
    gid = group.group_id
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        muted = unique("g-muted")
        _ok(api.post(f"/v1/groups/{gid}/join-by-link", headers=_h(api, muted),
                     json={"link_id": group.link_id}))
        _ok(api.post(f"/v1/groups/{gid}/members/{muted}/mute", headers=_h(api, group.owner),
                     json={"duration_s": 3600, "reason": "cool down"}))
        refused = api.post(f"/v1/groups/{gid}/messages", headers=_h(api, muted),
                           json={"text": "let me talk"})
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["code"] == "muted" and body["until_ms"] > 0 and body["error"]


def test_slow_mode_answers_429_with_the_seconds_left(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        owner, member = unique("s-owner"), unique("s-member")
        become_creator(stack, api, owner)
        gid = _ok(api.post("/v1/groups", headers=_h(api, owner), json={
            "name": "Slow room", "visibility": "public", "join_mode": "free"}), 201)["group_id"]
        _ok(api.post(f"/v1/groups/{gid}/join", headers=_h(api, member)))
        _ok(api.put(f"/v1/groups/{gid}/slow-mode", headers=_h(api, owner),
                    json={"seconds": 600, "reason": "calm"}))
        _ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, member),
                     json={"text": "first"}), 201)
        again = api.post(f"/v1/groups/{gid}/messages", headers=_h(api, member),
                         json={"text": "second"})
        assert again.status_code == 429, again.text
        body = again.json()
        assert body["code"] == "slow_mode" and 0 < body["retry_after_s"] <= 600
        assert again.headers["Retry-After"] == str(body["retry_after_s"])
        # A public group's conversation is readable by anyone signed in.
        seen = _ok(api.get(f"/v1/groups/{gid}/messages", headers=mint(api, unique("reader"))))
        assert [m["text"] for m in seen["messages"]] == ["first"]


def test_a_banned_member_is_removed_live_and_cannot_rejoin_by_the_link(
        stack: Stack, group: Group) -> None:
    gid = group.group_id
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        doomed = unique("g-doomed")
        _ok(api.post(f"/v1/groups/{gid}/join-by-link", headers=_h(api, doomed),
                     json={"link_id": group.link_id}))
        with _socket(stack.gateway2_url, _token(api, doomed), gid, 0) as ws:
            _caught_up(ws)
            banned = _ok(api.put(f"/v1/groups/{gid}/bans/{doomed}", headers=_h(api, group.owner),
                                 json={"reason": "spam"}))
            while (frame := _next(ws))["type"] != "removed":
                assert frame["seq"] < banned["seqs"][-1], frame
            assert frame == {"type": "removed", "seq": banned["seqs"][-1], "why": "banned"}
            with pytest.raises(ConnectionClosed) as closed:
                _next(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        again = api.post(f"/v1/groups/{gid}/join-by-link", headers=_h(api, doomed),
                         json={"link_id": group.link_id})
        assert again.status_code == 403, again.text
        assert again.json()["code"] == "banned"
        assert api.get(f"/v1/groups/{gid}/messages",
                       headers=mint(api, doomed)).status_code in (403, 404)


def test_a_message_carries_trading_components(stack: Stack, group: Group) -> None:
    """Components as in posts: kept in their normal form, shown by history and live frames,
    a bad one refused 422 naming it."""
    gid = group.group_id
    idea = {"pair": "sol/usdt", "side": "long", "entry": "180", "target": "205",
            "stop": "171", "timeframe": "4h"}
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        poster = unique("g-trader")
        _ok(api.post(f"/v1/groups/{gid}/join-by-link", headers=_h(api, poster),
                     json={"link_id": group.link_id}))
        start = _ok(api.get(f"/v1/groups/{gid}", headers=mint(api, poster)))["last_seq"]
        with _socket(stack.gateway2_url, _token(api, group.bob), gid, start) as ws:
            _catch_up_frames(ws)
            seq = _ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, poster), json={
                "attachments": [{"ticker": {"symbol": "btc"}}, {"trade_idea": idea},
                                {"trade_link": {"pair": "BTC/USDT", "side": "short"}},
                                {"copy_trade": {}}]}), 201)["message_seq"]
            live = _live(ws, seq)
        bad = api.post(f"/v1/groups/{gid}/messages", headers=_h(api, poster), json={
            "text": "bad idea", "attachments": [{"ticker": {"symbol": "ETH"}},
                                                {"trade_idea": {**idea, "stop": "190"}}]})
        assert bad.status_code == 422, bad.text
        assert bad.json()["code"] == "invalid"
        assert bad.json()["error"] == (
            "component 2 (trade_idea): a long idea needs stop < entry < target")
        history = _ok(api.get(f"/v1/groups/{gid}/messages",
                              params={"around": seq, "before": 0, "after": 0},
                              headers=mint(api, group.alice)))
    [shown] = [m for m in history["messages"] if m["seq"] == seq]
    kinds = [{k: v for k, v in a.items() if v is not None} for a in shown["attachments"]]
    assert kinds == [{"ticker": {"symbol": "BTC"}}, {"trade_idea": {**idea, "pair": "SOL/USDT"}},
                     {"trade_link": {"pair": "BTC/USDT", "side": "short"}}, {"copy_trade": {}}]
    assert shown["text"] == ""
    assert [f["message"]["attachments"] for f in live] == [shown["attachments"]]
