"""Posts, comments, moderation → ItemStatus; KYC, identities, sanctions → UserStatus."""

from __future__ import annotations

import pytest
from intake_events import (
    DAY,
    EXCHANGE,
    SOCIAL,
    T0,
    comment,
    event,
    opened,
    published,
    removed,
    restored,
    sanctioned,
)

from planet.content.v1.events_pb2 import PostEdited
from planet.exchange.v1.events_pb2 import KycVerified
from planet.incentive.v1.facts_pb2 import ItemStatus, Period, UserStatus
from planet.social.v1 import events_pb2 as social
from planetkit.envelope import UndecodableEvent
from services.incentive.intake.item_status import fold_item
from services.incentive.intake.user_status import UserChange, fold_user


def items(*payloads: object) -> ItemStatus | None:
    status: ItemStatus | None = None
    for n, p in enumerate(payloads):
        status = fold_item(status, event(p, f"ev{n}")) or status  # type: ignore[arg-type]
    return status


def test_a_published_post_and_article_name_owner_kind_and_time() -> None:
    assert items(published()) == ItemStatus(item_id="post_1", creator_id="u_p", item_kind="post",
                                             published_at_ms=T0, updated_at_ms=T0)
    assert items(published(article=True)).item_kind == "article"  # type: ignore[union-attr]


def test_removal_and_restoration_are_periods_with_the_sources_times() -> None:
    status = items(published(), removed(), restored(), removed(at_ms=T0 + 3 * DAY))
    assert status is not None
    assert list(status.removed) == [Period(from_ms=T0 + DAY, until_ms=T0 + 2 * DAY),
                                    Period(from_ms=T0 + 3 * DAY, until_ms=0)]
    assert status.updated_at_ms == T0 + 3 * DAY


def test_a_removal_read_before_the_post_keeps_its_period_and_the_post_fills_in() -> None:
    status = items(removed(), published())
    assert status is not None and status.item_kind == "post" and status.published_at_ms == T0
    assert list(status.removed) == [Period(from_ms=T0 + DAY)]


def test_repeats_and_other_records_change_nothing() -> None:
    first = fold_item(None, event(published(), "e1"))
    assert fold_item(first, event(published(), "e2")) is None
    assert fold_item(first, event(restored(), "e3")) is None  # nothing to restore
    assert fold_item(first, event(PostEdited(post_id="post_1", creator_id="u_p"), "e4")) is None


def test_a_comment_is_an_item_of_its_author() -> None:
    status = items(comment(author="u_c", cid="cmt_7"))
    assert status is not None and (status.item_id, status.creator_id, status.item_kind) == \
        ("cmt_7", "u_c", "comment")


def test_a_publication_owns_the_item_whatever_a_removal_read_before_it_said() -> None:
    status = items(removed(author="u_other"), published())
    assert status is not None and status.creator_id == "u_p"
    after = items(published(), removed(author="u_other"))
    assert after is not None and after.creator_id == "u_p" and len(after.removed) == 1


def test_another_publisher_or_a_restoration_before_its_removal_is_inconsistent() -> None:
    first = fold_item(None, event(published(), "e1"))
    with pytest.raises(UndecodableEvent, match="already published for"):
        fold_item(first, event(published(creator="u_other"), "e2"))
    gone = fold_item(first, event(removed(), "e3"))
    with pytest.raises(UndecodableEvent, match="began later"):
        fold_item(gone, event(restored(at_ms=T0), "e4"))


def users(*payloads: object) -> UserStatus:
    status: UserStatus | None = None
    index: dict[str, int] = {}
    for n, p in enumerate(payloads):
        source = EXCHANGE if isinstance(p, KycVerified) else SOCIAL
        change = fold_user(status, event(p, f"ev{n}", source=source), index)  # type: ignore[arg-type]
        if change is not None:
            status = change.status
            if change.new_sanction:
                index[change.new_sanction[0]] = change.new_sanction[1]
    assert status is not None
    return status


def test_kyc_keeps_the_first_verification() -> None:
    status = users(KycVerified(user_id="u", verified_at_ms=T0 + 5),
                   KycVerified(user_id="u", verified_at_ms=T0 + 9))
    assert status.kyc_verified_at_ms == T0 + 5


def test_identity_periods_open_close_and_reopen() -> None:
    status = users(opened(),
                   social.IdentitySuspended(user_id="u_p", at_ms=T0 + DAY),
                   social.IdentitySuspended(user_id="u_p", at_ms=T0 + DAY + 1),  # a repeat
                   social.IdentityReinstated(user_id="u_p", at_ms=T0 + 2 * DAY),
                   social.IdentityClosed(user_id="u_p", at_ms=T0 + 3 * DAY))
    assert list(status.identity_open) == [Period(from_ms=T0, until_ms=T0 + DAY),
                                          Period(from_ms=T0 + 2 * DAY, until_ms=T0 + 3 * DAY)]


def test_sanctions_are_periods_per_id_ended_by_a_lift_or_a_granted_appeal() -> None:
    status = users(sanctioned(sid="s1"), sanctioned(sid="s2", at_ms=T0 + 1, until_ms=T0 + DAY),
                   sanctioned(sid="s3", at_ms=T0 + 2),
                   social.SanctionLifted(user_id="u_p", sanction_id="s1", at_ms=T0 + 10),
                   social.AppealDecided(user_id="u_p", sanction_id="s3", granted=False,
                                        at_ms=T0 + 11),
                   social.SanctionLifted(user_id="u_p", sanction_id="s2", at_ms=T0 + 2 * DAY),
                   social.AppealDecided(user_id="u_p", sanction_id="s3", granted=True,
                                        at_ms=T0 + 12))
    assert list(status.sanctioned) == [Period(from_ms=T0, until_ms=T0 + 10),
                                       Period(from_ms=T0 + 1, until_ms=T0 + DAY),  # expired
                                       Period(from_ms=T0 + 2, until_ms=T0 + 12)]


def test_a_repeated_sanction_changes_nothing_and_an_unknown_lift_is_inconsistent() -> None:
    first = fold_user(None, event(sanctioned(), "e1", source=SOCIAL), {})
    assert isinstance(first, UserChange) and first.new_sanction == ("s1", 0)
    assert fold_user(first.status, event(sanctioned(), "e2", source=SOCIAL), {"s1": 0}) is None
    with pytest.raises(UndecodableEvent, match="never seen"):
        fold_user(first.status, event(social.SanctionLifted(user_id="u_p", sanction_id="s9",
                                                            at_ms=T0), "e3", source=SOCIAL),
                  {"s1": 0})


def test_profile_and_handle_records_change_nothing_and_a_user_is_required() -> None:
    status = users(opened())
    assert fold_user(status, event(social.ProfileUpdated(user_id="u_p"), "e", source=SOCIAL),
                     {}) is None
    with pytest.raises(UndecodableEvent, match="lacks user_id"):
        fold_user(None, event(social.IdentitySuspended(at_ms=T0), "e", source=SOCIAL), {})
