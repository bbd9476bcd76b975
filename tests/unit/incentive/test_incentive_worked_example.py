"""The worked example of docs/incentives.md, number for number."""

from __future__ import annotations

from services.incentive.domain.breakdown import encode_result
from services.incentive.domain.facts import (
    MS_PER_DAY,
    ConsumerValue,
    CreatorStatus,
    EngagementColumns,
    EventKind,
    InteractionFact,
    IsoWeek,
    Rollover,
    ViewFact,
    WeekFacts,
)
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import settle

W = IsoWeek(2026, 10)
MON, TUE = W.start_ms + 9 * 3_600_000, W.start_ms + MS_PER_DAY + 9 * 3_600_000
ADA, BO, CY = 1, 2, 3
CAROL, DAN, EVE = 100, 101, 102


def example() -> WeekFacts:
    """Ada and Bo share a 100.00 pool; Cy has 0.80 rolled over from last week."""
    events = [
        ViewFact(1, CAROL, ADA, 11, MON, 240),
        InteractionFact(2, CAROL, ADA, 11, MON + 1, EventKind.COMMENT, 50),
        ViewFact(3, CAROL, BO, 21, MON, 3),
        ViewFact(4, CAROL, BO, 22, TUE, 900),
        InteractionFact(5, DAN, ADA, 11, MON, EventKind.LIKE),
        InteractionFact(6, DAN, ADA, 11, TUE, EventKind.LIKE),
        ViewFact(7, EVE, BO, 22, MON, 300),
        InteractionFact(8, BO, BO, 22, MON, EventKind.COMMENT, 80),
        ViewFact(4, CAROL, BO, 22, TUE, 900),  # redelivered
    ]
    return WeekFacts(
        W, 10_000, EngagementColumns.from_facts(events),
        consumers=(ConsumerValue(CAROL, 5_000, True), ConsumerValue(DAN, 0, True),
                   ConsumerValue(EVE, 90_000, False), ConsumerValue(BO, 0, True)),
        creators=(CreatorStatus(ADA, True, True), CreatorStatus(BO, True, True),
                  CreatorStatus(CY, True, True)),
        rollovers=(Rollover(CY, 80),),
    )


def test_worked_example_amounts() -> None:
    result = settle(example(), default_policy())
    ada, bo, cy = (result.creator(c) for c in (ADA, BO, CY))
    assert ada is not None and bo is not None and cy is not None
    assert (ada.score, bo.score, result.total_score) == (2502, 3588, 6090)
    assert (ada.allocated_minor, bo.allocated_minor) == (4108, 5892)
    assert (ada.status, bo.status, cy.status) == ("paid", "paid", "rolled_over")
    assert cy.rollover_out_minor == 80 and cy.allocated_minor == 0


def test_worked_example_breakdown() -> None:
    result = settle(example(), default_policy())
    ada, bo = result.creator(ADA), result.creator(BO)
    assert ada is not None and bo is not None
    (item,) = ada.items
    assert (item.item_id, item.dwell_minor, item.interaction_minor) == (11, 3520, 588)
    assert {t.tier: t.amount_minor for t in ada.tiers} == {"w1-1": 148, "w2-10": 3960}
    reasons = {(d.reason, d.item_id): (d.events, d.quantity) for d in ada.discounts}
    assert reasons == {("repeat_interaction", 11): (1, 1), ("influence_bound", None): (1, 1620)}
    reasons = {(d.reason, d.item_id): (d.events, d.quantity) for d in bo.discounts}
    assert reasons == {
        ("below_min_dwell", 21): (1, 3), ("dwell_cap", 22): (1, 300),
        ("duplicate_event", 22): (1, 1), ("no_value_weight", 22): (1, 1),
        ("self_interaction", 22): (1, 1), ("influence_bound", None): (1, 2412),
    }
    assert [(i.item_id, i.amount_minor) for i in bo.items] == [(22, 5892)]


def test_worked_example_is_byte_stable() -> None:
    assert encode_result(settle(example(), default_policy())) == encode_result(
        settle(example(), default_policy()))
