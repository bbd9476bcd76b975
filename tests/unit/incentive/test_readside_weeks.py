"""Week projections: settlements, closes, late facts, fundings, policies, held decisions."""

from __future__ import annotations

import pytest

from planet.incentive.v1.weekly_pool_pb2 import (
    FactsLate,
    HeldDecided,
    PolicyPublished,
    PoolFunded,
    WeekClosed,
    WeekCloseRequested,
    WeekSettled,
)
from services.incentive.readside.keys import UnreadableRecord
from services.incentive.readside.weeks import (
    apply_operation,
    apply_week_record,
    closed_week,
    funded_minor,
    funding,
    held_decision,
    late_facts_page,
    latest_policy,
    list_settled_weeks,
    published_policy,
)


def test_settled_weeks_once_newest_first_in_pages() -> None:
    table: dict[str, bytes] = {}
    for week in ("2026-W02", "2026-W04", "2026-W03"):
        assert apply_week_record(table, WeekSettled(week=week, merkle_root=f"r{week}"))
    before = dict(table)
    assert not apply_week_record(table, WeekSettled(week="2026-W03", merkle_root="other"))
    assert table == before
    page = list_settled_weeks(table, before_week="", limit=2)
    assert [w.week for w in page.weeks] == ["2026-W04", "2026-W03"]
    assert page.weeks[1].merkle_root == "r2026-W03"
    assert [w.week for w in list_settled_weeks(
        table, before_week=page.next_before_week, limit=2).weeks] == ["2026-W02"]


def test_the_first_close_is_kept() -> None:
    table: dict[str, bytes] = {}
    assert apply_week_record(table, WeekClosed(week="2026-W02", closed_at_ms=1, cause="grace"))
    assert not apply_week_record(table, WeekClosed(week="2026-W02", closed_at_ms=2))
    closed = closed_week(table, "2026-W02")
    assert closed is not None and closed.closed_at_ms == 1


def test_late_facts_are_listed_once_each_in_pages() -> None:
    table: dict[str, bytes] = {}

    def late(offset: int) -> FactsLate:
        return FactsLate(week="2026-W02", topic="views", partition=1, offset=offset,
                         reason="after the cut")

    for offset in (10, 11, 10, 12):  # offset 10 redelivered
        apply_week_record(table, late(offset))
    first = late_facts_page(table, "2026-W02", cursor="", limit=2)
    assert [f.offset for f in first.late] == [10, 11] and first.next_cursor == "2"
    rest = late_facts_page(table, "2026-W02", cursor=first.next_cursor, limit=2)
    assert [f.offset for f in rest.late] == [12] and rest.next_cursor == ""
    assert late_facts_page(table, "2026-W03", cursor="", limit=2).late == []


def test_a_funding_counts_once_per_id_and_remembers_which_record_counted() -> None:
    table: dict[str, bytes] = {}

    def fund(fid: str, amount: int) -> PoolFunded:
        return PoolFunded(funding_id=fid, week="2026-W05", amount_minor=amount, asset="USDT")

    assert apply_operation(table, fund("f1", 1000), "ev-a")
    assert not apply_operation(table, fund("f1", 1000), "ev-b")  # a concurrent twin
    assert not apply_operation(table, fund("f1", 1000), "ev-a")  # redelivered
    assert apply_operation(table, fund("f2", 250), "ev-c")
    assert funded_minor(table, "2026-W05") == 1250
    assert funded_minor(table, "2026-W06") == 0
    applied = funding(table, "2026-W05", "f1")
    assert applied is not None and applied["event_id"] == "ev-a"
    with pytest.raises(UnreadableRecord):
        apply_operation(table, PoolFunded(funding_id="f3", week="2026-W05", amount_minor=5,
                                          asset="EUR"), "ev-d")
    with pytest.raises(UnreadableRecord):
        apply_operation(table, fund("f4", 0), "ev-e")
    assert funded_minor(table, "2026-W05") == 1250


def test_policies_once_per_version_latest_remembered() -> None:
    table: dict[str, bytes] = {}
    p1 = PolicyPublished(version="v1", effective_week="2026-W10", policy_hash="h1")
    p2 = PolicyPublished(version="v2", effective_week="2026-W12", policy_hash="h2")
    assert apply_operation(table, p1, "e1")
    assert apply_operation(table, p2, "e2")
    assert not apply_operation(table, PolicyPublished(version="v1", effective_week="2026-W11",
                                                      policy_hash="other"), "e3")
    assert published_policy(table, "v1") == p1
    assert latest_policy(table) == p2


def test_the_first_held_decision_is_kept_and_close_requests_are_not_projected() -> None:
    table: dict[str, bytes] = {}
    release = HeldDecided(week="2026-W02", creator_id="c1", decision_id="d1",
                          decision=HeldDecided.DECISION_RELEASE)
    assert apply_operation(table, release, "e1")
    assert not apply_operation(table, HeldDecided(week="2026-W02", creator_id="c1",
                                                  decision_id="d2",
                                                  decision=HeldDecided.DECISION_FORFEIT), "e2")
    assert held_decision(table, "2026-W02", "c1") == release
    assert not apply_operation(table, WeekCloseRequested(week="2026-W02"), "e3")
