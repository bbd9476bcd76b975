"""Edits and deletions reach topic pages (domain/topic_entries.py folded by
adapters/topic_store.py on a real RocksDB store): an edit that changes hashtags lists the
post on the topics it adds and drops it from those it removes, the topics it keeps show the
new revision; a deletion takes it off every page; the writer's ahead-of-tail apply followed
by the tail's apply of the same records is one apply; a store rebuilt from the records, in
any fetch sizes, equals the live one; and the body is rendered safe on every entry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aiokafka.structs import ConsumerRecord

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode, wrap
from planetkit.service_identities import CONTENT
from services.content.adapters.topic_store import TopicIndexStore
from services.content.domain.codec import post_published
from services.content.domain.model import Post, PostKind
from services.content.domain.post_events import PostEvent, post_deleted, post_edited
from services.content.domain.topic_entries import fold, touched_topics

T0 = 1_700_000_000_000
POST = Post("post_" + "a" * 24, "alice", PostKind.ARTICLE, "First", "<script>x</script> hi",
            ("BTC", "eth"), (), (), T0, summary="s1")
OTHER = Post("post_" + "b" * 24, "bob", PostKind.SHORT, "", "other", ("eth",), (), (), T0 + 5)


def _env(post: Post, payload: PostEvent) -> Envelope:
    return wrap(payload, event_id=f"{post.post_id}-{post.version}", source=CONTENT,
                aggregate_id=post.post_id, occurred_at_ms=T0, aggregate_version=post.version)


def _history() -> list[tuple[list[str], Envelope, PostEvent]]:
    """(topics it is logged on, envelope, payload) of publish, edit, edit, delete."""
    v2 = replace(POST, version=2, revision=2, title="Second", summary="s2",
                 hashtags=("eth", "sol"), edited_at_ms=T0 + 10)
    v3 = replace(v2, version=3, revision=3, title="Third", hashtags=("#ＳＯＬ", "btc"),
                 edited_at_ms=T0 + 20)
    v4 = replace(v3, version=4, deleted_at_ms=T0 + 30)
    out: list[tuple[list[str], Envelope, PostEvent]] = []
    published = post_published(POST)
    out.append((list(touched_topics(None, POST)), _env(POST, published), published))
    for before, after in ((POST, v2), (v2, v3)):
        edited = post_edited(after, f"edit-{after.version}")
        out.append((list(touched_topics(before, after)), _env(after, edited), edited))
    deleted = post_deleted(v4, T0 + 30)
    out.append((list(touched_topics(v3, v4)), _env(v4, deleted), deleted))
    return out


def _records(history: list[tuple[list[str], Envelope, PostEvent]]
             ) -> list[ConsumerRecord[bytes, bytes]]:
    out: list[ConsumerRecord[bytes, bytes]] = []
    for topics, envelope, _ in history:
        value = encode(envelope)
        for topic in topics:
            out.append(ConsumerRecord("topic-posts", 0, len(out), 0, 0, topic.encode(), value,
                                      None, len(topic), len(value), []))
    return out


def _pages(store: TopicIndexStore) -> dict[str, list[tuple[str, str, int]]]:
    return {t: [(p.post_id, p.title, p.revision) for p in store.page(t, None, 10)[0]]
            for t in ("btc", "eth", "sol")}


def test_touched_topics_are_before_and_after_once() -> None:
    after = replace(POST, hashtags=("ETH", "sol"))
    assert touched_topics(POST, after) == ("btc", "eth", "sol")
    assert touched_topics(None, POST) == ("btc", "eth")


def test_an_edit_moves_the_post_between_topics_and_a_deletion_removes_it(
    tmp_path: Path,
) -> None:
    store = TopicIndexStore(tmp_path / "live", 0)
    history = _history()
    records = _records(history)
    store.put_published("eth", OTHER)
    # Publish: on btc and eth, the body rendered safe (raw HTML shown as text).
    store.apply(records[:2])
    assert _pages(store) == {"btc": [(POST.post_id, "First", 1)],
                             "eth": [(OTHER.post_id, "", 1), (POST.post_id, "First", 1)],
                             "sol": []}
    [listed] = store.page("btc", None, 1)[0]
    assert "<script>" not in listed.body_html and "&lt;script&gt;" in listed.body_html
    # Edit 1: btc dropped, eth shows the new title, sol added (from the edit alone).
    n = len(history[1][0])
    store.apply(records[2:2 + n])
    assert _pages(store) == {"btc": [],
                             "eth": [(OTHER.post_id, "", 1), (POST.post_id, "Second", 2)],
                             "sol": [(POST.post_id, "Second", 2)]}
    [on_sol] = store.page("sol", None, 1)[0]
    assert (on_sol.summary, on_sol.published_at_ms, on_sol.kind) == ("s2", T0,
                                                                    PostKind.ARTICLE)
    # Edit 2: back on btc, off eth; then the deletion takes it off everything.
    rest = records[2 + n:]
    m = len(history[2][0])
    store.apply(rest[:m])
    assert _pages(store) == {"btc": [(POST.post_id, "Third", 3)],
                             "eth": [(OTHER.post_id, "", 1)],
                             "sol": [(POST.post_id, "Third", 3)]}
    assert set(store.posts("btc", [POST.post_id])) == {POST.post_id}
    store.apply(rest[m:])
    assert _pages(store) == {"btc": [], "eth": [(OTHER.post_id, "", 1)], "sol": []}
    assert store.posts("btc", [POST.post_id]) == {}
    # Replaying everything (a retried fetch) changes nothing: deleted stays deleted.
    store.apply(records)
    assert _pages(store) == {"btc": [], "eth": [(OTHER.post_id, "", 1)], "sol": []}
    store.close()


def test_ahead_of_the_tail_then_the_tail_equals_a_rebuild(tmp_path: Path) -> None:
    history = _history()[:3]  # published, edited twice: still listed
    live = TopicIndexStore(tmp_path / "live", 0)
    # The writer applies each event as it commits it, then the tail reads the same records.
    first = _history()[0]
    for topic in first[0]:
        live.put_published(topic, replace(POST, body_html=""))
    for topics, envelope, payload in history[1:]:
        for topic in topics:
            live.put_event(topic, envelope, payload)
    live.apply(_records(history))
    rebuilt_at_once = TopicIndexStore(tmp_path / "once", 0)
    rebuilt_at_once.apply(_records(history))
    rebuilt_one_by_one = TopicIndexStore(tmp_path / "each", 0)
    for record in _records(history):
        rebuilt_one_by_one.apply([record])
    expected = {"btc": [(POST.post_id, "Third", 3)], "eth": [], "sol": [(POST.post_id, "Third", 3)]}
    assert _pages(rebuilt_at_once) == _pages(rebuilt_one_by_one) == expected
    # put_published keeps the writer's copy (body_html rendered by the posts store in
    # production); every other field equals the rebuilt one.
    assert _pages(live) == expected
    for store in (live, rebuilt_at_once, rebuilt_one_by_one):
        store.close()


def test_an_old_or_repeated_event_changes_nothing() -> None:
    history = _history()
    _, env1, published = history[0]
    _, env2, edited = history[1]
    entry = fold("eth", None, env1, published)
    assert entry is not None and entry.post is not None
    after = fold("eth", entry, env2, edited)
    assert after is not None and after.post is not None and after.post.title == "Second"
    assert fold("eth", after, env2, edited) is None
    assert fold("eth", after, env1, published) is None
    _, env4, deleted = history[3]
    gone = fold("eth", after, env4, deleted)
    assert gone is not None and gone.post is None and gone.deleted
    assert fold("eth", gone, env2, edited) is None
