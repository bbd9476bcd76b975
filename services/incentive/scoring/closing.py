"""The week clock: which ISO weeks (UTC) are due to close now. Pure: the caller gives the time.

A week W closes when ``now >= W's end + grace`` ("grace"), or earlier when an operator asked
(WeekCloseRequested for W) and W's policy version is one the job is configured to let close
early ("early:<request id>"). Weeks close in order: W closes only after every week before it
(from the first week the job knows) has closed, so the weeks log holds closes in week order
and each settlement can carry its predecessor's unallocated amount and rollovers. A request
that may not be honoured changes nothing: it is logged (once) and stays listed, so it takes
effect if it becomes allowed; a request for a week already closed is moot.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from planet.incentive.v1.weekly_pool_pb2 import WeekCloseRequested
from services.incentive.domain.facts import IsoWeek
from services.incentive.scoring.pool_book import next_week, previous_week

# A guard against a typo'd funding week decades ago: the clock never walks more weeks than
# this in one call (the rest close on the next calls).
MAX_CLOSES_PER_CALL = 60


@dataclass(frozen=True)
class Close:
    """A week to close now, and why."""

    week: str
    cause: str  # "grace" | "early:<request id>"


@dataclass(frozen=True)
class Refusal:
    """An early-close request that is not honoured (yet), with the reason."""

    week: str
    request_id: str
    reason: str


@dataclass
class CloseRequests:
    """Operators' early-close requests, per week, in log order (one per request id)."""

    _by_week: dict[str, list[WeekCloseRequested]] = field(default_factory=dict)
    _ids: set[str] = field(default_factory=set)

    def add(self, request: WeekCloseRequested) -> bool:
        """Fold one request; False for a duplicate request id or a malformed week."""
        key = request.request_id or f"{request.week}@{request.at_ms}:{request.operator_id}"
        if key in self._ids:
            return False
        try:
            IsoWeek.parse(request.week)
        except ValueError:
            return False
        self._ids.add(key)
        self._by_week.setdefault(request.week, []).append(request)
        return True

    def for_week(self, week: str) -> Sequence[WeekCloseRequested]:
        """The requests for ``week``, oldest first."""
        return self._by_week.get(week, ())

    def weeks(self) -> list[str]:
        """Every week someone asked to close."""
        return list(self._by_week)


def current_week(now_ms: int) -> str:
    """The ISO week (UTC) ``now_ms`` falls in."""
    return str(IsoWeek.containing(now_ms))


def first_week(now_ms: int, known: Collection[str]) -> str:
    """Where the clock starts when no week has closed yet: the earliest week an operation
    names (a funding), else the week before now (a new deployment settles last week)."""
    start = previous_week(current_week(now_ms))
    earlier = [w for w in known if IsoWeek.parse(w) < IsoWeek.parse(start)]
    return min(earlier, key=IsoWeek.parse) if earlier else start


def weeks_due(now_ms: int, *, grace_ms: int, closed: Collection[str], start: str,
              policy_version: Callable[[str], str] | None = None,
              requests: CloseRequests | None = None,
              early_policies: Collection[str] = ()) -> tuple[list[Close], list[Refusal]]:
    """The weeks to close now, in order, and the early-close requests refused on the way.

    ``start`` is the first week the clock knows (``first_week``); ``closed`` the weeks
    already closed (the walk starts after the latest of them); ``policy_version`` names a
    week's policy version (none given: no early close).
    """
    requests = requests or CloseRequests()
    latest = max(closed, key=IsoWeek.parse) if closed else None
    week = walk_start = next_week(latest) if latest is not None else start
    now_week = IsoWeek.containing(now_ms)
    closes: list[Close] = []
    refusals: list[Refusal] = []
    while IsoWeek.parse(week) <= now_week and len(closes) < MAX_CLOSES_PER_CALL:
        if now_ms >= IsoWeek.parse(week).end_ms + grace_ms:
            closes.append(Close(week, "grace"))
        else:
            early = _allowed_request(week, requests, policy_version, early_policies, refusals)
            if early is None:
                break
            closes.append(Close(week, f"early:{early.request_id}"))
        week = next_week(week)
    # Requests for weeks the walk did not reach (an earlier week still open, or a week that
    # has not started) wait; say why once per call.
    reached = {c.week for c in closes} | set(closed)
    for w in requests.weeks():
        if w in reached or any(r.week == w for r in refusals):
            continue
        if IsoWeek.parse(w) > now_week:
            reason = "the week has not started"
        elif IsoWeek.parse(w) < IsoWeek.parse(walk_start):
            reason = f"the job closes weeks from {walk_start} on"
        else:
            reason = f"an earlier week ({week}) is still open"
        refusals.extend(Refusal(w, r.request_id, reason) for r in requests.for_week(w))
    return closes, refusals


def _allowed_request(week: str, requests: CloseRequests,
                     versions: Callable[[str], str] | None,
                     early_policies: Collection[str],
                     refusals: list[Refusal]) -> WeekCloseRequested | None:
    pending = requests.for_week(week)
    if not pending:
        return None
    version = versions(week) if versions is not None else None
    if version is not None and version in early_policies:
        return pending[0]
    refusals.extend(Refusal(week, r.request_id,
                            f"policy {version!r} of {week} does not allow early close")
                    for r in pending)
    return None
