"""Fan-out of one new post to a creator's bell subscribers: 1 M by default.

    python bench/notification_fanout.py                       # 1 000 000 subscribers
    python bench/notification_fanout.py --subscribers 50000   # quick check

Setup (timed apart, not the fan-out's cost): the subscribers follow the creator and turn the
bell on, applied to a real RocksDB graph store in batches of --batch facts (one write batch
each, edges and counts together). Then a **fresh process** reopens the stores and runs the
fan-out (``services/social/adapters/bell_fanout.py``): subscribers read by key range, NEW_POST
notifications written --batch at a time with the fan-out's progress in the same write batch.
It prints the time until every subscriber's notification is stored and that process's peak
RSS (ru_maxrss), then checks every subscriber got exactly one notification (timed apart).
Goals from issue 12: under 60 s, no process over 2 GiB. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planet.social.v1.graph_pb2 import BellSet, Followed
from services.social.adapters.bell_fanout import fan_out_post
from services.social.adapters.graph_store import GraphStore
from services.social.adapters.notification_store import NotificationStore
from services.social.domain.graph.apply import Side

CREATOR = "creator-bench"
POST = "post_" + "ab" * 12
AT = 1_767_225_600_000


def rss_mib() -> float:
    """Peak RSS of this process in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def subscriber(i: int) -> str:
    return f"user-{i:08d}"


def setup(root: Path, n: int, batch: int) -> None:
    graph = GraphStore(root / "graph")
    t0 = time.perf_counter()
    for lo in range(0, n, batch):
        ids = [subscriber(i) for i in range(lo, min(n, lo + batch))]
        graph.apply([Followed(follower_id=s, followee_id=CREATOR, at_ms=AT) for s in ids]
                    + [BellSet(follower_id=s, creator_id=CREATOR, on=True, at_ms=AT)
                       for s in ids], Side.BOTH)
    dt = time.perf_counter() - t0
    print(f"setup: {n:,} follows + bells in {dt:.1f} s ({n / dt:,.0f} subscribers/s, "
          f"batches of {batch:,}); follower count {graph.follower_count(CREATOR):,}; "
          f"peak RSS {rss_mib():.0f} MiB")
    graph.close()


def fanout(root: Path, batch: int) -> None:
    graph, notes = GraphStore(root / "graph"), NotificationStore(root / "notes")
    t0 = time.perf_counter()
    progress = fan_out_post(graph, notes, post_id=POST, creator_id=CREATOR, at_ms=AT,
                            batch_size=batch)
    dt = time.perf_counter() - t0
    peak = rss_mib()
    t1 = time.perf_counter()
    checked = 0
    after = ""
    while True:
        page = graph.bell_subscribers(CREATOR, after=after, limit=batch)
        for s in page.ids:
            got = notes.after(s, 0, 2)
            if len(got) != 1 or got[0].subject_id != POST:
                raise SystemExit(f"{s} has {len(got)} notifications")
            checked += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor
    check_s = time.perf_counter() - t1
    print(json.dumps({"notified": progress.notified, "done": progress.done,
                      "fanout_s": round(dt, 2), "per_s": round(progress.notified / dt),
                      "peak_rss_mib": round(peak), "checked": checked,
                      "check_s": round(check_s, 1)}))
    graph.close()
    notes.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--fanout-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fanout_only:
        fanout(args.fanout_only, args.batch)
        return
    with tempfile.TemporaryDirectory(prefix="planet-fanout-") as tmp:
        root = Path(tmp)
        setup(root, args.subscribers, args.batch)
        out = subprocess.run(
            [sys.executable, __file__, "--fanout-only", str(root), "--batch", str(args.batch)],
            check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"fan-out: {r['notified']:,} NEW_POST notifications stored in {r['fanout_s']} s "
              f"({r['per_s']:,}/s, write batches of {args.batch:,}; goal < 60 s); "
              f"fan-out process peak RSS {r['peak_rss_mib']} MiB (goal < 2048 MiB)")
        print(f"check: {r['checked']:,} subscribers each hold exactly one notification "
              f"({r['check_s']} s)")
        size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
        print(f"on disk: {size / 2**20:.0f} MiB (graph + notifications)")


if __name__ == "__main__":
    main()
