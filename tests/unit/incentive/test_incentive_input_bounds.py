"""Inputs the model cannot represent are refused where they enter it (issue 14).

Each hole found in testing is reproduced here as it manifested (a negative kind paid as the
last kind of the points table, a dwell sum that wrapped int64 and then paid, an item without an
`ItemStatus` handed to the smallest creator id seen, policy values so large that products
wrapped), together with its siblings. Every refusal is an `UnrepresentableInput` (a
`ValueError`) naming the field, the value and what is allowed; both entry points are covered:
plain fact objects (`EngagementColumns.from_facts`) and int64 columns given directly.
Valid input at the edges of the allowed ranges still settles exactly.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest

from services.incentive.domain.breakdown import WeekResult
from services.incentive.domain.facts import (
    MAX_DWELL_SECONDS,
    MAX_ID,
    MAX_MONEY_MINOR,
    MS_PER_DAY,
    ConsumerValue,
    CreatorStatus,
    EngagementColumns,
    EngagementFact,
    EventKind,
    InteractionFact,
    IsoWeek,
    ItemStatus,
    Rollover,
    UnrepresentableInput,
    ViewFact,
    WeekFacts,
)
from services.incentive.domain.policy import ScoringPolicy, default_policy
from services.incentive.domain.settlement import settle

POLICY = default_policy()
WEEK = IsoWeek(2026, 10)
MON = WEEK.start_ms + 9 * 3_600_000
CONSUMERS = (ConsumerValue(100, 50_000, True), ConsumerValue(101, 50_000, True))
CREATORS = tuple(CreatorStatus(c, True, True) for c in (1, 2, 5))
COLUMNS = ("event_id", "consumer_id", "creator_id", "item_id", "occurred_at_ms", "kind",
           "dwell_seconds", "text_length")
Row = tuple[int, int, int, int, int, int, int, int]  # in COLUMNS order
# Creator 2's ordinary engagement, beside every row under test: a fair share to compare with.
FAIR: Row = (900, 101, 2, 21, MON, int(EventKind.VIEW), 100, 0)


def columns(rows: list[Row]) -> EngagementColumns:
    """The columnar entry point: int64 columns built directly, not from fact objects."""
    table = np.array(rows, dtype=np.int64).reshape(len(rows), 8)
    return EngagementColumns(*(np.ascontiguousarray(table[:, i]) for i in range(8)))


def week(events: EngagementColumns, items: tuple[ItemStatus, ...] = (),
         pool: int = 10_000) -> WeekFacts:
    return WeekFacts(WEEK, pool, events, CONSUMERS, CREATORS, items)


def refused(field: str) -> pytest.RaisesExc[UnrepresentableInput]:
    """The error must name the field (its message starts with it)."""
    return pytest.raises(UnrepresentableInput, match=rf"^{field}")


# ---------------------------------------------------------------------------------------------
# Event kinds


@pytest.mark.parametrize("kind", [-1, -7, -8, int(max(EventKind)) + 1, 1 << 40])
def test_a_kind_outside_event_kind_is_refused_in_columns(kind: int) -> None:
    # Before: kind -1 indexed the points table from its end and was paid as a QA (60 points);
    # kind 8 (then past the last kind) was discounted as 'out_of_window', a reason that does
    # not say what happened.
    with refused(r"events\.kind\[0\]") as info:
        columns([(1, 100, 1, 11, MON, kind, 0, 0), FAIR])
    assert info.value.value == kind and info.value.allowed == f"[0, {int(max(EventKind))}]"


def test_a_kind_outside_event_kind_is_refused_from_fact_objects() -> None:
    bad = InteractionFact(1, 100, 1, 11, MON, -1, 0)  # type: ignore[arg-type]
    with refused(r"facts\[0\]\.kind"):
        EngagementColumns.from_facts([bad])
    view_as_interaction = InteractionFact(1, 100, 1, 11, MON, 0, 0)  # type: ignore[arg-type]
    with refused(r"facts\[0\]\.kind"):
        EngagementColumns.from_facts([view_as_interaction])


def test_every_event_kind_is_still_accepted_and_paid_by_its_points() -> None:
    rows: list[Row] = [(k + 1, 100, 1, 11, MON + k, k, 600 if k == 0 else 0, 40 if k else 0)
                       for k in map(int, EventKind)]
    result = settle(week(columns(rows)), POLICY)
    creator = result.creator(1)
    assert creator is not None and creator.allocated_minor == 10_000
    # Dwell 600 s, and interactions capped at 200 points for the (consumer, creator, day).
    assert creator.items[0].dwell_seconds == 600
    assert creator.items[0].interaction_milli_points == 200_000


# ---------------------------------------------------------------------------------------------
# Dwell


def test_dwell_that_would_wrap_int64_is_refused() -> None:
    # Before: (2**63 - 1) + (2**63 - 1) + 602 summed to 600 in int64 and paid 600 s of dwell.
    rows: list[Row] = [(1, 100, 1, 11, MON, 0, MAX_ID, 0), (2, 100, 1, 11, MON + 1, 0, MAX_ID, 0),
                       (3, 100, 1, 11, MON + 2, 0, 602, 0), FAIR]
    with refused(r"events\.dwell_seconds\[0\]") as info:
        columns(rows)
    assert info.value.value == MAX_ID and info.value.allowed == f"[0, {MAX_DWELL_SECONDS}]"


@pytest.mark.parametrize("dwell", [-1, -300, MAX_DWELL_SECONDS + 1])
def test_dwell_outside_a_week_of_seconds_is_refused_on_both_paths(dwell: int) -> None:
    # Before: a negative view was discounted as 'below_min_dwell' with negative seconds.
    with refused(r"events\.dwell_seconds\[1\]"):
        columns([FAIR, (1, 100, 1, 11, MON, 0, dwell, 0)])
    with refused(r"events\.dwell_seconds\[1\]"):
        EngagementColumns.from_facts([ViewFact(7, 100, 1, 11, MON, 10),
                                      ViewFact(8, 100, 1, 11, MON, dwell)])


def test_the_largest_dwell_sums_exactly() -> None:
    # 1 000 views of the largest dwell on one (consumer, item, day): capped at 600 s, and the
    # cap's discount is the exact excess (no wrap anywhere on the way).
    n = 1_000
    rows: list[Row] = [(1 + i, 100, 1, 11, MON + i, 0, MAX_DWELL_SECONDS, 0) for i in range(n)]
    result = settle(week(columns([*rows, FAIR])), POLICY)
    creator = result.creator(1)
    assert creator is not None
    assert creator.items[0].dwell_seconds == POLICY.dwell_cap_seconds
    (cap,) = [d for d in creator.discounts if d.reason == "dwell_cap"]
    assert cap.quantity == n * MAX_DWELL_SECONDS - POLICY.dwell_cap_seconds


def test_dwell_on_an_interaction_and_text_on_a_view_are_refused() -> None:
    # Columns can say what fact objects cannot: the model would silently ignore both.
    with refused(r"events\.dwell_seconds\[0\]"):
        columns([(1, 100, 1, 11, MON, int(EventKind.LIKE), 30, 0)])
    with refused(r"events\.text_length\[0\]"):
        columns([(1, 100, 1, 11, MON, int(EventKind.VIEW), 30, 12)])


# ---------------------------------------------------------------------------------------------
# Item ownership


def mis_tagged() -> list[Row]:
    """Creator 5's item 55 is read for 600 s by two consumers; one 5 s view of it is tagged
    with creator 1."""
    return [(1, 100, 5, 55, MON, 0, 600, 0), (2, 101, 5, 55, MON, 0, 600, 0),
            (3, 101, 1, 55, MON + 5, 0, 5, 0)]


def test_an_item_without_status_named_by_two_creators_is_refused() -> None:
    # Before: the item went to the smallest creator id seen, so creator 1 was paid the whole
    # pool for one 5 s view and creator 5's 1 200 s were discounted as 'unknown_item'.
    facts = week(columns(mis_tagged()))
    with refused(r"events\.creator_id of item 55") as info:
        settle(facts, POLICY)
    assert info.value.value == [1, 5]
    with refused(r"events\.creator_id of item 55"):  # the estimate too
        settle(facts, POLICY, as_of_ms=MON + 1)
    # Also when the odd event would be dropped anyway (here: a duplicate event id).
    dup: list[Row] = [(1, 100, 5, 55, MON, 0, 600, 0), (1, 100, 1, 55, MON, 0, 600, 0)]
    with refused(r"events\.creator_id of item 55"):
        settle(week(columns(dup)), POLICY)


def test_an_item_whose_status_names_its_owner_keeps_its_earnings() -> None:
    result = settle(week(columns(mis_tagged()), items=(ItemStatus(55, 5),)), POLICY)
    assert result.amounts() == {1: 0, 5: 10_000}
    one = result.creator(1)
    assert one is not None
    assert [(d.reason, d.item_id, d.events) for d in one.discounts] == [("unknown_item", 55, 1)]


@pytest.mark.parametrize("owner", [-1, MAX_ID + 1])
def test_an_item_status_owner_outside_the_ids_is_refused(owner: int) -> None:
    # Before: owner -1 is the model's own 'no status' mark, so the item fell back to the
    # smallest creator id seen again.
    with refused(r"items\[0\]\.creator_id") as info:
        week(columns(mis_tagged()), items=(ItemStatus(55, owner),))
    assert info.value.value == owner


def test_a_removal_time_beyond_int64_is_refused() -> None:
    with refused(r"items\[0\]\.removed_at_ms"):
        week(columns(mis_tagged()), items=(ItemStatus(55, 5, 1 << 63),))


# ---------------------------------------------------------------------------------------------
# Ids, text, timestamps


@pytest.mark.parametrize("column", ["event_id", "consumer_id", "creator_id", "item_id"])
def test_negative_ids_are_refused_on_both_paths(column: str) -> None:
    # Before: a negative creator id reached the results, and a paid one broke the Merkle leaf.
    row = list(FAIR)
    row[COLUMNS.index(column)] = -1
    with refused(rf"events\.{column}\[1\]") as info:
        columns([FAIR, (row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7])])
    assert info.value.allowed == f"[0, {MAX_ID}]"
    fact = dataclasses.replace(ViewFact(1, 100, 1, 11, MON, 60), **{column: -1})
    with refused(rf"events\.{column}\[0\]"):
        EngagementColumns.from_facts([fact])


def test_id_zero_is_an_ordinary_id() -> None:
    rows: list[Row] = [(0, 100, 1, 0, MON, 0, 600, 0), FAIR]
    assert settle(week(columns(rows)), POLICY).amounts()[1] > 0


def test_ids_beyond_int64_from_fact_objects_are_refused_by_name() -> None:
    with refused(r"facts\[1\]\.item_id") as info:
        EngagementColumns.from_facts([ViewFact(1, 100, 1, 11, MON, 60),
                                      ViewFact(2, 100, 1, MAX_ID + 1, MON, 60)])
    assert info.value.value == MAX_ID + 1


def test_a_fact_value_that_is_not_an_integer_is_refused_not_truncated() -> None:
    # Before: numpy cast 5.7 s of dwell to 5 s without a word.
    with refused(r"facts\[1\]\.dwell_seconds") as info:
        EngagementColumns.from_facts([ViewFact(1, 100, 1, 11, MON, 60),
                                      ViewFact(2, 100, 1, 11, MON, 5.7)])  # type: ignore[arg-type]
    assert info.value.value == 5.7


def test_status_values_that_are_not_int64_integers_are_refused() -> None:
    with refused(r"items\[1\]\.item_id"):
        week(columns([FAIR]), items=(ItemStatus(21, 2), ItemStatus(22.0, 2)))  # type: ignore[arg-type]
    with refused(r"consumers\[0\]\.consumer_id"):
        WeekFacts(WEEK, 1, columns([FAIR]), (ConsumerValue(-5, 0, True),))
    with refused(r"creators\[2\]\.creator_id"):
        WeekFacts(WEEK, 1, columns([FAIR]), (),
                  (*CREATORS[:2], CreatorStatus(MAX_ID + 1, True, True)))
    with refused(r"items\[0\]\.removed_at_ms"):
        week(columns([FAIR]), items=(ItemStatus(21, 2, MON + 0.5),))  # type: ignore[arg-type]


def test_two_facts_about_one_id_are_refused_by_name() -> None:
    with refused(r"creators\[3\]\.creator_id") as info:
        WeekFacts(WEEK, 1, columns([FAIR]), (), (*CREATORS, CreatorStatus(2, False, True)))
    assert info.value.value == 2 and "duplicate creator id" in str(info.value)


def test_fees_may_be_large_or_negative_but_must_be_integers() -> None:
    # Beyond int64 and negative (rebates) fees are taken as documented: full and no weight.
    ok = (ConsumerValue(100, 1 << 70, True), ConsumerValue(101, -5, True))
    settle(WeekFacts(WEEK, 1, columns([FAIR]), ok, CREATORS), POLICY)
    with refused(r"consumers\[1\]\.trailing_fees_minor"):
        WeekFacts(WEEK, 1, columns([FAIR]), (ConsumerValue(100, 1, True),
                                             ConsumerValue(101, 5_000.9, True)))  # type: ignore[arg-type]


@pytest.mark.parametrize("as_of", [1.5, 1 << 63])
def test_an_estimate_time_that_is_not_an_int64_is_refused(as_of: object) -> None:
    with refused("as_of_ms"):
        settle(week(columns([FAIR])), POLICY, as_of_ms=as_of)  # type: ignore[arg-type]


def test_negative_text_length_is_refused_on_both_paths() -> None:
    # Before: discounted as 'short_text', hiding a broken producer.
    with refused(r"events\.text_length\[0\]"):
        columns([(1, 100, 1, 11, MON, int(EventKind.COMMENT), 0, -5)])
    with refused(r"events\.text_length\[0\]"):
        EngagementColumns.from_facts([InteractionFact(1, 100, 1, 11, MON, EventKind.COMMENT,
                                                      -5)])


@pytest.mark.parametrize("at", [-(1 << 63), -1, 0, WEEK.start_ms - 1, WEEK.end_ms, MAX_ID])
def test_any_int64_time_outside_the_week_is_a_discount_not_an_error(at: int) -> None:
    # The model represents these: late and early events are discounted with their reason.
    result = settle(week(columns([(1, 100, 1, 11, at, 0, 600, 0), FAIR])), POLICY)
    one = result.creator(1)
    assert one is not None and one.allocated_minor == 0
    assert [(d.reason, d.events) for d in one.discounts] == [("out_of_window", 1)]


def test_checked_columns_cannot_be_changed_through_the_facts() -> None:
    events = columns([FAIR])
    with pytest.raises(ValueError, match="read-only"):
        events.kind[0] = -1


def test_columns_must_be_int64_vectors_of_one_length() -> None:
    good = columns([FAIR])
    with pytest.raises(UnrepresentableInput, match=r"^events\.kind"):
        EngagementColumns(**{**{c: getattr(good, c) for c in COLUMNS},
                             "kind": good.kind.astype(np.float64)})


# ---------------------------------------------------------------------------------------------
# Money


@pytest.mark.parametrize("pool", [-1, MAX_MONEY_MINOR + 1, 1 << 64])
def test_a_pool_outside_int64_money_is_refused(pool: int) -> None:
    # Before: a pool of 2**64 settled until the Merkle leaf's 8-byte amount overflowed.
    with refused("pool_minor") as info:
        week(columns([FAIR]), pool=pool)
    assert info.value.value == pool


def test_a_pool_that_is_not_an_integer_is_refused() -> None:
    with refused("pool_minor"):
        week(columns([FAIR]), pool=10_000.0)  # type: ignore[arg-type]
    with refused("pool_minor"):
        week(columns([FAIR]), pool=True)


def test_pool_and_rollovers_together_must_fit_int64() -> None:
    # Before: a rollover of 2**63 was accepted and paid out as 2**63 minor units.
    with refused(r"rollovers\[0\]\.amount_minor"):
        WeekFacts(WEEK, 10, columns([FAIR]), CONSUMERS, CREATORS, (),
                  (Rollover(2, MAX_MONEY_MINOR),))
    with refused(r"rollovers\[1\]\.amount_minor"):
        WeekFacts(WEEK, 0, columns([FAIR]), CONSUMERS, CREATORS, (),
                  (Rollover(1, 5), Rollover(2, -1)))
    edge = WeekFacts(WEEK, MAX_MONEY_MINOR - 7, columns([FAIR]), CONSUMERS, CREATORS, (),
                     (Rollover(1, 7),))
    result = settle(edge, POLICY)
    assert result.amounts()[2] == MAX_MONEY_MINOR - 7
    assert_money_adds_up(result)


# ---------------------------------------------------------------------------------------------
# Policies


def assert_money_adds_up(result: WeekResult) -> None:
    assert sum(c.allocated_minor for c in result.creators) + result.unallocated_minor \
        == result.pool_minor
    for c in result.creators:
        assert min(c.allocated_minor, c.payable_minor, c.held_minor, c.rollover_out_minor) >= 0
        assert sum(i.amount_minor for i in c.items) == (c.allocated_minor if c.items else 0)


INT_FIELDS = [f.name for f in dataclasses.fields(ScoringPolicy) if f.type == "int"]


@pytest.mark.parametrize("field", INT_FIELDS)
def test_every_policy_integer_beyond_int64_is_refused(field: str) -> None:
    with refused(f"policy.{field}") as info:
        POLICY.evolve(version="x", **{field: 1 << 63})
    assert info.value.value == 1 << 63


@pytest.mark.parametrize("field", INT_FIELDS)
@pytest.mark.parametrize("value", [-1, 2.0, True, "3"])
def test_every_policy_integer_must_be_a_non_negative_int(field: str, value: object) -> None:
    # Before: 100.0 or "3" passed (they hash fine) and failed deep inside a settlement.
    with refused(f"policy.{field}"):
        POLICY.evolve(version="x", **{field: value})


@pytest.mark.parametrize("field", ["fee_per_weight_minor", "budget_units_per_weight",
                                   "concavity_scale", "saturation_points"])
def test_a_policy_divisor_of_zero_is_refused(field: str) -> None:
    with refused(f"policy.{field}") as info:
        POLICY.evolve(version="x", **{field: 0})
    assert info.value.value == 0


def points(**changes: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((k, changes.get(k, v)) for k, v in POLICY.interaction_points)


@pytest.mark.parametrize("value", [-30, 1 << 63, 30.0, False])
def test_interaction_points_must_be_non_negative_int64(value: object) -> None:
    # Before: COMMENT at -30 points was accepted, and a creator whose only engagement was a
    # comment was still paid (the negative points' isqrt came out as credit 1).
    with refused(r"policy\.interaction_points\[COMMENT\]"):
        POLICY.evolve(version="x", interaction_points=points(COMMENT=value))


def test_a_points_table_missing_or_repeating_a_kind_is_refused() -> None:
    missing = tuple(p for p in POLICY.interaction_points if p[0] != "QA")
    with refused(r"policy\.interaction_points"):
        POLICY.evolve(version="x", interaction_points=missing)
    with refused(r"policy\.interaction_points"):
        POLICY.evolve(version="x", interaction_points=(*POLICY.interaction_points, ("QA", 1)))
    with refused(r"policy\.interaction_points"):
        POLICY.evolve(version="x", interaction_points=(*POLICY.interaction_points, ("VIEW", 1)))


def test_tier_bounds_must_be_int64_integers() -> None:
    with refused(r"policy\.tier_lower_bounds\[1\]"):
        POLICY.evolve(version="x", tier_lower_bounds=(0, 1 << 63))
    with refused(r"policy\.tier_lower_bounds\[1\]"):
        POLICY.evolve(version="x", tier_lower_bounds=(0, 1.5))
    with refused(r"policy\.tier_lower_bounds"):
        POLICY.evolve(version="x", tier_lower_bounds=(0, 5, 2))


@pytest.mark.parametrize("changes, named", [
    # Before: each of these settled with wrapped int64 products (wrong amounts, or an error
    # deep in rounding): 600 s * 2**54 points, points * 2**60, or 2**62 capped points.
    ({"dwell_points_per_second": 1 << 54}, "dwell_points_per_second"),
    ({"concavity_scale": 1 << 60}, "concavity_scale"),
    ({"interaction_cap_points": 1 << 62}, "interaction_cap_points"),
    ({"interaction_points": points(QA=1 << 50)}, "interaction_points"),
    ({"dwell_cap_seconds": 1 << 40, "dwell_points_per_second": 1 << 10}, "dwell_cap_seconds"),
])
def test_policies_whose_products_could_wrap_are_refused(changes: dict[str, Any],
                                                        named: str) -> None:
    with pytest.raises(UnrepresentableInput, match=r"^policy\.") as info:
        POLICY.evolve(version="x", **changes)
    assert named in str(info.value) and "events)" in str(info.value)


def test_a_refused_policy_is_refused_when_decoded_too() -> None:
    raw = json.loads(POLICY.canonical_bytes())
    raw["concavity_scale"] = 1 << 60
    with refused(r"policy\."):
        ScoringPolicy.from_canonical(json.dumps(raw).encode())
    raw = json.loads(POLICY.canonical_bytes())
    raw["min_dwell_seconds"] = 5.0
    with refused(r"policy\.min_dwell_seconds"):
        ScoringPolicy.from_canonical(json.dumps(raw).encode())


def largest_accepted(field: str) -> int:
    """The largest value of `field` the policy accepts, all else default (binary search)."""
    lo: int = getattr(POLICY, field)
    hi = MAX_ID
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            POLICY.evolve(version="x", **{field: mid})
        except UnrepresentableInput:
            hi = mid - 1
        else:
            lo = mid
    return lo


@pytest.mark.parametrize("field", ["dwell_points_per_second", "concavity_scale",
                                   "interaction_cap_points", "dwell_cap_seconds"])
def test_the_largest_accepted_policy_values_settle_without_wrapping(field: str) -> None:
    value = largest_accepted(field)
    assert value > getattr(POLICY, field)  # the bound leaves room for real tuning
    policy = POLICY.evolve(version="x", **{field: value})
    # Heavy engagement at the largest dwell, many interactions, two creators of unequal
    # engagement: amounts add up, nothing is negative, and more engagement earns no less.
    rows: list[Row] = []
    for i in range(400):
        rows.append((1 + i, 100, 1, 11, MON + i, 0, MAX_DWELL_SECONDS, 0))
        rows.append((1_000 + i, 100, 1, 12, MON + MS_PER_DAY + i, int(EventKind.QA), 0, 99))
    rows += [(5_000, 100, 2, 21, MON, 0, 30, 0), (5_001, 101, 2, 21, MON, 0, 30, 0)]
    result = settle(week(columns(rows)), policy)
    assert_money_adds_up(result)
    one, two = result.creator(1), result.creator(2)
    assert one is not None and two is not None and one.score > 0 and two.score > 0


def test_the_default_policy_and_the_worked_example_values_are_accepted() -> None:
    again = ScoringPolicy.from_canonical(POLICY.canonical_bytes())
    assert again == POLICY


def test_the_error_is_a_value_error_with_its_parts() -> None:
    with pytest.raises(ValueError) as info:
        columns([(1, 100, 1, 11, MON, -1, 0, 0)])
    err = info.value
    assert isinstance(err, UnrepresentableInput)
    assert (err.field, err.value, err.allowed) == ("events.kind[0]", -1,
                                                 f"[0, {int(max(EventKind))}]")
    assert str(err).startswith(f"events.kind[0] = -1 is outside [0, {int(max(EventKind))}]")


def test_fact_objects_and_columns_are_checked_alike() -> None:
    facts: list[EngagementFact] = [ViewFact(1, 100, 1, 11, MON, 60),
                                   InteractionFact(2, 100, 1, 11, MON, EventKind.LIKE)]
    via_objects = EngagementColumns.from_facts(facts)
    via_columns = columns([(1, 100, 1, 11, MON, 0, 60, 0), (2, 100, 1, 11, MON, 1, 0, 0)])
    for c in COLUMNS:
        assert getattr(via_objects, c).tolist() == getattr(via_columns, c).tolist()
