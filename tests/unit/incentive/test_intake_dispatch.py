"""Source records in, tables and enveloped records out, over plain dicts (no Faust)."""

from __future__ import annotations

import pytest
from intake_events import (
    DAY,
    EXCHANGE,
    SOCIAL,
    T0,
    comment,
    fee,
    followed,
    like,
    published,
    raw,
    removed,
    sanctioned,
)

from planet.exchange.v1.events_pb2 import KycVerified
from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, Period, UserStatus
from planet.social.v1 import events_pb2 as social
from planetkit import topics as registry
from planetkit.envelope import UndecodableEvent, decode
from services.incentive.intake.dispatch import (
    UserTables,
    on_follow_record,
    on_item_record,
    on_user_record,
)
from services.incentive.intake.records import Output


def tables() -> UserTables:
    return UserTables(users={}, sanctions={}, fee_ids={})


def test_a_comment_writes_its_fact_and_the_comments_status() -> None:
    items: dict[str, bytes] = {}
    out = on_item_record(registry.INTERACTIONS, raw(comment(), "ev-c"), items)
    assert [(o.topic.name, o.key) for o in out] == [
        (registry.INTERACTION_FACTS.name, "u_c"), (registry.ITEM_STATUS.name, "cmt_1")]
    facts = decode(out[0].value, FactRows)
    assert facts.event_id == "ev-c/facts" and list(facts.payload.event_ids) == ["ev-c"]
    assert decode(out[1].value, ItemStatus).payload.creator_id == "u_c"
    assert ItemStatus.FromString(items["cmt_1"]).item_kind == "comment"


def test_a_like_writes_only_its_fact_and_a_follow_its_fact() -> None:
    assert [o.topic for o in on_item_record(registry.INTERACTIONS, raw(like(), "l"), {})] == \
        [registry.INTERACTION_FACTS]
    out = on_follow_record(raw(followed(), "f", source=SOCIAL))
    assert [(o.topic, o.key) for o in out] == [(registry.INTERACTION_FACTS, "u_f")]


def test_each_status_change_writes_the_whole_status_and_repeats_write_nothing() -> None:
    items: dict[str, bytes] = {}
    on_item_record(registry.POSTS, raw(published(), "p1"), items)
    out = on_item_record(registry.MODERATION, raw(removed(), "m1"), items)
    whole = decode(out[0].value, ItemStatus).payload
    assert (whole.creator_id, whole.item_kind, list(whole.removed)) == \
        ("u_p", "post", [Period(from_ms=T0 + DAY)])
    assert on_item_record(registry.POSTS, raw(published(), "p1-again"), items) == []


def status_of(out: list[Output]) -> UserStatus:
    [only] = out
    assert only.topic == registry.USER_STATUS
    return decode(only.value, UserStatus).payload


def test_kyc_identity_sanctions_and_fees_fold_into_one_user_status() -> None:
    t = tables()
    on_user_record(registry.KYC, raw(KycVerified(user_id="u_p", verified_at_ms=T0), "k",
                                     source=EXCHANGE), t, "USDT")
    on_user_record(registry.SOCIAL_IDENTITIES, raw(sanctioned(), "s", source=SOCIAL), t, "USDT")
    lifted = on_user_record(registry.SOCIAL_IDENTITIES, raw(social.SanctionLifted(
        user_id="u_p", sanction_id="s1", at_ms=T0 + 5), "l", source=SOCIAL), t, "USDT")
    assert list(status_of(lifted).sanctioned) == [Period(from_ms=T0, until_ms=T0 + 5)]
    status = status_of(on_user_record(registry.TRADE_FEES, raw(fee("u_p", "f1", 30), "f",
                                                             source=EXCHANGE), t, "USDT"))
    assert status.kyc_verified_at_ms == T0 and [d.quote_minor for d in status.fees] == [30]
    assert on_user_record(registry.TRADE_FEES, raw(fee("u_p", "f1", 30), "f2", source=EXCHANGE),
                          t, "USDT") == []
    assert set(t.fee_ids) == {f"u_p|{T0 // DAY}"}


def test_a_bad_record_raises_before_any_write() -> None:
    items: dict[str, bytes] = {}
    on_item_record(registry.POSTS, raw(published(), "p1"), items)
    before = dict(items)
    with pytest.raises(UndecodableEvent, match="already published"):
        on_item_record(registry.POSTS, raw(published(creator="u_x"), "p2"), items)
    with pytest.raises(UndecodableEvent):
        on_item_record(registry.POSTS, b"not an envelope", items)
    with pytest.raises(UndecodableEvent, match="unexpected event type"):
        on_item_record(registry.POSTS, raw(like(), "wrong topic"), items)
    assert items == before
