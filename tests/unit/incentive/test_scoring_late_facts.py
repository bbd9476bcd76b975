"""Late facts: rows of a closed week beyond its cut, listed once per record."""

from __future__ import annotations

from planet.incentive.v1.weekly_pool_pb2 import TopicCut, WeekClosed
from planetkit.fact_rows import VIEW, FactRow, build_facts
from services.incentive.domain.facts import IsoWeek
from services.incentive.scoring.late_facts import MAX_EVENT_IDS, LateFacts

W48 = IsoWeek.parse("2026-W48")
VIEWS, INTERACTIONS = "views", "interactions"


def _closed() -> WeekClosed:
    return WeekClosed(week="2026-W48", closed_at_ms=W48.end_ms + 3_600_000, cause="grace",
                      cuts=[TopicCut(topic=VIEWS, end_offsets=[10, 20]),
                            TopicCut(topic=INTERACTIONS, end_offsets=[5]),
                            TopicCut(topic="statuses", end_offsets=[7])])


def _rows(*times: int):  # type: ignore[no-untyped-def]
    return build_facts("r", "con-1", [
        FactRow(f"e{i}", "post-1", "cre-1", at, VIEW, 10) for i, at in enumerate(times)])


def test_rows_of_the_week_beyond_its_cut_are_late() -> None:
    late = LateFacts(frozenset({VIEWS, INTERACTIONS}))
    late.closed(_closed())
    inside, next_week = W48.start_ms + 1000, W48.end_ms + 5
    # Before the cut: counted by the settlement, not late.
    assert late.find(_rows(inside), VIEWS, 0, 9) == []
    # Beyond the cut but of another week: not late for W48.
    assert late.find(_rows(next_week), VIEWS, 0, 10) == []
    found = late.find(_rows(inside, next_week, inside + 1), VIEWS, 1, 20)
    assert len(found) == 1
    f = found[0]
    assert (f.week, f.topic, f.partition, f.offset, f.rows) == ("2026-W48", VIEWS, 1, 20, 2)
    assert list(f.event_ids) == ["e0", "e2"]
    assert f.reason == "arrived after the week closed at 2026-11-30T01:00:00Z"
    # A partition the cut never saw is entirely after it.
    assert len(late.find(_rows(inside), INTERACTIONS, 3, 0)) == 1


def test_a_record_is_listed_once_even_when_read_again() -> None:
    late = LateFacts(frozenset({VIEWS}))
    late.closed(_closed())
    rows = _rows(W48.start_ms)
    first = late.find(rows, VIEWS, 0, 11)
    assert late.listed(first[0])
    assert late.count("2026-W48") == 1
    assert late.find(rows, VIEWS, 0, 11) == []
    assert not late.listed(first[0])
    assert late.count("2026-W48") == 1


def test_event_ids_are_bounded_and_rows_counted() -> None:
    late = LateFacts(frozenset({VIEWS}))
    late.closed(_closed())
    rows = _rows(*[W48.start_ms + i for i in range(MAX_EVENT_IDS + 7)])
    f = late.find(rows, VIEWS, 0, 50)[0]
    assert f.rows == MAX_EVENT_IDS + 7 and len(f.event_ids) == MAX_EVENT_IDS


def test_a_restarted_scan_starts_at_the_lowest_recent_cut() -> None:
    late = LateFacts(frozenset({VIEWS}))
    assert late.scan_start(VIEWS, [0, 1]) is None
    late.closed(_closed())
    w49 = WeekClosed(week="2026-W49", closed_at_ms=1, cuts=[
        TopicCut(topic=VIEWS, end_offsets=[15, 18])])
    late.closed(w49)
    assert late.scan_start(VIEWS, [0, 1, 2]) == {0: 10, 1: 18, 2: 0}
    assert sorted(late.closed_weeks()) == ["2026-W48", "2026-W49"]
