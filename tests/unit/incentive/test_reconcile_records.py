"""The reconciliation's checks of a week's records: sound records pass, each corruption is named."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from planet.incentive.v1.facts_pb2 import ItemStatus, Period, UserStatus
from planet.incentive.v1.weekly_pool_pb2 import CreatorWeekResult, WeekSettled
from planetkit.fact_rows import COMMENT, LIKE, VIEW, FactRow, build_facts
from services.incentive.domain.facts import MS_PER_DAY, IsoWeek
from services.incentive.domain.policy import default_policy
from services.incentive.domain.settlement import settle
from services.incentive.reconcile import compare
from services.incentive.reconcile.ids import CREATOR, model_id
from services.incentive.scoring.results import creator_results, result_sha256, week_settled
from services.incentive.scoring.week_inputs import WeekInputs

WEEK = IsoWeek.parse("2026-W48")
T0 = WEEK.start_ms
POLICY = default_policy()


def _week() -> tuple[list[CreatorWeekResult], WeekSettled]:
    inputs = WeekInputs(WEEK)
    creators = [f"cr{i}" for i in range(5)]
    for k, consumer in enumerate(("carol", "dan", "fay")):
        rows = [FactRow(f"{consumer}-{i}", f"post-{c}", c, T0 + 1000 * i + k, kind,
                        dwell_seconds=(60 + 37 * i) if kind == VIEW else 0,
                        text_length=40 if kind == COMMENT else 0)
                for i, (c, kind) in enumerate((c, kind) for c in creators
                                              for kind in (VIEW, LIKE, COMMENT))]
        inputs.add_facts(build_facts(f"r{k}", consumer, rows))
    for user in ("carol", "dan", "fay", *creators):
        inputs.set_user(UserStatus(user_id=user, kyc_verified_at_ms=T0 - MS_PER_DAY,
                                   identity_open=[Period(from_ms=T0 - MS_PER_DAY)]))
    for c in creators:
        inputs.set_item(ItemStatus(item_id=f"post-{c}", creator_id=c))
    built = inputs.build(pool_minor=10_001, rollovers={"cr4": 30, "cr9": 40}, quote_asset="USDT",
                         status_at_ms=WEEK.end_ms)
    result = settle(built.facts, POLICY)
    settled = week_settled(result, "USDT", settled_at_ms=WEEK.end_ms, facts_counted=built.rows,
                           facts_late=0)
    assert result_sha256(result) == settled.result_sha256
    return creator_results(result, built, "USDT"), settled


def test_sound_records_have_no_difference() -> None:
    results, settled = _week()
    assert sum(1 for r in results if r.allocated_minor > 0) >= 4
    assert compare.check_week(results, settled, POLICY) == []
    assert compare.merkle_root_of([(r.creator_int_id, r.allocated_minor) for r in results
                                   if r.allocated_minor]) == settled.merkle_root


def _paid(results: list[CreatorWeekResult]) -> CreatorWeekResult:
    return next(r for r in results if r.allocated_minor > 0 and len(r.proof) > 1)


def _amount(results: list[CreatorWeekResult], _: WeekSettled) -> None:
    _paid(results).allocated_minor += 1


def _amount_and_parts(results: list[CreatorWeekResult], _: WeekSettled) -> None:
    r = _paid(results)  # consistent within the record: only the proof and sums tell
    r.allocated_minor += 1
    r.payable_minor += 1
    r.items[0].amount_minor += 1
    r.items[0].dwell_minor += 1
    r.tiers[0].amount_minor += 1


def _item_part(results: list[CreatorWeekResult], _: WeekSettled) -> None:
    _paid(results).items[0].dwell_minor += 1


def _proof(results: list[CreatorWeekResult], _: WeekSettled) -> None:
    step = _paid(results).proof[0]
    step.sibling = ("0" if step.sibling[0] != "0" else "1") + step.sibling[1:]


def _int_id(results: list[CreatorWeekResult], _: WeekSettled) -> None:
    _paid(results).creator_int_id += 1


def _twice(results: list[CreatorWeekResult], _: WeekSettled) -> None:
    results.append(copy.deepcopy(results[0]))


def _summary(_: list[CreatorWeekResult], settled: WeekSettled) -> None:
    settled.unallocated_minor += 5


def _root(_: list[CreatorWeekResult], settled: WeekSettled) -> None:
    settled.merkle_root = "00" * 32


def _payable_total(_: list[CreatorWeekResult], settled: WeekSettled) -> None:
    settled.payable_minor -= 1


@pytest.mark.parametrize(("corrupt", "expected"), [
    (_amount, "Merkle proof of amount"),
    (_amount_and_parts, "Merkle proof of amount"),
    (_amount_and_parts, "week: Σ payable"),
    (_item_part, "!= dwell"),
    (_proof, "does not verify"),
    (_int_id, "is not the model id of its name"),
    (_twice, "2 results for the week"),
    (_summary, "week: Σ payable"),
    (_root, "merkle_root"),
    (_payable_total, "WeekSettled.payable_minor"),
])
def test_each_corruption_is_reported(corrupt: Callable[[list[CreatorWeekResult], WeekSettled],
                                                       None], expected: str) -> None:
    results, settled = _week()
    corrupt(results, settled)
    lines = compare.check_week(results, settled, POLICY)
    assert any(expected in line for line in lines), lines


def test_the_policy_in_effect_is_checked() -> None:
    results, settled = _week()
    other = POLICY.evolve(version="2", min_payout_minor=1)
    lines = compare.check_week(results, settled, other)
    assert any("the policy in effect is 2" in line for line in lines), lines


def test_model_ids_follow_the_documented_rule() -> None:
    from services.incentive.domain.id_map import IdKind, int_id

    for name in ("ada", "bo", "ü-ß", "x" * 200):
        assert model_id(CREATOR, name) == int_id(IdKind.CREATOR, name)


def test_carried_amounts_are_checked() -> None:
    results, settled = _week()
    previous = [CreatorWeekResult(week="2026-W47", creator_id="cr4", rollover_out_minor=30),
                CreatorWeekResult(week="2026-W47", creator_id="cr9", rollover_out_minor=40)]
    assert compare.check_carried(results, previous, True, settled, 10_001) == []
    previous[1].rollover_out_minor = 41
    lines = compare.check_carried(results, previous, True, settled, 10_002)
    assert any("creator 'cr9': rollover_in 40 != the previous week's rollover_out 41" in line
               for line in lines), lines
    assert any("WeekSettled.pool_minor 10001 != fundings + carried 10002" in line
               for line in lines), lines
