"""The simulated exchange's payout decisions: pay once, refuse with a reason, answer twice."""

from __future__ import annotations

import pytest

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed, PayoutInstructed, PayoutRefused
from simulators.exchange.payout_decisions import (
    PayoutLedger,
    PayoutPolicy,
    answered_twice,
    exchange_reference,
)
from simulators.exchange.payouts import probability_ppm


def _instruction(creator: str = "cr_a", amount: int = 1_250, asset: str = "USDT",
                 week: str = "2026-W48") -> PayoutInstructed:
    return PayoutInstructed(payout_id=f"{week}:{creator}", creator_id=creator, week=week,
                            amount_minor=amount, asset=asset, at_ms=1)


def test_a_payout_is_confirmed_with_a_reference_fixed_by_its_id() -> None:
    ledger = PayoutLedger()
    decision = ledger.decide(_instruction(), PayoutPolicy(), at_ms=77)
    assert decision.outcome == "paid"
    [reply] = decision.replies
    assert reply.event_id == "payout-answer:2026-W48:cr_a:1"
    assert reply.answer == PayoutConfirmed(
        payout_id="2026-W48:cr_a", creator_id="cr_a", amount_minor=1_250, asset="USDT",
        exchange_reference=exchange_reference("2026-W48:cr_a"), at_ms=77)
    assert exchange_reference("2026-W48:cr_a") == exchange_reference("2026-W48:cr_a")
    assert exchange_reference("2026-W48:cr_a") != exchange_reference("2026-W48:cr_b")
    assert ledger.paid("2026-W48:cr_a")


@pytest.mark.parametrize(("instruction", "reason"), [
    (_instruction(creator="cr_closed"), "refuses payouts to this account"),
    (_instruction(amount=0), "amount must be positive, not 0"),
    (_instruction(amount=-5), "amount must be positive, not -5"),
    (_instruction(asset="XYZ"), "does not pay out in 'XYZ'"),
    (PayoutInstructed(payout_id="2026-W48:", week="2026-W48", amount_minor=5, asset="USDT"),
     "names no creator"),
])
def test_refusals_carry_their_reason(instruction: PayoutInstructed, reason: str) -> None:
    ledger = PayoutLedger()
    decision = ledger.decide(instruction, PayoutPolicy(refused_creators=frozenset({"cr_closed"})),
                             at_ms=5)
    assert decision.outcome == "refused"
    [reply] = decision.replies
    assert isinstance(reply.answer, PayoutRefused)
    assert reason in reply.answer.reason == decision.detail
    assert not ledger.paid(instruction.payout_id)


def test_an_instruction_seen_again_gets_the_same_answer_never_a_second_payment() -> None:
    ledger = PayoutLedger()
    first = ledger.decide(_instruction(), PayoutPolicy(), at_ms=10).replies[0]
    again = ledger.decide(_instruction(), PayoutPolicy(), at_ms=99)
    assert again.outcome == "repeated"
    [reply] = again.replies
    assert reply.answer == first.answer  # same reference, same at_ms: the one payment
    assert reply.event_id == "payout-answer:2026-W48:cr_a:2"
    # Same id, other terms: still the recorded answer, reported as a conflict.
    conflict = ledger.decide(_instruction(amount=9_999), PayoutPolicy(), at_ms=100)
    assert conflict.outcome == "conflict" and "already paid 1250 USDT" in conflict.detail
    assert [r.answer for r in conflict.replies] == [first.answer]
    # A refusal is repeated too, even if the account would now be accepted.
    closed = PayoutPolicy(refused_creators=frozenset({"cr_b"}))
    refused = ledger.decide(_instruction(creator="cr_b"), closed, at_ms=1).replies[0].answer
    assert ledger.decide(_instruction(creator="cr_b"), PayoutPolicy(), at_ms=2).replies[0] \
        .answer == refused


def test_a_ledger_replayed_from_the_answers_decides_as_the_original() -> None:
    policy = PayoutPolicy(duplicate_every=2)
    original = PayoutLedger()
    sent = [r for c in ("a", "b", "c") for r in
            original.decide(_instruction(creator=c), policy, at_ms=3).replies]
    replayed = PayoutLedger()
    for reply in sent:
        replayed.replay(reply.answer)
    assert replayed == original
    after = [replayed.decide(_instruction(creator=c), policy, at_ms=4) for c in ("b", "d")]
    assert after[0].outcome == "repeated"
    assert after[0].replies[0].event_id == "payout-answer:2026-W48:b:3"  # b was sent twice
    assert after[1].outcome == "paid" and len(after[1].replies) == 2  # the 4th new payout


def test_every_nth_new_payout_is_answered_twice_with_distinct_event_ids() -> None:
    ledger = PayoutLedger()
    policy = PayoutPolicy(duplicate_every=3)
    counts = [len(ledger.decide(_instruction(creator=f"c{i}"), policy, at_ms=1).replies)
              for i in range(1, 7)]
    assert counts == [1, 1, 2, 1, 1, 2]
    twice = ledger.decide(_instruction(creator="c9"), policy, at_ms=1)  # 7th: once
    assert len(twice.replies) == 1
    third = PayoutLedger().decide(_instruction(creator="x"), PayoutPolicy(duplicate_every=1),
                                  at_ms=1)
    assert [r.event_id for r in third.replies] == ["payout-answer:2026-W48:x:1",
                                                   "payout-answer:2026-W48:x:2"]
    assert third.replies[0].answer == third.replies[1].answer


def test_the_duplicate_share_is_a_deterministic_hash_of_the_payout_id() -> None:
    half = PayoutPolicy(duplicate_ppm=500_000)
    ids = [f"2026-W48:c{i}" for i in range(2_000)]
    chosen = [answered_twice(i, 1, half) for i in ids]
    assert chosen == [answered_twice(i, 1, half) for i in ids]
    assert 900 < sum(chosen) < 1_100
    assert not any(answered_twice(i, 1, PayoutPolicy()) for i in ids)
    assert all(answered_twice(i, 1, PayoutPolicy(duplicate_ppm=1_000_000)) for i in ids)


def test_an_instruction_without_a_payout_id_cannot_be_answered() -> None:
    decision = PayoutLedger().decide(PayoutInstructed(creator_id="a", amount_minor=1),
                                     PayoutPolicy(), at_ms=1)
    assert decision.outcome == "unanswerable" and decision.replies == ()


def test_policy_and_probability_bounds() -> None:
    assert probability_ppm("0.25") == 250_000 and probability_ppm("1") == 1_000_000
    for bad in ("1.5", "-0.1", "abc", "nan"):
        with pytest.raises(ValueError):
            probability_ppm(bad)
    with pytest.raises(ValueError, match="duplicate_every"):
        PayoutPolicy(duplicate_every=-1)
    with pytest.raises(ValueError, match="duplicate_ppm"):
        PayoutPolicy(duplicate_ppm=1_000_001)
