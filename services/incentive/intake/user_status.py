"""KYC, creator identities and account sanctions → one user's whole UserStatus.

- KYC: the first verification's time stays (a repeat changes nothing).
- Identity: a period opens at CreatorIdentityOpened / IdentityReinstated and ends at
  IdentitySuspended / IdentityClosed (social's own rules decide which may follow which; this
  mirrors its log).
- Sanctions: one period per sanction id, [at, until) (until 0 = no end date); SanctionLifted
  or a granted AppealDecided ends it at their time, when it still stood then. The period's
  index per sanction id is kept by the caller (``sanction_index``), not in UserStatus.

Times are the source records' own (payload, else envelope). Fees: ``fee_window``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from google.protobuf.message import Message

from planet.exchange.v1.events_pb2 import KycVerified
from planet.incentive.v1.facts_pb2 import Period, UserStatus
from planet.social.v1 import events_pb2 as social
from planetkit.envelope import DomainEvent, UndecodableEvent
from services.incentive.intake import periods
from services.incentive.intake.interaction_facts import occurred_at

KYC_TYPES: tuple[type[Message], ...] = (KycVerified,)
IDENTITY_TYPES: tuple[type[Message], ...] = (
    social.CreatorIdentityOpened, social.HandleChanged, social.ProfileUpdated,
    social.IdentitySuspended, social.IdentityReinstated, social.IdentityClosed,
    social.AccountSanctioned, social.SanctionAppealed, social.SanctionLifted,
    social.AppealDecided, social.TrackRecordVisibilitySet,
)


@dataclass(frozen=True)
class UserChange:
    """A user's new whole status, and the sanction id whose period index is new (if any)."""

    status: UserStatus
    new_sanction: tuple[str, int] | None = None


def user_of(event: DomainEvent[Message]) -> str:
    """The user an event of the KYC or identities topic is about."""
    user_id = getattr(event.payload, "user_id", "")
    if not isinstance(user_id, str) or not user_id:
        raise UndecodableEvent(f"{type(event.payload).__name__} {event.event_id} lacks user_id")
    return user_id


def fresh(user_id: str, current: UserStatus | None) -> UserStatus:
    """A copy of ``current`` to change (the caller's stays as it was)."""
    status = UserStatus(user_id=user_id)
    if current is not None:
        status.CopyFrom(current)
    return status


def fold_user(current: UserStatus | None, event: DomainEvent[Message],
              sanction_index: Mapping[str, int]) -> UserChange | None:
    """The user's new whole status after a KYC or identities event; None when unchanged."""
    user_id = user_of(event)
    status = fresh(user_id, current)
    before = status.SerializeToString(deterministic=True)
    p = event.payload
    name = f"{type(p).__name__} {event.event_id}"
    new_sanction: tuple[str, int] | None = None
    if isinstance(p, KycVerified):
        at = occurred_at(event, p.verified_at_ms)
        if not status.kyc_verified_at_ms or at < status.kyc_verified_at_ms:
            status.kyc_verified_at_ms = at
    elif isinstance(p, social.CreatorIdentityOpened):
        periods.start(status.identity_open, occurred_at(event, p.opened_at_ms), name)
    elif isinstance(p, social.IdentityReinstated):
        periods.start(status.identity_open, occurred_at(event, p.at_ms), name)
    elif isinstance(p, social.IdentitySuspended | social.IdentityClosed):
        periods.end_open(status.identity_open, occurred_at(event, p.at_ms), name)
    elif isinstance(p, social.AccountSanctioned):
        new_sanction = _sanction(status, p, event, sanction_index, name)
    elif isinstance(p, social.SanctionLifted) or (
        isinstance(p, social.AppealDecided) and p.granted
    ):
        index = sanction_index.get(p.sanction_id)
        if index is None or index >= len(status.sanctioned):
            raise UndecodableEvent(f"{name} ends sanction {p.sanction_id!r}, never seen for "
                                   f"user {user_id}")
        periods.end(status.sanctioned[index], occurred_at(event, p.at_ms), name)
    if status.SerializeToString(deterministic=True) == before:
        return None
    status.updated_at_ms = max(status.updated_at_ms, occurred_at(event, _time(p)))
    return UserChange(status, new_sanction)


def _sanction(status: UserStatus, p: social.AccountSanctioned, event: DomainEvent[Message],
              sanction_index: Mapping[str, int], name: str) -> tuple[str, int] | None:
    if not p.sanction_id:
        raise UndecodableEvent(f"{name} lacks sanction_id")
    if p.sanction_id in sanction_index:
        return None  # already folded: a repeat changes nothing
    at = occurred_at(event, p.at_ms)
    if p.until_ms and p.until_ms <= at:
        raise UndecodableEvent(f"{name}: sanction ends ({p.until_ms}) before it starts ({at})")
    status.sanctioned.append(Period(from_ms=at, until_ms=p.until_ms))
    return (p.sanction_id, len(status.sanctioned) - 1)


def _time(p: Message) -> int:
    for field in ("verified_at_ms", "opened_at_ms", "at_ms", "updated_at_ms", "changed_at_ms"):
        if hasattr(p, field):
            value = getattr(p, field)
            if isinstance(value, int):
                return value
    return 0
