"""Trade fees → the per-UTC-day quote values of a UserStatus, for a trailing window only.

The model weighs a consumer by their fees of the 30 UTC days before a week
(services/incentive/scoring/week_inputs.py); the status keeps WINDOW_DAYS days counted back
from the newest fee day folded in: those 30, the week itself, and 8 more days, because the
settlement reads the status as it stood at the week's cut, which a user trading on may have
moved up to a day past the week's end (the grace), or more when a close runs late. No value
grows with a user's history: an older day is dropped as a newer one arrives, and a fee older
than the window is not counted.
The window moves with the log (the newest fee day), never with a clock, so a replay folds
the same.

Each fee is counted once by fee id: the ids already summed are kept per (user, day), as 8-byte
BLAKE2b digests, in the caller's table (``seen`` here), and dropped with their day. They are
not in the published UserStatus (``fee_ids`` stays empty): a heavy trader's ids would make
every status record, written on every fee, as large as their month of trading.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from planet.exchange.v2.events_pb2 import TradeFeeCharged
from planet.incentive.v1.facts_pb2 import DayFees, UserStatus
from planetkit.envelope import DomainEvent, UndecodableEvent
from planetkit.upcasters import fee_quote_value
from services.incentive.intake.interaction_facts import occurred_at
from services.incentive.intake.user_status import fresh

DAY_MS = 86_400_000
# 30 trailing days + the 7 of the week + 8 for the grace and a late close.
WINDOW_DAYS = 45
_DIGEST = 8
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class FeeChange:
    """The user's new status, the day's new seen-ids value, and the days dropped."""

    status: UserStatus
    day: int
    seen: bytes
    dropped_days: tuple[int, ...]


def fee_digest(fee_id: str) -> bytes:
    """The 8 bytes remembered for a fee id (collisions within one user's day: ~2^-64)."""
    return hashlib.blake2b(fee_id.encode(), digest_size=_DIGEST).digest()


def seen_key(user_id: str, day: int) -> str:
    """The seen-ids table key of one user's day."""
    return f"{user_id}|{day}"


def fee_day(event: DomainEvent[TradeFeeCharged]) -> int:
    """The UTC day (days since the epoch) a fee was charged."""
    at = occurred_at(event, event.payload.charged_at_ms)
    if at <= 0:
        raise UndecodableEvent(f"fee {event.payload.fee_id or event.event_id} has no time")
    return at // DAY_MS


def fold_fee(current: UserStatus | None, event: DomainEvent[TradeFeeCharged], quote_asset: str,
             seen: bytes | None) -> FeeChange | None:
    """Add a (checked, v2) fee's quote value to its day; None when already counted or older
    than the window. ``seen`` is the day's seen-ids value (None = none yet).

    UndecodableEvent when the fee has no value in ``quote_asset`` (fee_quote_value says why),
    a negative one, or the day was summed under another asset.
    """
    fee = event.payload
    if not fee.user_id:
        raise UndecodableEvent(f"fee {fee.fee_id or event.event_id} lacks user_id")
    fee_id = fee.fee_id or event.event_id
    value = fee_quote_value(fee, quote_asset)
    if value.amount_minor < 0:
        raise UndecodableEvent(f"fee {fee_id} has a negative quote value")
    day = fee_day(event)
    status = fresh(fee.user_id, current)
    newest = max([day, *(d.day for d in status.fees)])
    oldest_kept = newest - WINDOW_DAYS + 1
    if day < oldest_kept:
        return None  # outside the trailing window already: never needed again
    digest = fee_digest(fee_id)
    seen = seen or b""
    if any(seen[i:i + _DIGEST] == digest for i in range(0, len(seen), _DIGEST)):
        return None
    days = {d.day: d for d in status.fees}
    entry = days.get(day) or DayFees(day=day, quote_minor=0, quote_asset=quote_asset)
    if entry.quote_asset != quote_asset:
        raise UndecodableEvent(f"fee {fee_id} not counted: day {day} of user {fee.user_id} "
                               f"was summed in {entry.quote_asset}, not {quote_asset}")
    total = entry.quote_minor + value.amount_minor
    if total > _INT64_MAX:
        raise UndecodableEvent(f"fee {fee_id}: day {day} of user {fee.user_id} would exceed "
                               "int64 minor units")
    entry = DayFees(day=day, quote_minor=total, quote_asset=quote_asset)
    days[day] = entry
    dropped = tuple(sorted(d for d in days if d < oldest_kept))
    kept = [days[d] for d in sorted(days) if d >= oldest_kept]
    del status.fees[:]
    status.fees.extend(kept)
    status.updated_at_ms = max(status.updated_at_ms, occurred_at(event, fee.charged_at_ms))
    return FeeChange(status, day, seen + digest, dropped)
