"""The fills tail over a real RocksDB store (records built as the exchange simulator writes
them): one fold per batch, the offset and the skip count in the same write, a crash before
the write changes nothing, a reopened store resumes and redelivered records are skipped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from planetkit.envelope import encode
from services.social.adapters.track_record_store import TrackRecordStore
from services.social.domain.track_record import compute, fill_of
from services.social.domain.track_record import encode as encode_state
from services.social.track_records import TrackRecordTail
from simulators.exchange.facts import fill_envelope, random_fills

TP = TopicPartition("fills", 0)
FACTS = list(random_fills(5, 400, seed=3, start_ms=1_750_000_000_000))


def _records(values: list[bytes], first: int = 0) -> list[ConsumerRecord[bytes, bytes]]:
    return [ConsumerRecord("fills", 0, first + i, 0, 0, b"k", v, None, 0, len(v), [])
            for i, v in enumerate(values)]


VALUES = [encode(fill_envelope(f)) for f in FACTS]


def _expected() -> dict[str, bytes]:
    users = sorted({f.user_id for f in FACTS})
    return {u: encode_state(compute(u, [fill_of(f) for f in FACTS if f.user_id == u]))
            for u in users}


def _stored(store: TrackRecordStore) -> dict[str, bytes]:
    out = {}
    for u in sorted({f.user_id for f in FACTS}):
        state = store.state(u)
        assert state is not None
        out[u] = encode_state(state)
    return out


def _snapshot(store: TrackRecordStore) -> dict[str, bytes]:
    states = {u: store.state(u) for u in {f.user_id for f in FACTS}}
    return {u: encode_state(s) for u, s in states.items() if s is not None}


def _apply(tail: TrackRecordTail, records: list[ConsumerRecord[bytes, bytes]]) -> int:
    return asyncio.run(tail.apply(TP, records))


def test_batches_fold_to_the_library_and_bad_records_are_counted(tmp_path: Path) -> None:
    store = TrackRecordStore(tmp_path / "tr")
    tail = TrackRecordTail(store, "fills", 1)
    values = [*VALUES[:200], b"\x00junk", *VALUES[200:]]
    records = _records(values)
    for i in range(0, len(records), 64):
        _apply(tail, records[i:i + 64])
    assert _stored(store) == _expected()
    assert store.applied("fills/0") == 401 and tail.skipped_total() == 1
    # Redelivered records (below the stored offset) and replayed fills change nothing.
    assert _apply(tail, records[100:300]) == 0
    store.close()
    reopened = TrackRecordStore(tmp_path / "tr")
    assert _stored(reopened) == _expected()
    assert reopened.applied("fills/0") == 401 and reopened.skipped("fills/0") == 1
    assert TrackRecordTail(reopened, "fills", 1).offset(TP, 500) == 401
    reopened.close()


def test_a_crash_before_the_write_changes_nothing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = TrackRecordStore(tmp_path / "tr")
    tail = TrackRecordTail(store, "fills", 1)
    records = _records(VALUES)
    _apply(tail, records[:150])
    before = _snapshot(store)

    def crash(*_: object, **__: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(store, "write", crash)
    with pytest.raises(OSError):
        _apply(tail, records[150:300])
    monkeypatch.undo()
    # The fold had changed the cached states in place: they were forgotten.
    after = _snapshot(store)
    assert after == before
    assert store.applied("fills/0") == 150
    _apply(tail, records[150:])
    assert _stored(store) == _expected()
    store.close()
