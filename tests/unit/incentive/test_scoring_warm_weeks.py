"""Warm weeks: the live week's input kept for its settlement is exactly the log's input
between the week's first offsets and the close's cut (each record folded once, none at or
after the cut, statuses frozen at the close), and is refused whenever it might not be."""

from __future__ import annotations

from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, Period, UserStatus
from planetkit.fact_rows import VIEW, FactRow, build_facts
from services.incentive.domain.breakdown import encode_result
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import settle
from services.incentive.scoring.warm_weeks import WarmWeeks
from services.incentive.scoring.week_inputs import WeekInputs

W = IsoWeek.parse("2026-W48")
T = "views"
KW = {"pool_minor": 1000, "rollovers": {}, "quote_asset": "USDT", "status_at_ms": W.end_ms}


def _record(n: int, consumer: str = "con-1") -> FactRows:
    return build_facts(f"r{n}", consumer, [FactRow(f"e{n}", "p", "ana", W.start_ms + n, VIEW,
                                                   dwell_seconds=30)])


def _statuses(inputs: WeekInputs | WarmWeeks, kyc_at: int = 1) -> None:
    for user in ("ana", "con-1", "con-2"):
        inputs.set_user(UserStatus(user_id=user, kyc_verified_at_ms=kyc_at,
                                   identity_open=[Period(from_ms=1)]))
    inputs.set_item(ItemStatus(item_id="p", creator_id="ana"))


def _kept(records: int) -> tuple[WarmWeeks, WeekInputs]:
    """A warm week fed records at offsets 0 .. records-1 of partition 0."""
    inputs = WeekInputs(W)
    _statuses(inputs)
    for n in range(records):
        inputs.add_facts(_record(n))
    warm = WarmWeeks()
    warm.keep(str(W), inputs, {T: {0: records}})
    return warm, inputs


def test_records_read_again_are_folded_once_and_none_at_or_after_the_cut() -> None:
    warm, inputs = _kept(3)
    warm.feed(T, 0, 1, _record(1))  # the tail seeked back a day: read again, not folded
    warm.feed(T, 0, 3, _record(3))
    assert len(inputs) == 4
    warm.close(str(W), {T: [5]}, {"status": [7]})
    warm.feed(T, 0, 4, _record(4))
    warm.feed(T, 0, 5, _record(5))  # at the cut: late, not the week's
    warm.feed(T, 1, 0, _record(6))  # a partition the cut does not name: added after it
    assert len(inputs) == 5
    ready = warm.ready(str(W), {T: [5], "status": [7]})
    assert ready is not None and ready.inputs is inputs
    expected = WeekInputs(W)
    _statuses(expected)
    for n in range(5):
        expected.add_facts(_record(n))
    built, log = ready.inputs.build(**KW), expected.build(**KW)  # type: ignore[arg-type]
    assert built.rows == log.rows == 5
    policy = default_policy()
    assert (encode_result(settle(built.facts, policy))
            == encode_result(settle(log.facts, policy)))


def test_statuses_are_frozen_at_the_close() -> None:
    warm, inputs = _kept(1)
    warm.close(str(W), {T: [5]}, {"status": [7]})
    _statuses(warm, kyc_at=W.end_ms + 1)  # after the cut: not the week's
    built = inputs.build(**KW)  # type: ignore[arg-type]
    assert all(c.kyc_verified for c in built.facts.consumers)


def test_refused_unless_closed_here_with_the_logs_cut_and_unspoiled() -> None:
    warm, _ = _kept(2)
    assert warm.ready(str(W), {T: [5], "status": [7]}) is None  # not closed by this instance
    warm.close(str(W), {T: [5]}, {"status": [7]})
    assert warm.ready(str(W), {T: [6], "status": [7]}) is None  # another cut on the log
    assert warm.ready("2026-W47", {T: [5], "status": [7]}) is None
    assert warm.ready(str(W), {T: [5], "status": [7]}) is not None
    warm.unreadable(T, 0, 9, "past the cut")  # not in its range: harmless
    assert warm.ready(str(W), {T: [5], "status": [7]}) is not None
    warm.unreadable(T, 0, 3, "bad envelope")
    assert warm.ready(str(W), {T: [5], "status": [7]}) is None


def test_a_record_the_fold_refuses_spoils_the_week() -> None:
    warm, _ = _kept(1)
    bad = _record(1)
    bad.kinds.append(VIEW)  # a column longer than the others: malformed
    warm.feed(T, 0, 1, bad)
    warm.close(str(W), {T: [5]}, {"status": [7]})
    assert warm.ready(str(W), {T: [5], "status": [7]}) is None
    assert "could not be folded" in warm.weeks[str(W)].spoiled


def test_an_undecodable_status_before_the_close_spoils_open_weeks_only() -> None:
    warm, _ = _kept(1)
    other = WeekInputs(IsoWeek.parse("2026-W47"))
    warm.keep("2026-W47", other, {T: {0: 0}})
    warm.close("2026-W47", {T: [0]}, {"status": [7]})
    warm.status_unreadable("not an envelope")
    assert warm.weeks[str(W)].spoiled and not warm.weeks["2026-W47"].spoiled
    warm.drop(str(W))
    assert str(W) not in warm.weeks
