"""The caller's notifications: a page over HTTP, read marks, and live over a WebSocket.

Only the recipient reads or marks their notifications (the gateway asks for the signed-in
user only, and the social service refuses any other end user, operators included).

**WebSocket ``/v1/ws/notifications``** (authenticated like the estimate socket: the
subprotocols ``["planet.v1", "bearer.<token>"]`` or a first ``{"type": "auth", "token"}``
message):

1. The client sends ``{"after": N}``: the last position it has seen (0 for none).
2. The server sends every notification after N, in position order, each as
   ``{"type": "notification", "position", "notification_id", "kind", "actor_id",
   "subject_id", "at_ms"}``, then ``{"type": "caught_up", "last_position", "read_up_to",
   "unread"}``.
3. Then each new notification as it happens, in position order, with no gap and no
   duplicate (the socket was subscribed to this gateway's live feed before it caught up;
   what it already sent is dropped by position, and a jump in positions is read again from
   the social service), and ``{"type": "read", "read_up_to"}`` when the user marks read on
   any device.

Every gateway process reads the whole notifications topic and pushes to its own sockets, so
a user gets each notification once on whichever gateway they are connected to. Frames:
``{"type": "ping"}`` -> ``{"type": "pong"}``; anything else gets an error message. Close
codes: 1003 binary frame, 1007 not JSON, 1008 authentication, authorization, a bad first
message or an expired token, 1009 frame too large, **1013 try again later**: the backend is
unavailable, or **the client is too slow** (its queue of ``QUEUE_SIZE`` live notifications
filled, or a send did not complete in ``SEND_TIMEOUT_S``). After any close, reconnect and send
the last position received: nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field

from gateway.auth import Principal
from gateway.deps import BackendsDep, SettingsDep, UserDep, VerifierDep, WriterDep
from gateway.errors import GatewayError
from gateway.notification_hub import QUEUE_SIZE, NotificationHub, Subscription
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.ports import SocialPort
from gateway.routes.estimates import (
    LISTENER_ENDED,
    POLICY_VIOLATION,
    PROTOCOL,
    TRY_AGAIN_LATER,
    Refused,
    _answer_frames,
    _login,
    _offered_token,
    _receive_json,
    live_timeout,
    next_pushed,
)
from gateway.routes.follows import social_port
from gateway.schemas import Strict
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1.notifications_pb2 import (
    NotificationCreated,
    NotificationKind,
    NotificationsRead,
)

router = APIRouter(tags=["notifications"])

MAX_PAGE = 500
MAX_POSITION = 2**62
SEND_TIMEOUT_S = 10.0
# A jump in positions is read again; the store may trail the topic by a moment.
CATCH_UP_RETRIES = 20
CATCH_UP_RETRY_S = 0.05

After = Annotated[int, Query(ge=0, le=MAX_POSITION,
                             description="The last position the client has (0 for the first "
                                         "page); notifications after it are returned.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Notifications per page (1-500).")]


class NotificationOut(BaseModel):
    """One notification. ``kind``: mention, reply, follow, group_invite, moderation,
    new_post, group_mention (later kinds may be added: show an unknown one generically).
    ``subject_id`` is a post id; for group_mention ``group:<group id>:<seq>`` (the message:
    open the group's history around it; only members of the group are ever mentioned to);
    for moderation what happened (``sanction:<id>:sanctioned`` / ``:lifted`` /
    ``:appeal_granted`` / ``:appeal_denied``, ``identity:suspended:<n>``,
    ``identity:closed:<n>``; a post or comment of yours: ``item:<id>:removed:<n>:<reason>``,
    ``item:<id>:appeal_denied:<n>``, ``item:<id>:restored:<n>``)."""

    position: int
    notification_id: str
    kind: str
    actor_id: str
    subject_id: str
    at_ms: int


class NotificationPageOut(BaseModel):
    """Notifications after the requested position, oldest first, and the caller's counts
    (``unread`` = ``last_position`` - ``read_up_to``). The next page: ``after`` = the last
    position received."""

    notifications: list[NotificationOut]
    last_position: int
    read_up_to: int
    unread: int


class ReadBody(Strict):
    """Mark every notification up to and including this position read (never backwards;
    a position past the last marks up to the last)."""

    up_to_position: int = Field(ge=0, le=MAX_POSITION)


def kind_name(kind: int) -> str:
    """The API's name of a kind (``other`` for a number this gateway does not know)."""
    try:
        name = NotificationKind.Name(kind)  # type: ignore[arg-type]
    except ValueError:
        return "other"
    return name.removeprefix("NOTIFICATION_KIND_").lower()


def notification_out(n: NotificationCreated) -> NotificationOut:
    """The API's form of a notification."""
    return NotificationOut(position=n.position, notification_id=n.notification_id,
                           kind=kind_name(n.kind), actor_id=n.actor_id, subject_id=n.subject_id,
                           at_ms=n.at_ms)


def page_out(page: rpc.NotificationPage) -> NotificationPageOut:
    """The API's form of a page."""
    return NotificationPageOut(notifications=[notification_out(n) for n in page.notifications],
                               last_position=page.last_position, read_up_to=page.read_up_to,
                               unread=page.unread)


@router.get("/v1/notifications", response_model=NotificationPageOut,
            responses=errors(*AUTHED))
async def list_notifications(user: UserDep, backends: BackendsDep, after: After = 0,
                             limit: Limit = 100) -> NotificationPageOut:
    """The caller's own notifications after position ``after``, oldest first."""
    return page_out(await social_port(backends).list_notifications(
        user, rpc.ListNotificationsRequest(user_id=user.user_id, after_position=after,
                                           limit=limit)))


@router.post("/v1/notifications/read", response_model=NotificationPageOut,
             responses=errors(*AUTHED, *WITH_BODY))
async def mark_read(body: ReadBody, user: WriterDep, backends: BackendsDep) -> NotificationPageOut:
    """Mark the caller's notifications read up to a position; the counts after."""
    return page_out(await social_port(backends).mark_notifications_read(
        user, rpc.MarkNotificationsReadRequest(user_id=user.user_id,
                                               up_to_position=body.up_to_position)))


# --- the live socket ----------------------------------------------------------------------


async def _first_position(websocket: WebSocket, max_bytes: int, timeout_s: float) -> int:
    try:
        async with asyncio.timeout(timeout_s):
            first = await _receive_json(websocket, max_bytes)
    except TimeoutError:
        raise Refused(POLICY_VIOLATION, 'send {"after": <last position seen>} first') from None
    after = first.get("after") if isinstance(first, dict) else None
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_POSITION:
        raise Refused(POLICY_VIOLATION, 'the first message must be {"after": <position>=0>}')
    return after


@router.websocket("/v1/ws/notifications")
async def watch_notifications(websocket: WebSocket, settings: SettingsDep,
                              backends: BackendsDep, verifier: VerifierDep,
                              token: str = "") -> None:
    """The caller's notifications after a position, then live; see the module's protocol."""
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    max_bytes = settings.ws_max_message_bytes
    try:
        user = await _login(websocket, _offered_token(websocket, token), verifier, max_bytes,
                            settings.ws_auth_timeout_s)
        after = await _first_position(websocket, max_bytes, settings.ws_auth_timeout_s)
        hub = backends.notifications
        if hub is None or backends.social is None:
            raise Refused(TRY_AGAIN_LATER, "live notifications are not available here")
        await _Stream(websocket, user, backends.social, hub, max_bytes,
                      settings.ws_poll_s).run(after)
    except Refused as refused:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(refused.code, refused.reason)
    except WebSocketDisconnect:
        pass


class _Stream:
    """One socket: catch up from a position, then forward live notifications in order."""

    def __init__(self, websocket: WebSocket, user: Principal, social: SocialPort,
                 hub: NotificationHub, max_bytes: int, poll_s: float) -> None:
        self._ws = websocket
        self._user = user
        self._social = social
        self._hub = hub
        self._max_bytes = max_bytes
        self._poll_s = poll_s
        self._last = 0

    async def _send(self, message: dict[str, object], sub: Subscription) -> None:
        if sub.overflowed.is_set():
            raise Refused(TRY_AGAIN_LATER, "too slow: reconnect with your last position")
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await self._ws.send_json(message)
        except TimeoutError:
            raise Refused(TRY_AGAIN_LATER, "too slow: reconnect with your last position") \
                from None

    async def _page(self, after: int) -> rpc.NotificationPage:
        try:
            return await self._social.list_notifications(self._user, rpc.ListNotificationsRequest(
                user_id=self._user.user_id, after_position=after, limit=MAX_PAGE))
        except GatewayError as exc:
            raise Refused(TRY_AGAIN_LATER, exc.message) from None

    async def _catch_up(self, sub: Subscription, until: int = 0) -> rpc.NotificationPage:
        """Send what the social service has after the last sent position; read again while
        a position known to exist (``until``, or the hub's latest) is not there yet."""
        for attempt in range(CATCH_UP_RETRIES):
            while True:
                page = await self._page(self._last)
                for n in page.notifications:
                    if n.position != self._last + 1:
                        break  # never skip a position: read again from the last sent
                    await self._send({"type": "notification",
                                      **notification_out(n).model_dump()}, sub)
                    self._last = n.position
                if len(page.notifications) < MAX_PAGE:
                    break
            if self._last >= max(until, self._hub.latest(self._user.user_id)):
                return page
            await asyncio.sleep(CATCH_UP_RETRY_S * (attempt + 1))
        return page

    async def run(self, after: int) -> None:
        """Subscribe, catch up, then forward live; returns when the client leaves."""
        sub = self._hub.subscribe(self._user.user_id)
        listener = asyncio.create_task(_answer_frames(self._ws, self._max_bytes))
        try:
            self._last = after
            page = await self._catch_up(sub)
            await self._send({"type": "caught_up", "last_position": page.last_position,
                              "read_up_to": page.read_up_to, "unread": page.unread}, sub)
            await self._forward(sub, listener)
        finally:
            self._hub.unsubscribe(sub)
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Refused, WebSocketDisconnect):
                await listener

    async def _forward(self, sub: Subscription, listener: asyncio.Task[None]) -> None:
        while True:
            # As the group socket: no periodic wake-up, a poll only while known to be behind.
            behind = self._hub.latest(self._user.user_id) > self._last
            timeout = live_timeout(self._user.expires_at_s, behind, self._poll_s)
            event = await next_pushed(sub, listener, timeout,
                                      "too slow: reconnect with your last position")
            if event is LISTENER_ENDED:
                return
            if event is None:
                if self._hub.latest(self._user.user_id) > self._last:
                    await self._catch_up(sub)  # seen live before this socket subscribed
                continue
            if isinstance(event, NotificationsRead):
                await self._send({"type": "read", "read_up_to": event.up_to_position}, sub)
            elif event.position == self._last + 1:
                await self._send({"type": "notification",
                                  **notification_out(event).model_dump()}, sub)
                self._last = event.position
            elif event.position > self._last + 1:
                await self._catch_up(sub, until=event.position)


__all__ = ["QUEUE_SIZE", "router"]
