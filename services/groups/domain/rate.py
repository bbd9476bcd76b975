"""Slow mode and anti-flood, from one member's rate state and ``now`` (integers only)."""

from __future__ import annotations

from services.groups.domain.limits import FloodLimit
from services.groups.domain.state import RateState


def _ceil_s(ms: int) -> int:
    return max(1, -(-ms // 1_000))


def slow_mode_wait_s(rate: RateState | None, slow_mode_s: int, now_ms: int) -> int:
    """Seconds left before the member may post again under slow mode (0: may post now)."""
    if rate is None or slow_mode_s <= 0:
        return 0
    left_ms = rate.last_message_ms + slow_mode_s * 1_000 - now_ms
    return _ceil_s(left_ms) if left_ms > 0 else 0


def credit_at(rate: RateState | None, flood: FloodLimit, now_ms: int) -> int:
    """The member's flood credit at ``now_ms`` (full when they never posted)."""
    if rate is None:
        return flood.capacity_ms
    elapsed = max(0, now_ms - rate.last_message_ms)
    return min(flood.capacity_ms, rate.credit_ms + elapsed)


def flood_wait_s(rate: RateState | None, flood: FloodLimit, now_ms: int) -> int:
    """Seconds until the bucket holds one message again (0: may post now)."""
    missing = flood.interval_ms - credit_at(rate, flood, now_ms)
    return _ceil_s(missing) if missing > 0 else 0


def after_message(rate: RateState | None, group: str, user: str, flood: FloodLimit,
                  at_ms: int) -> RateState:
    """The rate state once a message was accepted at ``at_ms`` (the fold uses it too)."""
    credit = credit_at(rate, flood, at_ms) - flood.interval_ms
    return RateState(group_id=group, user_id=user, last_message_ms=at_ms,
                     credit_ms=max(0, credit))
