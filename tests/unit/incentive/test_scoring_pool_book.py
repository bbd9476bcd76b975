"""Each week's pool, policy, close and settlement from the operations and weeks logs."""

from __future__ import annotations

from planet.incentive.v1.weekly_pool_pb2 import (
    HeldDecided,
    PolicyPublished,
    PoolFunded,
    WeekClosed,
    WeekSettled,
)
from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.policy import default_policy
from services.incentive.scoring.pool_book import PoolBook, next_week, previous_week


def _policy(version: str, week: str) -> PolicyPublished:
    p = default_policy().evolve(version=version, effective_from_week=week)
    return PolicyPublished(version=version, effective_week=week, policy_json=p.canonical_bytes(),
                           policy_hash=p.hash)


def test_fundings_count_once_per_id_and_only_in_the_pool_asset() -> None:
    book = PoolBook("USDT")
    assert book.apply(PoolFunded(funding_id="f1", week="2026-W48", amount_minor=500,
                                 asset="USDT"))
    assert not book.apply(PoolFunded(funding_id="f1", week="2026-W48", amount_minor=500,
                                     asset="USDT"))
    assert not book.apply(PoolFunded(funding_id="f2", week="2026-W48", amount_minor=9,
                                     asset="BTC"))
    assert not book.apply(PoolFunded(funding_id="f3", week="2026-W48", amount_minor=-5,
                                     asset="USDT"))
    assert book.apply(PoolFunded(funding_id="f4", week="2026-W48", amount_minor=250,
                                 asset="USDT"))
    assert book.funded_minor("2026-W48") == 750 == book.pool_minor("2026-W48")
    assert len(book.ignored) == 2


def test_unallocated_and_forfeits_carry_into_the_next_pool() -> None:
    book = PoolBook("USDT")
    book.apply(PoolFunded(funding_id="f", week="2026-W49", amount_minor=1_000, asset="USDT"))
    book.apply(WeekSettled(week="2026-W48", unallocated_minor=300))
    forfeit_at = IsoWeek.parse("2026-W48").start_ms + 1
    book.apply(HeldDecided(week="2026-W47", creator_id="bo", decision_id="d1",
                           decision=HeldDecided.DECISION_FORFEIT, amount_minor=70,
                           asset="USDT", at_ms=forfeit_at))
    assert not book.apply(HeldDecided(decision_id="d1", decision=HeldDecided.DECISION_FORFEIT,
                                      amount_minor=70, asset="USDT", at_ms=forfeit_at))
    assert book.pool_minor("2026-W49") == 1_370


def test_the_policy_in_effect_is_the_latest_effective_one() -> None:
    book = PoolBook("USDT")
    assert book.policy_for("2026-W48") == default_policy()
    book.apply(_policy("2", "2026-W50"))
    book.apply(_policy("3", "2026-W49"))
    book.apply(_policy("4", "2026-W50"))
    assert book.policy_for("2026-W48").version == "1"
    assert book.policy_for("2026-W49").version == "3"
    assert book.policy_for("2026-W51").version == "4"
    # A policy whose own effective week disagrees with its publication is refused.
    bad = _policy("5", "2026-W52")
    bad.effective_week = "2026-W51"
    assert not book.apply(bad)
    assert not book.apply(PolicyPublished(version="6", effective_week="2026-W52",
                                          policy_json=b"{not json"))


def test_a_weeks_first_close_and_settlement_win() -> None:
    book = PoolBook("USDT")
    assert book.apply(WeekClosed(week="2026-W48", closed_at_ms=1))
    assert not book.apply(WeekClosed(week="2026-W48", closed_at_ms=2))
    assert book.apply(WeekSettled(week="2026-W48", merkle_root="a"))
    assert not book.apply(WeekSettled(week="2026-W48", merkle_root="b"))
    book.apply(WeekSettled(week="2026-W50", merkle_root="c"))
    closed, settled = book.closed("2026-W48"), book.settled("2026-W48")
    assert closed is not None and closed.closed_at_ms == 1
    assert settled is not None and settled.merkle_root == "a"
    assert [w.week for w in book.settled_weeks()] == ["2026-W50", "2026-W48"]


def test_week_arithmetic_crosses_years() -> None:
    assert next_week("2026-W53") == "2027-W01"
    assert previous_week("2027-W01") == "2026-W53"


def test_a_version_is_published_once_and_a_held_week_decided_once() -> None:
    book = PoolBook("USDT")
    assert book.apply(_policy("2", "2026-W50"))
    assert not book.apply(_policy("2", "2026-W51"))
    assert book.policy_for("2026-W51").effective_from_week == "2026-W50"
    first = HeldDecided(week="2026-W48", creator_id="bo", decision_id="a",
                        decision=HeldDecided.DECISION_RELEASE, amount_minor=5, asset="USDT")
    assert book.apply(first)
    assert not book.apply(HeldDecided(week="2026-W48", creator_id="bo", decision_id="b",
                                      decision=HeldDecided.DECISION_FORFEIT, amount_minor=5,
                                      asset="USDT"))


def test_a_funding_recorded_after_the_close_does_not_count_for_the_week() -> None:
    book = PoolBook("USDT")
    book.apply(PoolFunded(funding_id="early", week="2026-W48", amount_minor=100, asset="USDT",
                          at_ms=10))
    book.apply(PoolFunded(funding_id="late", week="2026-W48", amount_minor=7, asset="USDT",
                          at_ms=30))
    assert book.funded_minor("2026-W48") == 107
    book.apply(WeekClosed(week="2026-W48", closed_at_ms=20))
    assert book.funded_minor("2026-W48") == 100
