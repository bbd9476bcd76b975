"""What the simulated exchange answers to a payout instruction (pure: no Kafka, no clock).

The exchange pays a payout id at most once. Its memory is the answers it has published
(the PAYOUTS topic, replayed into a :class:`PayoutLedger` at start): the first answer to a
payout id is the answer for good. An instruction seen again (redelivered, or instructed
twice) gets that same answer again, with a new event id, never a second payment; one that
repeats a payout id with different terms gets the recorded answer too (the exchange pays the
id, not the terms) and is reported as a conflict.

To exercise the consumer's dedup, a configurable share of first answers is published twice:
every Nth new payout and/or a deterministic share chosen by a hash of the payout id (so a
replay of the same log makes the same choices).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed, PayoutInstructed, PayoutRefused
from planetkit.assets import MINOR_DIGITS

Answer = PayoutConfirmed | PayoutRefused
# Parts per million: the duplicate share is compared as integers, never as floats.
PPM = 1_000_000


@dataclass(frozen=True)
class PayoutPolicy:
    """How the simulated exchange behaves."""

    # Creators whose payouts the exchange refuses (e.g. an account closed at the exchange).
    refused_creators: frozenset[str] = frozenset()
    # Every Nth new payout (1st answered payout = 1) is answered twice; 0 = never.
    duplicate_every: int = 0
    # This many payouts per million (chosen by a hash of the payout id) are answered twice.
    duplicate_ppm: int = 0

    def __post_init__(self) -> None:
        if self.duplicate_every < 0:
            raise ValueError(f"duplicate_every must not be negative, not {self.duplicate_every}")
        if not 0 <= self.duplicate_ppm <= PPM:
            raise ValueError(f"duplicate_ppm must be within 0..{PPM}, not {self.duplicate_ppm}")


def exchange_reference(payout_id: str) -> str:
    """The exchange's reference for a payout: the same payout id, the same reference."""
    return "EXR-" + hashlib.blake2b(payout_id.encode(), digest_size=10).hexdigest().upper()


def refusal_reason(instruction: PayoutInstructed, policy: PayoutPolicy) -> str | None:
    """Why the exchange refuses ``instruction``, or None when it pays it."""
    if not instruction.creator_id:
        return "the instruction names no creator"
    if instruction.creator_id in policy.refused_creators:
        return "the exchange refuses payouts to this account"
    if instruction.amount_minor <= 0:
        return f"amount must be positive, not {instruction.amount_minor}"
    if instruction.asset not in MINOR_DIGITS:
        return f"the exchange does not pay out in {instruction.asset!r}"
    return None


def first_answer(instruction: PayoutInstructed, policy: PayoutPolicy, at_ms: int) -> Answer:
    """The answer to a payout id never answered before."""
    reason = refusal_reason(instruction, policy)
    if reason is not None:
        return PayoutRefused(payout_id=instruction.payout_id, creator_id=instruction.creator_id,
                             reason=reason, at_ms=at_ms)
    return PayoutConfirmed(payout_id=instruction.payout_id, creator_id=instruction.creator_id,
                           amount_minor=instruction.amount_minor, asset=instruction.asset,
                           exchange_reference=exchange_reference(instruction.payout_id),
                           at_ms=at_ms)


def answered_twice(payout_id: str, ordinal: int, policy: PayoutPolicy) -> bool:
    """Whether the ``ordinal``-th new payout (1-based) is answered twice."""
    if policy.duplicate_every and ordinal % policy.duplicate_every == 0:
        return True
    if policy.duplicate_ppm:
        digest = hashlib.blake2b(payout_id.encode(), digest_size=8, person=b"dup").digest()
        return int.from_bytes(digest, "big") % PPM < policy.duplicate_ppm
    return False


@dataclass(frozen=True)
class Reply:
    """One answer record to publish: its envelope's event id and the answer."""

    event_id: str
    answer: Answer


@dataclass(frozen=True)
class Decision:
    """What to publish for one instruction, and what to tell the operator."""

    replies: tuple[Reply, ...]
    # "paid", "refused", "repeated" (answered before), "conflict" (same id, other terms),
    # or "unanswerable" (no payout id: nothing to answer by).
    outcome: str
    detail: str = ""


def _terms(answer: Answer) -> tuple[str, int, str] | None:
    if isinstance(answer, PayoutConfirmed):
        return (answer.creator_id, answer.amount_minor, answer.asset)
    return None


@dataclass
class PayoutLedger:
    """Every payout id the exchange has answered, with its first answer and answer count."""

    first: dict[str, Answer] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)

    def replay(self, answer: Answer) -> None:
        """Take in an answer read back from the PAYOUTS topic (in log order)."""
        self.first.setdefault(answer.payout_id, answer)
        self.sent[answer.payout_id] = self.sent.get(answer.payout_id, 0) + 1

    def paid(self, payout_id: str) -> bool:
        """True when the exchange has paid ``payout_id``."""
        return isinstance(self.first.get(payout_id), PayoutConfirmed)

    def _reply(self, answer: Answer) -> Reply:
        self.replay(answer)
        return Reply(f"payout-answer:{answer.payout_id}:{self.sent[answer.payout_id]}", answer)

    def decide(self, instruction: PayoutInstructed, policy: PayoutPolicy,
               at_ms: int) -> Decision:
        """Answer ``instruction`` and remember it (call only once the replies will be sent in
        the same transaction as the instruction's offset, or lose the ledger on failure)."""
        payout_id = instruction.payout_id
        if not payout_id:
            return Decision((), "unanswerable", "the instruction has no payout id")
        known = self.first.get(payout_id)
        if known is not None:
            reply = self._reply(known)
            terms = (instruction.creator_id, instruction.amount_minor, instruction.asset)
            recorded = _terms(known)
            if recorded is not None and recorded != terms:
                return Decision((reply,), "conflict",
                                f"already paid {recorded[1]} {recorded[2]} to {recorded[0]}; "
                                f"instructed again as {terms[1]} {terms[2]} to {terms[0]}")
            return Decision((reply,), "repeated")
        answer = first_answer(instruction, policy, at_ms)
        replies = [self._reply(answer)]
        if answered_twice(payout_id, len(self.first), policy):
            replies.append(self._reply(answer))
        outcome = "paid" if isinstance(answer, PayoutConfirmed) else "refused"
        detail = answer.reason if isinstance(answer, PayoutRefused) else ""
        return Decision(tuple(replies), outcome, detail)
