"""The social domain's rules, pure: handles, profiles, identities, sanctions, appeals."""

from __future__ import annotations

import pytest

from planet.social.v1 import events_pb2 as ev
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1.state_pb2 import AccountState, HandleState
from services.social.domain import account as acc
from services.social.domain.errors import AlreadyExists, Invalid, NotFound, Precondition
from services.social.domain.handles import check_claimable, fold_handle
from services.social.domain.validation import (
    MAX_BIO_CHARS,
    check_appeal,
    check_handle,
    check_https_url,
    check_profile,
    check_reason,
)

NOW = 1_700_000_000_000
DAY = 86_400_000
PROFILE = check_profile("Erin", "swing trades", "", [], [])


def _verified() -> AccountState:
    return AccountState(kyc_verified_at_ms=NOW - DAY)


def _applied(state: AccountState, *events: object) -> AccountState:
    for event in events:
        acc.fold(state, event)  # type: ignore[arg-type]
        state.version += 1
    return state


def _open(user: str = "erin", handle: str = "erin_t") -> AccountState:
    state = _verified()
    return _applied(state, acc.open_identity(state, user, handle, PROFILE, NOW))


@pytest.mark.parametrize("handle", ["abc", "erin_t", "a" * 30, "x_1_2", "007"])
def test_handles_of_the_alphabet_and_length_pass(handle: str) -> None:
    assert check_handle(handle) == handle


@pytest.mark.parametrize(("handle", "why"), [
    ("ab", "3 to 30"), ("a" * 31, "3 to 30"), ("Erin", "a-z"), ("erin-t", "a-z"),
    ("erin t", "a-z"), ("érin", "a-z"), ("erin\n", "a-z"), ("ｅrin", "a-z"),
    ("admin", "reserved"), ("planet", "reserved"), ("me", "3 to 30"),
])
def test_handles_outside_the_alphabet_or_reserved_are_refused(handle: str, why: str) -> None:
    with pytest.raises(Invalid, match=why):
        check_handle(handle)


@pytest.mark.parametrize("url", ["https://example.com", "https://cdn.example.com/a.png?x=1"])
def test_https_urls_pass(url: str) -> None:
    assert check_https_url("avatar_url", url) == url


@pytest.mark.parametrize("url", [
    "http://example.com", "javascript:alert(1)", "https://", "https://user:pw@example.com",
    "https://example.com:99999/", "//example.com", "https://exa mple.com", "https://localhost",
    "ftp://example.com", "https://" + "a" * 300 + ".com",
])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(Invalid):
        check_https_url("avatar_url", url)


def test_profiles_are_trimmed_bounded_and_topics_lower_cased() -> None:
    p = check_profile("  Erin  ", "bio", "https://x.example/a.png", ["https://e.example"],
                      ["BTC", "btc", "Macro"])
    assert (p.display_name, p.topics) == ("Erin", ("btc", "macro"))
    for bad in [dict(display_name=""), dict(display_name="a\nb"),
                dict(bio="b" * (MAX_BIO_CHARS + 1)), dict(links=["https://e.example"] * 6),
                dict(topics=["no spaces"])]:
        args = {"display_name": "Erin", "bio": "", "avatar_url": "", "links": [], "topics": []}
        args.update(bad)  # type: ignore[call-overload]
        with pytest.raises(Invalid):
            check_profile(**args)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        check_reason("   ")
    with pytest.raises(Invalid):
        check_appeal("x" * 2001)


def test_only_a_kyc_verified_account_opens_and_only_once() -> None:
    with pytest.raises(Precondition, match="KYC verification required"):
        acc.open_identity(AccountState(), "erin", "erin_t", PROFILE, NOW)
    state = _open()
    assert state.status == acc.OPEN and state.handle == "erin_t" and state.version == 1
    with pytest.raises(AlreadyExists):
        acc.open_identity(state, "erin", "other", PROFILE, NOW)


def test_publishing_follows_the_identity() -> None:
    assert acc.publisher_refusal(_verified()) == acc.NO_IDENTITY
    state = _open()
    assert acc.publisher_refusal(state) == ""
    _applied(state, acc.suspend(state, "erin", "spam", "olga", NOW))
    assert acc.publisher_refusal(state) == acc.SUSPENDED_REASON
    with pytest.raises(Precondition):
        acc.suspend(state, "erin", "again", "olga", NOW)
    _applied(state, acc.reinstate(state, "erin", "ok", "olga", NOW))
    assert acc.publisher_refusal(state) == ""
    closed = acc.close(state, "erin", "gone", "olga", NOW, 30 * DAY)
    assert closed.handle_reserved_until_ms == NOW + 30 * DAY
    _applied(state, closed)
    assert acc.publisher_refusal(state) == acc.CLOSED_REASON
    with pytest.raises(Precondition):
        acc.update_profile(state, "erin", PROFILE, NOW)
    with pytest.raises(NotFound):
        acc.suspend(_verified(), "x", "r", "olga", NOW)


def test_a_changed_handle_is_kept_in_history_and_reserved_for_its_holder() -> None:
    state = _open()
    changed = acc.change_handle(state, "erin", "erin_new", NOW, 30 * DAY)
    _applied(state, changed)
    assert (state.handle, list(state.previous_handles)) == ("erin_new", ["erin_t"])
    with pytest.raises(AlreadyExists):
        acc.change_handle(state, "erin", "erin_new", NOW, 30 * DAY)

    old = HandleState(user_id="erin")
    fold_handle(old, ev.HandleReleased(handle="erin_t", user_id="erin",
                                       reserved_until_ms=changed.old_reserved_until_ms))
    check_claimable(old, "erin_t", "erin", NOW + DAY)  # the holder takes it back
    with pytest.raises(AlreadyExists, match="reserved"):
        check_claimable(old, "erin_t", "frank", NOW + DAY)
    check_claimable(old, "erin_t", "frank", NOW + 30 * DAY)  # reservation over
    held = HandleState(user_id="erin")
    with pytest.raises(AlreadyExists, match="taken"):
        check_claimable(held, "erin_t", "frank", NOW + 365 * DAY)
    check_claimable(None, "fresh", "frank", NOW)


def test_a_sanction_is_appealed_once_and_lifted_once() -> None:
    state = AccountState()  # any account, creator or not
    made = acc.sanction(state, "carl", "spam", 0, "olga", NOW)
    _applied(state, made)
    assert made.sanction_id.startswith("sanc_") and len(made.sanction_id) == 25
    _applied(state, acc.appeal(state, "carl", made.sanction_id, "not me", NOW))
    with pytest.raises(AlreadyExists, match="once"):
        acc.appeal(state, "carl", made.sanction_id, "again", NOW)
    with pytest.raises(NotFound):
        acc.appeal(state, "carl", "sanc_" + "0" * 20, "?", NOW)
    _applied(state, acc.lift(state, "carl", made.sanction_id, "granted", "olga", NOW))
    [s] = state.sanctions
    assert s.status == rpc.SANCTION_STATUS_LIFTED and s.appealed
    with pytest.raises(Precondition):
        acc.lift(state, "carl", made.sanction_id, "again", "olga", NOW)


def test_a_sanction_with_an_end_expires_and_cannot_end_in_the_past() -> None:
    state = AccountState()
    with pytest.raises(Invalid):
        acc.sanction(state, "carl", "spam", NOW - 1, "olga", NOW)
    made = acc.sanction(state, "carl", "spam", NOW + DAY, "olga", NOW)
    _applied(state, made)
    [s] = state.sanctions
    assert acc.status_of(s, NOW) == acc.ACTIVE
    assert acc.status_of(s, NOW + DAY) == acc.EXPIRED
    with pytest.raises(Precondition):
        acc.appeal(state, "carl", made.sanction_id, "late", NOW + DAY)
    # Each sanction of an account gets its own id.
    second = acc.sanction(state, "carl", "again", 0, "olga", NOW)
    assert second.sanction_id != made.sanction_id
