"""Publish and comment throughput through the gateway on a running stack, beside /healthz.

Starts social, content and one gateway as processes (``devstack.stack``, fresh suffixed
topics on the real broker, rate limits lifted), makes ``--creators`` creators the way a user
becomes one (the exchange simulator reports KYC; each opens an identity through the API),
publishes ``--targets`` posts to comment on, then, at each concurrency of ``--concurrency``,
measures in interleaved rounds (so machine noise falls on all of them alike):

- ``GET /healthz``: no auth, no backend (the HTTP floor);
- ``POST /v1/posts``: a short post with a hashtag and a trade idea (token check, social's
  may-publish answer, the instrument check, one Kafka transaction over the posts,
  author-posts and topic-posts partitions, the stores), creators round-robin, each request
  its own Idempotency-Key;
- ``POST /v1/posts/{id}/comments``: by ``--commenters`` readers round-robin over the target
  posts (token check, social's block check, one Kafka transaction over the interactions and
  topic-posts partitions, the store).

It prints requests/s and p50/p99 latency of each, and each p99 over /healthz's. Numbers are
printed, never asserted. The load client runs in this process on the same 2 cores as the
services: throughput is the whole machine's. Every answer other than 201 (200 for /healthz)
is counted and printed.

Usage: python -m bench.content_gateway [--requests 200] [--concurrency 1,8,32] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.topic_page import UNLIMITED, drop_topics
from devstack.stack import Ports, Stack
from planetkit.kafka.admin import wait_for_broker
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import EXCHANGE
from planetkit.topics import ALL, with_suffix
from simulators.exchange.facts import ExchangeTopics, publish_kyc

IDEA = {"trade_idea": {"pair": "BTC/USDT", "side": "long", "entry": "64000",
                       "target": "70000", "stop": "61000", "timeframe": "4h"}}


@dataclass
class Cell:
    """One (endpoint, concurrency): latencies of the answers, and the wrong statuses."""

    latencies_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    errors: dict[int, int] = field(default_factory=dict)

    def line(self, name: str, concurrency: int, floor_p99: float) -> str:
        """A printed row (``floor_p99``: /healthz's p99 in seconds at this concurrency)."""
        lat = sorted(self.latencies_s)
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        rate = len(lat) / self.wall_s if self.wall_s else 0.0
        errors = ", ".join(f"{n}x{code}" for code, n in sorted(self.errors.items())) or "none"
        return (f"{name:<28} c={concurrency:<3} {len(lat):>6} req {rate:>8.1f}/s  "
                f"p50 {p50:>7.1f} ms  p99 {p99:>7.1f} ms  "
                f"p99/healthz {p99 / (floor_p99 * 1000):>5.1f}  "
                f"errors: {errors}")


Request = Callable[[httpx.AsyncClient, int], Any]


async def _run(client: httpx.AsyncClient, make: Request, count: int, concurrency: int,
               ok: int, cell: Cell) -> None:
    counter = itertools.count()

    async def worker() -> None:
        while (i := next(counter)) < count:
            started = time.perf_counter()
            response = await make(client, i)
            elapsed = time.perf_counter() - started
            if response.status_code == ok:
                cell.latencies_s.append(elapsed)
            else:
                cell.errors[response.status_code] = cell.errors.get(response.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cell.wall_s += time.perf_counter() - started


def _token(base: str, user: str) -> str:
    resp = httpx.post(f"{base}/v1/dev/tokens", json={"user_id": user, "roles": []}, timeout=15)
    resp.raise_for_status()
    token: str = resp.json()["token"]
    return token


async def _kyc(bootstrap: str, suffix: str, users: list[str]) -> None:
    producer = make_producer(bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        for user in users:
            await publish_kyc(producer, ExchangeTopics.with_suffix(suffix), user)
    finally:
        await producer.stop()


def _open_identities(base: str, tokens: dict[str, str], timeout_s: float = 60) -> None:
    """Each creator opens an identity once social has read their KYC fact (polled)."""
    deadline = time.monotonic() + timeout_s
    for n, (user, token) in enumerate(tokens.items()):
        body = {"handle": f"bench_{n}_{uuid.uuid4().hex[:6]}", "display_name": user,
                "bio": "bench", "links": [], "topics": ["btc"]}
        while True:
            resp = httpx.post(f"{base}/v1/creators/me/identity", json=body,
                              headers={"Authorization": f"Bearer {token}"}, timeout=15)
            if resp.status_code in (201, 409):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{user} could not open an identity: {resp.text}")
            time.sleep(0.2)


async def bench(args: argparse.Namespace) -> None:
    """Start the stack, make creators and targets, measure, print."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    suffix = f"cgw{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="bench-content-gateway-"))
    stack = Stack(bootstrap=bootstrap, run_dir=work, ports=Ports.free(), topic_suffix=suffix,
                  overrides={"gateway": UNLIMITED})
    requests = 40 if args.quick else args.requests
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    print(f"topics suffixed {suffix}; run dir {work}", flush=True)
    try:
        stack.create_topics()
        for name in ("social", "content", "gateway"):
            stack.start(name)
        base = stack.gateway_url
        creators = [f"bench_creator_{i}" for i in range(args.creators)]
        await _kyc(bootstrap, suffix, creators)
        creator_tokens = {c: _token(base, c) for c in creators}
        _open_identities(base, creator_tokens)
        readers = [_token(base, f"bench_reader_{i}") for i in range(args.commenters)]
        ctokens = list(creator_tokens.values())
        run = uuid.uuid4().hex[:8]
        targets: list[str] = []
        for i in range(args.targets):
            resp = httpx.post(f"{base}/v1/posts", json={"body": f"target {i}",
                                                         "hashtags": ["btc"]},
                              headers={"Authorization": f"Bearer {ctokens[i % len(ctokens)]}",
                                       "Idempotency-Key": f"t-{run}-{i}"}, timeout=30)
            resp.raise_for_status()
            targets.append(resp.json()["post_id"])
        print(f"{len(creators)} creators opened identities; {len(targets)} posts to comment "
              f"on; {len(readers)} commenters; {requests} requests per endpoint and "
              f"concurrency in {args.rounds} interleaved rounds", flush=True)

        def healthz(client: httpx.AsyncClient, _: int) -> Any:
            return client.get("/healthz")

        def publish(round_: int, conc: int) -> Request:
            def make(client: httpx.AsyncClient, i: int) -> Any:
                return client.post("/v1/posts", json={
                    "body": f"bench post {i}", "hashtags": ["btc"], "components": [IDEA]},
                    headers={"Authorization": f"Bearer {ctokens[i % len(ctokens)]}",
                             "Idempotency-Key": f"p-{run}-{conc}-{round_}-{i}"})
            return make

        def comment(round_: int, conc: int) -> Request:
            def make(client: httpx.AsyncClient, i: int) -> Any:
                return client.post(f"/v1/posts/{targets[i % len(targets)]}/comments",
                                   json={"text": f"comment {i}: where is your stop?"},
                                   headers={"Authorization": f"Bearer {readers[i % len(readers)]}",
                                            "Idempotency-Key": f"c-{run}-{conc}-{round_}-{i}"})
            return make

        cells: dict[tuple[str, int], Cell] = {}
        limits = httpx.Limits(max_connections=max(concurrencies),
                              max_keepalive_connections=max(concurrencies))
        async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
            per_round = max(1, requests // args.rounds)
            for conc in concurrencies:
                for round_ in range(args.rounds):
                    for name, make, ok in (("GET /healthz", healthz, 200),
                                           ("POST /v1/posts", publish(round_, conc), 201),
                                           ("POST /v1/posts/{id}/comments",
                                            comment(round_, conc), 201)):
                        cell = cells.setdefault((name, conc), Cell())
                        await _run(client, make, max(per_round, conc), conc, ok, cell)
        print("\nthrough the gateway (one process), content and social one replica each, "
              "on this machine's 2 cores shared with the load client:", flush=True)
        for conc in concurrencies:
            floor = cells[("GET /healthz", conc)]
            lat = sorted(floor.latencies_s)
            floor_p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            for name in ("GET /healthz", "POST /v1/posts", "POST /v1/posts/{id}/comments"):
                print(cells[(name, conc)].line(name, conc, floor_p99), flush=True)
    finally:
        stack.down()
        if not args.keep:
            await drop_topics(bootstrap, [with_suffix(t, suffix).name for t in ALL])


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400,
                        help="requests per endpoint and concurrency (default 400)")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--creators", type=int, default=20)
    parser.add_argument("--commenters", type=int, default=50)
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="40 requests per cell")
    parser.add_argument("--keep", action="store_true", help="keep the suffixed topics")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
