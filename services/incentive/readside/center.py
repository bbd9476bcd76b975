"""The creator center: per week and per item, activity and earnings, from the settled results
(final) and the latest estimate (the current week so far)."""

from __future__ import annotations

from planet.incentive.v1.incentive_service_pb2 import (
    CreatorCenter,
    CreatorWeekStats,
    ItemWeekStats,
    WeeklyEstimate,
)
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    ItemAmount,
    WeekActivity,
)
from planetkit.weeks import iso_week_of_ms, week_start_ms
from services.incentive.readside.codec import ReadTable
from services.incentive.readside.creators import creator_week, latest_estimate

MS_PER_WEEK = 7 * 24 * 3600 * 1000
# The widest range one call answers (a year and a week): a creator center page, not an export.
MAX_WEEKS = 53
# Weeks shown when the caller names no range: the last 8 through the current one.
DEFAULT_WEEKS = 8


def weeks_between(first: str, last: str) -> list[str]:
    """ISO weeks from ``first`` to ``last`` inclusive; ValueError when the range is reversed
    or wider than MAX_WEEKS."""
    start, end = week_start_ms(first), week_start_ms(last)
    if end < start:
        raise ValueError(f"from_week {first} is after to_week {last}")
    count = (end - start) // MS_PER_WEEK + 1
    if count > MAX_WEEKS:
        raise ValueError(f"{count} weeks asked; at most {MAX_WEEKS} per call")
    return [iso_week_of_ms(start + k * MS_PER_WEEK) for k in range(count)]


def default_range(current_week: str) -> tuple[str, str]:
    """The last DEFAULT_WEEKS weeks through ``current_week``."""
    start = week_start_ms(current_week) - (DEFAULT_WEEKS - 1) * MS_PER_WEEK
    return iso_week_of_ms(start), current_week


def _items_stats(week: str, activity: WeekActivity, amounts: list[ItemAmount], *,
                 settled: bool) -> list[ItemWeekStats]:
    by_item: dict[str, ItemWeekStats] = {}
    for a in activity.items:
        by_item[a.item_id] = ItemWeekStats(
            item_id=a.item_id, week=week, views=a.views, unique_viewers=a.unique_viewers,
            dwell_seconds=a.dwell_seconds)
    for amount in amounts:
        stats = by_item.setdefault(amount.item_id, ItemWeekStats(item_id=amount.item_id,
                                                                  week=week))
        stats.effective_interaction_milli_points = amount.interaction_milli_points
        if settled:
            stats.settled_minor = amount.amount_minor
        else:
            stats.estimated_minor = amount.amount_minor
    return [by_item[i] for i in sorted(by_item)]


def _week_stats(week: str, activity: WeekActivity, amounts: list[ItemAmount]) -> CreatorWeekStats:
    return CreatorWeekStats(
        week=week, views=activity.views, unique_viewers=activity.unique_viewers,
        dwell_seconds=activity.dwell_seconds, followers_gained=activity.followers_gained,
        effective_interaction_milli_points=sum(a.interaction_milli_points for a in amounts))


def creator_center(table: ReadTable, creator: str, weeks: list[str],
                   asset: str) -> CreatorCenter:
    """Per week of ``weeks`` (and per item in them): activity, estimated and settled money.

    A settled week shows its final result (``settled`` true); the week of the latest
    estimate, when not settled, shows the estimate so far; other weeks show zeros.
    """
    estimate: CreatorEstimate | None = latest_estimate(table, creator)
    out = CreatorCenter(creator_id=creator, asset=asset)
    for week in weeks:
        result: CreatorWeekResult | None = creator_week(table, creator, week)
        if result is not None:
            amounts = list(result.items)
            stats = _week_stats(week, result.activity, amounts)
            stats.settled_minor = result.allocated_minor
            stats.settled = True
            if estimate is not None and estimate.week == week:
                stats.estimated_minor = estimate.estimated_minor
            out.weeks.append(stats)
            out.items.extend(_items_stats(week, result.activity, amounts, settled=True))
        elif estimate is not None and estimate.week == week:
            amounts = list(estimate.items)
            stats = _week_stats(week, estimate.activity, amounts)
            stats.estimated_minor = estimate.estimated_minor
            out.weeks.append(stats)
            out.items.extend(_items_stats(week, estimate.activity, amounts, settled=False))
        else:
            out.weeks.append(CreatorWeekStats(week=week))
    return out


def weekly_estimate(creator: str, week: str, estimate: CreatorEstimate | None) -> WeeklyEstimate:
    """The legacy GetWeeklyEstimate answer, mapped from the model's CreatorEstimate.

    posts = items with activity or an amount; interactions = effective interaction points
    (whole points); engaged consumers = unique viewers; score in milli-points is the model's
    score; formula names the policy ("weekly_pool:<version>"). Zeros when the creator has no
    estimate for ``week``.
    """
    if estimate is None or estimate.week != week:
        return WeeklyEstimate(creator_id=creator, week=week, formula="weekly_pool")
    items = {a.item_id for a in estimate.activity.items} | {a.item_id for a in estimate.items}
    return WeeklyEstimate(
        creator_id=creator, week=week, posts=len(items), views=estimate.activity.views,
        dwell_seconds=estimate.activity.dwell_seconds,
        interactions=sum(a.interaction_milli_points for a in estimate.items) // 1000,
        engaged_consumers=estimate.activity.unique_viewers,
        score_milli=max(0, estimate.score),
        formula=f"weekly_pool:{estimate.policy_version}",
    )
