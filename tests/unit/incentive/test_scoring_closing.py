"""The week clock: grace, early close by policy version, weeks in order."""

from __future__ import annotations

from planet.incentive.v1.weekly_pool_pb2 import WeekCloseRequested
from services.incentive.domain.facts import IsoWeek
from services.incentive.scoring.closing import (
    MAX_CLOSES_PER_CALL,
    CloseRequests,
    current_week,
    first_week,
    weeks_due,
)

W48, W49, W50 = IsoWeek.parse("2026-W48"), IsoWeek.parse("2026-W49"), IsoWeek.parse("2026-W50")
HOUR = 3_600_000


def _request(week: str, rid: str) -> WeekCloseRequested:
    return WeekCloseRequested(week=week, operator_id="olga", reason="r", at_ms=1, request_id=rid)


def test_a_week_closes_once_its_grace_has_passed() -> None:
    just_before = W48.end_ms + HOUR - 1
    assert weeks_due(just_before, grace_ms=HOUR, closed=[], start="2026-W48") == ([], [])
    closes, refusals = weeks_due(W48.end_ms + HOUR, grace_ms=HOUR, closed=[], start="2026-W48")
    assert [(c.week, c.cause) for c in closes] == [("2026-W48", "grace")]
    assert refusals == []


def test_the_walk_starts_after_the_latest_closed_week_and_keeps_order() -> None:
    now = W50.end_ms + HOUR
    closes, _ = weeks_due(now, grace_ms=HOUR, closed=["2026-W47"], start="2026-W40")
    assert [c.week for c in closes] == ["2026-W48", "2026-W49", "2026-W50"]
    closes, _ = weeks_due(now, grace_ms=HOUR, closed=["2026-W47", "2026-W49"], start="2026-W40")
    assert [c.week for c in closes] == ["2026-W50"]


def test_the_walk_is_bounded_per_call() -> None:
    closes, _ = weeks_due(W50.end_ms + HOUR, grace_ms=0, closed=[], start="2024-W01")
    assert len(closes) == MAX_CLOSES_PER_CALL
    assert closes[0].week == "2024-W01"


def test_early_close_only_for_configured_policy_versions() -> None:
    requests = CloseRequests()
    assert requests.add(_request("2026-W49", "r-1"))
    assert not requests.add(_request("2026-W49", "r-1"))  # the same request again
    now = W49.start_ms + 2 * HOUR  # W49 running; W48 closed
    closes, refusals = weeks_due(now, grace_ms=HOUR, closed=["2026-W48"], start="2026-W48",
                                 policy_version=lambda w: "1", requests=requests,
                                 early_policies={"2"})
    assert closes == []
    assert [(r.week, r.request_id) for r in refusals] == [("2026-W49", "r-1")]
    assert "does not allow early close" in refusals[0].reason
    closes, refusals = weeks_due(now, grace_ms=HOUR, closed=["2026-W48"], start="2026-W48",
                                 policy_version=lambda w: "2", requests=requests,
                                 early_policies={"2"})
    assert [(c.week, c.cause) for c in closes] == [("2026-W49", "early:r-1")]
    assert refusals == []


def test_an_early_close_waits_for_earlier_weeks_and_never_closes_a_future_week() -> None:
    requests = CloseRequests()
    requests.add(_request("2026-W49", "r-1"))
    requests.add(_request("2026-W50", "r-2"))
    now = W49.start_ms + 10  # W48 still in its grace
    closes, refusals = weeks_due(now, grace_ms=HOUR, closed=["2026-W47"], start="2026-W47",
                                 policy_version=lambda w: "1", requests=requests,
                                 early_policies={"1"})
    assert closes == []
    reasons = {r.request_id: r.reason for r in refusals}
    assert reasons == {"r-1": "an earlier week (2026-W48) is still open",
                       "r-2": "the week has not started"}


def test_the_clock_starts_at_last_week_or_the_earliest_funded_week() -> None:
    now = W49.start_ms + HOUR
    assert current_week(now) == "2026-W49"
    assert first_week(now, []) == "2026-W48"
    assert first_week(now, ["2026-W45", "2026-W52"]) == "2026-W45"


def test_a_request_for_a_week_before_the_clock_is_refused_with_the_reason() -> None:
    requests = CloseRequests()
    requests.add(_request("2026-W40", "old"))
    closes, refusals = weeks_due(W49.start_ms + 10, grace_ms=HOUR, closed=[],
                                 start="2026-W48", requests=requests,
                                 policy_version=lambda w: "1", early_policies={"1"})
    assert closes == []
    assert [(r.request_id, r.reason) for r in refusals] == [
        ("old", "the job closes weeks from 2026-W48 on")]
