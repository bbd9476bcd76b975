"""Half-open periods [from_ms, until_ms) on a repeated Period field; until_ms 0 = still open.

Shared by the item and user folds: at most one period of a list is open (a removal, an open
identity), except sanctions, which are ended by id (user_status).
"""

from __future__ import annotations

from collections.abc import MutableSequence

from planet.incentive.v1.facts_pb2 import Period
from planetkit.envelope import UndecodableEvent


def open_period(periods: MutableSequence[Period]) -> Period | None:
    """The last period when it is still open."""
    if periods and periods[-1].until_ms == 0:
        return periods[-1]
    return None


def start(periods: MutableSequence[Period], at_ms: int, what: str) -> bool:
    """Open a period at ``at_ms``; False when one is open already (a repeat changes nothing).

    A start before the end of the previous period would make them overlap out of order: the
    record is inconsistent (UndecodableEvent, dead-lettered).
    """
    if open_period(periods) is not None:
        return False
    if periods and at_ms < periods[-1].until_ms:
        raise UndecodableEvent(f"{what} at {at_ms} starts before the previous period ended "
                               f"({periods[-1].until_ms})")
    periods.append(Period(from_ms=at_ms, until_ms=0))
    return True


def end(period: Period, at_ms: int, what: str) -> bool:
    """End ``period`` at ``at_ms``; False when it has ended by then already."""
    if period.until_ms and period.until_ms <= at_ms:
        return False
    if at_ms < period.from_ms:
        raise UndecodableEvent(f"{what} at {at_ms} ends a period that began later "
                               f"({period.from_ms})")
    period.until_ms = at_ms
    return True


def end_open(periods: MutableSequence[Period], at_ms: int, what: str) -> bool:
    """End the open period, if any, at ``at_ms``; False when none is open."""
    current = open_period(periods)
    return False if current is None else end(current, at_ms, what)
