"""Interactions without Kafka: ids and their strict alphabet, text and depth limits, the thread
cursor, and the store's fold (live apply then tail apply is one apply; counts move only with
state; a deleted comment with replies stays as a tombstone; a rebuild equals the live store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord
from google.protobuf.message import Message

from planet.content.v1 import interactions_pb2 as pb
from planetkit.envelope import encode, wrap
from services.content.adapters.interaction_store import InteractionStore
from services.content.domain.interactions import (
    MAX_COMMENT_CHARS,
    MAX_DEPTH,
    InvalidInteraction,
    Kind,
    ThreadTooDeep,
    action_event_id,
    checked_comment_text,
    checked_quote,
    comment_id_for,
    is_comment_id,
    post_of_comment,
    post_of_item,
    reply_depth,
)
from services.content.domain.interactions_layout import (
    ThreadCursor,
    decode_cursor,
    encode_cursor,
    page_limit,
)

POST = "post_" + "ab" * 12


def test_a_comment_id_carries_its_post_over_a_strict_alphabet() -> None:
    cid = comment_id_for(POST, "alice", "k1")
    assert is_comment_id(cid) and post_of_comment(cid) == POST == post_of_item(cid)
    assert comment_id_for(POST, "alice", "k1") == cid != comment_id_for(POST, "alice", "k2")
    assert post_of_item(POST) == POST
    for bad in (cid.upper(), cid[:-1], cid + "0", cid.replace("_", "-"), "cmt_" + "g" * 49,
                POST.upper(), "post_x", "", "cmt_" + "0" * 24 + "/" + "0" * 24):
        with pytest.raises(InvalidInteraction):
            post_of_item(bad)


def test_event_ids_name_one_action() -> None:
    like = action_event_id(Kind.LIKE, "alice", POST, "k")
    assert like == action_event_id(Kind.LIKE, "alice", POST, "k")
    assert like != action_event_id(Kind.UNLIKE, "alice", POST, "k")
    assert like != action_event_id(Kind.LIKE, "alice", POST, "k2")


def test_text_limits() -> None:
    assert checked_comment_text("gm\nwagmi\t!") == "gm\nwagmi\t!"
    assert checked_comment_text("x" * MAX_COMMENT_CHARS)
    assert checked_quote("") == ""
    for bad, why in (("", "empty"), ("  \n", "empty"), ("x" * (MAX_COMMENT_CHARS + 1), "limit"),
                     ("a\x00b", "control"), ("evil \u202eexe.txt", "control"),
                     ("\x1b[31mred", "control")):
        with pytest.raises(InvalidInteraction, match=why):
            checked_comment_text(bad)


def test_replies_nest_to_the_limit() -> None:
    assert reply_depth(None) == 0
    assert reply_depth(MAX_DEPTH - 1) == MAX_DEPTH
    with pytest.raises(ThreadTooDeep):
        reply_depth(MAX_DEPTH)


def test_the_cursor_round_trips_and_anything_else_is_refused() -> None:
    cursor = ThreadCursor(1_700_000_000_000, comment_id_for(POST, "a", "k"))
    assert decode_cursor(encode_cursor(cursor)) == cursor
    assert decode_cursor("") is None
    for bad in ("not a cursor!", "A" * 200, "AAAA", encode_cursor(cursor)[:-3]):
        with pytest.raises(InvalidInteraction):
            decode_cursor(bad)
    assert page_limit(0) == 20
    with pytest.raises(InvalidInteraction):
        page_limit(101)


def _record(offset: int, event_id: str, event: Message) -> ConsumerRecord[bytes, bytes]:
    value = encode(wrap(event, event_id=event_id, source="content", aggregate_id=POST,
                        occurred_at_ms=1))
    return ConsumerRecord("t", 0, offset, 0, 0, POST.encode(), value, None, 0, len(value), [])


def _history() -> list[tuple[str, Message]]:
    top = comment_id_for(POST, "bob", "c1")
    reply = comment_id_for(POST, "carol", "c2")
    return [
        ("e1", pb.CommentPosted(comment_id=top, post_id=POST, post_author_id="alice",
                                author_id="bob", text="q?", text_length=2, at_ms=10)),
        ("e2", pb.CommentPosted(comment_id=reply, post_id=POST, post_author_id="alice",
                                author_id="carol", parent_comment_id=top, text="a",
                                text_length=1, at_ms=11, parent_author_id="bob", depth=1)),
        ("e3", pb.ItemLiked(item_id=POST, item_author_id="alice", user_id="dave", at_ms=12,
                            post_id=POST)),
        ("e4", pb.ItemLiked(item_id=POST, item_author_id="alice", user_id="dave", at_ms=13,
                            post_id=POST)),  # a second like by dave: no change
        ("e5", pb.ItemLiked(item_id=POST, item_author_id="alice", user_id="erin", at_ms=14,
                            post_id=POST)),
        ("e6", pb.ItemUnliked(item_id=POST, item_author_id="alice", user_id="erin", at_ms=15,
                              post_id=POST)),
        ("e7", pb.CommentEdited(comment_id=top, post_id=POST, author_id="bob", text="q!",
                                text_length=2, at_ms=16, revision=1)),
        ("e8", pb.CommentDeleted(comment_id=top, post_id=POST, author_id="bob", at_ms=17)),
        ("e9", pb.ItemShared(share_id="shr_" + "ab" * 12 + "_" + "0" * 24, item_id=POST,
                             item_author_id="alice", user_id="dave", at_ms=18, post_id=POST)),
    ]


def test_the_live_apply_and_the_tail_apply_are_one_and_a_rebuild_equals_live(
    tmp_path: Path,
) -> None:
    live = InteractionStore(tmp_path / "live", 0)
    rebuilt = InteractionStore(tmp_path / "rebuilt", 0)
    try:
        history = _history()
        for event_id, event in history:
            live.apply_decided(event_id, event)  # what the deciding replica does at once
        records = [_record(i, eid, ev) for i, (eid, ev) in enumerate(history)]
        assert live.apply(records) == 0  # the tail then changes nothing
        rebuilt.apply(records[:4])
        rebuilt.apply(records[4:])
        assert dict(rebuilt.items()) == dict(live.items())
        assert rebuilt.applied == live.applied == len(records)

        stats = live.stats(POST)
        assert (stats.likes, stats.comments, stats.shares) == (1, 1, 1)
        top = comment_id_for(POST, "bob", "c1")
        # Deleted with a reply: a tombstone in the thread, its reply under it.
        [tombstone], following = live.thread(POST, "", None, 10, newest_first=True)
        assert following is None
        assert (tombstone.comment_id, tombstone.deleted, tombstone.text) == (top, True, "")
        [reply], _ = live.thread(POST, top, None, 10, newest_first=False)
        assert reply.depth == 1 and live.stats(top).comments == 1
    finally:
        live.close()
        rebuilt.close()


def test_threads_page_both_ways_without_gap_or_duplicate(tmp_path: Path) -> None:
    store = InteractionStore(tmp_path / "s", 0)
    try:
        ids = []
        for i in range(23):
            cid = comment_id_for(POST, f"u{i}", "k")
            ids.append(cid)
            store.apply_decided(f"e{i}", pb.CommentPosted(
                comment_id=cid, post_id=POST, author_id=f"u{i}", text="x", text_length=1,
                at_ms=100 + i // 3))  # ties on time: ordered by id
        expected = [c for _, c in sorted((100 + i // 3, c) for i, c in enumerate(ids))]
        for newest_first, want in ((False, expected), (True, expected[::-1])):
            got: list[str] = []
            after = None
            while True:
                page, after = store.thread(POST, "", after, 5, newest_first=newest_first)
                got += [c.comment_id for c in page]
                if after is None:
                    break
            assert got == want
    finally:
        store.close()
