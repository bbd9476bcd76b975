"""Group messages and reactions in the model (issue 15): new kinds, old policies unchanged.

A policy lists points per interaction kind. The launch policy (v1) was published before the
group kinds existed: it must keep its canonical bytes and hash (weeks settled under it settle
again byte for byte) and give the group kinds 0 points. The group-engagement policy (v2) names
them and pays for them; a group message needs min_text_length characters as a comment does.
"""

from __future__ import annotations

import pytest

from services.incentive.domain.facts import (
    FIRST_KINDS,
    ConsumerValue,
    CreatorStatus,
    EngagementColumns,
    EngagementFact,
    EventKind,
    InteractionFact,
    IsoWeek,
    ItemStatus,
    UnrepresentableInput,
    ViewFact,
    WeekFacts,
)
from services.incentive.domain.policy import (
    GROUP_MESSAGE_POINTS,
    GROUP_REACTION_POINTS,
    ScoringPolicy,
    default_policy,
    group_engagement_policy,
)
from services.incentive.domain.reasons import Reason
from services.incentive.domain.settlement import settle
from services.incentive.domain.shadow import shadow_compare

WEEK = IsoWeek(2026, 10)
MON = WEEK.start_ms + 9 * 3_600_000
# The launch policy's canonical encoding as published (before the group kinds existed).
V1_HASH = "4e32ae4ff5941397933100b11b062ba1a27e0c2d68c5769983c7edb507e06124"
OWNER, POSTER, READER = 1, 2, 100  # group owner, a post's author, a member who reads both
GROUP, POST = 11, 21


def test_the_launch_policy_keeps_its_hash_and_lists_only_the_first_kinds() -> None:
    v1 = default_policy()
    assert v1.hash == V1_HASH
    assert [k for k, _ in v1.interaction_points] == sorted(k.name for k in FIRST_KINDS)
    assert ScoringPolicy.from_canonical(v1.canonical_bytes()) == v1
    assert v1.points_for(EventKind.GROUP_MESSAGE) == 0
    assert v1.points_for(EventKind.GROUP_REACTION) == 0


def test_the_group_policy_names_the_group_kinds_and_round_trips() -> None:
    v2 = group_engagement_policy("2026-W20")
    assert (v2.version, v2.effective_from_week) == ("2", "2026-W20")
    assert v2.points_for(EventKind.GROUP_MESSAGE) == GROUP_MESSAGE_POINTS
    assert v2.points_for(EventKind.GROUP_REACTION) == GROUP_REACTION_POINTS
    assert v2.points_for(EventKind.COMMENT) == default_policy().points_for(EventKind.COMMENT)
    assert ScoringPolicy.from_canonical(v2.canonical_bytes()) == v2
    assert v2.hash != V1_HASH


@pytest.mark.parametrize("table", [
    # A first kind left out: refused (only kinds added later may be).
    lambda t: tuple(e for e in t if e[0] != "LIKE"),
    # A name no kind has, or the view.
    lambda t: tuple(sorted((*t, ("GROUP_POLL", 3)))),
    lambda t: tuple(sorted((*t, ("VIEW", 3)))),
    # Twice, or out of name order.
    lambda t: tuple(sorted((*t, ("GROUP_MESSAGE", 3)))),
    lambda t: (*t[1:], t[0]),
])
def test_a_points_table_is_refused_unless_sorted_unique_and_complete_in_first_kinds(
        table: object) -> None:
    v2 = group_engagement_policy("2026-W20")
    with pytest.raises(UnrepresentableInput, match=r"^policy\.interaction_points"):
        v2.evolve(version="x", interaction_points=table(v2.interaction_points))  # type: ignore[operator]


def _week() -> WeekFacts:
    """A reader spends time in a group and on a post, writes in the group and reacts."""
    facts: list[EngagementFact] = [
        ViewFact(1, READER, OWNER, GROUP, MON, 120),
        ViewFact(2, READER, POSTER, POST, MON, 120),
        InteractionFact(3, READER, OWNER, GROUP, MON + 1, EventKind.GROUP_MESSAGE, 40),
        InteractionFact(4, READER, OWNER, GROUP, MON + 2, EventKind.GROUP_MESSAGE, 3),  # short
        InteractionFact(5, READER, OWNER, GROUP, MON + 3, EventKind.GROUP_REACTION, 0),
        # The owner's own message in their group: self-interaction, as on a post.
        InteractionFact(6, OWNER, OWNER, GROUP, MON + 4, EventKind.GROUP_MESSAGE, 40),
    ]
    return WeekFacts(
        WEEK, 10_000, EngagementColumns.from_facts(facts),
        consumers=(ConsumerValue(READER, 50_000, True), ConsumerValue(OWNER, 50_000, True)),
        creators=(CreatorStatus(OWNER, True, True), CreatorStatus(POSTER, True, True)),
        items=(ItemStatus(GROUP, OWNER), ItemStatus(POST, POSTER)))


def test_group_kinds_earn_nothing_under_the_launch_policy_and_points_under_the_group_one(
        ) -> None:
    week = _week()
    v1 = settle(week, default_policy())
    v2 = settle(week, group_engagement_policy("2026-W10"))
    owner_v1, owner_v2 = v1.creator(OWNER), v2.creator(OWNER)
    assert owner_v1 is not None and owner_v2 is not None
    # Equal dwell: under v1 the owner and the post's author split the pool evenly.
    assert owner_v1.allocated_minor == 5_000
    assert owner_v1.items[0].interaction_milli_points == 0
    # Under v2 one long message and one reaction count (the short one does not).
    assert owner_v2.items[0].interaction_milli_points == 1_000 * (
        GROUP_MESSAGE_POINTS + GROUP_REACTION_POINTS)
    assert owner_v2.allocated_minor > 5_000
    short = [d for d in owner_v2.discounts if d.reason == Reason.SHORT_TEXT]
    selfish = [d for d in owner_v2.discounts if d.reason == Reason.SELF_INTERACTION]
    assert [d.events for d in short] == [1] and [d.events for d in selfish] == [1]

    report = shadow_compare(week, default_policy(), group_engagement_policy("2026-W10"))
    by_creator = {d.creator_id: d for d in report.diffs}
    assert by_creator[OWNER].delta_minor == owner_v2.allocated_minor - 5_000 > 0
    assert by_creator[POSTER].delta_minor == -by_creator[OWNER].delta_minor
