"""A group's conversation live over a WebSocket: ``/v1/ws/groups/{group_id}``.

Authenticated like the notifications socket (the subprotocols ``["planet.v1",
"bearer.<token>"]`` or a first ``{"type": "auth", "token"}`` message). Who may open it is
the groups service's rule for ``History``: members, anyone for a public group; a private
group's socket is closed 1008 "no such group" for everyone else (its existence is not told).

1. The client sends ``{"after": N}``: the last seq it has seen (0 for none).
2. The server catches up through the service's ``History`` pages (what this viewer may see),
   in seq order: each message after N in its current form as ``{"type": "message", "seq",
   "message": {...as GET /v1/groups/{group_id}/messages}}``, and every change after N to any
   message (older than N too) as its live frame below (an ``edit`` then carries the
   message's current text; a deleted message's edits are not sent, its ``delete`` is). A
   message sent in its current form already shows its edits, deletion and reaction counts up
   to when it was read: those changes are not sent again, there or live (pins are). Then
   ``{"type": "caught_up", "last_seq"}``.
3. Then live, in seq order with no gap and no duplicate (the socket subscribed to this
   gateway's ONE consumer of ``planet.groups.events.v1`` before it caught up; what it has
   sent is dropped by seq, a jump in seqs is read again through ``History``):
   ``message`` (new or released; ``held`` true for its author and moderators), ``edit``
   ``{seq, message_seq, text, mentions, at_ms}``, ``delete`` ``{seq, message_seq, by,
   at_ms}``, ``pin`` / ``unpin`` ``{seq, message_seq, actor_id, at_ms}``, ``reaction``
   ``{seq, message_seq, user_id, emoji, removed, at_ms}`` (a member set, or with ``removed``
   took back, one emoji on a message: a client keeps each message's (user, emoji) pairs or
   moves its counts by one; a message frame's ``reactions`` are its counts when read),
   ``closed`` ``{seq, reason}``. A fact this viewer may not see is skipped but moves the cursor:
   ``{"type": "position", "seq"}`` says how far the stream has looked (resume after it).
4. A viewer who is kicked, banned or leaves (or a non-member when the group turns private)
   gets ``{"type": "removed", "seq", "why"}`` and the socket is closed 1008.

Visibility live is services/groups/domain/audience.py's rule for these facts, kept here with
the viewer's role (read through ``GetGroup`` at connect, updated by membership facts about
the viewer): conversation facts to every viewer (a deletion's reason to staff only), a held
message to its author, the owner and moderators, and to an admin when the service's
``History`` shows it to them (the delete right; an admin's rights are the service's to
know), nothing else.

Frames: ``{"type": "ping"}`` -> ``{"type": "pong"}``. Close codes as the notifications
socket: 1008 authentication, authorization, a bad first message, removal, an expired token;
**1013** the backend is unavailable or the client is too slow (its queue of ``QUEUE_SIZE``
live facts filled, or a send did not finish in ``SEND_TIMEOUT_S``): reconnect with the last
seq received (a ``position`` counts), nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from google.protobuf.message import Message

from gateway.auth import Principal
from gateway.deps import BackendsDep, SettingsDep, VerifierDep
from gateway.errors import GatewayError, NotFound
from gateway.group_hub import QUEUE_SIZE, GroupHub, Subscription
from gateway.group_refusals import GroupRefused
from gateway.ports import GroupsPort
from gateway.routes.estimates import (
    LISTENER_ENDED,
    POLICY_VIOLATION,
    PROTOCOL,
    TRY_AGAIN_LATER,
    Refused,
    _answer_frames,
    _login,
    _offered_token,
    live_timeout,
    next_pushed,
)
from gateway.routes.notifications import _first_position
from gateway.schemas_groups import GroupId, attachments_out, message_out
from planet.content.v1 import reports_pb2 as rp
from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc

router = APIRouter(tags=["groups"])

PAGE = 100
SEND_TIMEOUT_S = 10.0
# A jump in seqs is read again; the service's store may trail the topic by a moment.
CATCH_UP_RETRIES = 20
CATCH_UP_RETRY_S = 0.05
STAFF = (ev.MEMBER_ROLE_MODERATOR, ev.MEMBER_ROLE_ADMIN, ev.MEMBER_ROLE_OWNER)
SEES_HELD = (ev.MEMBER_ROLE_MODERATOR, ev.MEMBER_ROLE_OWNER)
# Changes a message's current form shows (its text, tombstone, reaction counts).
SHOWN_IN_MESSAGE = (ev.MessageEdited, ev.MessageDeleted, ev.ReactionSet, ev.ReactionRemoved)


@router.websocket("/v1/ws/groups/{group_id}")
async def watch_group(websocket: WebSocket, group_id: GroupId, settings: SettingsDep,
                      backends: BackendsDep, verifier: VerifierDep, token: str = "") -> None:
    """A group's messages after a seq, then live; see the module's protocol."""
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
    max_bytes = settings.ws_max_message_bytes
    try:
        user = await _login(websocket, _offered_token(websocket, token), verifier, max_bytes,
                            settings.ws_auth_timeout_s)
        after = await _first_position(websocket, max_bytes, settings.ws_auth_timeout_s)
        hub, groups = backends.group_hub, backends.groups
        if hub is None or groups is None:
            raise Refused(TRY_AGAIN_LATER, "live group chats are not available here")
        viewer = await _viewer(groups, user, group_id)
        await _Stream(websocket, user, groups, hub, viewer, max_bytes,
                      settings.ws_poll_s).run(after)
    except Refused as refused:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(refused.code, refused.reason)
    except WebSocketDisconnect:
        pass


class Viewer:
    """Who watches: their role (unspecified: not a member) and the group's visibility."""

    def __init__(self, user_id: str, group_id: str, role: int, private: bool) -> None:
        self.user_id = user_id
        self.group_id = group_id
        self.role = role
        self.private = private


async def _viewer(groups: GroupsPort, user: Principal, group_id: str) -> Viewer:
    try:
        view = await groups.get_group(user, rpc.GroupRequest(actor_id=user.user_id,
                                                             group_id=group_id))
    except (GroupRefused, NotFound) as exc:
        raise Refused(POLICY_VIOLATION, exc.message) from None
    except GatewayError as exc:
        raise Refused(TRY_AGAIN_LATER, exc.message) from None
    private = view.profile.visibility == ev.GROUP_VISIBILITY_PRIVATE
    if private and view.caller_role == ev.MEMBER_ROLE_UNSPECIFIED:
        # Operators read a private group through GetGroup, but its socket is for members.
        raise Refused(POLICY_VIOLATION, "no such group")
    return Viewer(user.user_id, group_id, view.caller_role, private)


def _name(enum: Any, value: int, prefix: str) -> str:
    try:
        return str(enum.Name(value)).removeprefix(prefix).lower()
    except ValueError:
        return "other"


def frame_of(fact: Message, viewer: Viewer) -> dict[str, Any] | None:
    """The frame a live fact is for ``viewer`` (None: skipped, the cursor still moves)."""
    me, staff = viewer.user_id, viewer.role in STAFF
    if viewer.role == ev.MEMBER_ROLE_UNSPECIFIED and viewer.private:
        return None
    if isinstance(fact, ev.MessagePosted):
        return {"type": "message", "seq": fact.seq, "message": _message(fact, held=False)}
    if isinstance(fact, ev.MessageHeld):
        if fact.actor_id == me or viewer.role in SEES_HELD:
            return {"type": "message", "seq": fact.seq, "message": _message(fact, held=True)}
        return None
    if isinstance(fact, ev.MessageEdited):
        return {"type": "edit", "seq": fact.seq, "message_seq": fact.message_seq,
                "text": fact.text, "mentions": list(fact.mentions), "at_ms": fact.at_ms}
    if isinstance(fact, ev.MessageDeleted):
        out: dict[str, Any] = {"type": "delete", "seq": fact.seq,
                               "message_seq": fact.message_seq, "at_ms": fact.at_ms,
                               "by": _name(ev.DeletedBy, fact.by, "DELETED_BY_")}
        if staff:
            out["reason"] = fact.reason
        return out
    if isinstance(fact, ev.ReactionSet | ev.ReactionRemoved):
        return {"type": "reaction", "seq": fact.seq, "message_seq": fact.message_seq,
                "user_id": fact.actor_id, "emoji": fact.emoji,
                "removed": isinstance(fact, ev.ReactionRemoved), "at_ms": fact.at_ms}
    if isinstance(fact, ev.MessagePinned | ev.MessageUnpinned):
        kind = "pin" if isinstance(fact, ev.MessagePinned) else "unpin"
        return {"type": kind, "seq": fact.seq, "message_seq": fact.message_seq,
                "actor_id": fact.actor_id, "at_ms": fact.at_ms}
    if isinstance(fact, ev.GroupClosed):
        return {"type": "closed", "seq": fact.seq,
                "reason": _name(rp.PolicyReason, fact.reason, "POLICY_REASON_")}
    return None


def _message(fact: ev.MessagePosted | ev.MessageHeld, held: bool) -> dict[str, Any]:
    return {"seq": fact.seq, "author_id": fact.actor_id, "text": fact.text,
            "mentions": list(fact.mentions), "reply_to": fact.reply_to or None,
            "announcement": isinstance(fact, ev.MessagePosted) and fact.announcement,
            "at_ms": fact.at_ms, "edited_at_ms": None, "deleted": False, "held": held,
            "reactions": {},
            "attachments": [a.model_dump() for a in attachments_out(fact.attachments)]}


def removal(fact: Message, viewer: Viewer) -> str | None:
    """Why ``fact`` ends ``viewer``'s stream (None: it does not), updating their role."""
    me = viewer.user_id
    if isinstance(fact, ev.MemberKicked) and fact.user_id == me:
        return "kicked"
    if isinstance(fact, ev.MemberBanned) and fact.user_id == me:
        return "banned"
    if isinstance(fact, ev.MemberLeft) and fact.actor_id == me:
        return "left"
    if isinstance(fact, ev.MemberJoined) and fact.user_id == me:
        viewer.role = fact.role or ev.MEMBER_ROLE_MEMBER
    elif isinstance(fact, ev.MemberRoleChanged) and fact.user_id == me:
        viewer.role = fact.role
    elif isinstance(fact, ev.OwnershipTransferred):
        if fact.new_owner_id == me:
            viewer.role = ev.MEMBER_ROLE_OWNER
        elif fact.actor_id == me:
            viewer.role = ev.MEMBER_ROLE_ADMIN  # the old owner stays, below the new one
    elif isinstance(fact, ev.GroupInfoChanged):
        viewer.private = fact.profile.visibility == ev.GROUP_VISIBILITY_PRIVATE
        if viewer.private and viewer.role == ev.MEMBER_ROLE_UNSPECIFIED:
            return "private"
    return None


class _Stream:
    """One socket: catch up after a seq, then forward live facts in seq order."""

    def __init__(self, websocket: WebSocket, user: Principal, groups: GroupsPort,
                 hub: GroupHub, viewer: Viewer, max_bytes: int, poll_s: float) -> None:
        self._ws = websocket
        self._user = user
        self._groups = groups
        self._hub = hub
        self._viewer = viewer
        self._max_bytes = max_bytes
        self._poll_s = poll_s
        self._last = 0  # the last seq examined (sent or skipped)
        self._told = 0  # the last seq the client was told of
        # Messages a catch-up sent in their current form: (first seq, last seq, the group's
        # last seq when read). Dropped once the cursor passes it (nothing later is shown).
        self._current: list[tuple[int, int, int]] = []

    async def _send(self, message: dict[str, Any], sub: Subscription) -> None:
        if sub.overflowed.is_set():
            raise Refused(TRY_AGAIN_LATER, "too slow: reconnect with your last seq")
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                await self._ws.send_json(message)
        except TimeoutError:
            raise Refused(TRY_AGAIN_LATER, "too slow: reconnect with your last seq") from None
        seq = message.get("seq")
        if isinstance(seq, int):
            self._told = max(self._told, seq)

    async def _page(self) -> rpc.HistoryPage:
        try:
            return await self._groups.history(self._user, rpc.HistoryRequest(
                actor_id=self._user.user_id, group_id=self._viewer.group_id,
                around_seq=self._last + 1, before=0, after=PAGE, with_changes=True))
        except (GroupRefused, NotFound) as exc:
            raise Refused(POLICY_VIOLATION, exc.message) from None
        except GatewayError as exc:
            raise Refused(TRY_AGAIN_LATER, exc.message) from None

    async def _catch_up(self, sub: Subscription, until: int = 0, gap: bool = False) -> None:
        """Send what came after the last seq through History (messages and the changes to
        any message, older ones included, in seq order), then move the cursor to the group's
        last seq; read again while a seq known to exist (``until``, or the hub's latest) is
        beyond what the service has shown. Filling a ``gap`` before a live fact stops at
        ``until``, so the live fact itself is sent by the live path."""
        for attempt in range(CATCH_UP_RETRIES):
            while True:
                page = await self._page()
                # A page covers every fact up to through_seq (a service that does not know
                # changes answers 0: its messages, up to the last when there are no more).
                through = page.through_seq or (page.messages[-1].seq if page.has_after
                                               and page.messages else page.last_seq)
                for seq, frame in self._frames(page, min(through, until) if gap else through):
                    await self._send(frame, sub)
                    self._last = seq
                if gap and through >= until:
                    self._last = max(self._last, until)
                    return
                if through >= page.last_seq:
                    self._last = max(self._last, min(page.last_seq, until) if gap
                                     else page.last_seq)
                    break
                self._last = max(self._last, through)
            target = until if gap else max(until, self._hub.latest(self._viewer.group_id))
            if self._last >= target:
                return
            await asyncio.sleep(CATCH_UP_RETRY_S * (attempt + 1))
        if until > self._last:
            raise Refused(TRY_AGAIN_LATER, "the group's history is behind: reconnect")

    def _frames(self, page: rpc.HistoryPage, through: int) -> list[tuple[int, dict[str, Any]]]:
        """A catch-up page's frames after the cursor up to ``through`` (all of them are
        sent), in seq order: each message in its current form, each change as the live frame
        of its fact (but not the changes a message sent in its current form already shows;
        a message after ``through`` comes live as posted, so its changes are sent)."""
        out: list[tuple[int, dict[str, Any]]] = [
            (m.seq, {"type": "message", "seq": m.seq, "message": message_out(m).model_dump()})
            for m in page.messages if self._last < m.seq <= through]
        if out:
            self._current.append((out[0][0], out[-1][0], page.last_seq))
        for change in page.changes:
            name = change.WhichOneof("change")
            if name is None:
                continue
            fact = getattr(change, name)
            frame = frame_of(fact, self._viewer)
            if frame is not None and self._last < fact.seq <= through \
                    and not self._shown_already(fact):
                out.append((fact.seq, frame))
        out.sort(key=lambda item: item[0])
        return out

    def _shown_already(self, fact: Message) -> bool:
        """An edit, deletion or reaction that a message frame sent by a catch-up already
        showed (its current form was read after the fact): sending it again would count a
        reaction twice. Pins are not part of a message's form and are always sent."""
        if not isinstance(fact, SHOWN_IN_MESSAGE):
            return False
        seq, target = fact.seq, fact.message_seq
        return any(lo <= target <= hi and seq <= as_of for lo, hi, as_of in self._current)

    async def run(self, after: int) -> None:
        """Subscribe, catch up, then forward live; returns when the client leaves."""
        sub = self._hub.subscribe(self._viewer.group_id)
        listener = asyncio.create_task(_answer_frames(self._ws, self._max_bytes))
        try:
            self._last = self._told = after
            await self._catch_up(sub)
            await self._send({"type": "caught_up", "last_seq": self._last}, sub)
            self._told = self._last  # the marker told the client how far it is
            await self._forward(sub, listener)
        finally:
            self._hub.unsubscribe(sub)
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Refused, WebSocketDisconnect):
                await listener

    async def _live(self, fact: Message, sub: Subscription) -> None:
        seq: int = getattr(fact, "seq", 0)
        if seq <= self._last:
            return  # sent by the catch-up, or a redelivery
        if seq > self._last + 1:
            await self._catch_up(sub, until=seq - 1, gap=True)
            if seq <= self._last:
                return
        self._last = seq
        self._current = [c for c in self._current if c[2] >= seq]
        why = removal(fact, self._viewer)
        if why is not None:
            await self._send({"type": "removed", "seq": seq, "why": why}, sub)
            raise Refused(POLICY_VIOLATION, f"you are no longer in this group ({why})")
        frame = frame_of(fact, self._viewer)
        if frame is not None and self._shown_already(fact):
            frame = None  # the cursor still moves (a position marker tells it)
        if frame is None and isinstance(fact, ev.MessageHeld) \
                and self._viewer.role == ev.MEMBER_ROLE_ADMIN:
            frame = await self._held_for_admin(seq)
        if frame is not None:
            await self._send(frame, sub)

    async def _held_for_admin(self, seq: int) -> dict[str, Any] | None:
        """A held message as an admin may see it: only the service knows the admin's rights
        (the delete right shows held messages), so it is asked (held messages are rare)."""
        try:
            page = await self._groups.history(self._user, rpc.HistoryRequest(
                actor_id=self._user.user_id, group_id=self._viewer.group_id, around_seq=seq,
                before=0, after=0))
        except GatewayError as exc:
            raise Refused(TRY_AGAIN_LATER, exc.message) from None
        for m in page.messages:
            if m.seq == seq:
                return {"type": "message", "seq": seq, "message": message_out(m).model_dump()}
        return None

    async def _forward(self, sub: Subscription, listener: asyncio.Task[None]) -> None:
        while True:
            # No periodic wake-up: an idle socket waits for a pushed fact, a client frame's
            # outcome or its token's expiry; it polls only while it knows it is behind.
            behind = self._hub.latest(self._viewer.group_id) > self._last
            timeout = live_timeout(self._user.expires_at_s, behind, self._poll_s)
            fact = await next_pushed(sub, listener, timeout,
                                     "too slow: reconnect with your last seq")
            if fact is LISTENER_ENDED:
                return
            if fact is not None:
                await self._live(fact, sub)
            elif self._hub.latest(self._viewer.group_id) > self._last:
                await self._catch_up(sub)  # seen live before this socket subscribed
            if sub.queue.empty() and self._last > self._told:
                # Skipped facts moved the cursor: say so once the queue is drained.
                await self._send({"type": "position", "seq": self._last}, sub)


__all__ = ["QUEUE_SIZE", "router"]
