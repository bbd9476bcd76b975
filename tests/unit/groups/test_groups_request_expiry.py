"""Remembered command results (a partition store's ``q`` keys, on a real RocksDB) expire
REMEMBER_MS after the command's first fact, by the log's times: a retry within answers the
first result, later nothing is remembered (it would be a new command). Folding the facts one
at a time (the writer) or in one batch (the tail, a rebuild) stores the same bytes."""

from __future__ import annotations

from pathlib import Path

from google.protobuf.message import Message

from planet.groups.v1 import group_events_pb2 as ev
from services.groups.adapters.store import REMEMBER_MS, PartitionStore

G = "g" + "0" * 24
T0 = 1_000_000


def _facts() -> list[tuple[str, Message]]:
    """A group created (two facts, one request), then messages at later times."""
    def post(seq: int, at_ms: int) -> tuple[str, Message]:
        return f"rq.post{seq}.{seq}", ev.MessagePosted(group_id=G, seq=seq, at_ms=at_ms,
                                                       actor_id="owner", text=f"m{seq}")
    return [
        ("rq.create.1", ev.GroupCreated(group_id=G, seq=1, at_ms=T0, actor_id="owner",
                                        profile=ev.GroupProfile(name="Desk"))),
        ("rq.create.2", ev.MemberJoined(group_id=G, seq=2, at_ms=T0, actor_id="owner",
                                        user_id="owner", role=ev.MEMBER_ROLE_OWNER,
                                        how=ev.JOIN_HOW_CREATED)),
        post(3, T0 + REMEMBER_MS - 1),
        post(4, T0 + REMEMBER_MS),
        post(5, T0 + REMEMBER_MS + 1),
    ]


def _dump(store: PartitionStore) -> dict[bytes, bytes]:
    return dict(store.scan(b"", b"", 1 << 30))


def test_a_result_is_forgotten_a_day_after_its_command(tmp_path: Path) -> None:
    store = PartitionStore(tmp_path / "one", 0)
    facts = _facts()
    for fact in facts[:3]:
        store.write(store.fold_facts([fact]))
    created = store.request(G, "create")
    assert created is not None and list(created.seqs) == [1, 2]
    # At exactly REMEMBER_MS after it, still remembered; a millisecond later, forgotten.
    store.write(store.fold_facts([facts[3]]))
    assert store.request(G, "create") is not None
    store.write(store.fold_facts([facts[4]]))
    assert store.request(G, "create") is None
    assert store.request(G, "post3") is not None and store.request(G, "post5") is not None
    assert not [k for k in _dump(store) if k.startswith(b"Q") and k.endswith(b"create")]
    store.close()


def test_one_batch_or_one_fact_at_a_time_store_the_same(tmp_path: Path) -> None:
    single, batch = PartitionStore(tmp_path / "single", 0), PartitionStore(tmp_path / "b", 0)
    for fact in _facts():
        single.write(single.fold_facts([fact]))
    batch.write(batch.fold_facts(_facts()))
    assert _dump(single) == _dump(batch)
    assert batch.request(G, "create") is None
    single.close()
    batch.close()
