"""The creator center: settled weeks from results, the current week from the estimate."""

from __future__ import annotations

import pytest

from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    ItemActivity,
    ItemAmount,
    WeekActivity,
)
from services.incentive.readside.center import (
    creator_center,
    default_range,
    weekly_estimate,
    weeks_between,
)
from services.incentive.readside.creators import apply_creator_week, apply_estimate


def activity(views: int) -> WeekActivity:
    return WeekActivity(views=views, unique_viewers=views // 2, dwell_seconds=views * 10,
                        followers_gained=3,
                        items=[ItemActivity(item_id="p1", views=views, unique_viewers=views // 2,
                                            dwell_seconds=views * 10)])


def test_settled_week_estimated_week_and_empty_week() -> None:
    table: dict[str, bytes] = {}
    apply_creator_week(table, CreatorWeekResult(
        week="2026-W10", creator_id="c1", allocated_minor=500, asset="USDT",
        activity=activity(40),
        items=[ItemAmount(item_id="p1", amount_minor=500, interaction_milli_points=2500)]))
    apply_estimate(table, CreatorEstimate(
        week="2026-W12", creator_id="c1", estimated_minor=90, score=1234, policy_version="v1",
        activity=activity(8),
        items=[ItemAmount(item_id="p1", amount_minor=90, interaction_milli_points=1000)]))
    got = creator_center(table, "c1", weeks_between("2026-W10", "2026-W12"), "USDT")
    w10, w11, w12 = got.weeks
    assert (w10.week, w10.settled, w10.settled_minor, w10.views, w10.unique_viewers,
            w10.dwell_seconds, w10.followers_gained, w10.effective_interaction_milli_points) == (
        "2026-W10", True, 500, 40, 20, 400, 3, 2500)
    assert (w11.week, w11.settled, w11.views, w11.estimated_minor) == ("2026-W11", False, 0, 0)
    assert (w12.settled, w12.estimated_minor, w12.views) == (False, 90, 8)
    items = {(i.week, i.item_id): i for i in got.items}
    assert items[("2026-W10", "p1")].settled_minor == 500
    assert items[("2026-W12", "p1")].estimated_minor == 90
    assert items[("2026-W12", "p1")].effective_interaction_milli_points == 1000
    legacy = weekly_estimate("c1", "2026-W12", CreatorEstimate.FromString(
        table["est|c1"]))
    assert (legacy.views, legacy.posts, legacy.interactions, legacy.score_milli,
            legacy.formula) == (8, 1, 1, 1234, "weekly_pool:v1")
    assert weekly_estimate("c1", "2026-W13", None).views == 0


def test_week_ranges() -> None:
    assert weeks_between("2026-W52", "2027-W02") == [
        "2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert default_range("2026-W05") == ("2025-W50", "2026-W05")  # 8 weeks
    with pytest.raises(ValueError, match="after"):
        weeks_between("2026-W05", "2026-W04")
    with pytest.raises(ValueError, match="at most"):
        weeks_between("2024-W01", "2026-W01")
