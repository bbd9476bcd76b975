"""Who may do what, over every HTTP operation of the gateway and every gRPC method behind it.

The HTTP operations come from the gateway's own OpenAPI document and the gRPC methods from
the services' protobuf descriptors, so a new operation or method fails this test until its
row is added. Each is called by every kind of caller against resources that belong to
``owner``; the answer must be exactly the one in the table. Behind the gateway, every service
decides for itself (defence in depth): the gRPC rows call the services directly, signed as
the gateway for each kind of user, as a stolen gateway key or a bug in the gateway would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from drafts_matrix import (
    DRAFT_GRPC,
    DRAFT_HTTP,
    draft_call,
    draft_items,
    drafts_grpc_requests,
    drafts_grpc_service,
)
from groups_grpc_matrix import GROUPS_GRPC, groups_grpc_request, groups_grpc_service
from groups_matrix import GROUPS_HTTP, groups_call
from moderation_matrix import (
    moderation_call,
    moderation_grpc_requests,
    moderation_grpc_service,
    moderation_items,
)
from pool_matrix import POOL_HTTP, pool_call
from system_helpers import eventually, kyc, mint, open_identity, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]

PERSONAS = (
    "anonymous", "user", "other_user", "owner", "analyst", "operator", "forged", "expired",
)
UNAUTHENTICATED = {"anonymous": 401, "forged": 401, "expired": 401}


def _row(**by_persona: int) -> dict[str, int]:
    row = {**UNAUTHENTICATED, **by_persona}
    assert set(row) == set(PERSONAS), sorted(set(PERSONAS) - set(row))
    return row


# (method, path template) -> expected status per persona.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    # Liveness gives nothing away, so it needs no token.
    ("GET", "/healthz"): dict.fromkeys(PERSONAS, 200),
    ("GET", "/readyz"): dict.fromkeys(PERSONAS, 200),
    # A static page (no data; the browser calls the API with the creator's token).
    ("GET", "/creator-center"): dict.fromkeys(PERSONAS, 200),
    # Dev mode only (the stack under test runs in dev mode): mints tokens for anyone.
    ("POST", "/v1/dev/tokens"): dict.fromkeys(PERSONAS, 200),
    # Only an open creator identity publishes (the owner has one; nobody else here does).
    ("POST", "/v1/posts"): _row(user=403, other_user=403, owner=201, analyst=403, operator=403),
    ("GET", "/v1/posts/{post_id}"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    ("POST", "/v1/telemetry/batches"): _row(
        user=202, other_user=202, owner=202, analyst=202, operator=202),
    # A creator's money is theirs: only they and operators see it.
    ("GET", "/v1/creators/{creator_id}/estimate"): _row(
        user=403, other_user=403, owner=200, analyst=403, operator=200),
    ("POST", "/v1/analytics/query"): _row(
        user=403, other_user=403, owner=403, analyst=200, operator=200),
    # Opening needs KYC (only the owner has it, and already has an identity).
    ("POST", "/v1/creators/me/identity"): _row(
        user=403, other_user=403, owner=409, analyst=403, operator=403),
    # Each caller edits only their own identity; those without one get 404.
    ("PATCH", "/v1/creators/me/identity"): _row(
        user=404, other_user=404, owner=200, analyst=404, operator=404),
    ("PUT", "/v1/creators/me/handle"): _row(
        user=404, other_user=404, owner=200, analyst=404, operator=404),
    # A home page is public to every signed-in user.
    ("GET", "/v1/creators/{handle_or_id}"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    # Moderation: operators only.
    ("POST", "/v1/operator/identities/{user_id}/suspend"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    ("POST", "/v1/operator/identities/{user_id}/reinstate"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    ("POST", "/v1/operator/identities/{user_id}/close"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    ("POST", "/v1/operator/accounts/{user_id}/sanctions"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=201),
    ("DELETE", "/v1/operator/accounts/{user_id}/sanctions/{sanction_id}"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    # Everyone sees their own sanctions (none, for most); only the holder appeals theirs.
    ("GET", "/v1/me/sanctions"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    ("POST", "/v1/me/sanctions/{sanction_id}/appeal"): _row(
        user=404, other_user=404, owner=200, analyst=404, operator=404),
    # Anyone signed in follows a creator (the owner here), but not themselves (422).
    ("PUT", "/v1/creators/{user_id}/follow"): _row(
        user=200, other_user=200, owner=422, analyst=200, operator=200),
    ("DELETE", "/v1/creators/{user_id}/follow"): _row(
        user=200, other_user=200, owner=422, analyst=200, operator=200),
    # The matrix's bell is "off": a no-op without a follow, so only self is refused.
    ("PUT", "/v1/creators/{user_id}/bell"): _row(
        user=200, other_user=200, owner=422, analyst=200, operator=200),
    # Follower and following lists are public, like the counts on the home page.
    # A creator's posts are public, like each post (and the latest few on the home page).
    ("GET", "/v1/creators/{user_id}/posts"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    # Topic pages, arenas and instruments are public to signed-in users (the arena read
    # does not exist); only operators curate arenas.
    ("GET", "/v1/topics/{topic}/posts"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    ("GET", "/v1/arenas"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    ("GET", "/v1/arenas/{arena_id}/posts"): _row(
        user=404, other_user=404, owner=404, analyst=404, operator=404),
    ("PUT", "/v1/operator/arenas/{arena_id}"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    ("GET", "/v1/instruments"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    ("GET", "/v1/creators/{user_id}/followers"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    ("GET", "/v1/creators/{user_id}/following"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    # A visible track record is public; only its creator switches visibility (the matrix
    # keeps it shown, so the rows do not depend on their order).
    ("GET", "/v1/creators/{user_id}/track-record"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    ("PUT", "/v1/creators/{user_id}/track-record/visibility"): _row(
        user=403, other_user=403, owner=200, analyst=403, operator=403),
    # Blocks and mutes are each caller's own: every caller blocks and mutes a creator of the
    # world (the "relate" target) and lists only their own; no route names another's.
    **{(m, p): _row(user=200, other_user=200, owner=200, analyst=200, operator=200)
       for p in ("/v1/me/blocks/{user_id}", "/v1/me/mutes/{user_id}")
       for m in ("PUT", "DELETE")},
    **{("GET", p): _row(user=200, other_user=200, owner=200, analyst=200, operator=200)
       for p in ("/v1/me/blocks", "/v1/me/mutes")},
    # Notifications: every caller reads and marks only their own (no route names another's).
    ("GET", "/v1/notifications"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    ("POST", "/v1/notifications/read"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    # Appeal decisions: operators only (the owner's appealed "decide" sanction, denied once).
    ("POST", "/v1/operator/accounts/{user_id}/sanctions/{sanction_id}/appeal-decision"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    # Comments, likes and shares: anyone signed in comments on, likes and shares a post; a
    # thread is public; only a comment's author edits or deletes it (the owner's comments).
    ("POST", "/v1/posts/{post_id}/comments"): _row(
        user=201, other_user=201, owner=201, analyst=201, operator=201),
    ("GET", "/v1/posts/{post_id}/comments"): _row(
        user=200, other_user=200, owner=200, analyst=200, operator=200),
    ("PATCH", "/v1/comments/{comment_id}"): _row(
        user=403, other_user=403, owner=200, analyst=403, operator=403),
    ("DELETE", "/v1/comments/{comment_id}"): _row(
        user=403, other_user=403, owner=200, analyst=403, operator=403),
    **{(m, p): _row(user=200, other_user=200, owner=200, analyst=200, operator=200)
       for p in ("/v1/posts/{post_id}/like", "/v1/comments/{comment_id}/like")
       for m in ("PUT", "DELETE")},
    ("POST", "/v1/posts/{post_id}/shares"): _row(
        user=201, other_user=201, owner=201, analyst=201, operator=201),
    # The post lifecycle: only its author edits or deletes a post (operators included: they
    # moderate through reports, not by editing); its history is the author's and operators'
    # (others: 404, it is not theirs to know of). DELETE acts on a post of its own: once the
    # owner deleted it, it is gone for the analyst (404) while an operator still sees it
    # (403: not theirs to delete).
    ("PATCH", "/v1/posts/{post_id}"): _row(
        user=403, other_user=403, owner=200, analyst=403, operator=403),
    ("DELETE", "/v1/posts/{post_id}"): _row(
        user=403, other_user=403, owner=200, analyst=404, operator=403),
    ("GET", "/v1/posts/{post_id}/revisions"): _row(
        user=404, other_user=404, owner=200, analyst=404, operator=200),
    # Reports (tests/integration/moderation_matrix.py): anyone reports another's post, not
    # their own; operators alone see the queues and decide; only the author appeals the
    # removal of their post (others: 404, not theirs to know of) and reads its moderation,
    # as operators do.
    ("POST", "/v1/reports"): _row(
        user=201, other_user=201, owner=403, analyst=201, operator=201),
    ("GET", "/v1/operator/reports"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    ("GET", "/v1/operator/appeals"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    ("POST", "/v1/operator/reports/{item_id}/decision"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    ("POST", "/v1/items/{item_id}/appeal"): _row(
        user=404, other_user=404, owner=200, analyst=404, operator=404),
    ("POST", "/v1/operator/appeals/{item_id}/decision"): _row(
        user=403, other_user=403, owner=403, analyst=403, operator=200),
    ("GET", "/v1/items/{item_id}/moderation"): _row(
        user=404, other_user=404, owner=200, analyst=404, operator=200),
    # Drafts: each caller's own; the owner's are 404 to everyone else (drafts_matrix.py).
    **{op: _row(**row) for op, row in DRAFT_HTTP.items()},
    # The weekly pool: a creator's own (and operators'), public weeks, operators' operations
    # (pool_matrix.py).
    **{op: _row(**row) for op, row in POOL_HTTP.items()},
    # Group chats: each operation on a public group of its own (groups_matrix.py).
    **{op: _row(**row) for op, row in GROUPS_HTTP.items()},
}


@dataclass
class World:
    """The resources every call refers to, all belonging to ``owner``."""

    owner: str
    post_id: str
    headers: dict[str, dict[str, str]]
    # Moderation targets per operation (each row acts once on an account of its own):
    # "suspend"/"close" are open identities, "reinstate" a suspended one; the gRPC rows
    # have their own ("grpc-suspend", ...).
    targets: dict[str, str]
    # The owner's sanctions: one for the HTTP lift and appeal rows, two for the gRPC ones.
    sanctions: dict[str, str]
    # The owner's comments on the post: "edit" (edited and liked) and "delete" (deleted).
    comments: dict[str, str] = field(default_factory=dict)
    # The owner's post that the DELETE /v1/posts/{post_id} row deletes.
    doomed_post_id: str = ""
    # The owner's posts the moderation rows act on (moderation_matrix.moderation_items).
    items: dict[str, str] = field(default_factory=dict)
    # The owner's drafts the drafts rows act on (drafts_matrix.draft_items).
    drafts: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(stack: Stack) -> Iterator[World]:
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        owner = unique("owner")
        now = int(time.time())
        headers = {
            "anonymous": {},
            "user": mint(api, unique("user")),
            "other_user": mint(api, unique("other")),
            "owner": mint(api, owner),
            "analyst": mint(api, unique("analyst"), ["analyst"]),
            "operator": mint(api, unique("operator"), ["operator"]),
            "forged": _bearer(jwt.encode(
                {"sub": owner, "roles": ["operator"], "iat": now, "exp": now + 600},
                "a-secret-that-is-not-the-gateway-one-0123456789", algorithm="HS256")),
            # Signed with the real key, but its lifetime is over.
            "expired": _bearer(jwt.encode(
                {"sub": owner, "roles": ["operator"], "iat": now - 7200, "exp": now - 3600},
                stack.jwt_secret, algorithm="HS256")),
        }
        actions = ("suspend", "reinstate", "close")
        targets = {f"{prefix}{a}": unique(f"target-{a}") for a in actions
                   for prefix in ("", "grpc-")}
        targets["relate"] = unique("target-relate")  # blocked and muted by every caller
        # The owner and every moderation target are KYC-verified creators.
        kyc(stack, owner, *targets.values())
        for user in (owner, *targets.values()):
            opened = open_identity(api, user)
            assert opened.status_code == 201, opened.text
        for key, target in targets.items():
            if key.endswith("reinstate"):
                done = api.post(f"/v1/operator/identities/{target}/suspend",
                                json={"reason": "matrix"}, headers=headers["operator"])
                assert done.status_code == 200, done.text
        sanctions = {}
        for name in ("lift", "appeal", "grpc-lift", "grpc-appeal", "decide", "grpc-decide"):
            made = api.post(f"/v1/operator/accounts/{owner}/sanctions",
                            json={"reason": f"matrix {name}"}, headers=headers["operator"])
            assert made.status_code == 201, made.text
            sanctions[name] = made.json()["sanction_id"]
        for name in ("decide", "grpc-decide"):  # an appeal for the operator to decide
            appealed = api.post(f"/v1/me/sanctions/{sanctions[name]}/appeal",
                                json={"text": "matrix"}, headers=headers["owner"])
            assert appealed.status_code == 200, appealed.text
        post = api.post("/v1/posts", json={"body": "matrix post", "hashtags": ["btc"]},
                        headers={**headers["owner"], "Idempotency-Key": unique("req")})
        assert post.status_code == 201, post.text
        post_id = post.json()["post_id"]
        comments = {}
        for name in ("edit", "delete"):
            made = api.post(f"/v1/posts/{post_id}/comments", json={"text": f"matrix {name}"},
                            headers={**headers["owner"], "Idempotency-Key": unique("c")})
            assert made.status_code == 201, made.text
            comments[name] = made.json()["comment_id"]
        doomed = api.post("/v1/posts", json={"body": "matrix post to delete"},
                          headers={**headers["owner"], "Idempotency-Key": unique("req")})
        assert doomed.status_code == 201, doomed.text
        items = moderation_items(api, headers["owner"], headers["operator"])
        yield World(owner, post_id, headers, targets, sanctions, comments,
                    doomed.json()["post_id"], items, draft_items(api, headers["owner"]))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _call(api: httpx.Client, world: World, method: str, path: str,
          headers: dict[str, str]) -> httpx.Response:
    """One well-formed request for the operation, so only authorization decides."""
    moderated = moderation_call(api, world.items, world.post_id, method, path, headers)
    if moderated is not None:
        return moderated
    if (drafted := draft_call(api, world.drafts, method, path, headers)) is not None:
        return drafted
    if (pooled := pool_call(api, world.owner, method, path, headers)) is not None:
        return pooled
    if (grouped := groups_call(api, world.headers["owner"], method, path, headers)) is not None:
        return grouped
    target = world.owner
    for action in ("suspend", "reinstate", "close"):
        if path.endswith(f"/{action}"):
            target = world.targets[action]
    if path.startswith(("/v1/me/blocks/", "/v1/me/mutes/")):
        target = world.targets["relate"]
    # Topic routes: a topic any caller may read; an arena operators (re)define, one nobody has.
    path = path.replace("{topic}", "matrix").replace(
        "{arena_id}", "matrix" if method == "PUT" else "no-arena")
    sanction = world.sanctions["appeal" if path.endswith("/appeal") else
                               "decide" if path.endswith("/appeal-decision") else "lift"]
    comment = world.comments["delete" if (method, path) == (
        "DELETE", "/v1/comments/{comment_id}") else "edit"]
    post_id = world.doomed_post_id if (method, path) == (
        "DELETE", "/v1/posts/{post_id}") else world.post_id
    url = path.format(post_id=post_id, creator_id=world.owner, user_id=target,
                      handle_or_id=world.owner, sanction_id=sanction, comment_id=comment)
    body: dict[str, Any] | None = None
    extra: dict[str, str] = {}
    if path.endswith("/appeal-decision"):
        body = {"grant": False, "reason": "matrix"}
    elif path.startswith("/v1/operator/") and method == "POST":
        body = {"reason": "matrix"}
    elif (method, path) == ("POST", "/v1/creators/me/identity"):
        body = {"handle": f"m_{unique('h')[-8:]}", "display_name": "Matrix"}
    elif (method, path) == ("PATCH", "/v1/creators/me/identity"):
        body = {"display_name": "Matrix edited", "bio": "edited"}
    elif (method, path) == ("PUT", "/v1/creators/me/handle"):
        body = {"handle": f"m_{unique('h')[-8:]}"}
    elif (method, path) == ("POST", "/v1/me/sanctions/{sanction_id}/appeal"):
        body = {"text": "matrix appeal"}
    elif (method, path) == ("PUT", "/v1/creators/{user_id}/bell"):
        body = {"on": False}
    elif (method, path) == ("PUT", "/v1/operator/arenas/matrix"):  # {arena_id} filled above
        body = {"name": "Matrix", "topics": ["matrix"]}
    elif (method, path) == ("POST", "/v1/notifications/read"):
        body = {"up_to_position": 0}
    elif path.endswith("/track-record/visibility"):
        body = {"hidden": False}
    elif (method, path) == ("POST", "/v1/dev/tokens"):
        body = {"user_id": unique("minted"), "roles": []}
    elif (method, path) == ("POST", "/v1/posts"):
        body = {"body": "matrix", "hashtags": []}
        extra["Idempotency-Key"] = unique("req")
    elif (method, path) == ("POST", "/v1/telemetry/batches"):
        body = {"batch_id": unique("b"), "events": [{
            "event_id": unique("e"), "item_id": world.post_id, "type": "view",
            "occurred_at_ms": int(time.time() * 1000), "dwell_seconds": 5}]}
    elif (method, path) == ("POST", "/v1/posts/{post_id}/comments"):
        body = {"text": "matrix comment"}
        extra["Idempotency-Key"] = unique("req")
    elif (method, path) == ("PATCH", "/v1/comments/{comment_id}"):
        body = {"text": "matrix edit"}
        extra["Idempotency-Key"] = unique("req")
    elif (method, path) == ("PATCH", "/v1/posts/{post_id}"):
        body = {"body": "matrix post, edited"}
        extra["Idempotency-Key"] = unique("req")
    elif (method, path) == ("POST", "/v1/posts/{post_id}/shares"):
        body = {"quote": "matrix"}
        extra["Idempotency-Key"] = unique("req")
    elif (method, path) == ("POST", "/v1/analytics/query"):
        body = {"sql": "SELECT count() AS n FROM planet.events_raw"}
    return api.request(method, url, json=body, headers={**headers, **extra})


def _documented_operations(api: httpx.Client) -> set[tuple[str, str]]:
    spec = api.get("/openapi.json").json()
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


def test_every_documented_operation_is_in_the_matrix(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        assert _documented_operations(api) == set(EXPECTED)


@pytest.mark.parametrize("operation", sorted(EXPECTED), ids=lambda op: f"{op[0]} {op[1]}")
def test_each_caller_gets_exactly_what_the_matrix_says(
    stack: Stack, world: World, operation: tuple[str, str]
) -> None:
    method, path = operation
    got: dict[str, int] = {}
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as api:
        for persona in PERSONAS:
            response = _retry_rate_limited(
                _sender(api, world, method, path, world.headers[persona]))
            got[persona] = response.status_code
            if response.status_code >= 400:
                assert response.json().get("error"), response.text
    assert got == EXPECTED[operation]


def _sender(api: httpx.Client, world: World, method: str, path: str,
            headers: dict[str, str]) -> Callable[[], httpx.Response]:
    return lambda: _call(api, world, method, path, headers)


def _retry_rate_limited(send: Callable[[], httpx.Response]) -> httpx.Response:
    """A 429 is the rate limiter, not the authorization decision: wait as told, then retry."""
    def attempt() -> httpx.Response:
        response = send()
        if response.status_code == 429:
            time.sleep(min(float(response.headers.get("Retry-After", "1")), 2.0))
        return response

    return eventually(attempt, lambda r: r.status_code != 429, timeout_s=30)


# The WebSocket is not in the OpenAPI document; its row is kept here by hand.
WS_ACCEPTS = {"owner", "operator"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_estimate_websocket_admits_only_the_owner_and_operators(
    stack: Stack, world: World, persona: str
) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    url = stack.gateway_url.replace("http", "ws") + f"/v1/ws/creators/{world.owner}/estimate"
    header = world.headers[persona].get("Authorization", "")
    token = header.split()[1] if header else ""
    with connect(f"{url}?token={token}", open_timeout=10) as ws:
        try:
            first = ws.recv(timeout=20)
        except ConnectionClosed as closed:
            assert persona not in WS_ACCEPTS, closed
            assert closed.rcvd is not None and closed.rcvd.code == 1008
            return
    assert persona in WS_ACCEPTS, first
    assert world.owner in str(first)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_notifications_websocket_serves_each_signed_in_user_their_own(
    stack: Stack, world: World, persona: str
) -> None:
    import json

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    url = stack.gateway_url.replace("http", "ws") + "/v1/ws/notifications"
    header = world.headers[persona].get("Authorization", "")
    offered = ["planet.v1"] + (["bearer." + header.split()[1]] if header else [])
    with connect(url, subprotocols=offered, open_timeout=10) as ws:  # type: ignore[arg-type]
        try:
            ws.send(json.dumps({"after": 0}))
            while (message := json.loads(ws.recv(timeout=20)))["type"] != "caught_up":
                pass
        except ConnectionClosed as closed:
            assert persona in UNAUTHENTICATED, closed
            assert closed.rcvd is not None and closed.rcvd.code == 1008
            return
    assert persona not in UNAUTHENTICATED, message


@pytest.fixture(scope="module")
def private_group(stack: Stack, world: World) -> str:
    """A private group of the owner's (nobody else is a member)."""
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as api:
        made = api.post("/v1/groups", json={"name": "Matrix private", "visibility": "private",
                                            "join_mode": "invite_only"},
                        headers={**world.headers["owner"], "Idempotency-Key": unique("gp")})
        assert made.status_code == 201, made.text
        group_id: str = made.json()["group_id"]
        return group_id


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_private_group_websocket_admits_only_its_members(
    stack: Stack, world: World, private_group: str, persona: str
) -> None:
    import json

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    url = stack.gateway_url.replace("http", "ws") + f"/v1/ws/groups/{private_group}"
    header = world.headers[persona].get("Authorization", "")
    offered = ["planet.v1"] + (["bearer." + header.split()[1]] if header else [])
    with connect(url, subprotocols=offered, open_timeout=10) as ws:  # type: ignore[arg-type]
        try:
            ws.send(json.dumps({"after": 0}))
            message = json.loads(ws.recv(timeout=20))
        except ConnectionClosed as closed:
            assert persona != "owner", closed  # operators too: the socket is for members
            assert closed.rcvd is not None and closed.rcvd.code == 1008
            return
    assert persona == "owner", message
    assert message["type"] == "caught_up"


# --- gRPC: every method of every service, called directly ----------------------------------

OK, DENIED, UNAUTH = "OK", "PERMISSION_DENIED", "UNAUTHENTICATED"
GRPC_UNAUTHENTICATED = {"anonymous": UNAUTH, "forged": UNAUTH, "expired": UNAUTH}


def _grpc_row(**by_persona: str) -> dict[str, str]:
    row = {**GRPC_UNAUTHENTICATED, **by_persona}
    assert set(row) == set(PERSONAS), sorted(set(PERSONAS) - set(row))
    return row


EVERYONE_SIGNED_IN = {p: OK for p in ("user", "other_user", "owner", "analyst", "operator")}
GRPC_EXPECTED: dict[str, dict[str, str]] = {
    # Only the creator publishes as themselves, whoever else the gateway vouches for.
    "planet.content.v1.ContentService/PublishPost": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED),
    "planet.content.v1.ContentService/GetPost": _grpc_row(**EVERYONE_SIGNED_IN),
    "planet.content.v1.ContentService/ResolveAuthors": _grpc_row(**EVERYONE_SIGNED_IN),
    "planet.content.v1.ContentService/ListAuthorPosts": _grpc_row(**EVERYONE_SIGNED_IN),
    "planet.incentive.v1.IncentiveService/GetWeeklyEstimate": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=OK),
    # The weekly pool: a creator's own data to them and operators; settled weeks to anyone;
    # operations to operators only (checked before the request is looked at).
    **{f"planet.incentive.v1.IncentiveService/{m}": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=OK)
       for m in ("GetCreatorEstimate", "ListCreatorWeeks", "ListItemLedger", "GetCreatorCenter")},
    "planet.incentive.v1.IncentiveService/GetCreatorWeek": _grpc_row(
        user=DENIED, other_user=DENIED, owner="NOT_FOUND", analyst=DENIED,
        operator="NOT_FOUND"),
    "planet.incentive.v1.IncentiveService/ListSettledWeeks": _grpc_row(**EVERYONE_SIGNED_IN),
    **{f"planet.incentive.v1.IncentiveService/{m}": _grpc_row(
        user=DENIED, other_user=DENIED, owner=DENIED, analyst=DENIED, operator=outcome)
       for m, outcome in (("FundPool", OK), ("PublishPolicy", OK), ("ShadowCompare", OK),
                          ("CloseWeek", "FAILED_PRECONDITION"), ("DecideHeld", "NOT_FOUND"),
                          ("ListLateFacts", OK))},
    "planet.analytics.v1.AnalyticsService/Query": _grpc_row(
        user=DENIED, other_user=DENIED, owner=DENIED, analyst=OK, operator=OK),
    # Identities: the holder acts on their own (the owner's is open already).
    "planet.social.v1.SocialService/OpenIdentity": _grpc_row(
        user=DENIED, other_user=DENIED, owner="ALREADY_EXISTS", analyst=DENIED,
        operator=DENIED),
    "planet.social.v1.SocialService/ChangeHandle": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED),
    "planet.social.v1.SocialService/UpdateProfile": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED),
    "planet.social.v1.SocialService/GetProfile": _grpc_row(**EVERYONE_SIGNED_IN),
    **{f"planet.social.v1.SocialService/{m}": _grpc_row(
        user=DENIED, other_user=DENIED, owner=DENIED, analyst=DENIED, operator=OK)
       for m in ("SuspendIdentity", "ReinstateIdentity", "CloseIdentity", "SanctionAccount",
                 "LiftSanction")},
    "planet.social.v1.SocialService/AppealSanction": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED),
    "planet.social.v1.SocialService/GetSanctions": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=OK),
    # The owner follows (unfollows, bells) another creator as themselves, nobody for them.
    **{f"planet.social.v1.SocialService/{m}": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED)
       for m in ("Follow", "Unfollow", "SetBell")},
    "planet.social.v1.SocialService/ListFollowers": _grpc_row(**EVERYONE_SIGNED_IN),
    "planet.social.v1.SocialService/ListFollowing": _grpc_row(**EVERYONE_SIGNED_IN),
    # The creator alone hides or shows their record (kept shown here); anyone reads it.
    "planet.social.v1.SocialService/SetTrackRecordVisibility": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED),
    "planet.social.v1.SocialService/GetTrackRecord": _grpc_row(**EVERYONE_SIGNED_IN),
    # Blocks and mutes: the owner's own; nobody, operators included, acts or lists for them.
    **{f"planet.social.v1.SocialService/{m}": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED)
       for m in ("Block", "Unblock", "Mute", "Unmute", "ListBlocked", "ListMuted")},
    "planet.social.v1.SocialService/DecideAppeal": _grpc_row(
        user=DENIED, other_user=DENIED, owner=DENIED, analyst=DENIED, operator=OK),
    # A user's notifications are theirs alone: nobody else, operators included.
    **{f"planet.social.v1.SocialService/{m}": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED)
       for m in ("ListNotifications", "MarkNotificationsRead")},
    # Content's alone: the gateway may not ask it, for anyone.
    "planet.social.v1.SocialService/CheckPublisher": _grpc_row(
        user=DENIED, other_user=DENIED, owner=DENIED, analyst=DENIED, operator=DENIED),
    # Content's alone too: who blocks whom is nobody else's to ask.
    "planet.social.v1.SocialService/GetRelation": _grpc_row(
        user=DENIED, other_user=DENIED, owner=DENIED, analyst=DENIED, operator=DENIED),
    # Interactions: each user comments, likes and shares as themselves only (the requests
    # are the owner's); a thread and its counts are public. The edited and deleted comment
    # does not exist: NOT_FOUND shows the call got past authorization.
    **{f"planet.content.v1.InteractionService/{m}": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED)
       for m in ("PostComment", "Like", "Unlike", "Share")},
    **{f"planet.content.v1.InteractionService/{m}": _grpc_row(
        user=DENIED, other_user=DENIED, owner="NOT_FOUND", analyst=DENIED, operator=DENIED)
       for m in ("EditComment", "DeleteComment")},
    "planet.content.v1.InteractionService/ListComments": _grpc_row(**EVERYONE_SIGNED_IN),
    "planet.content.v1.InteractionService/GetItemStats": _grpc_row(**EVERYONE_SIGNED_IN),
    # Topic pages, arenas and instruments are public (the arena asked for does not exist);
    # only operators curate arenas.
    **{f"planet.content.v1.TopicService/{m}": _grpc_row(**EVERYONE_SIGNED_IN)
       for m in ("ListTopicPosts", "ListArenas", "ListInstruments")},
    "planet.content.v1.TopicService/ListArenaPosts": _grpc_row(
        **{p: "NOT_FOUND" for p in EVERYONE_SIGNED_IN}),
    "planet.content.v1.TopicService/PutArena": _grpc_row(
        user=DENIED, other_user=DENIED, owner=DENIED, analyst=DENIED, operator=OK),
    # The post lifecycle: the author edits and deletes as themselves only (the requests are
    # the owner's; the deleted post does not exist: NOT_FOUND is past authorization); the
    # history: its author and operators (others: NOT_FOUND, not theirs to know of).
    "planet.content.v1.PostLifecycleService/EditPost": _grpc_row(
        user=DENIED, other_user=DENIED, owner=OK, analyst=DENIED, operator=DENIED),
    "planet.content.v1.PostLifecycleService/DeletePost": _grpc_row(
        user=DENIED, other_user=DENIED, owner="NOT_FOUND", analyst=DENIED, operator=DENIED),
    "planet.content.v1.PostLifecycleService/ListPostRevisions": _grpc_row(
        user="NOT_FOUND", other_user="NOT_FOUND", owner=OK, analyst="NOT_FOUND", operator=OK),
    # Reports: a user reports and appeals as themselves only (the requests are the owner's),
    # operators alone list the queues and decide (as themselves); the item does not exist,
    # so NOT_FOUND is past authorization, and nobody learns of another's moderation.
    "planet.content.v1.ReportService/ReportItem": _grpc_row(
        user=DENIED, other_user=DENIED, owner="NOT_FOUND", analyst=DENIED, operator=DENIED),
    "planet.content.v1.ReportService/AppealRemoval": _grpc_row(
        user=DENIED, other_user=DENIED, owner="NOT_FOUND", analyst=DENIED, operator=DENIED),
    "planet.content.v1.ReportService/ListQueue": _grpc_row(
        user=DENIED, other_user=DENIED, owner=DENIED, analyst=DENIED, operator=OK),
    **{f"planet.content.v1.ReportService/{m}": _grpc_row(
        user=DENIED, other_user=DENIED, owner=DENIED, analyst=DENIED, operator="NOT_FOUND")
       for m in ("DecideReports", "DecideAppeal")},
    "planet.content.v1.ReportService/GetModeration": _grpc_row(
        **{p: "NOT_FOUND" for p in EVERYONE_SIGNED_IN}),
    **{m: _grpc_row(**row) for m, row in DRAFT_GRPC.items()},
    # Group chats: only the signed end user acts, as themselves (groups_grpc_matrix.py).
    **{m: _grpc_row(**row) for m, row in GROUPS_GRPC.items()},
}


def _grpc_services() -> dict[str, tuple[Any, str, str]]:
    """Service full name -> (its descriptor, its identity, the stack port attribute)."""
    from planet.analytics.v1 import analytics_service_pb2
    from planet.content.v1 import (
        content_service_pb2,
        interactions_pb2,
        post_lifecycle_pb2,
        topics_pb2,
    )
    from planet.incentive.v1 import incentive_service_pb2
    from planet.social.v1 import social_service_pb2

    return {
        **moderation_grpc_service(),
        **drafts_grpc_service(),
        **groups_grpc_service(),
        "planet.content.v1.PostLifecycleService": (
            post_lifecycle_pb2.DESCRIPTOR.services_by_name["PostLifecycleService"], "content",
            "content"),
        "planet.content.v1.TopicService": (
            topics_pb2.DESCRIPTOR.services_by_name["TopicService"], "content", "content"),
        "planet.content.v1.InteractionService": (
            interactions_pb2.DESCRIPTOR.services_by_name["InteractionService"], "content",
            "content"),
        "planet.social.v1.SocialService": (
            social_service_pb2.DESCRIPTOR.services_by_name["SocialService"], "social",
            "social"),
        "planet.content.v1.ContentService": (
            content_service_pb2.DESCRIPTOR.services_by_name["ContentService"], "content",
            "content"),
        "planet.incentive.v1.IncentiveService": (
            incentive_service_pb2.DESCRIPTOR.services_by_name["IncentiveService"], "incentive",
            "incentive"),
        "planet.analytics.v1.AnalyticsService": (
            analytics_service_pb2.DESCRIPTOR.services_by_name["AnalyticsService"], "analytics",
            "analytics"),
    }


def _grpc_request(method: str, world: World, stack: Stack) -> Any:
    from planet.analytics.v1 import analytics_service_pb2 as analytics
    from planet.content.v1 import content_service_pb2 as content
    from planet.content.v1 import events_pb2 as content_events
    from planet.content.v1 import interactions_pb2 as interactions
    from planet.incentive.v1 import incentive_service_pb2 as incentive
    from planet.social.v1 import events_pb2 as social_events
    from planet.social.v1 import social_service_pb2 as social

    if method in GROUPS_GRPC:  # each makes its group through the service at first use
        return groups_grpc_request(stack, world.owner, method)
    social_name = "planet.social.v1.SocialService/"
    profile = social_events.Profile(display_name="Matrix over gRPC")
    requests: dict[str, Any] = {
        social_name + "OpenIdentity": social.OpenIdentityRequest(
            user_id=world.owner, handle=f"g_{unique('h')[-8:]}", profile=profile),
        social_name + "ChangeHandle": social.ChangeHandleRequest(
            user_id=world.owner, handle=f"g_{unique('h')[-8:]}"),
        social_name + "UpdateProfile": social.UpdateProfileRequest(
            user_id=world.owner, profile=profile),
        social_name + "GetProfile": social.GetProfileRequest(user_id=world.owner),
        social_name + "SuspendIdentity": social.IdentityActionRequest(
            user_id=world.targets["grpc-suspend"], reason="matrix"),
        social_name + "ReinstateIdentity": social.IdentityActionRequest(
            user_id=world.targets["grpc-reinstate"], reason="matrix"),
        social_name + "CloseIdentity": social.IdentityActionRequest(
            user_id=world.targets["grpc-close"], reason="matrix"),
        social_name + "SanctionAccount": social.SanctionAccountRequest(
            user_id=world.owner, reason="matrix"),
        social_name + "LiftSanction": social.LiftSanctionRequest(
            user_id=world.owner, sanction_id=world.sanctions["grpc-lift"], reason="matrix"),
        social_name + "AppealSanction": social.AppealSanctionRequest(
            user_id=world.owner, sanction_id=world.sanctions["grpc-appeal"], text="matrix"),
        social_name + "GetSanctions": social.GetSanctionsRequest(user_id=world.owner),
        social_name + "CheckPublisher": social.CheckPublisherRequest(user_id=world.owner),
        social_name + "GetRelation": social.RelationRequest(
            user_id=world.owner, other_id=world.targets["relate"]),
        # The reinstate target is never closed, so it stays followable whatever runs first.
        social_name + "Follow": social.FollowRequest(
            user_id=world.owner, creator_id=world.targets["grpc-reinstate"]),
        social_name + "Unfollow": social.FollowRequest(
            user_id=world.owner, creator_id=world.targets["grpc-reinstate"]),
        social_name + "SetBell": social.SetBellRequest(
            user_id=world.owner, creator_id=world.targets["grpc-reinstate"], on=False),
        social_name + "ListFollowers": social.ListFollowsRequest(user_id=world.owner),
        social_name + "ListFollowing": social.ListFollowsRequest(user_id=world.owner),
        social_name + "SetTrackRecordVisibility": social.SetTrackRecordVisibilityRequest(
            user_id=world.owner, hidden=False),
        social_name + "GetTrackRecord": social.GetTrackRecordRequest(user_id=world.owner),
        **{social_name + m: social.RelationRequest(
            user_id=world.owner, other_id=world.targets["relate"])
           for m in ("Block", "Unblock", "Mute", "Unmute")},
        social_name + "ListBlocked": social.ListFollowsRequest(user_id=world.owner),
        social_name + "ListMuted": social.ListFollowsRequest(user_id=world.owner),
        social_name + "ListNotifications": social.ListNotificationsRequest(user_id=world.owner),
        social_name + "MarkNotificationsRead": social.MarkNotificationsReadRequest(
            user_id=world.owner, up_to_position=0),
        social_name + "DecideAppeal": social.DecideAppealRequest(
            user_id=world.owner, sanction_id=world.sanctions["grpc-decide"], grant=False,
            reason="matrix"),
        "planet.content.v1.ContentService/PublishPost": content.PublishPostRequest(
            request_id=unique("grpc-req"), creator_id=world.owner, body="matrix over gRPC",
            kind=content_events.POST_KIND_SHORT),
        "planet.content.v1.ContentService/GetPost": content.GetPostRequest(
            post_id=world.post_id),
        "planet.content.v1.ContentService/ResolveAuthors": content.ResolveAuthorsRequest(
            item_ids=[world.post_id]),
        "planet.content.v1.ContentService/ListAuthorPosts": content.ListAuthorPostsRequest(
            author_id=world.owner, limit=5),
        "planet.incentive.v1.IncentiveService/GetWeeklyEstimate":
            incentive.GetWeeklyEstimateRequest(creator_id=world.owner),
        **_pool_requests(world),
        **_interaction_requests(interactions, world),
        **_topic_requests(),
        **_lifecycle_requests(world),
        **moderation_grpc_requests(world.owner),
        **drafts_grpc_requests(world.owner),
        "planet.analytics.v1.AnalyticsService/Query": analytics.QueryRequest(
            sql="SELECT count() AS n FROM planet.events_raw"),
    }
    return requests[method]


def _pool_requests(world: World) -> dict[str, Any]:
    """The weekly pool's RPCs; operations name a far week so the suite's current week (which
    other tests estimate) is left alone."""
    import time

    from planet.incentive.v1 import incentive_service_pb2 as pool
    from planet.incentive.v1.weekly_pool_pb2 import HeldDecided
    from services.incentive.domain.facts import IsoWeek
    from services.incentive.domain.policy import default_policy

    name, far = "planet.incentive.v1.IncentiveService/", "2030-W01"
    week = str(IsoWeek.containing(int(time.time() * 1000)))
    policy = default_policy().evolve(version=unique("matrix"), effective_from_week=far)
    return {
        name + "GetCreatorEstimate": pool.CreatorWeekRequest(creator_id=world.owner),
        name + "ListCreatorWeeks": pool.ListCreatorWeeksRequest(creator_id=world.owner),
        name + "ListItemLedger": pool.ListItemLedgerRequest(creator_id=world.owner),
        name + "GetCreatorCenter": pool.CreatorCenterRequest(creator_id=world.owner),
        name + "GetCreatorWeek": pool.CreatorWeekRequest(creator_id=world.owner,
                                                         week="2026-W01"),
        name + "ListSettledWeeks": pool.ListSettledWeeksRequest(),
        name + "FundPool": pool.FundPoolRequest(week=far, amount_minor=1, asset="USDT",
                                                funding_id=unique("matrix-fund")),
        name + "PublishPolicy": pool.PublishPolicyRequest(
            version=policy.version, effective_week=far, policy_json=policy.canonical_bytes()),
        name + "ShadowCompare": pool.ShadowCompareRequest(week=week),
        name + "CloseWeek": pool.CloseWeekRequest(week=far, reason="matrix",
                                                  request_id=unique("matrix-close")),
        name + "DecideHeld": pool.DecideHeldRequest(
            week="2026-W01", creator_id=world.owner, decision=HeldDecided.DECISION_RELEASE,
            reason="matrix", decision_id=unique("matrix-held")),
        name + "ListLateFacts": pool.ListLateFactsRequest(week=week),
    }


def _lifecycle_requests(world: World) -> dict[str, Any]:
    from planet.content.v1 import post_lifecycle_pb2 as lc

    name = "planet.content.v1.PostLifecycleService/"
    return {
        name + "EditPost": lc.EditPostRequest(
            post_id=world.post_id, editor_id=world.owner, request_id=unique("grpc-edit"),
            title="matrix over gRPC"),
        name + "DeletePost": lc.DeletePostRequest(post_id="post_" + "0" * 24,
                                                  deleter_id=world.owner),
        name + "ListPostRevisions": lc.ListPostRevisionsRequest(post_id=world.post_id),
    }


def _topic_requests() -> dict[str, Any]:
    from planet.content.v1 import topics_pb2 as topics

    name = "planet.content.v1.TopicService/"
    return {
        name + "ListTopicPosts": topics.ListTopicPostsRequest(topic="matrix"),
        name + "ListArenas": topics.ListArenasRequest(),
        name + "ListInstruments": topics.ListInstrumentsRequest(),
        name + "ListArenaPosts": topics.ListArenaPostsRequest(arena_id="no-such-arena"),
        name + "PutArena": topics.PutArenaRequest(arena_id="matrix", name="Matrix",
                                                  topics=["matrix"]),
    }


def _interaction_requests(interactions: Any, world: World) -> dict[str, Any]:
    name = "planet.content.v1.InteractionService/"
    missing = f"cmt_{world.post_id.removeprefix('post_')}_{'0' * 24}"
    key = unique("grpc-interaction")
    return {
        name + "PostComment": interactions.PostCommentRequest(
            request_id=key, user_id=world.owner, post_id=world.post_id, text="matrix"),
        name + "EditComment": interactions.EditCommentRequest(
            request_id=key, user_id=world.owner, comment_id=missing, text="matrix"),
        name + "DeleteComment": interactions.DeleteCommentRequest(
            request_id=key, user_id=world.owner, comment_id=missing),
        name + "ListComments": interactions.ListCommentsRequest(post_id=world.post_id),
        name + "Like": interactions.LikeRequest(
            request_id=key, user_id=world.owner, item_id=world.post_id),
        name + "Unlike": interactions.LikeRequest(
            request_id=key, user_id=world.owner, item_id=world.post_id),
        name + "Share": interactions.ShareRequest(
            request_id=key, user_id=world.owner, post_id=world.post_id),
        name + "GetItemStats": interactions.GetItemStatsRequest(item_id=world.post_id),
    }


def _grpc_metadata(stack: Stack, world: World, persona: str,
                   audience: str) -> tuple[tuple[str, str], ...]:
    """What each kind of caller sends: the gateway's real signature for real users."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from planetkit.service_identities import GATEWAY

    users = {"user": ("matrix-user", []), "other_user": ("matrix-other", []),
             "owner": (world.owner, []), "analyst": ("matrix-analyst", ["analyst"]),
             "operator": ("matrix-operator", ["operator"])}
    if persona == "anonymous":
        return ()
    if persona in users:
        user_id, roles = users[persona]
        return stack.service_auth.metadata(audience, user_id, roles)
    now = int(time.time())
    claims = {"iss": GATEWAY, "aud": audience, "jti": unique("jti"), "sub": world.owner,
              "roles": ["operator"]}
    signing = stack.service_auth.keyring.signing_key(GATEWAY)
    if persona == "forged":
        # Claims to be the gateway, under the gateway's key id, signed by another key.
        token = jwt.encode({**claims, "iat": now, "exp": now + 30},
                           Ed25519PrivateKey.generate(), algorithm="EdDSA",
                           headers={"kid": signing.kid})
    else:  # expired: the gateway's real key, but the assertion's lifetime is over
        token = jwt.encode({**claims, "iat": now - 120, "exp": now - 90}, signing.key,
                           algorithm="EdDSA", headers={"kid": signing.kid})
    return (("authorization", f"Bearer {token}"),)


def test_every_grpc_method_is_in_the_matrix() -> None:
    methods = {f"{name}/{method.name}"
               for name, (descriptor, _, _) in _grpc_services().items()
               for method in descriptor.methods}
    assert methods == set(GRPC_EXPECTED)


@pytest.mark.parametrize("method", sorted(GRPC_EXPECTED))
def test_each_service_authorizes_each_caller_itself(
    stack: Stack, world: World, method: str
) -> None:
    import grpc

    service_name, method_name = method.split("/")
    descriptor, identity, port_attr = _grpc_services()[service_name]
    method_descriptor = descriptor.methods_by_name[method_name]
    from google.protobuf import message_factory

    response_cls = message_factory.GetMessageClass(method_descriptor.output_type)
    request = _grpc_request(method, world, stack)
    got: dict[str, str] = {}
    with grpc.insecure_channel(f"127.0.0.1:{getattr(stack.ports, port_attr)}") as channel:
        call = channel.unary_unary(f"/{method}", request_serializer=type(request).SerializeToString,
                                   response_deserializer=response_cls.FromString)
        for persona in PERSONAS:
            try:
                call(request, metadata=_grpc_metadata(stack, world, persona, identity),
                     timeout=30)
                got[persona] = OK
            except grpc.RpcError as exc:
                got[persona] = exc.code().name
    assert got == GRPC_EXPECTED[method]
