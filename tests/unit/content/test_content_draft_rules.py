"""Drafts (pure rules and fold) and their partition store (a real RocksDB in a temp dir)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord

from planet.content.v1 import drafts_pb2 as dr
from planetkit.envelope import encode, wrap
from services.content.adapters.draft_store import DraftStore
from services.content.domain.drafts import (
    MAX_DRAFTS_PER_AUTHOR,
    Draft,
    DraftConflict,
    DraftContent,
    DraftNotFound,
    TooManyDrafts,
    apply,
    check_ids,
    check_revision,
    check_room,
    checked_content,
    draft_id_for,
    draft_saved,
    is_draft_id,
    owned,
    publish_command,
    publish_request_id,
)
from services.content.domain.ids import post_id_for
from services.content.domain.model import PostKind, TradeIdea, TradeSide
from services.content.domain.validation import (
    MAX_ARTICLE_BODY_CHARS,
    MAX_TITLE_CHARS,
    InvalidPost,
    validate,
)


def _draft(revision: int = 1, title: str = "t", at: int = 10, draft_id: str = "",
           author: str = "erin") -> Draft:
    return Draft(draft_id or draft_id_for(author, "r1"), author, revision,
                 DraftContent(title=title, body=f"body {revision}"), 5, at)


# --- ids -------------------------------------------------------------------------------------

def test_draft_ids_are_derived_from_author_and_request_with_a_strict_shape() -> None:
    a = draft_id_for("erin", "k1")
    assert a == draft_id_for("erin", "k1") != draft_id_for("erin", "k2")
    assert draft_id_for("a\x00b", "c") != draft_id_for("a", "b\x00c")
    assert is_draft_id(a) and len(a) == 28
    for bad in ("", "dft_", a.upper(), a[:-1], a + "0", "post_" + a[4:], a[:-1] + "g"):
        assert not is_draft_id(bad)


def test_the_publish_request_id_follows_draft_and_revision_and_no_header_can_name_it() -> None:
    one, two = _draft(1), _draft(2)
    assert publish_request_id(one) == publish_request_id(
        replace(one, content=DraftContent(title="x")))
    assert publish_request_id(one) != publish_request_id(two)
    assert "\x00" in publish_request_id(one)
    # So the post id a publish makes is the same for every retry of one revision.
    assert post_id_for("erin", publish_request_id(one)) == post_id_for(
        "erin", publish_request_id(_draft(1)))


def test_ids_are_checked_before_anything_is_read() -> None:
    check_ids("erin", draft_id_for("erin", "k"), what="draft_id")
    check_ids("erin", "k", what="request_id")
    with pytest.raises(InvalidPost, match="draft_id"):
        check_ids("erin", "nope", what="draft_id")
    with pytest.raises(InvalidPost, match="author_id"):
        check_ids("", "k", what="request_id")
    with pytest.raises(InvalidPost, match="request_id"):
        check_ids("erin", "x" * 129, what="request_id")


# --- save rules ------------------------------------------------------------------------------

def test_a_draft_may_be_incomplete() -> None:
    assert checked_content("erin", DraftContent()) == DraftContent()
    got = checked_content("erin", DraftContent(title="  T  ", hashtags=("#SOL", "sol")))
    assert got.title == "T" and got.body == "" and got.hashtags == ("SOL", "sol")


def test_a_draft_keeps_an_articles_limits() -> None:
    with pytest.raises(InvalidPost, match="title has"):
        checked_content("erin", DraftContent(title="x" * (MAX_TITLE_CHARS + 1)))
    with pytest.raises(InvalidPost, match="body has"):
        checked_content("erin", DraftContent(body="x" * (MAX_ARTICLE_BODY_CHARS + 1)))
    with pytest.raises(InvalidPost, match="cover_image_url must be an https URL"):
        checked_content("erin", DraftContent(cover_image_url="http://example.com/a.png"))
    with pytest.raises(InvalidPost, match="hashtags; the limit"):
        checked_content("erin", DraftContent(hashtags=tuple(f"t{i}" for i in range(11))))
    with pytest.raises(InvalidPost, match="a long idea needs stop < entry < target"):
        checked_content("erin", DraftContent(components=(
            TradeIdea("BTC/USDT", TradeSide.LONG, "10", "9", "8"),)))
    # Every problem is named at once.
    with pytest.raises(InvalidPost, match=r"title has .*summary has"):
        checked_content("erin", DraftContent(title="x" * 201, summary="s" * 501))


def test_publishing_validates_the_draft_as_an_article() -> None:
    cmd = publish_command(_draft(3, title=""))
    assert cmd.kind is PostKind.ARTICLE and cmd.creator_id == "erin"
    assert cmd.request_id == publish_request_id(_draft(3))
    with pytest.raises(InvalidPost, match="an article needs a title"):
        validate(cmd)
    validate(publish_command(_draft(3, title="Ready")))


def test_only_the_author_sees_a_draft_and_discarded_ones_are_gone() -> None:
    draft = _draft()
    assert owned(draft, "erin") is draft
    for user in ("frank", ""):
        with pytest.raises(DraftNotFound):
            owned(draft, user)
    with pytest.raises(DraftNotFound):
        owned(None, "erin")
    with pytest.raises(DraftNotFound):
        owned(replace(draft, discarded_at_ms=9), "erin")
    # A published one is still the author's (it names its post).
    assert owned(replace(draft, published_post_id="post_x"), "erin").published_post_id


def test_a_stale_revision_or_a_published_draft_is_a_conflict() -> None:
    check_revision(_draft(2), 2)
    check_revision(_draft(2), 0)
    with pytest.raises(DraftConflict, match="revision 2, not 1"):
        check_revision(_draft(2), 1)
    with pytest.raises(DraftConflict, match="published"):
        check_revision(replace(_draft(2), published_post_id="post_x"), 2)


def test_an_author_keeps_a_bounded_number_of_drafts() -> None:
    check_room(MAX_DRAFTS_PER_AUTHOR - 1)
    with pytest.raises(TooManyDrafts, match="publish or discard"):
        check_room(MAX_DRAFTS_PER_AUTHOR)


# --- the fold --------------------------------------------------------------------------------

def _saved(revision: int, body: str = "", at: int = 0) -> dr.DraftSaved:
    d = replace(_draft(revision, at=at or 10 + revision),
                content=DraftContent(title="t", body=body or f"body {revision}"))
    return draft_saved(d)


def test_the_fold_creates_replaces_by_revision_and_ends() -> None:
    state = apply(None, _saved(1, body="<script>x</script> *hi*"))
    assert state is not None and state.revision == 1 and state.live
    assert "<script>" not in state.body_html and "<em>hi</em>" in state.body_html
    two = apply(state, _saved(2))
    assert two is not None and two.revision == 2 and two.updated_at_ms == 12
    assert two.created_at_ms == state.created_at_ms
    # Replays and duplicates change nothing: the first event of each revision wins.
    assert apply(two, _saved(2, body="other")) is None
    assert apply(two, _saved(1)) is None
    published = apply(two, dr.DraftPublished(draft_id=two.draft_id, author_id="erin",
                                              post_id="post_1", at_ms=20))
    assert published is not None and not published.live and published.published_post_id
    assert apply(published, _saved(3)) is None
    assert apply(published, dr.DraftDiscarded(draft_id=two.draft_id, at_ms=21)) is None
    gone = apply(two, dr.DraftDiscarded(draft_id=two.draft_id, author_id="erin", at_ms=0))
    assert gone is not None and gone.discarded_at_ms == 1 and not gone.live
    assert apply(None, dr.DraftDiscarded(draft_id="dft_x")) is None


# --- the store -------------------------------------------------------------------------------

def _record(offset: int, payload: dr.DraftSaved | dr.DraftPublished | dr.DraftDiscarded
            ) -> ConsumerRecord[bytes, bytes]:
    value = encode(wrap(payload, event_id=f"evt_{offset}", source="content",
                        aggregate_id=payload.author_id, occurred_at_ms=1))
    return ConsumerRecord("drafts", 0, offset, 0, 0, payload.author_id.encode(), value, None,
                          1, len(value), [])


def _save(draft_id: str, author: str, revision: int, at: int) -> dr.DraftSaved:
    return draft_saved(Draft(draft_id, author, revision, DraftContent(title=f"r{revision}",
                                                                      body="b"), at, at))


def test_the_store_lists_most_recently_updated_first_and_survives_reopening(
        tmp_path: Path) -> None:
    a, b, c = (draft_id_for("erin", k) for k in ("a", "b", "c"))
    store = DraftStore(tmp_path / "p0", 0)
    assert store.apply([_record(0, _save(a, "erin", 1, 100)), _record(1, _save(b, "erin", 1, 200)),
                        _record(2, _save(c, "erin", 1, 300)),
                        _record(3, _save(draft_id_for("frank", "a"), "frank", 1, 400))]) == 4
    assert [d.draft_id for d in store.list("erin")] == [c, b, a]
    store.apply([_record(4, _save(a, "erin", 2, 500))])
    assert [d.draft_id for d in store.list("erin")] == [a, c, b]
    store.apply([_record(5, dr.DraftDiscarded(draft_id=c, author_id="erin", at_ms=600)),
                 _record(6, dr.DraftPublished(draft_id=b, author_id="erin", post_id="post_p",
                                              at_ms=700))])
    assert [d.draft_id for d in store.list("erin")] == [a] and store.count("erin") == 1
    store.close()
    again = DraftStore(tmp_path / "p0", 0)
    assert again.applied == 7
    latest = again.get(a)
    assert latest is not None and latest.revision == 2 and latest.content.title == "r2"
    published = again.get(b)
    assert published is not None and published.published_post_id == "post_p"
    assert [d.author_id for d in again.list("frank")] == ["frank"]
    assert again.list("erin\x00") == [] and again.list("") == []
    again.close()


def test_events_applied_ahead_of_the_tail_change_nothing_when_the_tail_reads_them(
        tmp_path: Path) -> None:
    a = draft_id_for("erin", "a")
    live = DraftStore(tmp_path / "live", 0)
    first, second = _save(a, "erin", 1, 100), _save(a, "erin", 2, 200)
    assert live.put_event(first) is not None
    assert live.put_event(second) is not None
    live.apply([_record(0, first), _record(1, second), _record(2, _save(a, "erin", 2, 999))])
    rebuilt = DraftStore(tmp_path / "rebuilt", 0)
    rebuilt.apply([_record(0, first), _record(1, second), _record(2, _save(a, "erin", 2, 999))])
    assert live.get(a) == rebuilt.get(a)
    assert live.list("erin") == rebuilt.list("erin")
    assert len(live.list("erin")) == 1  # the moved list key left no trace behind
    live.close()
    rebuilt.close()


def test_an_undecodable_record_is_skipped_and_the_position_moves_past_it(
        tmp_path: Path) -> None:
    store = DraftStore(tmp_path / "p0", 0)
    bad = ConsumerRecord("drafts", 0, 0, 0, 0, b"k", b"\xff garbage", None, 1, 9, [])
    assert store.apply([bad, _record(1, _save(draft_id_for("erin", "a"), "erin", 1, 1))]) == 1
    assert store.applied == 2
    store.reset()
    assert store.applied == 0 and store.list("erin") == []
    store.close()
