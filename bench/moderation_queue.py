"""The operators' report queue: page reads from the per-partition moderation stores and the
merge across partitions, with many open items (no Kafka, no gRPC: the store and the merge the
replicas run, services/content/moderation.py; the fan-out adds one gRPC round trip per other
replica, measured by the system tests' latency, not here).

``--items`` reported items are spread over ``--partitions`` RocksDB moderation stores (the
facts applied as the deciding replica applies them, ``put_decided``, in batches), each with
1-3 reports. Then, interleaved so machine noise falls on all alike: a first page of 20 and of
100 (each partition's first ``limit + 1`` after the cursor, merged), and a page deep in the
queue (a cursor in the middle). Prints p50/p99 per read and the fill rate. Numbers only: this
asserts nothing.

    .venv/bin/python -m bench.moderation_queue --items 200000
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from pathlib import Path

from planet.content.v1 import reports_pb2 as rp
from services.content.adapters.moderation_store import ModerationStore
from services.content.domain.moderation import (
    QueueCursor,
    decode_cursor,
    encode_cursor,
    merge_pages,
    report_id_for,
)


def _post_id(i: int) -> str:
    return "post_" + hashlib.sha256(str(i).encode()).hexdigest()[:24]


def fill(stores: list[ModerationStore], items: int, batch: int = 5_000) -> float:
    """Report ``items`` items (1-3 reports each); seconds taken."""
    started = time.perf_counter()
    pending: list[list[rp.ItemReported]] = [[] for _ in stores]
    for i in range(items):
        post = _post_id(i)
        part = i % len(stores)
        for r in range(1 + i % 3):
            reporter = f"user_{(i * 7 + r) % 50_000}"
            pending[part].append(rp.ItemReported(
                report_id=report_id_for(reporter, post, 0), item_id=post,
                kind=rp.MODERATED_KIND_POST, post_id=post, item_author_id=f"author_{i % 999}",
                reporter_id=reporter, reason=rp.PolicyReason.ValueType(1 + (i + r) % 9),
                at_ms=1_000_000 + i, round=0))
        if len(pending[part]) >= batch:
            stores[part].put_decided(pending[part])
            pending[part] = []
    for part, events in enumerate(pending):
        if events:
            stores[part].put_decided(events)
    return time.perf_counter() - started


def page(stores: list[ModerationStore], cursor: str, limit: int) -> tuple[int, str]:
    """One merged page, as a replica owning every partition answers it."""
    after = decode_cursor(cursor)
    pages = [s.queue(rp.QUEUE_KIND_REPORTS, after, limit + 1) for s in stores]
    items, following = merge_pages(rp.QUEUE_KIND_REPORTS, pages, limit)
    return len(items), "" if following is None else encode_cursor(following)


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms  p99 {p99 * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-moderation-") as root:
        stores = [ModerationStore(Path(root) / f"p{p}", p) for p in range(args.partitions)]
        seconds = fill(stores, args.items)
        print(f"filled {args.items} reported items over {args.partitions} partitions in "
              f"{seconds:.1f} s ({args.items / seconds:,.0f} items/s)")
        middle = encode_cursor(QueueCursor(1_000_000 + args.items // 2,
                                           _post_id(args.items // 2)))
        reads = {"first page of 20": ("", 20), "first page of 100": ("", 100),
                 "deep page of 20 (middle)": (middle, 20)}
        samples: dict[str, list[float]] = {name: [] for name in reads}
        for _ in range(args.rounds):
            for name, (cursor, limit) in reads.items():
                started = time.perf_counter()
                page(stores, cursor, limit)
                samples[name].append(time.perf_counter() - started)
        for name, taken in samples.items():
            print(f"{name:<26} {_ms(taken)}")
        for store in stores:
            store.close()


if __name__ == "__main__":
    main()
