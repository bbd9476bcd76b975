"""Small builders for incentive tests (imported by the test modules beside it)."""

from __future__ import annotations

from hypothesis import strategies as st

from services.incentive.domain.facts import (
    MS_PER_DAY,
    ConsumerValue,
    CreatorStatus,
    EngagementColumns,
    EngagementFact,
    EventKind,
    InteractionFact,
    IsoWeek,
    Rollover,
    ViewFact,
    WeekFacts,
)

WEEK = IsoWeek(2026, 10)
CREATORS = (1, 2, 3, 4)
CONSUMERS = (100, 101, 102, 103, 104, 105)


def item_of(creator: int, k: int) -> int:
    """Item ids are owned by one creator: 10 * creator + k."""
    return creator * 10 + k


def week_facts(events: list[EngagementFact], consumers: tuple[ConsumerValue, ...],
               pool: int = 100_000, creators: tuple[CreatorStatus, ...] | None = None,
               rollovers: tuple[Rollover, ...] = ()) -> WeekFacts:
    """WeekFacts over the test week with every test creator eligible unless given."""
    if creators is None:
        creators = tuple(CreatorStatus(c, True, True) for c in CREATORS)
    return WeekFacts(WEEK, pool, EngagementColumns.from_facts(events), consumers, creators,
                     (), rollovers)


@st.composite
def events_st(draw: st.DrawFn, consumers: tuple[int, ...] = CONSUMERS,
              creators: tuple[int, ...] = CREATORS, max_size: int = 40,
              first_id: int = 1) -> list[EngagementFact]:
    """Random engagement with distinct event ids."""
    n = draw(st.integers(0, max_size))
    out: list[EngagementFact] = []
    for i in range(n):
        cons = draw(st.sampled_from(consumers))
        cre = draw(st.sampled_from(creators))
        item = item_of(cre, draw(st.integers(0, 2)))
        at = WEEK.start_ms + draw(st.integers(0, 6)) * MS_PER_DAY + draw(st.integers(0, 999))
        kind = draw(st.sampled_from(list(EventKind)))
        if kind is EventKind.VIEW:
            out.append(ViewFact(first_id + i, cons, cre, item, at, draw(st.integers(0, 900))))
        else:
            out.append(InteractionFact(first_id + i, cons, cre, item, at, kind,
                                       draw(st.integers(0, 60))))
    return out


@st.composite
def consumers_st(draw: st.DrawFn, ids: tuple[int, ...] = CONSUMERS) -> tuple[ConsumerValue, ...]:
    """Consumer values with a spread of fees and KYC."""
    return tuple(ConsumerValue(c, draw(st.integers(0, 300_000)), draw(st.booleans()),
                               draw(st.booleans()) and draw(st.booleans()) and
                               draw(st.booleans()))
                 for c in ids)
