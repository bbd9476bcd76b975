"""A creator of very many items: the settled result in parts that each fit a record, joined
back whole by the readers; the estimate listing the top items with the count; the read
side's ledger index of such a creator in bounded chunks, paged in id order."""

from __future__ import annotations

import json
import random

from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    DiscountLine,
    ItemActivity,
    ItemAmount,
    ProofStep,
    TierAmount,
)
from services.incentive.readside import sorted_ids
from services.incentive.readside.creators import (
    apply_creator_week,
    creator_week,
    item_ledger_page,
)
from services.incentive.scoring.results import (
    ESTIMATE_ITEMS,
    PART_ITEMS,
    _keep_top_items,
    join_parts,
    result_parts,
)


def _big(n: int, week: str = "2026-W10", creator: str = "c1") -> CreatorWeekResult:
    r = CreatorWeekResult(
        week=week, creator_id=creator, creator_int_id=7, status="paid", score=9,
        allocated_minor=n, payable_minor=n, asset="USDT", merkle_root="root",
        policy_version="1", policy_hash="h",
        items=[ItemAmount(item_id=f"p{i:06d}", item_int_id=i, amount_minor=1)
               for i in range(n)],
        tiers=[TierAmount(tier="t1", amount_minor=n, consumers=3)],
        discounts=[DiscountLine(reason="self", item_id=f"p{i:06d}", events=1)
                   for i in range(0, n, 3)] + [DiscountLine(reason="cap", events=2)],
        proof=[ProofStep(sibling="ab", sibling_is_left=True)])
    r.activity.views = n
    r.activity.items.extend(ItemActivity(item_id=f"p{i:06d}", views=1) for i in range(n))
    return r


def test_a_small_result_is_one_record_unchanged() -> None:
    small = _big(PART_ITEMS)
    assert result_parts(small) == [small] and small.parts == 0


def test_parts_fit_and_join_back_byte_identical() -> None:
    whole = _big(5 * PART_ITEMS + 17)
    parts = result_parts(whole)
    assert [p.part for p in parts] == [1, 2, 3, 4, 5, 6] and {p.parts for p in parts} == {6}
    assert all(len(p.items) <= PART_ITEMS and len(p.activity.items) <= PART_ITEMS
               for p in parts)
    assert all(p.ByteSize() < 400_000 for p in parts)
    assert parts[0].allocated_minor == whole.allocated_minor and parts[1].allocated_minor == 0
    # Log order shuffled across creators, a part redelivered: joined whole, once.
    other = _big(3)
    other.creator_id = "c2"
    joined, problems = join_parts([parts[0], other, *reversed(parts[1:]), parts[2]])
    assert problems == []
    assert [j.SerializeToString(deterministic=True) for j in joined] == [
        whole.SerializeToString(deterministic=True), other.SerializeToString(deterministic=True)]


def test_a_missing_part_is_named_not_joined() -> None:
    parts = result_parts(_big(3 * PART_ITEMS))
    joined, problems = join_parts([parts[0], parts[2]])
    assert joined == [] and problems == ["creator c1 week 2026-W10: parts [2] of 3 missing"]
    joined, problems = join_parts(parts[1:])
    assert joined == [] and len(problems) == 1 and "without their part 1" in problems[0]


def test_the_read_side_joins_parts_and_writes_every_ledger_line() -> None:
    table: dict[str, bytes] = {}
    whole = _big(2 * PART_ITEMS + 5)
    for part in result_parts(whole):
        assert apply_creator_week(table, part)
        assert not apply_creator_week(table, part)  # redelivered: nothing more
    got = creator_week(table, "c1", "2026-W10")
    assert got is not None and got.parts == 3
    got.part = got.parts = 0
    assert got.SerializeToString(deterministic=True) == whole.SerializeToString(
        deterministic=True)
    seen, cursor = [], ""
    while True:
        page = item_ledger_page(table, "c1", cursor=cursor, limit=700)
        seen += [i.item_id for i in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [f"p{i:06d}" for i in range(2 * PART_ITEMS + 5)]
    assert max(len(v) for v in table.values()) < 400_000


def test_an_estimate_lists_its_top_items_with_the_count() -> None:
    n = ESTIMATE_ITEMS + 50
    e = CreatorEstimate(week="2026-W10", creator_id="c1", estimated_minor=10 * n,
                        items=[ItemAmount(item_id=f"p{i:05d}", item_int_id=i,
                                          amount_minor=i % 97) for i in range(n)],
                        discounts=[DiscountLine(reason="cap", events=1),
                                   *(DiscountLine(reason="self", item_id=f"p{i:05d}")
                                     for i in range(n))])
    e.activity.items.extend(ItemActivity(item_id=f"p{i:05d}", views=i) for i in range(n))
    _keep_top_items(e)
    assert e.items_total == n and len(e.items) == ESTIMATE_ITEMS
    kept = {i.item_id for i in e.items}
    dropped = [i for i in range(n) if f"p{i:05d}" not in kept]
    assert max(i % 97 for i in dropped) <= min(i.amount_minor for i in e.items)
    assert [i.item_int_id for i in e.items] == sorted(i.item_int_id for i in e.items)
    assert {a.item_id for a in e.activity.items} == kept
    assert [d.reason for d in e.discounts if not d.item_id] == ["cap"]
    assert {d.item_id for d in e.discounts if d.item_id} == kept
    assert e.estimated_minor == 10 * n


def test_sorted_ids_page_in_order_in_bounded_chunks() -> None:
    rng = random.Random(5)
    table: dict[str, bytes] = {}
    ids = [f"i{rng.randrange(10**9):09d}" for _ in range(7_000)]
    for v in ids:
        sorted_ids.add(table, "items|c", v)
    assert not sorted_ids.add(table, "items|c", ids[123])
    want = sorted(set(ids))
    assert max(len(json.loads(v)) for k, v in table.items() if k != "items|c") <= 2 * 1_000
    got, after = [], ""
    while True:
        page, more = sorted_ids.page(table, "items|c", after, 333)
        got += page
        if not more:
            break
        after = page[-1]
    assert got == want
    assert sorted_ids.page(table, "items|c", want[-1], 10) == ([], False)


def test_the_old_single_list_is_read_and_converted() -> None:
    table: dict[str, bytes] = {"items|c": json.dumps(["b", "d"]).encode()}
    assert sorted_ids.page(table, "items|c", "", 10) == (["b", "d"], False)
    assert sorted_ids.add(table, "items|c", "c")
    assert not sorted_ids.add(table, "items|c", "d")
    assert sorted_ids.page(table, "items|c", "b", 10) == (["c", "d"], False)
