"""A creator's weekly estimate, once over HTTP or live over a WebSocket."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect

from gateway.auth import InvalidToken, Principal, verify_token
from gateway.deps import BackendsDep, SettingsDep, UserDep
from gateway.errors import GatewayError
from gateway.schemas import EstimateOut, estimate_out
from planetkit.weeks import parse_iso_week

router = APIRouter(tags=["estimates"])

# Who may see any creator's estimate; everyone else sees only their own.
OVERSEERS = frozenset({"operator", "admin"})
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


def _may_see(user: Principal, creator_id: str) -> bool:
    return user.user_id == creator_id or bool(user.roles & OVERSEERS)


def _week(week: str) -> str:
    if week:
        try:
            parse_iso_week(week)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    return week


@router.get("/v1/creators/{creator_id}/estimate", response_model=EstimateOut)
async def get_estimate(
    creator_id: str, user: UserDep, backends: BackendsDep, week: str = ""
) -> EstimateOut:
    """The creator's running estimate for ``week`` (YYYY-Www; default the current week)."""
    if not _may_see(user, creator_id):
        raise HTTPException(403, "only the creator (or an operator) may see this estimate")
    return estimate_out(await backends.incentive.weekly_estimate(creator_id, _week(week)))


@router.websocket("/v1/ws/creators/{creator_id}/estimate")
async def watch_estimate(
    websocket: WebSocket,
    creator_id: str,
    settings: SettingsDep,
    backends: BackendsDep,
    token: str = "",
    week: str = "",
) -> None:
    """Send the estimate now and again whenever it changes; 1008 on a bad token."""
    # Accept first so the client sees the close code; a refused handshake is a bare 403.
    await websocket.accept()
    try:
        user = verify_token(settings.jwt_secret, token)
        if not _may_see(user, creator_id):
            raise InvalidToken("only the creator (or an operator) may see this estimate")
        week = _week(week)
    except (InvalidToken, HTTPException) as exc:
        reason = exc.detail if isinstance(exc, HTTPException) else str(exc)
        await websocket.close(POLICY_VIOLATION, str(reason)[:120])
        return
    # Reading concurrently is how a disconnect is noticed between polls.
    listener = asyncio.create_task(_until_disconnect(websocket))
    last: EstimateOut | None = None
    try:
        while not listener.done():
            try:
                current = estimate_out(await backends.incentive.weekly_estimate(creator_id, week))
            except GatewayError as exc:
                await websocket.close(TRY_AGAIN_LATER, exc.message[:120])
                return
            if current != last:
                await websocket.send_json(current.model_dump())
                last = current
            await asyncio.wait({listener}, timeout=settings.ws_poll_s)
    except WebSocketDisconnect:
        pass
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def _until_disconnect(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
