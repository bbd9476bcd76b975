"""Per-creator projections: settled weeks, item ledger, payout states, estimates."""

from __future__ import annotations

import pytest

from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    ItemAmount,
    PayoutStateChanged,
)
from services.incentive.readside.creators import (
    apply_creator_week,
    apply_estimate,
    apply_payout_state,
    creator_week,
    item_ledger_page,
    latest_estimate,
    list_creator_weeks,
)
from services.incentive.readside.keys import UnreadableRecord


def result(week: str, creator: str = "c1", items: dict[str, int] | None = None,
           status: str = "paid", held: int = 0) -> CreatorWeekResult:
    items = {"p1": 300, "p2": 200} if items is None else items
    total = sum(items.values())
    return CreatorWeekResult(
        week=week, creator_id=creator, status=status, allocated_minor=total,
        payable_minor=total - held, held_minor=held, asset="USDT", merkle_root=f"root-{week}",
        policy_hash=f"hash-{week}",
        items=[ItemAmount(item_id=i, amount_minor=a) for i, a in items.items()])


def test_a_redelivered_week_changes_nothing() -> None:
    table: dict[str, bytes] = {}
    assert apply_creator_week(table, result("2026-W10"))
    before = dict(table)
    assert not apply_creator_week(table, result("2026-W10"))
    # Written once: a different result for the same week is not taken either.
    assert not apply_creator_week(table, result("2026-W10", items={"p1": 999}))
    assert table == before


def test_weeks_are_listed_newest_first_in_pages_whatever_the_arrival_order() -> None:
    table: dict[str, bytes] = {}
    for week in ("2026-W10", "2026-W12", "2026-W11", "2026-W09"):
        apply_creator_week(table, result(week))
    first = list_creator_weeks(table, "c1", before_week="", limit=3)
    assert [w.week for w in first.weeks] == ["2026-W12", "2026-W11", "2026-W10"]
    assert first.next_before_week == "2026-W10"
    rest = list_creator_weeks(table, "c1", before_week=first.next_before_week, limit=3)
    assert [w.week for w in rest.weeks] == ["2026-W09"]
    assert rest.next_before_week == ""
    assert first.weeks[0].merkle_root == "root-2026-W12"
    assert first.weeks[0].payout_state == "pending"  # settled, no payout answer yet
    assert creator_week(table, "c1", "").week == "2026-W12"  # type: ignore[union-attr]
    assert creator_week(table, "c2", "") is None


def test_the_item_ledger_keeps_every_week_an_item_earned_and_its_lifetime_total() -> None:
    table: dict[str, bytes] = {}
    apply_creator_week(table, result("2026-W10", items={"p1": 300, "p2": 200}))
    apply_creator_week(table, result("2026-W11", items={"p2": 50, "p3": 0}))
    apply_creator_week(table, result("2026-W30", items={"p1": 7}))  # an old post revived
    apply_creator_week(table, result("2026-W11", items={"p2": 50}))  # redelivered
    page = item_ledger_page(table, "c1", cursor="", limit=10)
    by_item = {i.item_id: i for i in page.items}
    assert set(by_item) == {"p1", "p2"}  # p3 never earned
    assert by_item["p1"].lifetime_minor == 307
    assert [(w.week, w.amount_minor) for w in by_item["p1"].weeks] == [
        ("2026-W30", 7), ("2026-W10", 300)]
    assert by_item["p1"].weeks[0].policy_hash == "hash-2026-W30"
    assert by_item["p2"].lifetime_minor == 250
    one = item_ledger_page(table, "c1", cursor="", limit=1)
    assert [i.item_id for i in one.items] == ["p1"] and one.next_cursor == "p1"
    two = item_ledger_page(table, "c1", cursor=one.next_cursor, limit=1)
    assert [i.item_id for i in two.items] == ["p2"] and two.next_cursor == ""


def test_payout_state_latest_wins_and_a_redelivered_old_state_does_not_roll_back() -> None:
    table: dict[str, bytes] = {}
    apply_creator_week(table, result("2026-W10"))

    def change(state: str) -> PayoutStateChanged:
        return PayoutStateChanged(payout_id="pay-1", week="2026-W10", creator_id="c1",
                                  amount_minor=500, asset="USDT", state=state)

    assert apply_payout_state(table, change("pending"))
    assert apply_payout_state(table, change("paid"))
    assert not apply_payout_state(table, change("pending"))  # redelivered
    assert not apply_payout_state(table, change("paid"))
    weeks = list_creator_weeks(table, "c1", before_week="", limit=5)
    assert weeks.weeks[0].payout_state == "paid"


def test_held_and_rolled_over_weeks_show_so_before_any_payout_state() -> None:
    table: dict[str, bytes] = {}
    apply_creator_week(table, result("2026-W10", status="held", held=500))
    apply_creator_week(table, result("2026-W11", status="rolled_over"))
    states = {w.week: w.payout_state
              for w in list_creator_weeks(table, "c1", before_week="", limit=5).weeks}
    assert states == {"2026-W10": "held", "2026-W11": "rolled_over"}


def test_the_newest_estimate_wins_and_an_older_one_is_ignored() -> None:
    table: dict[str, bytes] = {}

    def est(week: str, as_of: int, minor: int) -> CreatorEstimate:
        return CreatorEstimate(week=week, creator_id="c1", as_of_ms=as_of,
                               estimated_minor=minor)

    assert apply_estimate(table, est("2026-W10", 100, 5))
    assert apply_estimate(table, est("2026-W10", 200, 7))
    assert not apply_estimate(table, est("2026-W10", 100, 5))  # redelivered older
    assert not apply_estimate(table, est("2026-W10", 200, 7))
    assert apply_estimate(table, est("2026-W11", 50, 1))  # a new week
    assert not apply_estimate(table, est("2026-W10", 900, 9))  # late, of the past week
    latest = latest_estimate(table, "c1")
    assert latest is not None and (latest.week, latest.estimated_minor) == ("2026-W11", 1)


@pytest.mark.parametrize("bad", [
    CreatorWeekResult(week="2026-W10", creator_id=""),
    CreatorWeekResult(week="2026-W10", creator_id="a|b"),
    CreatorWeekResult(week="2026-W99", creator_id="c1"),
    CreatorWeekResult(week="2026-W10", creator_id="c1",
                      items=[ItemAmount(item_id="x|y", amount_minor=1)]),
])
def test_unprojectable_results_are_refused_with_a_reason(bad: CreatorWeekResult) -> None:
    table: dict[str, bytes] = {}
    with pytest.raises(UnreadableRecord):
        apply_creator_week(table, bad)
    assert not any(k.startswith("w|") for k in table)
