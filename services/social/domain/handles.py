"""The handle index: who holds each handle, and who keeps a released one reserved until when.

Each handle's record lives on the partition of planet.social.handles.v1 its name hashes to,
and only that partition's writer decides a claim, against that record, under one write at a
time: so two users can never both hold a handle (see services/social/handlers.py).
"""

from __future__ import annotations

from planet.social.v1 import events_pb2 as ev
from planet.social.v1.state_pb2 import HandleState
from services.social.domain.errors import AlreadyExists


def check_claimable(state: HandleState | None, handle: str, user_id: str, now_ms: int) -> None:
    """AlreadyExists unless ``user_id`` may take ``handle`` now.

    Free handles may be taken; a handle held by, or reserved for, the same account may be
    taken back; a released handle is free for others once its reservation ends.
    """
    if state is None or not state.user_id or state.user_id == user_id:
        return
    if state.reserved_until_ms == 0:
        raise AlreadyExists(f"the handle @{handle} is taken")
    if state.reserved_until_ms > now_ms:
        raise AlreadyExists(f"the handle @{handle} is reserved by its previous holder")


def fold_handle(state: HandleState, payload: ev.HandleClaimed | ev.HandleReleased) -> None:
    """Apply one handles-topic event (in place); the caller bumps the version."""
    if isinstance(payload, ev.HandleClaimed):
        state.user_id = payload.user_id
        state.reserved_until_ms = 0
    elif state.user_id == payload.user_id:
        state.reserved_until_ms = payload.reserved_until_ms
