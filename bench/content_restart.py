"""Restart time of the content service (process spawn to SERVING) against its history length.

Writes ``--posts`` PostPublished events (cumulative sizes, e.g. 1000000,5000000) straight to
a fresh posts topic and its per-author copy on the real broker, batch by batch per partition,
as content appends them (the same envelope twice: key = post id on the posts topic, key =
author id on planet.content.author-posts.v1, each on its key's murmur2 partition). For each
size:

- catch-up: a ``python -m services.content`` process over stores that have not seen the new
  posts (the first size: no stores at all, i.e. the full rebuild from the topic, which is
  what every start cost before the stores existed); spawn to SERVING;
- restart: the same process again over its stores (SIGTERM, then start), ``--repeat``
  times; spawn to SERVING, the resident memory at SERVING and the stores' size on disk.

The restart is the number to watch: it should stay flat as history grows. After the last
size, one more start serves ``ListAuthorPosts`` (first page of 20, newest first) for random
authors: its latency percentiles are printed too.

Usage: python -m bench.content_restart [--posts 1000000,5000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planetkit.envelope import encode, wrap
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, GATEWAY
from planetkit.topics import AUTHOR_POSTS, INTERACTIONS, POSTS, with_suffix
from services.content.domain.ids import event_id_for, post_id_for

ROOT = Path(__file__).resolve().parents[1]
CREATORS = 20_000
T0_MS = 1_780_000_000_000


def post_record(i: int) -> tuple[str, str, bytes]:
    """The i-th post of the history: (post id, author, envelope bytes), as content appends it."""
    creator = f"user_{i % CREATORS}"
    post_id = post_id_for(creator, f"bench-{i}")
    payload = ev.PostPublished(
        post_id=post_id, creator_id=creator, kind=ev.POST_KIND_SHORT,
        body=f"post {i}: BTC reclaiming the range, watching 100k as support #{i % 97}",
        hashtags=["btc", "trading"],
        components=[ev.TradingComponent(trade_idea=ev.TradeIdea(
            pair="BTC/USDT", side=ev.TRADE_SIDE_LONG, entry="100000", target="120000",
            stop="95000"))],
        published_at_ms=T0_MS + i,
    )
    envelope = wrap(payload, event_id=event_id_for(post_id, 1), source=CONTENT,
                    aggregate_id=post_id, occurred_at_ms=T0_MS + i, aggregate_version=1)
    return post_id, creator, encode(envelope)


async def produce(bootstrap: str, topics: tuple[str, str], first: int, last: int) -> float:
    """Append posts first..last-1 to the posts topic (keyed by post id) and the author-posts
    topic (keyed by author) in producer batches per partition; seconds taken."""
    started = time.perf_counter()
    producer = make_producer(bootstrap, writer=CONTENT, linger_ms=50)
    await producer.start()
    try:
        batches = {(t, p): producer.create_batch() for t in topics
                   for p in range(POSTS.partitions)}
        pending: list[asyncio.Future[object]] = []
        for i in range(first, last):
            post_id, author, value = post_record(i)
            for topic, key in zip(topics, (post_id.encode(), author.encode()), strict=True):
                p = partition_for(key.decode(), POSTS.partitions)
                if batches[topic, p].append(key=key, value=value, timestamp=None) is None:
                    pending.append(await producer.send_batch(batches[topic, p], topic,
                                                             partition=p))
                    batches[topic, p] = producer.create_batch()
                    batches[topic, p].append(key=key, value=value, timestamp=None)
            if len(pending) >= 64:
                await asyncio.gather(*pending)
                pending.clear()
        for (topic, p), batch in batches.items():
            if batch.record_count():
                pending.append(await producer.send_batch(batch, topic, partition=p))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


def _serving(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                             timeout=1)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _disk_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / (1024 * 1024)


def time_to_serving(env: dict[str, str], port: int, log: Path,
                    timeout_s: float = 1800) -> tuple[float, float]:
    """(seconds from spawn to SERVING, resident MiB then); the process is stopped (SIGTERM)."""
    started = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "services.content"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        while not _serving(port):
            if proc.poll() is not None:
                raise RuntimeError(f"content exited before SERVING (log {log})")
            if time.perf_counter() - started > timeout_s:
                raise TimeoutError(f"content not SERVING after {timeout_s:.0f}s (log {log})")
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        return elapsed, _rss_mib(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


def list_latency(env: dict[str, str], port: int, log: Path, auth: DevServiceAuth,
                 history: int, calls: int) -> None:
    """Start content over its stores and time first pages of random authors' lists."""
    rng = random.Random(7)
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "services.content"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        while not _serving(port):
            if proc.poll() is not None:
                raise RuntimeError(f"content exited before SERVING (log {log})")
            time.sleep(0.02)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = rpc_grpc.ContentServiceStub(channel)
            seconds: list[float] = []
            for _ in range(calls):
                author = f"user_{rng.randrange(min(CREATORS, history))}"
                started = time.perf_counter()
                page = stub.ListAuthorPosts(
                    rpc.ListAuthorPostsRequest(author_id=author, limit=20), timeout=10,
                    metadata=auth.metadata(CONTENT, "bench-reader", as_=GATEWAY))
                seconds.append(time.perf_counter() - started)
                assert len(page.posts) == min(20, history // CREATORS), len(page.posts)
        seconds.sort()
        print(f"ListAuthorPosts over {history:,} posts ({history // CREATORS} per author), "
              f"first page of 20, {calls} calls: p50 {seconds[len(seconds) // 2] * 1000:.2f} ms, "
              f"p99 {seconds[int(len(seconds) * 0.99)] * 1000:.2f} ms (signed gRPC, one process)",
              flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)


async def main(args: argparse.Namespace) -> int:
    """Run the benchmark and print its report."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    sizes = sorted(int(s) for s in args.posts.split(","))
    suffix = f"crestart{uuid.uuid4().hex[:8]}"
    topic = with_suffix(POSTS, suffix)
    index_topic = with_suffix(AUTHOR_POSTS, suffix)
    await ensure_topics(bootstrap, [topic, index_topic, with_suffix(INTERACTIONS, suffix)])
    work = Path(tempfile.mkdtemp(prefix="bench-content-"))
    data_dir = work / "data"
    auth = DevServiceAuth.create(work / "keys")
    port = int(args.port)
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PLANET_TOPIC_SUFFIX": suffix,
           "PYTHONPATH": str(ROOT), "PLANET_CONTENT_GRPC_PORT": str(port),
           "PLANET_CONTENT_HEALTH_PORT": "0", "PLANET_CONTENT_DATA_DIR": str(data_dir),
           "PLANET_CONTENT_LOG_LEVEL": "WARNING", **auth.env(CONTENT)}
    print(f"posts topic {topic.name} ({topic.partitions} partitions), stores in {data_dir}",
          flush=True)
    rows = []
    produced = 0
    try:
        for size in sizes:
            seconds = await produce(bootstrap, (topic.name, index_topic.name), produced, size)
            print(f"produced posts {produced:,}..{size:,} in {seconds:.1f} s "
                  f"({(size - produced) / seconds:,.0f}/s)", flush=True)
            catch_up, _ = time_to_serving(env, port, work / "content.log")
            print(f"  catch-up of {size - produced:,} new posts: SERVING after {catch_up:.2f} s",
                  flush=True)
            produced = size
            restarts = [time_to_serving(env, port, work / "content.log")
                        for _ in range(args.repeat)]
            best = min(s for s, _ in restarts)
            rss = max(r for _, r in restarts)
            disk = _disk_mib(data_dir)
            print(f"  restart over {size:,} posts of history: SERVING after "
                  f"{', '.join(f'{s:.2f}' for s, _ in restarts)} s (best {best:.2f} s); "
                  f"RSS {rss:.0f} MiB; stores {disk:.0f} MiB on disk", flush=True)
            rows.append((size, catch_up, best, rss, disk))
        if rows:
            list_latency(env, port, work / "content.log", auth, rows[-1][0], args.lists)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("\nposts of history | first start (rebuild/catch-up) | restart to SERVING | RSS | disk")
    for size, catch_up, best, rss, disk in rows:
        print(f"{size:>16,} | {catch_up:>28.2f} s | {best:>16.2f} s | {rss:.0f} MiB | "
              f"{disk:.0f} MiB")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", default="1000000,5000000",
                        help="cumulative history sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--port", default="50151", help="content's gRPC port for the run")
    parser.add_argument("--lists", type=int, default=2000,
                        help="ListAuthorPosts calls timed after the last size")
    parser.add_argument("--keep", action="store_true", help="keep the stores and the log")
    raise SystemExit(asyncio.run(main(parser.parse_args())))
