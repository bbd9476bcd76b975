"""Interactions and follows → one FactRows per source event (planetkit.fact_rows columns)."""

from __future__ import annotations

import pytest
from intake_events import SOCIAL, T0, comment, event, followed, like, share

from planet.content.v1 import interactions_pb2 as ix
from planet.social.v1 import graph_pb2 as graph
from planetkit.envelope import UndecodableEvent
from planetkit.fact_rows import (
    COMMENT,
    FOLLOW,
    LIKE,
    REPLY,
    SHARE,
    FactRow,
    event_check,
    event_key,
    iter_facts,
)
from services.incentive.intake.interaction_facts import follow_fact, interaction_fact


def only_row(facts: object) -> FactRow:
    assert facts is not None
    rows = list(iter_facts(facts))  # type: ignore[arg-type]
    assert len(rows) == 1
    return rows[0]


def test_a_top_level_comment_is_a_comment_of_its_author_on_the_post_for_the_post_author() -> None:
    facts = interaction_fact(event(comment(length=40), "ev-c"))
    assert facts is not None and facts.consumer_id == "u_c" and facts.rows_id == "ev-c:0"
    assert only_row(facts) == FactRow("ev-c", "post_1", "u_p", T0, COMMENT, 0, 40)


def test_a_fact_carries_its_event_key_and_check_so_the_weekly_reader_hashes_nothing() -> None:
    for facts in (interaction_fact(event(like(), "ev-k")),
                  follow_fact(event(followed(), "ev-k2", source=SOCIAL))):
        assert facts is not None
        assert list(facts.event_keys) == [event_key(facts.event_ids[0])]
        assert list(facts.event_checks) == [event_check(facts.event_ids[0])]


def test_a_reply_is_a_reply() -> None:
    assert only_row(interaction_fact(event(comment(parent="cmt_0"), "ev-r"))).kind == REPLY


def test_likes_and_shares_name_the_item_and_its_author_and_a_share_weighs_its_quote() -> None:
    assert only_row(interaction_fact(event(like(item="cmt_9", author="u_x"), "ev-l"))) == \
        FactRow("ev-l", "cmt_9", "u_x", T0, LIKE, 0, 0)
    assert only_row(interaction_fact(event(share(quote_length=7), "ev-s"))) == \
        FactRow("ev-s", "post_1", "u_p", T0, SHARE, 0, 7)


def test_a_follow_is_a_fact_on_the_followees_home() -> None:
    facts = follow_fact(event(followed(), "ev-f", source=SOCIAL))
    assert facts is not None and facts.consumer_id == "u_f"
    assert only_row(facts) == FactRow("ev-f", "home:u_p", "u_p", T0, FOLLOW, 0, 0)


@pytest.mark.parametrize("payload", [
    ix.CommentEdited(comment_id="cmt_1", post_id="post_1", author_id="u_c", at_ms=T0),
    ix.CommentDeleted(comment_id="cmt_1", post_id="post_1", author_id="u_c", at_ms=T0),
    ix.ItemUnliked(item_id="post_1", item_author_id="u_p", user_id="u_l", at_ms=T0),
])
def test_undoing_or_editing_is_no_act(payload: ix.CommentEdited) -> None:
    assert interaction_fact(event(payload, "ev-x")) is None


def test_unfollows_and_bells_are_no_fact() -> None:
    assert follow_fact(event(graph.Unfollowed(follower_id="a", followee_id="b", at_ms=T0), "e",
                             source=SOCIAL)) is None


def test_the_envelope_time_stands_in_for_a_missing_payload_time() -> None:
    assert only_row(interaction_fact(event(like(at_ms=0), "ev", at_ms=T0 + 5))).occurred_at_ms \
        == T0 + 5


@pytest.mark.parametrize("payload", [like(user=""), like(author=""), like(item=""),
                                     comment(post_author="")])
def test_a_fact_without_its_ids_is_refused(payload: ix.ItemLiked) -> None:
    with pytest.raises(UndecodableEvent, match="lacks"):
        interaction_fact(event(payload, "ev-bad"))


def test_a_follow_without_a_followee_is_refused() -> None:
    with pytest.raises(UndecodableEvent, match="item, creator"):
        follow_fact(event(followed(followee=""), "ev", source=SOCIAL))
