"""A partition store: posts and position in one batch, first event wins, rebuilt when broken."""

from __future__ import annotations

from pathlib import Path

from aiokafka.structs import ConsumerRecord

from planet.content.v1 import events_pb2 as ev
from planetkit.envelope import encode, wrap
from services.content.adapters.post_store import PartitionStore, PostStores


def _record(offset: int, post_id: str, creator: str, body: str = "gm") -> ConsumerRecord[
        bytes, bytes]:
    envelope = wrap(ev.PostPublished(post_id=post_id, creator_id=creator, body=body,
                                     kind=ev.POST_KIND_SHORT, published_at_ms=1),
                    event_id=f"evt_{offset}", source="content", aggregate_id=post_id,
                    occurred_at_ms=1, aggregate_version=1)
    value = encode(envelope)
    return ConsumerRecord("posts", 0, offset, 0, 0, post_id.encode(), value, None,
                          len(post_id), len(value), [])


def test_a_fetch_and_its_next_offset_are_applied_together_and_survive_reopening(
    tmp_path: Path,
) -> None:
    store = PartitionStore(tmp_path / "p0", 0)
    assert store.applied == 0
    assert store.apply([_record(0, "post_a", "alice"), _record(1, "post_b", "bob")]) == 2
    store.close()
    again = PartitionStore(tmp_path / "p0", 0)
    assert again.applied == 2
    post = again.get("post_a")
    assert post is not None and (post.creator_id, post.body, post.version) == ("alice", "gm", 1)
    assert again.authors(["post_a", "post_b", "post_zz"]) == {"post_a": "alice", "post_b": "bob"}
    again.close()


def test_the_first_event_of_a_post_id_wins(tmp_path: Path) -> None:
    store = PartitionStore(tmp_path / "p0", 0)
    store.apply([_record(0, "post_a", "alice", "first"), _record(1, "post_a", "alice", "second")])
    store.apply([_record(2, "post_a", "alice", "third")])
    post = store.get("post_a")
    assert post is not None and post.body == "first" and store.applied == 3
    store.close()


def test_an_undecodable_record_is_skipped_and_the_position_moves_past_it(tmp_path: Path) -> None:
    store = PartitionStore(tmp_path / "p0", 0)
    bad = ConsumerRecord("posts", 0, 0, 0, 0, b"k", b"\xff garbage", None, 1, 9, [])
    assert store.apply([bad, _record(1, "post_a", "alice")]) == 1
    assert store.applied == 2
    store.close()


def test_a_corrupt_store_is_deleted_and_starts_over_from_offset_zero(tmp_path: Path) -> None:
    store = PartitionStore(tmp_path / "p0", 0)
    store.apply([_record(0, "post_a", "alice")])
    store.close()
    for f in (tmp_path / "p0").iterdir():
        if f.name.startswith(("CURRENT", "MANIFEST")):
            f.write_bytes(b"not a rocksdb file")
    reopened = PartitionStore(tmp_path / "p0", 0)
    assert reopened.applied == 0 and reopened.get("post_a") is None
    reopened.close()


def test_the_store_set_reports_what_is_on_disk(tmp_path: Path) -> None:
    stores = PostStores(tmp_path, "posts")
    stores.store(2).apply([_record(0, "post_a", "alice"), _record(1, "post_b", "bob")])
    stores.close()
    assert PostStores(tmp_path, "posts").on_disk() == {2: 2}
