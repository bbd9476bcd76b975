"""A private group's content never reaches a non-member by any path (issue 15), black-box.

A creator makes a private group whose name, description, rules and invite link carry a
secret marker; members post, mention (members and non-members), edit, pin, react, have a message
held by a filter, report a message and are banned, each time with the marker in the text or
the reason. Then three outsiders look everywhere: a user who was never a member (and was
mentioned), a banned ex-member, and a member of another private group of the same owner (an
analyst-role user too). Every GET operation of the gateway's OpenAPI document (the group's,
the owner's creator pages, posts, topics, feeds; its parameters filled with the group's, its
owner's and its topic's ids), the history around every seq both ways, group search and
discovery, unread counts, the commands a stranger may try, the group's WebSocket on both
gateways, GroupsService's reads called directly signed for the outsider, the outsider's
notifications (feed and socket), and the analysts' SQL over both analytics databases: the
marker appears in no response body, frame, status detail or row. Members do see it, and an
analyst does find a public post's control string, so every probe can fail.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from system_helpers import become_creator, eventually, mint, unique
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]

OUTSIDERS = ("stranger", "banned", "other_member", "analyst")


@dataclass
class Secret:
    """The private group, its marker, its people and what was done in it."""

    marker: str
    group_id: str
    other_group_id: str
    owner: str
    alice: str
    users: dict[str, str]  # outsider name -> user id
    last_seq: int
    post_id: str  # the owner's public post, written after everything in the group
    control: str  # a string in that post: what the analysts' probe must find
    topic: str  # the group's topic
    link_id: str  # the invite link members joined by
    roles: dict[str, list[str]] = field(default_factory=dict)


def _h(api: httpx.Client, user: str, roles: list[str] | None = None) -> dict[str, str]:
    return {**mint(api, user, roles), "Idempotency-Key": unique("k")}


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def secret(stack: Stack) -> Secret:
    marker = "zqx" + uuid.uuid4().hex[:12]
    # The group's topic is a word of its own: a probe naming it in a URL may see it echoed.
    topic = "zqt" + uuid.uuid4().hex[:12]
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        owner, alice, ex = unique("p-owner"), unique("p-alice"), unique("p-ex")
        stranger, other = unique("p-stranger"), unique("p-other")
        become_creator(stack, api, owner)
        gid = _ok(api.post("/v1/groups", headers=_h(api, owner), json={
            "name": f"Desk {marker}", "description": f"about {marker}",
            "rules": f"never say {marker}", "topics": [topic], "visibility": "private",
            "join_mode": "invite_only"}), 201)["group_id"]
        link = _ok(api.post(f"/v1/groups/{gid}/invite-links", headers=_h(api, owner),
                            json={"name": f"link {marker}"}), 201)["link_id"]
        for user in (alice, ex):
            _ok(api.post(f"/v1/groups/{gid}/join-by-link", headers=_h(api, user),
                         json={"link_id": link}))
        # The owner's other private group, with a member of its own.
        other_gid = _ok(api.post("/v1/groups", headers=_h(api, owner), json={
            "name": "Other desk", "visibility": "private", "join_mode": "invite_only"}),
            201)["group_id"]
        other_link = _ok(api.post(f"/v1/groups/{other_gid}/invite-links",
                                  headers=_h(api, owner), json={}), 201)["link_id"]
        _ok(api.post(f"/v1/groups/{other_gid}/join-by-link", headers=_h(api, other),
                     json={"link_id": other_link}))
        _ok(api.post(f"/v1/groups/{other_gid}/messages", headers=_h(api, owner),
                     json={"text": "hello other desk"}), 201)

        def post(user: str, text: str, **extra: Any) -> dict[str, Any]:
            return _ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, user),
                                json={"text": text, **extra}), 201)

        first = post(owner, f"welcome {marker}", mentions=[alice, stranger, other])
        seq = first["message_seq"]
        post(alice, f"**hi** {marker} @{stranger}", mentions=[stranger], reply_to=seq)
        by_ex = post(ex, f"buy my {marker} signals")["message_seq"]
        _ok(api.patch(f"/v1/groups/{gid}/messages/{seq}", headers=_h(api, owner),
                      json={"text": f"welcome, edited {marker}", "mentions": [stranger]}))
        _ok(api.put(f"/v1/groups/{gid}/pins/{seq}", headers=_h(api, owner)))
        _ok(api.put(f"/v1/groups/{gid}/messages/{seq}/reactions", params={"emoji": "👍"},
                    headers=_h(api, alice)))
        _ok(api.put(f"/v1/groups/{gid}/filters", headers=_h(api, owner), json={
            "rules": [{"kind": "keyword", "pattern": "holdword", "action": "hold"}],
            "reason": f"filters {marker}"}))
        held = post(alice, f"holdword {marker} for review")
        assert held["held"], held
        _ok(api.post(f"/v1/groups/{gid}/reports", headers=_h(api, alice), json={
            "user_id": ex, "message_seq": by_ex, "reason": "scam",
            "detail": f"reported {marker}", "to_operators": True}), 201)
        _ok(api.post(f"/v1/groups/{gid}/members/{alice}/mute", headers=_h(api, owner),
                     json={"duration_s": 1, "reason": f"mute {marker}"}))
        banned = _ok(api.put(f"/v1/groups/{gid}/bans/{ex}", headers=_h(api, owner),
                             json={"reason": f"banned {marker}"}))
        last = post(owner, f"after the ban {marker}")["message_seq"]
        assert last > banned["seqs"][-1]
        # A public post of the owner's, after everything above: the analysts' control.
        control = "zqc" + uuid.uuid4().hex[:12]
        post_id = _ok(api.post("/v1/posts", json={"body": f"public {control}",
                                                  "hashtags": ["btc"]},
                               headers=_h(api, owner)), 201)["post_id"]
        users = {"stranger": stranger, "banned": ex, "other_member": other,
                 "analyst": unique("p-analyst")}
        return Secret(marker, gid, other_gid, owner, alice, users, last, post_id, control,
                      topic, link, {"analyst": ["analyst"]})


def _clean(secret: Secret, where: str, text: str | bytes) -> None:
    shown = text.decode(errors="replace") if isinstance(text, bytes) else text
    assert secret.marker.casefold() not in shown.casefold(), (where, shown[:2000])


def _headers(api: httpx.Client, secret: Secret, who: str) -> dict[str, str]:
    return _h(api, secret.users[who], secret.roles.get(who))


# --- the positive control: members see the marker where outsiders must not -------------

def test_members_see_the_secret_everywhere_outsiders_look(stack: Stack,
                                                          secret: Secret) -> None:
    gid, m = secret.group_id, secret.marker
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        alice = mint(api, secret.alice)
        assert m in _ok(api.get(f"/v1/groups/{gid}", headers=alice))["name"]
        texts = [x["text"] for x in _ok(api.get(f"/v1/groups/{gid}/messages",
                                                params={"before": 100},
                                                headers=alice))["messages"]]
        assert f"welcome, edited {m}" in texts and f"after the ban {m}" in texts
        owner = mint(api, secret.owner)
        log = api.get(f"/v1/groups/{gid}/admin-log", headers=owner)
        assert f"banned {m}" in json.dumps(_ok(log)["entries"]), log.text
        held = _ok(api.get(f"/v1/groups/{gid}/messages", params={"before": 100},
                           headers=owner))["messages"]
        assert any(x["held"] and m in x["text"] for x in held), held
        with _group_socket(stack.gateway_url, _token(api, secret.alice), gid) as ws:
            frames = _frames_until_caught_up(ws)
        assert m in json.dumps(frames)
    assert m in str(_grpc(stack, secret.alice, "History", group_id=gid, before=100))


# --- HTTP: every GET operation, the history around every seq, search, commands -----------

_FILL = {"post_id", "user_id", "creator_id", "handle_or_id", "group_id", "topic", "week",
         "draft_id", "item_id", "arena_id"}


def _get_operations(api: httpx.Client) -> list[str]:
    spec = api.get("/openapi.json").json()
    return sorted(path for path, ops in spec["paths"].items() if "get" in ops)


def _filled(secret: Secret, path: str) -> list[str]:
    """The path with its parameters filled every way that may touch the group or its owner."""
    import re

    names = set(re.findall(r"{(\w+)}", path))
    assert names <= _FILL, f"a new GET parameter: fill {names - _FILL} here ({path})"
    values: dict[str, list[str]] = {
        "post_id": [secret.post_id], "item_id": [secret.post_id],
        "user_id": [secret.owner, secret.alice], "creator_id": [secret.owner],
        "handle_or_id": [secret.owner], "group_id": [secret.group_id],
        "topic": [secret.topic, "btc"], "week": ["2026-W01"], "draft_id": ["dft_" + "0" * 24],
        "arena_id": [secret.topic],
    }
    urls = [path]
    for name in names:
        urls = [u.replace("{" + name + "}", v) for u in urls for v in values[name]]
    return urls


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_get_operation_shows_an_outsider_the_secret(stack: Stack, secret: Secret,
                                                       who: str) -> None:
    gid = secret.group_id
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        headers = _headers(api, secret, who)
        operations = _get_operations(api)
        assert "/v1/groups/{group_id}/messages" in operations  # the sweep sees groups
        seen: dict[str, int] = {}
        for path in operations:
            for url in _filled(secret, path):
                got = api.get(url, headers=headers)
                _clean(secret, url, got.text)
                seen[url] = got.status_code
        for path in ("", "/messages", "/members", "/admin-log"):
            assert seen[f"/v1/groups/{gid}{path}"] == 404, (path, seen)
        # The owner's public pages answer (the sweep reached them) without the group.
        assert seen[f"/v1/creators/{secret.owner}"] == 200
        assert seen[f"/v1/creators/{secret.owner}/posts"] == 200
        assert seen[f"/v1/topics/{secret.topic}/posts"] == 200
        for around in range(0, secret.last_seq + 2):
            got = api.get(f"/v1/groups/{gid}/messages", headers=headers,
                          params={"around": around, "before": 100, "after": 100})
            assert got.status_code == 404, got.text
            _clean(secret, f"history around {around}", got.text)
        for params in ({"name_prefix": "desk"}, {"topic": secret.topic}, {"limit": 100}):
            found = api.get("/v1/groups", params=params, headers=headers)
            assert found.status_code == 200, found.text
            _clean(secret, f"list {params}", found.text)
            assert gid not in found.text
        unread = _ok(api.get("/v1/me/groups/unread", headers=headers,
                             params={"group_id": [gid, secret.other_group_id]}))
        assert gid not in json.dumps(unread), unread
        if who == "other_member":  # their own group is counted: the read works for them
            assert [g["group_id"] for g in unread["groups"]] == [secret.other_group_id]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_an_outsiders_commands_tell_nothing_of_the_group(stack: Stack, secret: Secret,
                                                         who: str) -> None:
    gid, seq = secret.group_id, 1
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"/v1/groups/{gid}/join", None),
        ("POST", f"/v1/groups/{gid}/join-requests", {"note": "let me in"}),
        ("POST", f"/v1/groups/{gid}/join-by-link", {"link_id": "nolink" + "0" * 10}),
        ("POST", f"/v1/groups/{gid}/messages", {"text": "hello?"}),
        ("PATCH", f"/v1/groups/{gid}/messages/{seq}", {"text": "mine now"}),
        ("PUT", f"/v1/groups/{gid}/messages/{seq}/reactions", None),
        ("PUT", f"/v1/groups/{gid}/read-position", {"read_seq": secret.last_seq}),
        ("POST", f"/v1/groups/{gid}/reports", {"user_id": secret.owner, "reason": "spam"}),
        ("POST", f"/v1/groups/{gid}/leave", None),
        ("POST", f"/v1/groups/{gid}/appeal", {"text": "appeal"}),
    ]
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        for method, url, body in attempts:
            params = {"emoji": "👍"} if url.endswith("/reactions") else None
            got = api.request(method, url, json=body, params=params,
                              headers=_headers(api, secret, who))
            _clean(secret, f"{method} {url}", got.text)
            # Not found, as the group is to them; the banned ex-member is told they are.
            assert got.status_code in (403, 404), (method, url, got.text)
            assert got.json()["code"] in ("not_found", "banned"), got.text
        # Telemetry naming the group (as an item, or the group item "group:<id>"): an outsider
        # cannot make up engagement on it, and the refusal names only what they sent.
        now = int(time.time() * 1000)
        viewed = api.post("/v1/telemetry/batches", headers=_headers(api, secret, who), json={
            "batch_id": unique("pb"), "events": [
                {"event_id": unique("pe"), "item_id": item, "type": "view",
                 "occurred_at_ms": now, "dwell_seconds": 5}
                for item in (gid, f"group:{gid}")]})
        assert viewed.status_code == 422, viewed.text
        _clean(secret, "telemetry", viewed.text)


# --- the group's WebSocket, on both gateways ----------------------------------------------

def _token(api: httpx.Client, user: str, roles: list[str] | None = None) -> str:
    return mint(api, user, roles)["Authorization"].split()[1]


def _group_socket(base_url: str, token: str, group_id: str) -> Any:
    url = base_url.replace("http", "ws", 1) + f"/v1/ws/groups/{group_id}"
    return connect(url, subprotocols=["planet.v1", "bearer." + token],  # type: ignore[list-item]
                   open_timeout=10)


def _frames_until_caught_up(ws: Any) -> list[dict[str, Any]]:
    ws.send(json.dumps({"after": 0}))
    frames: list[dict[str, Any]] = []
    while not frames or frames[-1]["type"] != "caught_up":
        frames.append(json.loads(ws.recv(timeout=30)))
    return frames


@pytest.mark.parametrize("who", OUTSIDERS)
def test_the_group_socket_closes_on_an_outsider_without_a_frame(stack: Stack, secret: Secret,
                                                                who: str) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        token = _token(api, secret.users[who], secret.roles.get(who))
    for base in (stack.gateway_url, stack.gateway2_url):
        with _group_socket(base, token, secret.group_id) as ws:
            ws.send(json.dumps({"after": 0}))
            with pytest.raises(ConnectionClosed) as closed:
                frame = ws.recv(timeout=30)
                _clean(secret, "group socket", frame)
                raise AssertionError(f"a frame for an outsider: {frame!r}")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        _clean(secret, "close reason", closed.value.rcvd.reason)


@pytest.mark.parametrize("how", ["left", "kicked"])
def test_a_member_who_leaves_or_is_kicked_is_cut_off_live(stack: Stack, secret: Secret,
                                                          how: str) -> None:
    """The banned case is test_system_groups.py's; leaving and a kick end the stream too,
    and the way back in is the group's "not found"."""
    gid = secret.group_id
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        user = unique(f"p-{how}")
        _ok(api.post(f"/v1/groups/{gid}/join-by-link", headers=_h(api, user),
                     json={"link_id": secret.link_id}))
        token = _token(api, user)
        with _group_socket(stack.gateway2_url, token, gid) as ws:
            assert secret.marker in json.dumps(_frames_until_caught_up(ws))  # a member
            if how == "left":
                gone = _ok(api.post(f"/v1/groups/{gid}/leave", headers=_h(api, user)))
            else:
                gone = _ok(api.post(f"/v1/groups/{gid}/members/{user}/kick",
                                    headers=_h(api, secret.owner), json={"reason": "bye"}))
            _ok(api.post(f"/v1/groups/{gid}/messages", headers=_h(api, secret.owner),
                         json={"text": f"after {how}: {secret.marker}"}), 201)
            while (frame := json.loads(ws.recv(timeout=30)))["type"] != "removed":
                assert frame["seq"] < gone["seqs"][-1], frame
            assert frame == {"type": "removed", "seq": gone["seqs"][-1], "why": how}
            with pytest.raises(ConnectionClosed) as closed:
                _clean(secret, "after removal", ws.recv(timeout=30))
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        with _group_socket(stack.gateway_url, token, gid) as ws:
            ws.send(json.dumps({"after": 0}))
            with pytest.raises(ConnectionClosed):
                _clean(secret, "reconnect", ws.recv(timeout=30))
        history = api.get(f"/v1/groups/{gid}/messages", headers=mint(api, user))
        assert history.status_code == 404, history.text
        _clean(secret, "history after", history.text)


# --- GroupsService called directly, signed (as the gateway would) for the outsider -------

def _grpc(stack: Stack, user: str, method: str, roles: list[str] | None = None,
          **fields: Any) -> Any:
    import grpc

    from planet.groups.v1 import groups_service_pb2 as rpc
    from planet.groups.v1 import groups_service_pb2_grpc as rpc_grpc

    requests = {"GetGroup": rpc.GroupRequest, "ListGroups": rpc.ListGroupsRequest,
                "ListMembers": rpc.ListMembersRequest, "History": rpc.HistoryRequest,
                "AdminLog": rpc.AdminLogRequest, "Unread": rpc.UnreadRequest}
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports.groups}") as channel:
        call = getattr(rpc_grpc.GroupsServiceStub(channel), method)
        return call(requests[method](actor_id=user, **fields),
                    metadata=stack.service_auth.metadata("groups", user, roles or []),
                    timeout=30)


@pytest.mark.parametrize("who", OUTSIDERS)
def test_groups_service_reads_signed_for_an_outsider_show_nothing(stack: Stack, secret: Secret,
                                                                  who: str) -> None:
    import grpc

    user, roles, gid = secret.users[who], secret.roles.get(who), secret.group_id
    probes: list[tuple[str, dict[str, Any]]] = [
        ("GetGroup", {"group_id": gid}), ("ListMembers", {"group_id": gid, "limit": 200}),
        ("AdminLog", {"group_id": gid, "limit": 100}),
        *[("History", {"group_id": gid, "around_seq": s, "before": 100, "after": 100})
          for s in range(0, secret.last_seq + 2)],
    ]
    for method, fields in probes:
        with pytest.raises(grpc.RpcError) as refused:
            answer = _grpc(stack, user, method, roles, **fields)
            _clean(secret, method, answer.SerializeToString())
            raise AssertionError(f"{method} answered an outsider: {answer}")
        error: Any = refused.value
        assert error.code() == grpc.StatusCode.NOT_FOUND, (method, error)
        _clean(secret, f"{method} details", error.details() or "")
        for key, value in error.trailing_metadata() or ():
            _clean(secret, f"{method} trailer {key}", value)
    for fields in ({"name_prefix": "desk", "limit": 100}, {"topic": secret.topic}):
        page = _grpc(stack, user, "ListGroups", roles, **fields)
        _clean(secret, f"ListGroups {fields}", page.SerializeToString())
        assert gid not in [g.group_id for g in page.groups]
    for fields in ({"group_ids": [gid]}, {}):
        unread = _grpc(stack, user, "Unread", roles, **fields)
        _clean(secret, f"Unread {fields}", unread.SerializeToString())
        assert gid not in [g.group_id for g in unread.groups]


# --- notifications of a mentioned non-member ---------------------------------------------

def _member_mention(stack: Stack, secret: Secret) -> dict[str, Any]:
    """Alice's group_mention of the owner's first message (a member mentioned: told), once
    social has read the message: after it, an outsider's feed is final for that message."""
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        headers = mint(api, secret.alice)

        def mentions() -> list[dict[str, Any]]:
            feed = api.get("/v1/notifications", headers=headers)
            assert feed.status_code == 200, feed.text
            return [n for n in feed.json()["notifications"] if n["kind"] == "group_mention"]
        got = eventually(mentions, lambda found: bool(found), timeout_s=60)
    return got[0]


def test_a_mentioned_member_is_notified_without_the_text(stack: Stack, secret: Secret) -> None:
    note = _member_mention(stack, secret)
    assert note["actor_id"] == secret.owner
    assert note["subject_id"].startswith(f"group:{secret.group_id}:")
    assert secret.marker not in json.dumps(note)  # who and where, never what


def test_a_mentioned_stranger_is_not_notified_of_the_message(stack: Stack,
                                                             secret: Secret) -> None:
    """Group mentions notify members only: the stranger, mentioned three times, and a member
    of the owner's other group, mentioned once, find neither the text nor the group in their
    feed or socket (looked at once a mentioned member has been told)."""
    _member_mention(stack, secret)
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        feed = api.get("/v1/notifications", headers=mint(api, secret.users["other_member"]))
        assert feed.status_code == 200, feed.text
        _clean(secret, "notifications", feed.text)
        assert secret.group_id not in feed.text
    stranger = secret.users["stranger"]
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        feed = api.get("/v1/notifications", headers=mint(api, stranger))
        assert feed.status_code == 200, feed.text
        _clean(secret, "notifications", feed.text)
        assert secret.group_id not in feed.text
        token = _token(api, stranger)
    url = stack.gateway_url.replace("http", "ws", 1) + "/v1/ws/notifications"
    with connect(url, subprotocols=["planet.v1", "bearer." + token],  # type: ignore[list-item]
                 open_timeout=10) as ws:
        ws.send(json.dumps({"after": 0}))
        frames = [ws.recv(timeout=30)]
        while json.loads(frames[-1])["type"] != "caught_up":
            frames.append(ws.recv(timeout=30))
    for frame in frames:
        _clean(secret, "notification frame", frame)
        assert secret.group_id not in str(frame)


# --- analysts: the group topics are never sunk --------------------------------------------

def test_analysts_find_nothing_of_the_group(stack: Stack, secret: Secret) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as api:
        analyst = mint(api, unique("p-sql"), ["analyst"])
        operator = mint(api, unique("p-ops"), ["operator"])

        def rows(sql: str, headers: dict[str, str]) -> Any:
            got = api.post("/v1/analytics/query", json={"sql": sql}, headers=headers)
            assert got.status_code == 200, got.text
            _clean(secret, sql, got.text)
            return got.json()["rows"]

        def count_of(table: str, needle: str, headers: dict[str, str]) -> int:
            found = rows(f"SELECT count() FROM {table} "
                         f"WHERE positionCaseInsensitive(payload_json, '{needle}') > 0 "
                         f"OR positionCaseInsensitive(aggregate_id, '{needle}') > 0",
                         headers)
            return int(found[0][0])

        # The owner's public post came after everything in the group: once the analysts
        # find its control string, the sink has read past the group's activity.
        eventually(lambda: count_of("planet.events_raw", secret.control, analyst),
                   lambda n: n > 0, timeout_s=90)
        eventually(lambda: count_of("planet_ops.events_raw", secret.control, operator),
                   lambda n: n > 0, timeout_s=90)
        # The analysts' catalogue is not theirs to list; what they can name is the two
        # event tables (and their dedup views), and none holds anything of the group.
        listed = api.post("/v1/analytics/query", headers=analyst, json={
            "sql": "SELECT database, name FROM system.tables"})
        assert listed.status_code == 400, listed.text
        for table, headers in (("planet.events_raw", analyst),
                               ("planet.events_raw_dedup", analyst),
                               ("planet_ops.events_raw", operator),
                               ("planet_ops.events_raw_dedup", operator)):
            for needle in (secret.marker, secret.group_id):
                assert count_of(table, needle, headers) == 0, (table, needle)
            topics = rows(f"SELECT count() FROM {table} WHERE kafka_topic LIKE '%groups%' "
                          "OR event_type LIKE 'planet.groups.%'", headers)
            assert topics == [[0]], (table, topics)
