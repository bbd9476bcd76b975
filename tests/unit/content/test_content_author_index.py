"""The author index's key layout and page cursor (pure), and pages over a real RocksDB store."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord
from hypothesis import given
from hypothesis import strategies as st

from planet.content.v1 import events_pb2 as ev
from planetkit.envelope import wrap
from planetkit.service_identities import CONTENT
from services.content.adapters.author_index_store import AuthorIndexStore
from services.content.domain.author_index import (
    DEFAULT_PAGE,
    MAX_PAGE,
    Cursor,
    InvalidPage,
    author_prefix,
    decode_cursor,
    encode_cursor,
    entry_key,
    page_limit,
    start_after,
)
from services.content.domain.ids import event_id_for, post_id_for

post_ids = st.builds(lambda n: f"post_{n:024x}", st.integers(0, 16**24 - 1))
times = st.integers(0, 2**63 - 1)


@given(times, post_ids)
def test_a_cursor_round_trips_through_the_strict_alphabet(ms: int, post_id: str) -> None:
    text = encode_cursor(Cursor(ms, post_id))
    assert len(text) <= 64 and set(text) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(text) == Cursor(ms, post_id)


def test_the_empty_cursor_is_the_first_page() -> None:
    assert decode_cursor("") is None


@pytest.mark.parametrize("text", [
    "a b", "é", "A" * 65, "AAAAA",  # outside the alphabet, too long, not base64
    "AAAA",  # too short to hold a cursor
    base64.urlsafe_b64encode(struct.pack(">Bq", 2, 5) + b"post_" + b"0" * 24).decode(),  # version
    base64.urlsafe_b64encode(struct.pack(">Bq", 1, -5) + b"post_" + b"0" * 24).decode(),  # time
    base64.urlsafe_b64encode(struct.pack(">Bq", 1, 5) + b"post_xyz").decode(),  # post id
    base64.urlsafe_b64encode(struct.pack(">Bq", 1, 5) + b"\xff" * 29).decode(),  # not ascii
])
def test_a_cursor_this_service_did_not_issue_is_refused(text: str) -> None:
    with pytest.raises(InvalidPage):
        decode_cursor(text.rstrip("="))


def test_limits() -> None:
    assert page_limit(0) == DEFAULT_PAGE == 20
    assert page_limit(1) == 1 and page_limit(MAX_PAGE) == 100
    for bad in (101, 10_000):
        with pytest.raises(InvalidPage, match="1-100"):
            page_limit(bad)


@given(st.text(max_size=20), st.text(max_size=20), times, times, post_ids, post_ids)
def test_keys_sort_by_author_range_then_newest_first_then_post_id(
    a1: str, a2: str, t1: int, t2: int, p1: str, p2: str,
) -> None:
    k1, k2 = entry_key(a1, t1, p1), entry_key(a2, t2, p2)
    # An author's range holds only that author's keys, whatever the alphabet of ids.
    assert k1.startswith(author_prefix(a1))
    assert k2.startswith(author_prefix(a1)) == (a1 == a2)
    if a1 == a2 and (t1, p1) != (t2, p2):
        assert (k1 < k2) == ((-t1, p1) < (-t2, p2))
        # Just after a cursor and before every later key of the author.
        if (k1 < k2):
            assert k1 < start_after(a1, Cursor(t1, p1)) <= k2


def _record(author: str, request: str, ms: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    post_id = post_id_for(author, request)
    payload = ev.PostPublished(post_id=post_id, creator_id=author, kind=ev.POST_KIND_SHORT,
                               body=request, published_at_ms=ms)
    env = wrap(payload, event_id=event_id_for(post_id, 1), source=CONTENT,
               aggregate_id=post_id, occurred_at_ms=ms, aggregate_version=1)
    value = env.SerializeToString()
    return ConsumerRecord("author-posts", 0, offset, ms, 0, author.encode(), value, None,
                          len(author), len(value), ())


def test_a_store_pages_each_author_newest_first_and_keeps_the_first_copy(tmp_path: Path) -> None:
    store = AuthorIndexStore(tmp_path / "p0", 0)
    records = [_record("a", f"r{i}", 1_000 + i, i) for i in range(7)]
    records += [_record("ab", f"r{i}", 5_000 + i, 7 + i) for i in range(3)]  # a prefix of "ab"
    # The same post again, later (a retried append): the first copy wins.
    records.append(_record("a", "r0", 9_999, 10))
    assert store.apply(records) == 10
    assert store.applied == 11
    seen: list[str] = []
    cursor: Cursor | None = None
    while True:
        posts, cursor = store.page("a", cursor, 3)
        seen += [p.body for p in posts]
        if cursor is None:
            break
    assert seen == [f"r{i}" for i in reversed(range(7))]
    posts, cursor = store.page("ab", None, 100)
    assert [p.body for p in posts] == ["r2", "r1", "r0"] and cursor is None
    store.close()
    reopened = AuthorIndexStore(tmp_path / "p0", 0)
    assert reopened.applied == 11
    assert [p.post_id for p in reopened.page("a", None, 1)[0]] == [post_id_for("a", "r6")]
    reopened.close()
