"""Payout states: what a settlement instructs, what the exchange answered, what operators
decided about held amounts. Pure: the job folds PAYOUT_STATES into a ``PayoutLedger`` and asks
it which records to write.

One payout per (week, creator), id ``"<week>:<creator id>"`` (the exchange pays an id at most
once). States: ``pending`` (instructed), ``held`` (a sanctioned creator's amount, not
instructed), ``rolled_over`` (below the minimum payout, carried to the creator's next week),
``released`` (an operator released a held amount: instructed now), ``forfeited`` (an operator
forfeited it: the pool book carries it into a later pool), ``paid`` / ``refused`` (the
exchange's answer). An answer is recorded once per payout id: the ledger remembers every
state written, so a second confirmation, or a confirmation after a refusal, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from google.protobuf.message import Message

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed, PayoutInstructed, PayoutRefused
from planet.incentive.v1.weekly_pool_pb2 import CreatorWeekResult, HeldDecided, PayoutStateChanged

PENDING, HELD, ROLLED_OVER = "pending", "held", "rolled_over"
RELEASED, FORFEITED, PAID, REFUSED = "released", "forfeited", "paid", "refused"
ANSWERED = frozenset({PAID, REFUSED})
DECIDED = frozenset({RELEASED, FORFEITED})
# States after which the exchange may pay the id.
INSTRUCTED = frozenset({PENDING, RELEASED})


def payout_id(week: str, creator_id: str) -> str:
    """The one payout id of a creator's week."""
    return f"{week}:{creator_id}"


@dataclass(frozen=True)
class Outcome:
    """Records to write (PayoutInstructed / PayoutStateChanged), or why there are none."""

    records: tuple[Message, ...] = ()
    note: str = ""
    # The note says it was done already (a redelivered answer or decision): routine.
    duplicate: bool = False


@dataclass
class _Payout:
    week: str
    creator_id: str
    amount_minor: int
    asset: str
    states: set[str] = field(default_factory=set)


@dataclass
class PayoutLedger:
    """Every payout's states as written to PAYOUT_STATES (order-insensitive: a set each)."""

    _payouts: dict[str, _Payout] = field(default_factory=dict)

    def observe(self, state: PayoutStateChanged) -> bool:
        """Fold one state record; False when it was known already."""
        p = self._payouts.get(state.payout_id)
        if p is None:
            p = self._payouts[state.payout_id] = _Payout(
                state.week, state.creator_id, state.amount_minor, state.asset)
        if state.state in p.states:
            return False
        if state.state in INSTRUCTED:
            p.amount_minor = state.amount_minor  # what the exchange was told to pay
        p.states.add(state.state)
        return True

    def states(self, pid: str) -> frozenset[str]:
        """The states written for a payout id."""
        p = self._payouts.get(pid)
        return frozenset(p.states) if p is not None else frozenset()

    def settlement(self, results: Iterable[CreatorWeekResult], at_ms: int) -> list[Message]:
        """A settled week's instructions and first states, for the settlement's transaction."""
        out: list[Message] = []
        for r in results:
            pid = payout_id(r.week, r.creator_id)
            if r.payable_minor > 0:
                out.append(PayoutInstructed(payout_id=pid, creator_id=r.creator_id, week=r.week,
                                            amount_minor=r.payable_minor, asset=r.asset,
                                            at_ms=at_ms))
                out.append(_state(pid, r, r.payable_minor, PENDING, "instructed", at_ms))
            elif r.held_minor > 0:
                out.append(_state(pid, r, r.held_minor, HELD,
                                  "held: the creator is sanctioned; an operator decides", at_ms))
            elif r.rollover_out_minor > 0:
                out.append(_state(pid, r, r.rollover_out_minor, ROLLED_OVER,
                                  "below the minimum payout: carried to the next week", at_ms))
        return out

    def answer(self, message: PayoutConfirmed | PayoutRefused, at_ms: int) -> Outcome:
        """The state an exchange answer gives, once per payout id."""
        p = self._payouts.get(message.payout_id)
        if p is None or not p.states & INSTRUCTED:
            return Outcome(note=f"payout {message.payout_id!r} was never instructed")
        if p.states & ANSWERED:
            return Outcome(note=f"payout {message.payout_id!r} was answered already "
                                f"({', '.join(sorted(p.states & ANSWERED))})", duplicate=True)
        if isinstance(message, PayoutConfirmed):
            detail = f"exchange reference {message.exchange_reference}"
            if message.amount_minor != p.amount_minor or message.asset != p.asset:
                detail += (f"; confirmed {message.amount_minor} {message.asset}, instructed "
                           f"{p.amount_minor} {p.asset}")
            state, amount = PAID, p.amount_minor
        else:
            detail, state, amount = message.reason or "refused", REFUSED, p.amount_minor
        return Outcome((PayoutStateChanged(
            payout_id=message.payout_id, week=p.week, creator_id=p.creator_id,
            amount_minor=amount, asset=p.asset, state=state, detail=detail, at_ms=at_ms),))

    def decide(self, decision: HeldDecided, at_ms: int) -> Outcome:
        """What an operator's decision about a held amount writes, once per payout."""
        pid = payout_id(decision.week, decision.creator_id)
        p = self._payouts.get(pid)
        if p is None or HELD not in p.states:
            return Outcome(note=f"{decision.creator_id} has no held amount in {decision.week}")
        if p.states & DECIDED:
            return Outcome(note=f"the held amount of {pid} was decided already "
                                f"({', '.join(sorted(p.states & DECIDED))})", duplicate=True)
        if decision.amount_minor != p.amount_minor or decision.asset != p.asset:
            return Outcome(note=f"decision {decision.decision_id!r} names {decision.amount_minor} "
                                f"{decision.asset}; {pid} holds {p.amount_minor} {p.asset}")
        reason = decision.reason or "operator decision"
        if decision.decision == HeldDecided.DECISION_RELEASE:
            return Outcome((
                PayoutInstructed(payout_id=pid, creator_id=p.creator_id, week=p.week,
                                 amount_minor=p.amount_minor, asset=p.asset, at_ms=at_ms),
                PayoutStateChanged(payout_id=pid, week=p.week, creator_id=p.creator_id,
                                   amount_minor=p.amount_minor, asset=p.asset, state=RELEASED,
                                   detail=f"released by {decision.operator_id}: {reason}",
                                   at_ms=at_ms)))
        if decision.decision == HeldDecided.DECISION_FORFEIT:
            return Outcome((PayoutStateChanged(
                payout_id=pid, week=p.week, creator_id=p.creator_id, amount_minor=p.amount_minor,
                asset=p.asset, state=FORFEITED,
                detail=f"forfeited by {decision.operator_id}: {reason}", at_ms=at_ms),))
        return Outcome(note=f"decision {decision.decision_id!r} is neither release nor forfeit")


def _state(pid: str, r: CreatorWeekResult, amount: int, state: str, detail: str,
           at_ms: int) -> PayoutStateChanged:
    return PayoutStateChanged(payout_id=pid, week=r.week, creator_id=r.creator_id,
                              amount_minor=amount, asset=r.asset, state=state, detail=detail,
                              at_ms=at_ms)
