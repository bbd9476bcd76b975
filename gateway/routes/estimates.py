"""A creator's weekly estimate, once over HTTP or live over a WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, WebSocket, WebSocketDisconnect

from gateway.auth import InvalidToken, Principal
from gateway.deps import BackendsDep, SettingsDep, UserDep, VerifierDep, authenticate
from gateway.errors import GatewayError
from gateway.ids import MAX_USER_ID_LENGTH
from gateway.openapi import AUTHED, errors
from gateway.schemas import EstimateOut, estimate_out
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

CreatorId = Annotated[str, Path(min_length=1, max_length=MAX_USER_ID_LENGTH,
                                 description="The creator's user id (from the exchange).")]
Week = Annotated[str, Query(max_length=8, description="ISO week YYYY-Www; default current.")]


def _may_see(user: Principal, creator_id: str) -> bool:
    return user.user_id == creator_id or bool(user.roles & OVERSEERS)


def _week(week: str) -> str:
    if week:
        try:
            parse_iso_week(week)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    return week


@router.get("/v1/creators/{creator_id}/estimate", response_model=EstimateOut,
            responses=errors(*AUTHED, 403))
async def get_estimate(
    creator_id: CreatorId, user: UserDep, backends: BackendsDep, week: Week = ""
) -> EstimateOut:
    """The creator's running estimate for ``week`` (YYYY-Www; default the current week)."""
    if not _may_see(user, creator_id):
        raise HTTPException(403, "only the creator (or an operator) may see this estimate")
    return estimate_out(await backends.incentive.weekly_estimate(user, creator_id, _week(week)))


class Refused(Exception):
    """Close the socket with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # close reasons are limited to 123 bytes


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
    """Send the estimate now and again whenever it changes; see the API description."""
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
        await _stream(websocket, user, creator_id, week, backends, settings.ws_poll_s, max_bytes)
    except Refused as refused:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(refused.code, refused.reason)
    except WebSocketDisconnect:
        pass


async def _stream(websocket: WebSocket, user: Principal, creator_id: str, week: str,
                  backends: BackendsDep, poll_s: float, max_bytes: int) -> None:
    # Reading concurrently is how client frames are answered between polls.
    listener = asyncio.create_task(_answer_frames(websocket, max_bytes))
    last: EstimateOut | None = None
    try:
        while not listener.done():
            if user.expires_at_s is not None and time.time() >= user.expires_at_s:
                raise Refused(POLICY_VIOLATION, "token has expired: reconnect with a new one")
            try:
                current = estimate_out(
                    await backends.incentive.weekly_estimate(user, creator_id, week))
            except GatewayError as exc:
                raise Refused(TRY_AGAIN_LATER, exc.message) from None
            if current != last:
                await websocket.send_json(current.model_dump())
                last = current
            await asyncio.wait({listener}, timeout=poll_s)
        listener.result()  # a Refused or a disconnect from the listener surfaces here
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, Refused, WebSocketDisconnect):
            await listener


async def _answer_frames(websocket: WebSocket, max_bytes: int) -> None:
    """Answer every client frame: ping → pong; other JSON → an error; the rest closes."""
    while True:
        message = await _receive_json(websocket, max_bytes)
        if isinstance(message, dict) and message.get("type") == "ping":
            await websocket.send_json({"type": "pong"})
        else:
            await websocket.send_json(
                {"error": 'unknown message: this stream only answers {"type": "ping"}'})
