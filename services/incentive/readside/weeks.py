"""Week-level projections: INCENTIVE_WEEKS (closes, settlements, late facts) and
INCENTIVE_OPERATIONS (fundings, policies, held decisions); and the queries over them.

Both topics have one partition (keyed by week), so these keys share one changelog partition.

What a key holds, and why it stays bounded:
- ``settled|week`` the WeekSettled (first one kept: a week is settled once);
- ``settled-ix``   every settled week, newest first (one short string per week: 52 a year);
- ``closed|week``  the WeekClosed with its cut (first one kept);
- ``late|week|n``  the week's n-th FactsLate; ``late-id|week|topic|partition|offset`` its n
                   (so a redelivered record is not listed twice); ``late-n|week`` the count.
                   One key per late record, never a growing value;
- ``fund|week|funding id`` the first PoolFunded of that id (its envelope's event id, so a
                   caller can tell whether ITS request was the one applied); ``funded|week``
                   the week's funded total;
- ``policy|version`` the first PolicyPublished of a version; ``policy-latest`` the latest;
- ``held|week|creator`` the first HeldDecided of the creator's week.
"""

from __future__ import annotations

from planet.incentive.v1.incentive_service_pb2 import LateFactsPage, SettledWeeks
from planet.incentive.v1.weekly_pool_pb2 import (
    FactsLate,
    HeldDecided,
    PolicyPublished,
    PoolFunded,
    WeekClosed,
    WeekCloseRequested,
    WeekSettled,
)
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

WeekRecord = WeekClosed | WeekSettled | FactsLate
Operation = PoolFunded | PolicyPublished | WeekCloseRequested | HeldDecided


def apply_week_record(table: Table, record: WeekRecord) -> bool:
    """Project one record of INCENTIVE_WEEKS; False when it changed nothing."""
    week = check_week("week", record.week)
    if isinstance(record, WeekSettled):
        settled_key = key("settled", week)
        if settled_key in table:
            return False
        weeks = insert_desc(read_json(table, "settled-ix") or [], week)
        if weeks is not None:
            write_json(table, "settled-ix", weeks)
        write_proto(table, settled_key, record)
        return True
    if isinstance(record, WeekClosed):
        closed_key = key("closed", week)
        if closed_key in table:
            return False
        write_proto(table, closed_key, record)
        return True
    return _apply_late(table, week, record)


def _apply_late(table: Table, week: str, late: FactsLate) -> bool:
    topic = check_id("topic", late.topic)
    id_key = key("late-id", week, topic, str(late.partition), str(late.offset))
    if id_key in table:
        return False
    n = int(read_json(table, key("late-n", week)) or 0)
    write_proto(table, key("late", week, f"{n:012d}"), late)
    write_json(table, id_key, n)
    write_json(table, key("late-n", week), n + 1)
    return True


def apply_operation(table: Table, op: Operation, event_id: str) -> bool:
    """Project one record of INCENTIVE_OPERATIONS; False when it changed nothing.

    ``event_id`` is the record's envelope id: kept with a funding, so FundPool can answer
    whether the record IT wrote is the one that counted.
    """
    if isinstance(op, PoolFunded):
        return _apply_funding(table, op, event_id)
    if isinstance(op, PolicyPublished):
        version_key = key("policy", check_id("version", op.version))
        check_week("effective_week", op.effective_week)
        if version_key in table:
            return False
        write_proto(table, version_key, op)
        write_proto(table, "policy-latest", op)
        return True
    if isinstance(op, HeldDecided):
        held_key = key("held", check_week("week", op.week), check_id("creator_id", op.creator_id))
        if held_key in table:
            return False
        write_proto(table, held_key, op)
        return True
    # WeekCloseRequested: the scoring job's to honour or refuse; its WeekClosed is projected.
    return False


def _apply_funding(table: Table, funded: PoolFunded, event_id: str) -> bool:
    week = check_week("week", funded.week)
    fund_key = key("fund", week, check_id("funding_id", funded.funding_id))
    if fund_key in table:
        return False
    if funded.amount_minor <= 0:
        raise UnreadableRecord(f"PoolFunded {funded.funding_id}: amount_minor must be > 0")
    total = read_json(table, key("funded", week)) or {"asset": funded.asset, "total": 0}
    if total["asset"] != funded.asset:
        raise UnreadableRecord(f"PoolFunded {funded.funding_id}: asset {funded.asset!r} is not "
                               f"the week's {total['asset']!r}")
    write_json(table, key("funded", week),
                {"asset": funded.asset, "total": int(total["total"]) + funded.amount_minor})
    write_json(table, fund_key, {"event_id": event_id, "amount_minor": funded.amount_minor,
                                 "asset": funded.asset})
    return True


def funding(table: ReadTable, week: str, funding_id: str) -> dict[str, object] | None:
    """The applied funding ``funding_id`` of ``week`` (event_id, amount_minor, asset), or None."""
    value = read_json(table, key("fund", week, funding_id))
    return dict(value) if value is not None else None


def funded_minor(table: ReadTable, week: str) -> int:
    """The week's funded total so far (fundings only)."""
    value = read_json(table, key("funded", week))
    return int(value["total"]) if value else 0


def settled_week(table: ReadTable, week: str) -> WeekSettled | None:
    """The week's settlement, or None while it is not settled."""
    return read_proto(table, key("settled", week), WeekSettled)


def closed_week(table: ReadTable, week: str) -> WeekClosed | None:
    """The week's close (with its cut), or None while it is open."""
    return read_proto(table, key("closed", week), WeekClosed)


def latest_policy(table: ReadTable) -> PolicyPublished | None:
    """The last published policy, or None."""
    return read_proto(table, "policy-latest", PolicyPublished)


def published_policy(table: ReadTable, version: str) -> PolicyPublished | None:
    """The policy published under ``version``, or None."""
    return read_proto(table, key("policy", version), PolicyPublished)


def held_decision(table: ReadTable, week: str, creator: str) -> HeldDecided | None:
    """The decision on a creator's held week, or None while undecided."""
    return read_proto(table, key("held", week, creator), HeldDecided)


def list_settled_weeks(table: ReadTable, *, before_week: str, limit: int) -> SettledWeeks:
    """Settled weeks newest first, a page at a time."""
    page, next_before = page_desc(read_json(table, "settled-ix") or [], before_week, limit)
    out = SettledWeeks(next_before_week=next_before)
    for week in page:
        settled = settled_week(table, week)
        if settled is not None:
            out.weeks.append(settled)
    return out


def late_facts_page(table: ReadTable, week: str, *, cursor: str, limit: int) -> LateFactsPage:
    """The week's late facts in arrival order; ``cursor`` is the next index ("" = first)."""
    start = int(cursor) if cursor else 0
    count = int(read_json(table, key("late-n", week)) or 0)
    end = min(count, start + limit)
    out = LateFactsPage(next_cursor=str(end) if end < count else "")
    for n in range(start, end):
        late = read_proto(table, key("late", week, f"{n:012d}"), FactsLate)
        if late is not None:
            out.late.append(late)
    return out
