"""The track record end to end through the social service: fills from the simulator, through
the real consumer loop, the real RocksDB store and the real Kafka, to figures served over gRPC.

    python bench/track_record_service.py                     # 1 000 000 fills, 10 000 traders
    python bench/track_record_service.py --fills 50000       # quick check

1. (not timed) KYC for nobody is needed: the fills topic is the exchange's. Creates this run's
   topics (a fresh suffix), then the simulator's ``random_fills`` are produced to
   ``planet.exchange.fills.v1`` in bulk and acknowledged.
2. (timed) The social service starts in this process on an empty data dir
   (``services.social.bootstrap.start``: the production wiring) and catches up: its fills tail
   folds every fill, one multi-get and one write batch per fetch. SERVING means caught up.
3. (timed) The last fill's trader is asked over signed gRPC (``GetTrackRecord`` as its owner)
   until the figures name that fill: the time until the last fill's figures are served.
4. (timed, live path) With the service running, another ``--live`` fills are produced and the
   time until the last of them is served is measured (production is included here: this is
   the latency a trader sees).

Prints fills/s of the catch-up, both times, the store's size on disk and peak RSS (ru_maxrss
of this process, which also held the producer). Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc

from planet.exchange.v2 import events_pb2 as v2
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planet.social.v1 import track_record_pb2 as tr
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import EXCHANGE, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import ALL, with_suffix
from services.social.bootstrap import start
from services.social.settings import SocialSettings
from simulators.exchange.facts import ExchangeTopics, publish_fills, random_fills


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _disk_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


async def _produce(bootstrap: str, suffix: str, users: int, fills: int, seed: int,
                   start_ms: int) -> tuple[str, str]:
    """Publish the fills; return (last fill's trader, its fill id)."""
    producer = make_producer(bootstrap, writer=EXCHANGE, linger_ms=20)
    await producer.start()
    last = ("", "")
    try:
        def stream() -> Iterator[v2.OrderFilled]:
            nonlocal last
            for fact in random_fills(users, fills, seed=seed, start_ms=start_ms):
                last = (fact.user_id, fact.fill_id)
                yield fact
        await publish_fills(producer, ExchangeTopics.with_suffix(suffix), stream())
    finally:
        await producer.stop()
    return last


async def _until_served(stub: rpc_grpc.SocialServiceAsyncStub, auth: DevServiceAuth,
                        user: str, fill_id: str) -> tr.TrackRecord:
    while True:
        record: tr.TrackRecord = await stub.GetTrackRecord(
            rpc.GetTrackRecordRequest(user_id=user),
            metadata=auth.metadata(SOCIAL, user), timeout=10)
        if any(w.provenance.last_fill_id == fill_id for row in record.rows
               for w in row.windows):
            return record
        await asyncio.sleep(0.005)


async def run(args: argparse.Namespace) -> None:
    bootstrap = KafkaSettings().bootstrap_servers
    suffix = f"bench{uuid.uuid4().hex[:8]}"
    # Every registered topic under this run's suffix, as the topics tool makes them (the
    # service checks all of its own exist).
    topics = [with_suffix(t, suffix) for t in ALL]
    await ensure_topics(bootstrap, topics)
    work = Path(tempfile.mkdtemp(prefix="planet-trbench-"))
    auth = DevServiceAuth.create(work / "auth")
    data_dir = work / "social-data"
    start_ms = int(time.time() * 1000) - 30 * 86_400_000  # a month of trading up to now
    print(f"producing {args.fills:,} fills of {args.traders:,} traders (not timed) ...",
          flush=True)
    t = time.perf_counter()
    user, fill_id = await _produce(bootstrap, suffix, args.traders, args.fills, args.seed,
                                   start_ms)
    print(f"  produced in {time.perf_counter() - t:.1f} s", flush=True)

    t0 = time.perf_counter()
    social = await start(SocialSettings(
        grpc_port=0, shutdown_grace_s=0, data_dir=data_dir, auth=auth.settings(SOCIAL),
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        topics=TopicSettings(topic_suffix=suffix), max_records=args.max_records),
        ready_timeout_s=3600)
    serving = time.perf_counter() - t0
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
            stub = rpc_grpc.SocialServiceStub(channel)
            record = await _until_served(stub, auth, user, fill_id)
            served = time.perf_counter() - t0
            stats = social.service.stats
            print(f"catch-up: {args.fills:,} fills folded, SERVING after {serving:.2f} s "
                  f"({args.fills / serving:,.0f} fills/s through consumer, fold and store; "
                  f"{stats.records_read:,} records read)")
            print(f"last fill's figures served {served:.2f} s after start "
                  f"({(served - serving) * 1000:.1f} ms after SERVING); its trader has "
                  f"{sum(w.provenance.fills for r in record.rows for w in r.windows[:1]):,} "
                  f"fills counted")

            # Live: the service is running; more fills arrive; how long until served?
            t1 = time.perf_counter()
            live_user, live_id = await _produce(bootstrap, suffix, args.traders, args.live,
                                                args.seed + 1, start_ms + args.fills)
            produced = time.perf_counter() - t1
            await _until_served(stub, auth, live_user, live_id)
            live = time.perf_counter() - t1
            print(f"live: {args.live:,} more fills produced in {produced:.2f} s, the last "
                  f"served {live:.2f} s after the first was sent ({args.live / live:,.0f} "
                  f"fills/s end to end, production included)")
    finally:
        await social.stop()
    print(f"store on disk: {_disk_mib(data_dir / 'track-records'):.0f} MiB; "
          f"peak RSS {_rss_mib():.0f} MiB")
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--traders", type=int, default=10_000)
    parser.add_argument("--live", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-records", type=int, default=5_000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
