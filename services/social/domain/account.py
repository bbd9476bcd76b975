"""One account's state (identity, profile, KYC, sanctions): decisions and the fold.

Decisions take the current state and a command and return the event to append, or raise
the refusal; the fold applies an appended event to the state. Both are pure, so the same
fold rebuilds a store from the log and applies a fresh append, and a redelivered event is
skipped by its version (an account's events are numbered 1, 2, 3... on its topic).
"""

from __future__ import annotations

import hashlib

from google.protobuf.message import Message

from planet.social.v1 import events_pb2 as ev
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1.state_pb2 import AccountState
from services.social.domain.errors import AlreadyExists, Invalid, NotFound, Precondition
from services.social.domain.validation import ProfileFields

OPEN = rpc.IDENTITY_STATUS_OPEN
SUSPENDED = rpc.IDENTITY_STATUS_SUSPENDED
CLOSED = rpc.IDENTITY_STATUS_CLOSED
ACTIVE = rpc.SANCTION_STATUS_ACTIVE
LIFTED = rpc.SANCTION_STATUS_LIFTED
EXPIRED = rpc.SANCTION_STATUS_EXPIRED

KYC_REQUIRED = "KYC verification required: complete identity verification on the exchange first"
NO_IDENTITY = "open a creator identity first"
SUSPENDED_REASON = "identity suspended"
CLOSED_REASON = "identity closed"


def profile_pb(fields: ProfileFields) -> ev.Profile:
    """The event form of a checked profile."""
    return ev.Profile(display_name=fields.display_name, bio=fields.bio,
                      avatar_url=fields.avatar_url, links=list(fields.links),
                      topics=list(fields.topics))


def sanction_id_for(user_id: str, version: int) -> str:
    """A sanction's id: derived from the account and the event's version, so stable on replay."""
    digest = hashlib.sha256(f"sanction\x00{user_id}\x00{version}".encode()).hexdigest()
    return f"sanc_{digest[:20]}"


def has_identity(state: AccountState) -> bool:
    """Whether an identity was ever opened (closed ones included)."""
    return state.status != rpc.IDENTITY_STATUS_UNSPECIFIED


# --- decisions -----------------------------------------------------------------------------

def open_identity(
    state: AccountState, user_id: str, handle: str, profile: ProfileFields, now_ms: int
) -> ev.CreatorIdentityOpened:
    """Open an identity: KYC-verified accounts that never had one."""
    if not state.kyc_verified_at_ms:
        raise Precondition(KYC_REQUIRED)
    if has_identity(state):
        raise AlreadyExists(f"this account already has a creator identity (@{state.handle})")
    return ev.CreatorIdentityOpened(user_id=user_id, handle=handle, profile=profile_pb(profile),
                                    opened_at_ms=now_ms)


def _live(state: AccountState) -> None:
    if not has_identity(state):
        raise NotFound("no creator identity for this account")
    if state.status == CLOSED:
        raise Precondition(CLOSED_REASON)


def change_handle(
    state: AccountState, user_id: str, handle: str, now_ms: int, reservation_ms: int
) -> ev.HandleChanged:
    """Change the handle; the old one stays reserved for this account for ``reservation_ms``."""
    _live(state)
    if handle == state.handle:
        raise AlreadyExists(f"@{handle} is already this identity's handle")
    return ev.HandleChanged(user_id=user_id, old_handle=state.handle, new_handle=handle,
                            old_reserved_until_ms=now_ms + reservation_ms, changed_at_ms=now_ms)


def update_profile(
    state: AccountState, user_id: str, profile: ProfileFields, now_ms: int
) -> ev.ProfileUpdated:
    """Replace the public profile."""
    _live(state)
    return ev.ProfileUpdated(user_id=user_id, profile=profile_pb(profile), updated_at_ms=now_ms)


def suspend(state: AccountState, user_id: str, reason: str, operator: str,
            now_ms: int) -> ev.IdentitySuspended:
    """An operator suspends an open identity."""
    _live(state)
    if state.status == SUSPENDED:
        raise Precondition("identity is already suspended")
    return ev.IdentitySuspended(user_id=user_id, reason=reason, operator_id=operator, at_ms=now_ms)


def reinstate(state: AccountState, user_id: str, reason: str, operator: str,
              now_ms: int) -> ev.IdentityReinstated:
    """An operator reinstates a suspended identity."""
    _live(state)
    if state.status != SUSPENDED:
        raise Precondition("identity is not suspended")
    return ev.IdentityReinstated(user_id=user_id, reason=reason, operator_id=operator,
                                 at_ms=now_ms)


def close(state: AccountState, user_id: str, reason: str, operator: str, now_ms: int,
          reservation_ms: int) -> ev.IdentityClosed:
    """An operator closes an identity (for good); its handle stays reserved a while."""
    _live(state)
    return ev.IdentityClosed(user_id=user_id, reason=reason, operator_id=operator, at_ms=now_ms,
                             handle_reserved_until_ms=now_ms + reservation_ms)


def sanction(state: AccountState, user_id: str, reason: str, until_ms: int, operator: str,
             now_ms: int) -> ev.AccountSanctioned:
    """An operator sanctions any account (creator or not), until a date or with none."""
    if until_ms and until_ms <= now_ms:
        raise Invalid("until_ms must be in the future (or 0 for no end date)")
    return ev.AccountSanctioned(user_id=user_id, sanction_id=sanction_id_for(
        user_id, state.version + 1), reason=reason, until_ms=until_ms, operator_id=operator,
        at_ms=now_ms)


def _sanction(state: AccountState, sanction_id: str) -> rpc.Sanction:
    for s in state.sanctions:
        if s.sanction_id == sanction_id:
            return s
    raise NotFound(f"no sanction {sanction_id[:40]!r} on this account")


def status_of(s: rpc.Sanction, now_ms: int) -> int:
    """A sanction's status now: active, lifted, or expired (its end date passed)."""
    if s.status == LIFTED:
        return LIFTED
    if s.until_ms and s.until_ms <= now_ms:
        return EXPIRED
    return ACTIVE


def lift(state: AccountState, user_id: str, sanction_id: str, reason: str, operator: str,
         now_ms: int) -> ev.SanctionLifted:
    """An operator lifts an active sanction."""
    s = _sanction(state, sanction_id)
    if status_of(s, now_ms) != ACTIVE:
        raise Precondition("the sanction is no longer active")
    return ev.SanctionLifted(user_id=user_id, sanction_id=sanction_id, reason=reason,
                             operator_id=operator, at_ms=now_ms)


def appeal(state: AccountState, user_id: str, sanction_id: str, text: str,
           now_ms: int) -> ev.SanctionAppealed:
    """The account holder appeals one sanction, once."""
    s = _sanction(state, sanction_id)
    if s.appealed:
        raise AlreadyExists("this sanction was already appealed: an appeal is made once")
    if status_of(s, now_ms) != ACTIVE:
        raise Precondition("the sanction is no longer active")
    return ev.SanctionAppealed(user_id=user_id, sanction_id=sanction_id, text=text, at_ms=now_ms)


def set_track_record_visibility(state: AccountState, user_id: str, hidden: bool,
                                now_ms: int) -> ev.TrackRecordVisibilitySet | None:
    """The creator of an open identity hides or shows their track record; None when it
    already is as asked (nothing to append). The figures themselves are never theirs."""
    if not has_identity(state):
        raise NotFound("no creator identity for this account")
    if state.status != OPEN:
        raise Precondition("only an open identity sets its track record's visibility")
    if state.track_record_hidden == hidden:
        return None
    return ev.TrackRecordVisibilitySet(user_id=user_id, hidden=hidden, at_ms=now_ms)


def decide_appeal(state: AccountState, user_id: str, sanction_id: str, grant: bool, note: str,
                  operator: str, now_ms: int) -> ev.AppealDecided:
    """An operator decides a sanction's appeal, once: a grant lifts the sanction from now on
    (when it still stands); a denial leaves it as it is."""
    s = _sanction(state, sanction_id)
    if not s.appealed:
        raise Precondition("this sanction has not been appealed: there is nothing to decide")
    if s.appeal_decision:
        raise AlreadyExists(f"this appeal was already decided ({s.appeal_decision}): an "
                            "appeal is decided once")
    return ev.AppealDecided(user_id=user_id, sanction_id=sanction_id, granted=grant, note=note,
                            operator_id=operator, at_ms=now_ms)


def publisher_refusal(state: AccountState) -> str:
    """"" when the account may publish now; else why not, for the end user."""
    if not has_identity(state):
        return NO_IDENTITY
    if state.status == SUSPENDED:
        return SUSPENDED_REASON
    if state.status == CLOSED:
        return CLOSED_REASON
    return ""


# --- the fold ------------------------------------------------------------------------------

def fold(state: AccountState, payload: Message) -> None:
    """Apply one identities-topic event to ``state`` (in place); the caller bumps the version."""
    if isinstance(payload, ev.CreatorIdentityOpened):
        state.handle = payload.handle
        state.profile.CopyFrom(payload.profile)
        state.status = OPEN
        state.opened_at_ms = payload.opened_at_ms
    elif isinstance(payload, ev.HandleChanged):
        state.previous_handles.append(payload.old_handle)
        state.handle = payload.new_handle
    elif isinstance(payload, ev.ProfileUpdated):
        state.profile.CopyFrom(payload.profile)
    elif isinstance(payload, ev.IdentitySuspended):
        state.status = SUSPENDED
    elif isinstance(payload, ev.IdentityReinstated):
        state.status = OPEN
    elif isinstance(payload, ev.IdentityClosed):
        state.status = CLOSED
    elif isinstance(payload, ev.AccountSanctioned):
        state.sanctions.append(rpc.Sanction(
            sanction_id=payload.sanction_id, user_id=payload.user_id, reason=payload.reason,
            until_ms=payload.until_ms, operator_id=payload.operator_id, at_ms=payload.at_ms,
            status=ACTIVE))
    elif isinstance(payload, ev.SanctionAppealed):
        s = _find(state, payload.sanction_id)
        if s is not None:
            s.appealed = True
            s.appeal_text = payload.text
    elif isinstance(payload, ev.SanctionLifted):
        s = _find(state, payload.sanction_id)
        if s is not None:
            s.status = LIFTED
            s.lifted_reason = payload.reason
            s.lifted_at_ms = payload.at_ms
    elif isinstance(payload, ev.AppealDecided):
        s = _find(state, payload.sanction_id)
        if s is not None:
            s.appeal_decision = "granted" if payload.granted else "denied"
            s.appeal_note = payload.note
            s.appeal_decided_at_ms = payload.at_ms
            # A grant lifts from its own moment, and only a sanction still standing then (one
            # already lifted or past its end keeps when and why it ended).
            if payload.granted and status_of(s, payload.at_ms) == ACTIVE:
                s.status = LIFTED
                s.lifted_reason = payload.note
                s.lifted_at_ms = payload.at_ms
    elif isinstance(payload, ev.TrackRecordVisibilitySet):
        state.track_record_hidden = payload.hidden


def _find(state: AccountState, sanction_id: str) -> rpc.Sanction | None:
    for s in state.sanctions:
        if s.sanction_id == sanction_id:
            return s
    return None


def identity_pb(user_id: str, state: AccountState) -> rpc.Identity:
    """The account's identity as the API returns it."""
    return rpc.Identity(user_id=user_id, handle=state.handle, profile=state.profile,
                        status=state.status, opened_at_ms=state.opened_at_ms,
                        previous_handles=list(state.previous_handles), version=state.version)


def home_page(user_id: str, state: AccountState) -> rpc.HomePage:
    """The public home page of an identity."""
    p = state.profile
    return rpc.HomePage(user_id=user_id, handle=state.handle, display_name=p.display_name,
                        bio=p.bio, avatar_url=p.avatar_url, links=list(p.links),
                        topics=list(p.topics), status=state.status,
                        opened_at_ms=state.opened_at_ms)
