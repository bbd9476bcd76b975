"""A creator's running weekly estimate, once over HTTP or pushed over a WebSocket.

The estimate is the scoring job's (``CreatorEstimate``: the settlement's own function run on
the week so far, with its breakdown and reason codes). The socket sends the current estimate
first (one gRPC call to the incentive service), then every change the scoring job writes to
the estimates topic, pushed by this process's one consumer of it (gateway/estimate_hub.py):
no socket polls anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import time
from typing import Annotated, Final, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, WebSocket, WebSocketDisconnect

from gateway import topic_fanout
from gateway.auth import InvalidToken, Principal
from gateway.deps import BackendsDep, SettingsDep, UserDep, VerifierDep, authenticate
from gateway.errors import GatewayError, NotFound
from gateway.estimate_hub import EstimateHub, Subscription
from gateway.ids import MAX_USER_ID_LENGTH
from gateway.openapi import AUTHED, errors
from gateway.ports import IncentivePort
from gateway.schemas_weekly_pool import CreatorEstimateOut, creator_estimate_out
from planet.incentive.v1 import incentive_service_pb2 as rpc
from planet.incentive.v1.weekly_pool_pb2 import CreatorEstimate
from planetkit.weeks import parse_iso_week

router = APIRouter(tags=["estimates"])

# Who may see any creator's estimate; everyone else sees only their own.
OVERSEERS = frozenset({"operator", "admin"})
# RFC 6455 close codes: the answer to each kind of frame the server cannot use.
UNSUPPORTED_DATA = 1003
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013
# The subprotocol the server speaks, and the prefix of the one that carries a token. Only
# the first is echoed back: the token must not travel back in the handshake response.
PROTOCOL = "planet.v1"
BEARER_PREFIX = "bearer."
MAX_TOKEN_CHARS = 8192
# A socket whose client does not take a frame for this long is closed (1013).
SEND_TIMEOUT_S = 10.0
ESTIMATE_404 = "The incentive service knows no such creator or week."

CreatorId = Annotated[str, Path(min_length=1, max_length=MAX_USER_ID_LENGTH,
                                 description="The creator's user id (from the exchange).")]
Week = Annotated[str, Query(max_length=8, description="ISO week YYYY-Www; default current.")]


def _may_see(user: Principal, creator_id: str) -> bool:
    return user.user_id == creator_id or bool(user.roles & OVERSEERS)


def _week(week: str) -> str:
    if week:
        try:
            parse_iso_week(week)
        except ValueError:
            raise HTTPException(422, f"week: not an ISO week of that year (YYYY-Www): "
                                     f"{week!r}") from None
    return week


def _request(creator_id: str, week: str) -> rpc.CreatorWeekRequest:
    return rpc.CreatorWeekRequest(creator_id=creator_id, week=week)


@router.get("/v1/creators/{creator_id}/estimate", response_model=CreatorEstimateOut,
            responses=errors(*AUTHED, 403, 404, 409, s404=ESTIMATE_404,
                             s409="The pool is not in a state to estimate this week."))
async def get_estimate(
    creator_id: CreatorId, user: UserDep, backends: BackendsDep, week: Week = ""
) -> CreatorEstimateOut:
    """The creator's running estimate of the current week so far (``week``: YYYY-Www, default
    the current week; another week is a 422: settled weeks are under ``/pool/weeks``): the
    amount in minor units of ``asset``, its breakdown per item (dwell and
    interaction parts), per consumer value tier and every discount with its reason code, and
    the week's raw activity. The creator only, or an operator."""
    if not _may_see(user, creator_id):
        raise HTTPException(403, "only the creator (or an operator) may see this estimate")
    return creator_estimate_out(
        await backends.incentive.creator_estimate(user, _request(creator_id, _week(week))))


class Refused(Exception):
    """Close the socket with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # close reasons are limited to 123 bytes


T = TypeVar("T")


class _Ended(enum.Enum):
    LISTENER = "listener"


# What ``next_pushed`` returns when the task answering the client's frames ended normally.
LISTENER_ENDED: Final = _Ended.LISTENER


def live_timeout(expires_at_s: float | None, behind: bool, poll_s: float) -> float | None:
    """How long a live socket's next wait may last (None: until something happens): until
    its token expires, or ``poll_s`` while it knows it is behind its hub (it reads again
    then). Raises ``Refused(POLICY_VIOLATION)`` once the token has expired. Idle sockets
    never wake on a timer: at 1 s, 5 000 of them cost 0.6 of a core doing nothing."""
    now = time.time()
    if expires_at_s is not None and now >= expires_at_s:
        raise Refused(POLICY_VIOLATION, "token has expired: reconnect with a new one")
    until_expiry = None if expires_at_s is None else expires_at_s - now
    if not behind:
        return until_expiry
    return poll_s if until_expiry is None else min(poll_s, until_expiry)


async def next_pushed(sub: topic_fanout.Subscription[T], listener: asyncio.Task[None],
                      timeout: float | None, too_slow: str
                      ) -> T | Literal[_Ended.LISTENER] | None:
    """One wait of a live socket (this one, notifications, groups): the next item the hub
    pushed to ``sub``, or None when ``timeout`` passed first (None: no timeout). When the
    ``listener`` (the task answering the client's frames) has finished, its outcome comes
    first: its Refused or disconnect is raised here (an item taken meanwhile is dropped with
    the socket), and ``LISTENER_ENDED`` if it returned. An overflowed ``sub`` raises
    ``Refused(TRY_AGAIN_LATER, too_slow)``: the client reconnects, nothing is lost."""
    # A fresh get() each wait rather than one kept across waits: the loser is cancelled, and
    # a get() cancelled after the queue woke it has not taken its item yet (it takes it only
    # when it runs again), so the item stays queued for the next wait: nothing is lost.
    getter = asyncio.ensure_future(sub.queue.get())
    overflow = asyncio.ensure_future(sub.overflowed.wait())
    await asyncio.wait({getter, overflow, listener}, timeout=timeout,
                       return_when=asyncio.FIRST_COMPLETED)
    got = getter.done()
    overflow.cancel()
    if not got:
        getter.cancel()  # an item a cancelled get() was woken for stays queued
    if listener.done():
        listener.result()  # a Refused or a disconnect surfaces here
        return LISTENER_ENDED
    if sub.overflowed.is_set():
        raise Refused(TRY_AGAIN_LATER, too_slow)
    return getter.result() if got else None


async def _receive_json(websocket: WebSocket, max_bytes: int) -> object:
    """The next client message as JSON; Refused for every frame the protocol does not allow."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        raise Refused(UNSUPPORTED_DATA, "binary frames are not supported: send JSON text")
    if len(text.encode()) > max_bytes:
        raise Refused(MESSAGE_TOO_BIG, f"messages are limited to {max_bytes} bytes")
    try:
        return json.loads(text)
    except ValueError:
        raise Refused(INVALID_PAYLOAD, "messages must be JSON text") from None


def _offered_token(websocket: WebSocket, query_token: str) -> str | None:
    for protocol in websocket.scope.get("subprotocols", []):
        if protocol.startswith(BEARER_PREFIX):
            return str(protocol[len(BEARER_PREFIX):])
    return query_token or None


async def _login(websocket: WebSocket, token: str | None, verifier: VerifierDep,
                 max_bytes: int, timeout_s: float) -> Principal:
    """The principal of the offered token, or of a first ``{"type": "auth"}`` message."""
    if token is None:
        try:
            async with asyncio.timeout(timeout_s):
                first = await _receive_json(websocket, max_bytes)
        except TimeoutError:
            raise Refused(POLICY_VIOLATION, "no token: send a bearer subprotocol or an "
                                            "auth message first") from None
        if not (isinstance(first, dict) and first.get("type") == "auth"
                and isinstance(first.get("token"), str)):
            raise Refused(POLICY_VIOLATION, 'the first message must be {"type": "auth", '
                                            '"token": "..."}')
        token = str(first["token"])
    if len(token) > MAX_TOKEN_CHARS:
        raise Refused(POLICY_VIOLATION, "invalid token: too long")
    try:
        return await authenticate(websocket, verifier, token)
    except InvalidToken as exc:
        raise Refused(POLICY_VIOLATION, str(exc)) from None
    except GatewayError as exc:  # rate limit or keys unavailable: the client may come back
        raise Refused(TRY_AGAIN_LATER, exc.message) from None


@router.websocket("/v1/ws/creators/{creator_id}/estimate")
async def watch_estimate(
    websocket: WebSocket,
    creator_id: str,
    settings: SettingsDep,
    backends: BackendsDep,
    verifier: VerifierDep,
    token: str = "",
    week: str = "",
) -> None:
    """Send the current estimate, then every change pushed; see the API description."""
    offered = websocket.scope.get("subprotocols", [])
    # Accept first so the client sees the close code; a refused handshake is a bare 403.
    await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    max_bytes = settings.ws_max_message_bytes
    try:
        if len(creator_id) > MAX_USER_ID_LENGTH or len(week) > 8:
            raise Refused(POLICY_VIOLATION, "creator id or week too long")
        user = await _login(websocket, _offered_token(websocket, token), verifier, max_bytes,
                            settings.ws_auth_timeout_s)
        if not _may_see(user, creator_id):
            raise Refused(POLICY_VIOLATION, "only the creator (or an operator) may see this "
                                            "estimate")
        try:
            week = _week(week)
        except HTTPException as exc:
            raise Refused(POLICY_VIOLATION, str(exc.detail)) from None
        if backends.estimates is None:
            raise Refused(TRY_AGAIN_LATER, "live estimates are not available here")
        await _EstimateStream(websocket, user, backends.incentive, backends.estimates,
                              max_bytes).run(creator_id, week)
    except Refused as refused:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(refused.code, refused.reason)
    except WebSocketDisconnect:
        pass


def _newer(estimate: CreatorEstimate, last: CreatorEstimate | None, week: str) -> bool:
    """Whether ``estimate`` is news to a socket that sent ``last`` and watches ``week`` ("":
    whichever week is current, so the socket follows the week when it turns)."""
    if week and estimate.week != week:
        return False
    if last is None or estimate.week > last.week:  # "2026-W52" < "2027-W01": ISO weeks sort
        return True
    return estimate.week == last.week and estimate.as_of_ms > last.as_of_ms


class _EstimateStream:
    """One socket: the current estimate, then each newer one the hub pushes."""

    def __init__(self, websocket: WebSocket, user: Principal, incentive: IncentivePort,
                 hub: EstimateHub, max_bytes: int) -> None:
        self._ws = websocket
        self._user = user
        self._incentive = incentive
        self._hub = hub
        self._max_bytes = max_bytes
        self._last: CreatorEstimate | None = None

    async def _send(self, estimate: CreatorEstimate, sub: Subscription) -> None:
        if sub.overflowed.is_set():
            raise Refused(TRY_AGAIN_LATER, "too slow: reconnect for the current estimate")
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await self._ws.send_json(creator_estimate_out(estimate).model_dump())
        except TimeoutError:
            raise Refused(TRY_AGAIN_LATER, "too slow: reconnect for the current estimate") \
                from None
        self._last = estimate

    async def _current(self, creator_id: str, week: str) -> CreatorEstimate | None:
        try:
            return await self._incentive.creator_estimate(self._user,
                                                          _request(creator_id, week))
        except NotFound:
            return None  # nothing yet: the first estimate the scoring job writes is pushed
        except GatewayError as exc:  # 5xx: the client may come back; 4xx: it may not
            if exc.status >= 500:
                raise Refused(TRY_AGAIN_LATER, exc.message) from None
            raise Refused(POLICY_VIOLATION, exc.message) from None

    async def run(self, creator_id: str, week: str) -> None:
        """Subscribe, send the current estimate, then forward; returns when the client
        leaves. Subscribing first: an estimate written after the fetch is not missed."""
        sub = self._hub.subscribe(creator_id)
        # Reading concurrently is how client frames are answered between pushes.
        listener = asyncio.create_task(_answer_frames(self._ws, self._max_bytes))
        try:
            current = await self._current(creator_id, week)
            if current is not None:
                await self._send(current, sub)
            await self._forward(sub, week, listener)
        finally:
            self._hub.unsubscribe(sub)
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Refused, WebSocketDisconnect):
                await listener

    async def _forward(self, sub: Subscription, week: str, listener: asyncio.Task[None]
                       ) -> None:
        while True:
            # No poll: the wait ends on a pushed estimate, an overflow, a client frame's
            # outcome, or the token's expiry (a socket is never behind: each push is whole).
            timeout = live_timeout(self._user.expires_at_s, False, 0.0)
            estimate = await next_pushed(sub, listener, timeout,
                                         "too slow: reconnect for the current estimate")
            if estimate is LISTENER_ENDED:
                return
            if estimate is not None and _newer(estimate, self._last, week):
                await self._send(estimate, sub)


async def _answer_frames(websocket: WebSocket, max_bytes: int) -> None:
    """Answer every client frame: ping → pong; other JSON → an error; the rest closes."""
    while True:
        message = await _receive_json(websocket, max_bytes)
        if isinstance(message, dict) and message.get("type") == "ping":
            await websocket.send_json({"type": "pong"})
        else:
            await websocket.send_json(
                {"error": 'unknown message: this stream only answers {"type": "ping"}'})
