"""Topic page reads through the gateway with 1 M posts in content's stores, beside /healthz.

How the state is built (through the real topics, not written into the stores behind the
service's back): ``--posts`` PostPublished envelopes are produced to a fresh suffixed copy of
the three topics content appends a post to, exactly as its transactional append lays them out
(``adapters/kafka_log.py``): the posts topic keyed by post id, the author-posts topic keyed by
author, and planet.content.topic-posts.v1 once per topic of the post, keyed by the normalised
topic, each on its key's murmur2 partition. Then a ``python -m services.content`` process
builds its stores from those topics (its own tail, RocksDB, offsets in the same write) and
reports SERVING: *fill time* = produce + that catch-up.

The topics follow a realistic skew: five hot topics (btc 30 %, eth 15 %, sol 7 %, ai 5 %,
rwa 3 % of posts: at 1 M posts, 300 000 on #btc) and a Zipf long tail of ``--tail-topics``
topics sharing the rest; one post in four carries a second topic, one in four a trade-idea
component (rendered with the instrument's price on every read). Posts are spread over the
30 days before the run, 20 000 authors.

Most engaged: ``--engagements`` likes of #btc posts of the last 7 days (Zipf over those
posts, 200 000 possible fans) are produced after the posts as the TopicEngagement copies that
content's interactions append writes to topic-posts (``services/content/topic_engagement.py``);
the interactions themselves are not produced to planet.content.interactions.v1 (no topic page
reads them). The replica folds the copies into its topic store during the same catch-up.

Then: content's restart-to-SERVING over the filled stores (``--restarts`` times), content and
one gateway started (``devstack.stack``; social is not started: no read here asks it), one
dev token, and per concurrency (1 and 16) rounds that interleave every endpoint, so machine
noise falls on all of them alike:

- ``GET /healthz`` (no auth, no backend: the HTTP floor),
- ``GET /v1/arenas`` (the cheapest authenticated endpoint: token check + one gRPC call
  answered from a small in-memory table),
- ``GET /v1/topics/btc/posts`` first page, and a deep page (a cursor half-way down #btc),
- ``GET /v1/topics/<tail topic>/posts`` first page,
- ``GET /v1/topics/btc/posts?order=engaged_24h`` and ``engaged_7d`` (fewer requests: each
  read scans the window's engagements).

It prints p50/p99 and requests/s of each, and the ratio of each p99 to /healthz's and to
/v1/arenas'. Numbers are printed, never asserted. The load client runs in this process on
the same 2 cores as content and the gateway: throughput at 16 is the whole machine's.

Usage: python -m bench.topic_page [--posts 1000000] [--quick] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import logging
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from bench.content_restart import _disk_mib, time_to_serving
from devstack import health
from devstack.stack import Ports, Stack, free_port
from planet.content.v1 import events_pb2 as ev
from planet.content.v1.topics_pb2 import ENGAGEMENT_KIND_LIKE, TopicEngagement
from planetkit.envelope import encode, wrap
from planetkit.kafka.admin import wait_for_broker
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import CONTENT
from planetkit.topics import ALL, AUTHOR_POSTS, POSTS, TOPIC_POSTS, with_suffix
from services.content.domain.author_index import Cursor, encode_cursor
from services.content.domain.ids import event_id_for, post_id_for
from services.content.domain.topic_engagement import engagement_event_id
from services.content.domain.topics import DAY_MS

HOT = (("btc", 0.30), ("eth", 0.15), ("sol", 0.07), ("ai", 0.05), ("rwa", 0.03))
AUTHORS = 20_000
SPAN_MS = 30 * DAY_MS
# The gateway's per-IP token-use limit (1 200/min) would throttle one client measuring it.
UNLIMITED = {f"PLANET_GATEWAY_RATE_{name}_PER_MINUTE": "100000000"
             for name in ("USER_WRITES", "IP_WRITES", "IP_TOKEN_USES", "IP_TOKEN_MINTS")}


class TopicDraw:
    """Draws a post's topics: the hot ones by their share, the rest Zipf over the tail."""

    def __init__(self, tail_topics: int, rng: random.Random) -> None:
        self.tail = [f"t{k:05d}" for k in range(tail_topics)]
        rest = 1.0 - sum(share for _, share in HOT)
        zipf = [1.0 / (k + 1) for k in range(tail_topics)]
        total = sum(zipf)
        self.names = [name for name, _ in HOT] + self.tail
        self.cum = list(itertools.accumulate(
            [share for _, share in HOT] + [rest * w / total for w in zipf]))
        self._rng = rng

    def one(self) -> str:
        """A topic, by its share of posts."""
        i = bisect.bisect_left(self.cum, self._rng.random() * self.cum[-1])
        return self.names[min(i, len(self.names) - 1)]

    def of_post(self) -> list[str]:
        """A post's topics: one, and a second distinct one for one post in four."""
        first = self.one()
        if self._rng.random() < 0.25:
            second = self.one()
            if second != first:
                return [first, second]
        return [first]


@dataclass
class History:
    """What was produced, as far as the measurements need it."""

    posts: int = 0
    entries: int = 0
    per_topic: dict[str, int] = field(default_factory=dict)
    # (published ms, post id, author) of every #btc post, oldest first.
    hot: list[tuple[int, str, str]] = field(default_factory=list)
    engagements: int = 0


def posts(count: int, t_end_ms: int, draw: TopicDraw, history: History
          ) -> Iterator[tuple[str, str, list[str], bytes]]:
    """(post id, author, topics, envelope bytes) of each post, oldest first, as content
    appends them (version 1, published time = the event's time)."""
    step = max(SPAN_MS // max(count, 1), 1)
    t0 = t_end_ms - step * count
    hot = HOT[0][0]
    for i in range(count):
        author = f"user_{i % AUTHORS}"
        post_id = post_id_for(author, f"topic-bench-{i}")
        topics = draw.of_post()
        at = t0 + i * step
        payload = ev.PostPublished(
            post_id=post_id, creator_id=author, kind=ev.POST_KIND_SHORT,
            body=f"post {i}: range reclaimed, watching the weekly close " + " ".join(
                f"#{t}" for t in topics),
            hashtags=topics, published_at_ms=at)
        if i % 4 == 0:
            payload.components.append(ev.TradingComponent(trade_idea=ev.TradeIdea(
                pair="BTC/USDT", side=ev.TRADE_SIDE_LONG, entry="100000", target="120000",
                stop="95000")))
        envelope = wrap(payload, event_id=event_id_for(post_id, 1), source=CONTENT,
                        aggregate_id=post_id, occurred_at_ms=at, aggregate_version=1)
        history.posts += 1
        history.entries += len(topics)
        for t in topics:
            history.per_topic[t] = history.per_topic.get(t, 0) + 1
        if hot in topics:
            history.hot.append((at, post_id, author))
        yield post_id, author, topics, encode(envelope)


async def produce(bootstrap: str, records: Iterable[tuple[str, int, bytes, bytes]]) -> None:
    """Send (topic, partition, key, value) records in producer batches per partition."""
    producer = make_producer(bootstrap, writer=CONTENT, linger_ms=50)
    await producer.start()
    try:
        # aiokafka's BatchBuilder (untyped).
        batches: dict[tuple[str, int], Any] = {}
        pending: list[asyncio.Future[object]] = []
        for topic, partition, key, value in records:
            batch = batches.get((topic, partition))
            if batch is None:
                batch = batches[topic, partition] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None) is None:
                pending.append(await producer.send_batch(batch, topic, partition=partition))
                batch = batches[topic, partition] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
            if len(pending) >= 64:
                await asyncio.gather(*pending)
                pending.clear()
        for (topic, partition), batch in batches.items():
            if batch.record_count():
                pending.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


def fill_records(suffix: str, partitions: int, count: int, t_end_ms: int, draw: TopicDraw,
                 history: History) -> Iterator[tuple[str, int, bytes, bytes]]:
    """Each post as content's append writes it: posts, author-posts and topic-posts."""
    posts_t = with_suffix(POSTS, suffix).name
    authors_t = with_suffix(AUTHOR_POSTS, suffix).name
    topics_t = with_suffix(TOPIC_POSTS, suffix).name
    for post_id, author, topics, value in posts(count, t_end_ms, draw, history):
        yield posts_t, partition_for(post_id, partitions), post_id.encode(), value
        yield authors_t, partition_for(author, partitions), author.encode(), value
        for t in topics:
            yield topics_t, partition_for(t, partitions), t.encode(), value


def engagement_records(suffix: str, partitions: int, history: History, count: int,
                       now_ms: int, rng: random.Random
                       ) -> Iterator[tuple[str, int, bytes, bytes]]:
    """``count`` likes of #btc posts of the last 7 days by other users, as the TopicEngagement
    copies content's interactions append writes to topic-posts (keyed by the topic)."""
    topic = HOT[0][0]
    since = now_ms - 7 * DAY_MS
    recent = [h for h in history.hot if h[0] > since]
    if count <= 0 or not recent:
        return
    name = with_suffix(TOPIC_POSTS, suffix).name
    partition = partition_for(topic, partitions)
    # A few posts draw most of the engagement (Zipf over the recent posts, shuffled).
    order = list(range(len(recent)))
    rng.shuffle(order)
    cum = list(itertools.accumulate(1.0 / (k + 1) for k in range(len(order))))
    for i in range(count):
        k = bisect.bisect_left(cum, rng.random() * cum[-1])
        published, post_id, author = recent[order[min(k, len(order) - 1)]]
        at = rng.randint(published, now_ms)
        source = f"bench_like_{i}"
        fact = TopicEngagement(topic=topic, post_id=post_id, post_author_id=author,
                               user_id=f"fan_{rng.randrange(200_000)}",
                               kind=ENGAGEMENT_KIND_LIKE, at_ms=at, source_event_id=source)
        envelope = wrap(fact, event_id=engagement_event_id(source, topic), source=CONTENT,
                        aggregate_id=topic, occurred_at_ms=at)
        history.engagements += 1
        yield name, partition, topic.encode(), encode(envelope)


@dataclass
class Cell:
    """One endpoint at one concurrency: every latency and the time spent."""

    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: dict[int, int] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        """The q-quantile in ms."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else 0.0


@dataclass(frozen=True)
class Endpoint:
    """A GET the run measures."""

    label: str
    path: str
    params: dict[str, str]
    authed: bool
    # Requests per concurrency (None: the run's --requests); the engaged orders scan the
    # whole window's engagements per read, so they get fewer.
    requests: int | None = None


async def run_round(client: httpx.AsyncClient, endpoint: Endpoint, headers: dict[str, str],
                    requests: int, concurrency: int, cell: Cell) -> None:
    """``requests`` GETs by ``concurrency`` workers; latencies into ``cell``."""
    left = iter(range(requests))

    async def worker() -> None:
        for _ in left:
            started = time.perf_counter()
            resp = await client.get(endpoint.path, params=endpoint.params,
                                    headers=headers if endpoint.authed else None)
            cell.latencies.append(time.perf_counter() - started)
            if resp.status_code != 200:
                cell.errors[resp.status_code] = cell.errors.get(resp.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cell.seconds += time.perf_counter() - started


async def measure(base_url: str, token: str, endpoints: list[Endpoint], concurrencies: list[int],
                  requests: int, rounds: int) -> dict[tuple[str, int], Cell]:
    """Every endpoint at every concurrency, interleaved round by round."""
    headers = {"Authorization": f"Bearer {token}"}
    cells: dict[tuple[str, int], Cell] = {}
    limits = httpx.Limits(max_connections=max(concurrencies),
                          max_keepalive_connections=max(concurrencies))
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        for e in endpoints:  # warm: connections, code paths, block cache
            await run_round(client, e, headers, 5, 1, Cell())
        for c in concurrencies:
            for _ in range(rounds):
                for e in endpoints:
                    n = max(c, (e.requests or requests) // rounds)
                    await run_round(client, e, headers, n, c,
                                    cells.setdefault((e.label, c), Cell()))
    return cells


def deep_cursor(history: History) -> tuple[str, str, int]:
    """(cursor, expected first post id, depth): the page half-way down #btc, newest first."""
    newest_first = sorted(history.hot, key=lambda h: (-h[0], h[1]))
    depth = len(newest_first) // 2
    at, post_id, _ = newest_first[depth - 1]
    return encode_cursor(Cursor(at, post_id)), newest_first[depth][1], depth


async def drop_topics(bootstrap: str, names: list[str]) -> None:
    """Delete this run's suffixed topics (the broker's open files are scarce)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


def _token(base_url: str) -> str:
    resp = httpx.post(f"{base_url}/v1/dev/tokens", json={"user_id": "bench_reader", "roles": []},
                      timeout=15)
    resp.raise_for_status()
    token: str = resp.json()["token"]
    return token


async def main(args: argparse.Namespace) -> int:
    """Run the benchmark and print its report."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    # The producer's retries while fresh partitions elect leaders are not news.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    count = 20_000 if args.quick and args.posts is None else (args.posts or 1_000_000)
    requests = args.requests or (150 if args.quick else 2_000)
    engaged_requests = args.engaged_requests or (20 if args.quick else 40)
    restarts = args.restarts or (1 if args.quick else 2)
    engagements = args.engagements if args.engagements is not None else (
        5_000 if args.quick else 200_000)
    suffix = f"tpage{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="bench-topic-page-"))
    # Readiness is read on the runner's health port: content's gRPC port answers "" SERVING
    # from the moment it binds (grpc_health's default), before its stores are restored.
    health_port = free_port()
    stack = Stack(bootstrap=bootstrap, run_dir=work, ports=Ports.free(), topic_suffix=suffix,
                  overrides={"gateway": UNLIMITED,
                             "content": {"PLANET_CONTENT_HEALTH_PORT": str(health_port)}})
    content = stack.services["content"]
    data_dir = work / "content-data"
    topic_dir = data_dir / with_suffix(TOPIC_POSTS, suffix).name
    rng = random.Random(13)
    history = History()
    draw = TopicDraw(args.tail_topics, rng)
    print(f"topics suffixed {suffix}; {count:,} posts; run dir {work}", flush=True)
    try:
        stack.create_topics()
        now_ms = int(time.time() * 1000)
        started = time.perf_counter()
        await produce(bootstrap, itertools.chain(
            fill_records(suffix, POSTS.partitions, count, now_ms - 60_000, draw, history),
            engagement_records(suffix, POSTS.partitions, history, engagements, now_ms, rng)))
        produced_s = time.perf_counter() - started
        print(f"produced {count:,} posts = {count * 2 + history.entries:,} records "
              f"({history.entries:,} topic entries over {len(history.per_topic):,} topics) "
              f"and {history.engagements:,} engagement copies (likes of #btc posts of the "
              f"last 7 days) in {produced_s:.1f} s", flush=True)
        top = sorted(history.per_topic.items(), key=lambda kv: -kv[1])
        print("posts per topic: " + ", ".join(f"#{t} {n:,}" for t, n in top[:6])
              + f", ... #{top[-1][0]} {top[-1][1]:,}", flush=True)
        env = stack.env_for(content)
        log = work / "content-timed.log"
        catch_up_s, rss = time_to_serving(env, health_port, log)
        print(f"content built its stores from the topics: SERVING after {catch_up_s:.1f} s "
              f"(RSS {rss:.0f} MiB); fill time {produced_s + catch_up_s:.1f} s", flush=True)
        times = [time_to_serving(env, health_port, log) for _ in range(restarts)]
        print(f"restart to SERVING over the filled stores: "
              f"{', '.join(f'{s:.2f}' for s, _ in times)} s; RSS "
              f"{max(r for _, r in times):.0f} MiB; topic index {_disk_mib(topic_dir):.0f} "
              f"MiB on disk, all content stores {_disk_mib(data_dir):.0f} MiB", flush=True)

        stack.start("content")
        proc = content.proc
        if not health.wait_for(lambda: health.grpc_serving(f"127.0.0.1:{health_port}"), 600,
                               lambda: proc is not None and proc.poll() is None):
            raise RuntimeError(f"content did not restore its stores (log {work}/content.log)")
        stack.start("gateway")
        base = stack.gateway_url
        token = _token(base)
        cursor, expected, depth = deep_cursor(history)
        check = httpx.get(f"{base}/v1/topics/btc/posts", params={"cursor": cursor},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        got = check["posts"][0]["post"]["post_id"] if check.get("posts") else None
        print(f"deep page: cursor at depth {depth:,} of #btc; its first post is the expected "
              f"one: {got == expected}", flush=True)
        if history.engagements:
            ranked = httpx.get(f"{base}/v1/topics/btc/posts", params={"order": "engaged_7d"},
                               headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
            print("engaged_7d first page, distinct engaging users per post: "
                  + ", ".join(str(p["engaged_users"]) for p in ranked.get("posts", [])),
                  flush=True)
        tail = top[len(top) // 2][0]
        endpoints = [
            Endpoint("GET /healthz", "/healthz", {}, authed=False),
            Endpoint("GET /v1/arenas", "/v1/arenas", {}, authed=True),
            Endpoint("#btc newest, first page", "/v1/topics/btc/posts", {}, authed=True),
            Endpoint(f"#btc newest, page at {depth:,}", "/v1/topics/btc/posts",
                     {"cursor": cursor}, authed=True),
            Endpoint(f"#{tail} newest ({history.per_topic[tail]} posts)",
                     f"/v1/topics/{tail}/posts", {}, authed=True),
        ]
        if history.engagements:
            endpoints += [
                Endpoint("#btc engaged_24h, first page", "/v1/topics/btc/posts",
                         {"order": "engaged_24h"}, authed=True, requests=engaged_requests),
                Endpoint("#btc engaged_7d, first page", "/v1/topics/btc/posts",
                         {"order": "engaged_7d"}, authed=True, requests=engaged_requests),
            ]
        concurrencies = [int(c) for c in args.concurrency.split(",")]
        print(f"measuring: {requests:,} requests per endpoint and concurrency (engaged orders: "
              f"{engaged_requests}, at least one per worker and round) in {args.rounds} "
              "interleaved rounds; page size 20 (the default)", flush=True)
        cells = await measure(base, token, endpoints, concurrencies, requests, args.rounds)
    finally:
        stack.down()
        if not args.keep:
            await drop_topics(bootstrap, [with_suffix(t, suffix).name for t in ALL])
            shutil.rmtree(work, ignore_errors=True)

    for c in concurrencies:
        floor = cells["GET /healthz", c]
        authed = cells["GET /v1/arenas", c]
        print(f"\nconcurrency {c}: endpoint | p50 ms | p99 ms | req/s | p99 / healthz | "
              f"p99 / arenas | non-200")
        for e in endpoints:
            cell = cells[e.label, c]
            print(f"  {e.label:<34} | {cell.pct(0.5):7.2f} | {cell.pct(0.99):7.2f} | "
                  f"{len(cell.latencies) / cell.seconds:7.1f} | "
                  f"{cell.pct(0.99) / floor.pct(0.99):6.1f}x | "
                  f"{cell.pct(0.99) / authed.pct(0.99):6.1f}x | {cell.errors or '-'}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=None, help="posts (default 1 000 000)")
    parser.add_argument("--quick", action="store_true",
                        help="20 000 posts, 150 requests per cell: about a minute")
    parser.add_argument("--tail-topics", type=int, default=5_000)
    parser.add_argument("--engagements", type=int, default=None,
                        help="engagements with #btc posts (default 200 000; quick 5 000)")
    parser.add_argument("--requests", type=int, default=None,
                        help="requests per endpoint and concurrency (default 2 000; quick 200)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", default="1,16")
    parser.add_argument("--engaged-requests", type=int, default=None,
                        help="requests per engaged order and concurrency (default 40; quick 20)")
    parser.add_argument("--restarts", type=int, default=None, help="(default 2; quick 1)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run dir (stores, logs) and the topics")
    raise SystemExit(asyncio.run(main(parser.parse_args())))
