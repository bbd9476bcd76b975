"""Appeal decisions (pure): only an appealed sanction, once; a grant lifts from its moment and
only a sanction still standing; a denial leaves it; the fold shows note and times."""

from __future__ import annotations

import pytest

from planet.social.v1 import events_pb2 as ev
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1.state_pb2 import AccountState
from services.social.domain import account as acc
from services.social.domain.errors import AlreadyExists, NotFound, Precondition

NOW = 1_700_000_000_000
HOUR = 3_600_000


def _fold(state: AccountState, *events: object) -> AccountState:
    for event in events:
        acc.fold(state, event)  # type: ignore[arg-type]
        state.version += 1
    return state


def _sanctioned(until_ms: int = 0, appealed: bool = True) -> tuple[AccountState, str]:
    state = AccountState()
    made = acc.sanction(state, "carl", "spam", until_ms, "olga", NOW)
    _fold(state, made)
    if appealed:
        _fold(state, acc.appeal(state, "carl", made.sanction_id, "not spam", NOW + 1))
    return state, made.sanction_id


def test_a_grant_lifts_from_its_moment_with_the_operator_and_note() -> None:
    state, sid = _sanctioned()
    decided = acc.decide_appeal(state, "carl", sid, True, "reviewed", "pat", NOW + HOUR)
    assert decided == ev.AppealDecided(user_id="carl", sanction_id=sid, granted=True,
                                       note="reviewed", operator_id="pat", at_ms=NOW + HOUR)
    s = _fold(state, decided).sanctions[0]
    assert s.status == rpc.SANCTION_STATUS_LIFTED and s.lifted_at_ms == NOW + HOUR
    assert (s.appeal_decision, s.appeal_note, s.appeal_decided_at_ms) == (
        "granted", "reviewed", NOW + HOUR)
    assert s.lifted_reason == "reviewed"


def test_a_denial_leaves_the_sanction_standing() -> None:
    state, sid = _sanctioned()
    s = _fold(state, acc.decide_appeal(state, "carl", sid, False, "upheld", "pat",
                                       NOW + HOUR)).sanctions[0]
    assert s.status == rpc.SANCTION_STATUS_ACTIVE and s.lifted_at_ms == 0
    assert (s.appeal_decision, s.appeal_note) == ("denied", "upheld")
    assert acc.status_of(s, NOW + 2 * HOUR) == rpc.SANCTION_STATUS_ACTIVE


@pytest.mark.parametrize("grant", [True, False])
def test_an_appeal_is_decided_once(grant: bool) -> None:
    state, sid = _sanctioned()
    _fold(state, acc.decide_appeal(state, "carl", sid, grant, "n", "pat", NOW + HOUR))
    for again in (True, False):
        with pytest.raises(AlreadyExists, match="once"):
            acc.decide_appeal(state, "carl", sid, again, "n", "pat", NOW + 2 * HOUR)


def test_only_an_appealed_existing_sanction_is_decided() -> None:
    state, sid = _sanctioned(appealed=False)
    with pytest.raises(Precondition, match="not been appealed"):
        acc.decide_appeal(state, "carl", sid, True, "n", "pat", NOW + HOUR)
    with pytest.raises(NotFound):
        acc.decide_appeal(state, "carl", "sanc_" + "0" * 20, True, "n", "pat", NOW + HOUR)


def test_a_grant_after_the_end_or_a_lift_keeps_when_and_why_it_ended() -> None:
    # Expired before the decision: the decision is recorded, the sanction is not "lifted".
    state, sid = _sanctioned(until_ms=NOW + HOUR)
    s = _fold(state, acc.decide_appeal(state, "carl", sid, True, "late", "pat",
                                       NOW + 2 * HOUR)).sanctions[0]
    assert s.appeal_decision == "granted" and s.lifted_at_ms == 0
    assert acc.status_of(s, NOW + 2 * HOUR) == rpc.SANCTION_STATUS_EXPIRED
    # Lifted by an operator while the appeal waited: the lift's moment and reason stay.
    state, sid = _sanctioned()
    _fold(state, acc.lift(state, "carl", sid, "mistake", "olga", NOW + HOUR))
    s = _fold(state, acc.decide_appeal(state, "carl", sid, True, "agreed", "pat",
                                       NOW + 2 * HOUR)).sanctions[0]
    assert (s.lifted_at_ms, s.lifted_reason, s.appeal_decision) == (
        NOW + HOUR, "mistake", "granted")
