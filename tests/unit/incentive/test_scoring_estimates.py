"""The estimate: written only when a creator's estimate changed; a creator who drops out of
the week gets one zero estimate; the live week is the same input a settlement builds."""

from __future__ import annotations

from planet.incentive.v1.facts_pb2 import ItemStatus, Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import CreatorEstimate, ItemAmount, WeekActivity
from planetkit.fact_rows import VIEW, FactRow, build_facts
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import settle
from services.incentive.scoring.estimates import EstimateTracker, LiveWeek, fingerprint
from services.incentive.scoring.results import estimates
from services.incentive.scoring.week_inputs import WeekInputs

WEEK = "2026-W48"
W = IsoWeek.parse(WEEK)
KW = {"as_of_ms": 5, "pool_minor": 1000, "asset": "USDT", "policy_version": "1",
      "policy_hash": "h"}


def _estimate(creator: str, amount: int, as_of: int = 1) -> CreatorEstimate:
    return CreatorEstimate(week=WEEK, creator_id=creator, as_of_ms=as_of,
                           estimated_minor=amount, score=amount, asset="USDT", pool_minor=1000,
                           items=[ItemAmount(item_id="p", amount_minor=amount)],
                           activity=WeekActivity(views=1))


def test_only_changed_estimates_are_written() -> None:
    tracker = EstimateTracker()
    fresh = {"ana": _estimate("ana", 600), "bo": _estimate("bo", 400)}
    assert [e.creator_id for e in tracker.changed(WEEK, fresh, **KW)] == ["ana", "bo"]
    for e in fresh.values():
        tracker.observe(e)
    # Same numbers later: nothing to write (the time alone is no change).
    later = {"ana": _estimate("ana", 600, as_of=9), "bo": _estimate("bo", 400, as_of=9)}
    assert tracker.changed(WEEK, later, **KW) == []
    moved = {"ana": _estimate("ana", 550), "bo": _estimate("bo", 400)}
    assert [e.creator_id for e in tracker.changed(WEEK, moved, **KW)] == ["ana"]
    assert fingerprint(_estimate("ana", 1, as_of=1)) == fingerprint(_estimate("ana", 1, as_of=2))


def test_a_creator_who_drops_out_gets_one_zero_estimate() -> None:
    tracker = EstimateTracker()
    tracker.observe(_estimate("ana", 600))
    out = tracker.changed(WEEK, {}, **KW)
    assert [(e.creator_id, e.estimated_minor, e.week) for e in out] == [("ana", 0, WEEK)]
    tracker.observe(out[0])
    assert tracker.changed(WEEK, {}, **KW) == []
    # An estimate of an earlier week is not zeroed by the new week.
    assert tracker.changed("2026-W49", {}, **KW) == []


def _statuses(live: LiveWeek | WeekInputs) -> None:
    for user in ("ana", "con-1", "con-2"):
        live.set_user(UserStatus(user_id=user, kyc_verified_at_ms=1,
                                 identity_open=[Period(from_ms=1)]))
    live.set_item(ItemStatus(item_id="p", creator_id="ana"))


def _records() -> list:  # type: ignore[type-arg]
    return [build_facts(f"r{i}", f"con-{i}", [
        FactRow(f"e{i}", "p", "ana", W.start_ms + 1000 * i, VIEW, 30 * i)]) for i in (1, 2)]


def test_the_live_week_fed_record_by_record_equals_a_whole_build() -> None:
    live = LiveWeek(W)
    _statuses(live)
    whole = WeekInputs(W)
    _statuses(whole)
    for rows in _records():
        live.add_facts(rows)
        whole.add_facts(rows)
    a = live.build(pool_minor=1000, rollovers={}, quote_asset="USDT", as_of_ms=W.end_ms)
    b = whole.build(pool_minor=1000, rollovers={}, quote_asset="USDT", status_at_ms=W.end_ms)
    ra = settle(a.facts, default_policy(), as_of_ms=W.end_ms)
    rb = settle(b.facts, default_policy(), as_of_ms=W.end_ms)
    assert ra == rb
    est = estimates(ra, a, "USDT", W.end_ms)
    assert est["ana"].estimated_minor == 1000
    assert est["ana"].activity.views == 2


def test_rolling_to_a_new_week_keeps_the_statuses() -> None:
    live = LiveWeek(W)
    _statuses(live)
    nxt = IsoWeek.parse("2026-W49")
    live.roll(nxt)
    assert live.records == 0 and live.week == nxt
    live.add_facts(build_facts("r", "con-1", [
        FactRow("e", "p", "ana", nxt.start_ms + 5, VIEW, 60)]))
    built = live.build(pool_minor=10, rollovers={}, quote_asset="USDT", as_of_ms=nxt.end_ms)
    result = settle(built.facts, default_policy(), as_of_ms=nxt.end_ms)
    assert estimates(result, built, "USDT", 1)["ana"].estimated_minor == 10
