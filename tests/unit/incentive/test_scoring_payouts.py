"""Payout states: instructed at settlement, answered once, held amounts decided once."""

from __future__ import annotations

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed, PayoutInstructed, PayoutRefused
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorWeekResult,
    HeldDecided,
    PayoutStateChanged,
)
from services.incentive.scoring.payouts import PayoutLedger, payout_id

WEEK = "2026-W48"


def _results() -> list[CreatorWeekResult]:
    return [
        CreatorWeekResult(week=WEEK, creator_id="ana", status="paid", payable_minor=700,
                          asset="USDT"),
        CreatorWeekResult(week=WEEK, creator_id="bo", status="held", held_minor=200,
                          asset="USDT"),
        CreatorWeekResult(week=WEEK, creator_id="cy", status="rolled_over",
                          rollover_out_minor=40, asset="USDT"),
        CreatorWeekResult(week=WEEK, creator_id="dee", status="rolled_over", asset="USDT"),
    ]


def _settled() -> PayoutLedger:
    ledger = PayoutLedger()
    for m in ledger.settlement(_results(), 10):
        if isinstance(m, PayoutStateChanged):
            ledger.observe(m)
    return ledger


def test_a_settlement_instructs_the_payable_and_records_held_and_rolled_over() -> None:
    records = PayoutLedger().settlement(_results(), 10)
    instructed = [m for m in records if isinstance(m, PayoutInstructed)]
    assert [(i.payout_id, i.amount_minor) for i in instructed] == [(f"{WEEK}:ana", 700)]
    states = [(m.creator_id, m.state, m.amount_minor) for m in records
              if isinstance(m, PayoutStateChanged)]
    assert states == [("ana", "pending", 700), ("bo", "held", 200), ("cy", "rolled_over", 40)]


def test_an_answer_counts_once() -> None:
    ledger = _settled()
    pid = payout_id(WEEK, "ana")
    confirm = PayoutConfirmed(payout_id=pid, creator_id="ana", amount_minor=700, asset="USDT",
                              exchange_reference="x", at_ms=20)
    first = ledger.answer(confirm, 30)
    assert [(s.state, s.amount_minor) for s in first.records] == [("paid", 700)]
    ledger.observe(first.records[0])
    again = ledger.answer(confirm, 31)
    assert again.records == () and "answered already" in again.note and again.duplicate
    refused = ledger.answer(PayoutRefused(payout_id=pid, creator_id="ana", reason="no"), 32)
    assert refused.records == ()
    assert ledger.states(pid) == {"pending", "paid"}


def test_a_refusal_and_an_unknown_payout() -> None:
    ledger = _settled()
    out = ledger.answer(PayoutRefused(payout_id=payout_id(WEEK, "ana"), creator_id="ana",
                                      reason="account closed"), 30)
    assert [(s.state, s.detail) for s in out.records] == [("refused", "account closed")]
    # Held amounts are not instructed: an answer for one changes nothing.
    held = ledger.answer(PayoutConfirmed(payout_id=payout_id(WEEK, "bo")), 30)
    assert held.records == () and "never instructed" in held.note


def test_a_confirmation_of_another_amount_is_recorded_with_the_difference() -> None:
    ledger = _settled()
    out = ledger.answer(PayoutConfirmed(payout_id=payout_id(WEEK, "ana"), creator_id="ana",
                                        amount_minor=699, asset="USDT",
                                        exchange_reference="x"), 30)
    assert out.records[0].amount_minor == 700
    assert "confirmed 699 USDT, instructed 700 USDT" in out.records[0].detail


def _decision(kind: int, amount: int = 200, creator: str = "bo") -> HeldDecided:
    return HeldDecided(week=WEEK, creator_id=creator, decision=kind, amount_minor=amount,
                       asset="USDT", operator_id="olga", reason="appeal", at_ms=5,
                       decision_id="d")


def test_a_release_instructs_the_held_amount_once() -> None:
    ledger = _settled()
    out = ledger.decide(_decision(HeldDecided.DECISION_RELEASE), 40)
    kinds = [type(m).__name__ for m in out.records]
    assert kinds == ["PayoutInstructed", "PayoutStateChanged"]
    assert out.records[0].amount_minor == 200 and out.records[1].state == "released"
    ledger.observe(out.records[1])
    assert ledger.decide(_decision(HeldDecided.DECISION_FORFEIT), 41).records == ()
    # The released payout can now be paid.
    paid = ledger.answer(PayoutConfirmed(payout_id=payout_id(WEEK, "bo"), creator_id="bo",
                                         amount_minor=200, asset="USDT"), 42)
    assert [s.state for s in paid.records] == ["paid"]


def test_a_forfeit_and_refused_decisions() -> None:
    ledger = _settled()
    out = ledger.decide(_decision(HeldDecided.DECISION_FORFEIT), 40)
    assert [m.state for m in out.records] == ["forfeited"]
    assert "has no held amount" in ledger.decide(
        _decision(HeldDecided.DECISION_RELEASE, creator="ana"), 40).note
    assert "holds 200 USDT" in ledger.decide(
        _decision(HeldDecided.DECISION_RELEASE, amount=5), 40).note
    assert "neither release nor forfeit" in ledger.decide(
        _decision(HeldDecided.DECISION_UNSPECIFIED), 40).note


def test_the_ledger_folds_states_in_any_order() -> None:
    ledger = PayoutLedger()
    pid = payout_id(WEEK, "ana")
    paid = PayoutStateChanged(payout_id=pid, week=WEEK, creator_id="ana", amount_minor=700,
                              asset="USDT", state="paid")
    pending = PayoutStateChanged(payout_id=pid, week=WEEK, creator_id="ana", amount_minor=700,
                                 asset="USDT", state="pending")
    assert ledger.observe(paid) and ledger.observe(pending)
    assert not ledger.observe(paid)
    assert ledger.answer(PayoutConfirmed(payout_id=pid), 1).records == ()
