"""Per-creator projections: settled weeks (CREATOR_WEEKS), the per-item ledger, payout states
(PAYOUT_STATES) and the latest estimate (ESTIMATES); and the creator queries over them.

All keys start with the creator id's partition key (the three topics are keyed by creator id
and have equal partition counts), so one creator's values live on one changelog partition.

What a key holds, and why it stays bounded:
- ``w|c|week``  the CreatorWeekResult (one per settled week; the first one kept: written once);
                a creator of very many items has parts, ``w|c|week|part-N`` for N >= 2 (each
                at most 2 000 items), joined when read;
- ``ix|c``      the creator's settled weeks, newest first (one short string per settled week);
- ``it|c|item`` the item's ItemLedger: one line per week the item EARNED, newest first, and the
                lifetime total ("post once, earn forever"). It grows only with weeks the item
                earned something, never with its audience;
- ``items|c``   ids of the creator's items that ever earned, ascending (the ledger's pages), in
                chunks of at most 2 000 ids (``sorted_ids.py``: no value holds them all);
- ``pay|c|week`` the latest PayoutStateChanged of the creator's week; ``pays|c|week`` the
                (payout id, state) pairs already applied (a handful per week);
- ``est|c``     the latest CreatorEstimate (the newest week and as-of time wins).
"""

from __future__ import annotations

from planet.incentive.v1.incentive_service_pb2 import (
    CreatorWeeks,
    CreatorWeekSummary,
    ItemLedger,
    ItemLedgerPage,
    ItemLedgerWeek,
)
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    PayoutStateChanged,
)
from services.incentive.readside import sorted_ids
from services.incentive.readside.codec import (
    ReadTable,
    Table,
    insert_desc,
    page_desc,
    read_json,
    read_proto,
    write_json,
    write_proto,
)
from services.incentive.readside.keys import UnreadableRecord, check_id, check_week, key

# Payout state shown for a settled week before any PayoutStateChanged arrived for it.
_STATE_BEFORE_PAYOUT = {"paid": "pending", "rolled_over": "rolled_over", "held": "held"}


def apply_creator_week(table: Table, result: CreatorWeekResult) -> bool:
    """Project one settled creator week; False when that week was already projected.

    The result key is written last: if a crash interrupts the writes, the redelivered record
    finds no result yet and completes them (each ledger line is added once per week).
    """
    creator = check_id("creator_id", result.creator_id)
    week = check_week("week", result.week)
    # A later part of a creator of very many items (results.result_parts) sits under its own
    # key (no value holds every item) and carries only its items' ledger lines.
    later = result.part > 1
    result_key = key("w", creator, week, f"part-{result.part}") if later else key(
        "w", creator, week)
    if result_key in table:
        return False
    for item in result.items:
        if item.amount_minor != 0:
            _add_ledger_line(table, creator, item.item_id, week, item.amount_minor,
                             result.asset, result.policy_hash)
    if not later:
        weeks = insert_desc(read_json(table, key("ix", creator)) or [], week)
        if weeks is not None:
            write_json(table, key("ix", creator), weeks)
    write_proto(table, result_key, result)
    return True


def _add_ledger_line(table: Table, creator: str, item_id: str, week: str, amount: int,
                     asset: str, policy_hash: str) -> None:
    item = check_id("item_id", item_id)
    ledger_key = key("it", creator, item)
    ledger = read_proto(table, ledger_key, ItemLedger) or ItemLedger(item_id=item, asset=asset)
    if any(w.week == week for w in ledger.weeks):
        return
    lines = [*ledger.weeks, ItemLedgerWeek(week=week, amount_minor=amount,
                                           policy_hash=policy_hash)]
    lines.sort(key=lambda w: w.week, reverse=True)
    del ledger.weeks[:]
    ledger.weeks.extend(lines)
    ledger.lifetime_minor += amount
    write_proto(table, ledger_key, ledger)
    sorted_ids.add(table, key("items", creator), item)


def apply_payout_state(table: Table, change: PayoutStateChanged) -> bool:
    """Record a payout's state; False when this (payout id, state) was already applied.

    The latest is the last applied in log order (the topic is keyed by creator, so one
    creator's changes arrive in the order they were written); a redelivered older change is
    recognised by its (payout id, state) and does not roll the state back.
    """
    creator = check_id("creator_id", change.creator_id)
    week = check_week("week", change.week)
    check_id("payout_id", change.payout_id)
    if not change.state:
        raise UnreadableRecord("PayoutStateChanged lacks state")
    seen_key = key("pays", creator, week)
    seen: list[str] = read_json(table, seen_key) or []
    mark = f"{change.payout_id}/{change.state}"
    if mark in seen:
        return False
    write_proto(table, key("pay", creator, week), change)
    write_json(table, seen_key, [*seen, mark])
    return True


def apply_estimate(table: Table, estimate: CreatorEstimate) -> bool:
    """Keep the newest estimate (by week, then as-of time); False when it is not newer."""
    creator = check_id("creator_id", estimate.creator_id)
    check_week("week", estimate.week)
    est_key = key("est", creator)
    current = read_proto(table, est_key, CreatorEstimate)
    if current is not None and (estimate.week, estimate.as_of_ms) <= (current.week,
                                                                      current.as_of_ms):
        return False
    write_proto(table, est_key, estimate)
    return True


def latest_estimate(table: ReadTable, creator: str) -> CreatorEstimate | None:
    """The creator's newest estimate, or None."""
    return read_proto(table, key("est", creator), CreatorEstimate)


def creator_week(table: ReadTable, creator: str, week: str = "") -> CreatorWeekResult | None:
    """The creator's settled ``week`` (empty = the latest settled one), or None."""
    if not week:
        weeks: list[str] = read_json(table, key("ix", creator)) or []
        if not weeks:
            return None
        week = weeks[0]
    result = read_proto(table, key("w", creator, week), CreatorWeekResult)
    if result is None or result.parts <= 1:
        return result
    # Parts 2.. of a creator of very many items, joined (those projected so far).
    for n in range(2, result.parts + 1):
        part = read_proto(table, key("w", creator, week, f"part-{n}"), CreatorWeekResult)
        if part is not None:
            result.items.extend(part.items)
            result.discounts.extend(part.discounts)
            result.activity.items.extend(part.activity.items)
    return result


def payout_state(table: ReadTable, creator: str, week: str) -> PayoutStateChanged | None:
    """The latest payout state of the creator's week, or None."""
    return read_proto(table, key("pay", creator, week), PayoutStateChanged)


def list_creator_weeks(table: ReadTable, creator: str, *, before_week: str,
                       limit: int) -> CreatorWeeks:
    """Settled weeks newest first, each with its payout state, a page at a time."""
    weeks: list[str] = read_json(table, key("ix", creator)) or []
    page, next_before = page_desc(weeks, before_week, limit)
    out = CreatorWeeks(next_before_week=next_before)
    for week in page:
        result = read_proto(table, key("w", creator, week), CreatorWeekResult)
        if result is None:  # the index is written before the result: a crash in between
            continue
        state = payout_state(table, creator, week)
        out.weeks.append(CreatorWeekSummary(
            week=week, allocated_minor=result.allocated_minor,
            payable_minor=result.payable_minor, rollover_out_minor=result.rollover_out_minor,
            held_minor=result.held_minor, asset=result.asset,
            payout_state=state.state if state else _STATE_BEFORE_PAYOUT.get(result.status,
                                                                             result.status),
            merkle_root=result.merkle_root,
        ))
    return out


def item_ledger_page(table: ReadTable, creator: str, *, cursor: str, limit: int) -> ItemLedgerPage:
    """The creator's items that ever earned, by item id, after ``cursor`` (an item id)."""
    page, more = sorted_ids.page(table, key("items", creator), cursor, limit)
    out = ItemLedgerPage(next_cursor=page[-1] if more else "")
    for item in page:
        ledger = read_proto(table, key("it", creator, item), ItemLedger)
        if ledger is not None:
            out.items.append(ledger)
    return out
