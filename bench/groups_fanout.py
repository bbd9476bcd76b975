"""One private group with 10 000 members all watching it live: message-to-member latency.

    python -m bench.groups_fanout                               # 10 000 members, 1 gateway
    python -m bench.groups_fanout --members 2000 --messages 10  # quicker
    python -m bench.groups_fanout --gateways 2                  # sockets over 2 gateways

Real processes (``bench/groups_stack.py``): social, groups and ``--gateways`` gateway
processes on a fresh topic suffix. Setup, untimed: a creator (KYC, open identity) makes a
private invite-only group and a link; ``--members`` users join by the link over HTTP
(``--concurrency`` requests in flight). Then ``--loaders`` separate load processes
(``bench/groups_sockets.py``) open one ``/v1/ws/groups/{id}`` socket per member, spread
round-robin over the gateways, and wait for each one's ``caught_up``. The gateways' RSS
before and after gives the memory per connected socket.

Timed: ``--messages`` messages posted over HTTP one every ``--interval`` s, by ``--authors``
members in turn (the flood limit is 5 at once then one a second per member). Each text holds
its send time, so every member socket's arrival gives a message-to-member latency: the send
(before the HTTP request: the service's decision and Kafka transaction included) to the
frame read by the client. Prints p50 / p99 / max over every (message, member), the time
until the LAST member had each message (median and worst over the messages), the post's own
HTTP latency, the gateways' CPU seconds over the message phase, and RSS per socket.
The load processes share the machine's cores with the gateways (and with whatever else runs
there): read the numbers with the machine's load in mind. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.groups_sockets import Loaders, Seat, bench_text, connect_all, quantiles_ms
from bench.groups_stack import (
    GroupsBenchStack,
    api_client,
    bounded,
    cpu_s,
    raise_fd_limit,
    rss_kib,
)


def member(i: int) -> str:
    return f"gm-{i:06d}"


async def setup(bs: GroupsBenchStack, owner: str, members: list[str],
                concurrency: int) -> str:
    """The group made by ``owner`` and every member joined by its link; its id."""
    async with api_client(bs.urls[0], concurrency) as api:
        t0 = time.perf_counter()
        await bs.become_creator(api, owner)
        group_id, link = await bs.private_group(api, owner, "Bench desk")
        t1 = time.perf_counter()
        await bounded([partial(bs.join, api, group_id, link, m) for m in members],
                      concurrency, "joined", every=max(1, len(members) // 10))
        dt = time.perf_counter() - t1
        print(f"setup: creator + group in {t1 - t0:.1f} s; {len(members):,} members joined by "
              f"the link in {dt:.1f} s ({len(members) / dt:,.0f} joins/s over HTTP, "
              f"{concurrency} in flight)", flush=True)
    return group_id


async def post_all(bs: GroupsBenchStack, group_id: str, authors: list[str], messages: int,
                   interval_s: float) -> list[float]:
    """Post ``messages`` texts one every ``interval_s``; each post's HTTP latency (s)."""
    latencies: list[float] = []
    async with api_client(bs.urls[0]) as api:
        start = time.monotonic()

        async def one(i: int) -> None:
            await asyncio.sleep(max(0.0, start + i * interval_s - time.monotonic()))
            author = authors[i % len(authors)]
            headers = bs.headers(author)  # signed before the clock starts
            t0 = time.monotonic()
            try:
                got = await api.post(f"/v1/groups/{group_id}/messages", headers=headers,
                                     json={"text": bench_text()})
            except httpx.TransportError as exc:
                print(f"  post {i} by {author}: {exc!r}", flush=True)
                return
            latencies.append(time.monotonic() - t0)
            if got.status_code != 201:
                print(f"  post {i} by {author}: {got.status_code} {got.text}", flush=True)

        await asyncio.gather(*(one(i) for i in range(messages)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between posts")
    parser.add_argument("--authors", type=int, default=5,
                        help="members posting in turn (the flood limit is per member)")
    parser.add_argument("--gateways", type=int, default=1)
    parser.add_argument("--loaders", type=int, default=2, help="socket load processes")
    parser.add_argument("--concurrency", type=int, default=64, help="setup requests in flight")
    parser.add_argument("--compression", choices=("deflate", "none"), default="deflate",
                        help="offer permessage-deflate as browsers do (default) or not")
    parser.add_argument("--ws-poll-s", type=float, default=None,
                        help="the gateways' PLANET_GATEWAY_WS_POLL_S (default: theirs, 1 s): "
                             "how often a socket that knows it is behind reads again")
    parser.add_argument("--connect-deadline", type=float, default=600.0,
                        help="seconds for every socket to open and catch up (the rest count "
                             "as failed and the run goes on with those open)")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    args = parser.parse_args()

    # Every socket is a descriptor in a load process and one in a gateway; children inherit.
    fds = raise_fd_limit(args.members + 4096)
    print(f"open-file limit raised to {fds:,} (inherited by the gateways and load processes)")
    owner = "gm-owner"
    members = [member(i) for i in range(args.members)]
    authors = [owner, *members[:max(0, args.authors - 1)]]
    with GroupsBenchStack(args.bootstrap, args.gateways, args.ws_poll_s) as bs:
        group_id = asyncio.run(setup(bs, owner, members, args.concurrency))
        ws_bases = [u.replace("http", "ws", 1) for u in bs.urls]
        seats = [Seat(ws_bases[i % len(ws_bases)], group_id, bs.token(m))
                 for i, m in enumerate(members)]
        pids = bs.gateway_pids
        rss0 = [rss_kib(p) for p in pids]
        loaders = Loaders(seats, args.loaders, None if args.compression == "none"
                          else "deflate", fds, args.connect_deadline)
        try:
            opened, rss1 = connect_all(loaders, pids, args.loaders, args.compression)
            cpu0 = [cpu_s(p) for p in pids]
            t1 = time.monotonic()
            posts = asyncio.run(post_all(bs, group_id, authors, args.messages, args.interval))
            got = loaders.wait_for(opened * args.messages, timeout_s=120)
            phase_s = time.monotonic() - t1
            cpu1 = [cpu_s(p) for p in pids]
            report = loaders.report()
            rss2 = [rss_kib(p) for p in pids]
        finally:
            loaders.close()

    q = quantiles_ms(report.latencies)
    last = [v[1] for v in report.per_message.values()]
    complete = sum(1 for v in report.per_message.values() if v[0] == opened)
    print(f"delivered: {got:,} of {opened * args.messages:,} (message, member) pairs; "
          f"{complete} of {args.messages} messages reached every socket")
    print(f"message-to-member latency (send -> frame read by the member's socket): "
          f"p50 {q['p50']:.0f} ms, p99 {q['p99']:.0f} ms, max {q['max']:.0f} ms")
    if last:
        print(f"until the LAST member had it: median {statistics.median(last) * 1000:.0f} ms, "
              f"worst {max(last) * 1000:.0f} ms over {len(last)} messages")
    pq = quantiles_ms(posts)
    print(f"post HTTP latency: p50 {pq['p50']:.0f} ms, max {pq['max']:.0f} ms")
    busy = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    print(f"gateway CPU over the {phase_s:.1f} s message phase: "
          + ", ".join(f"{b:.1f} s" for b in busy)
          + f" ({sum(busy) / phase_s * 100:.0f}% of one core in total)")
    per = [(b - a) / max(1, opened / len(pids)) for a, b in zip(rss0, rss1, strict=True)]
    print("gateway RSS: " + "; ".join(
        f"{a / 1024:.0f} -> {b / 1024:.0f} MiB connected -> {c / 1024:.0f} MiB after"
        for a, b, c in zip(rss0, rss1, rss2, strict=True))
        + f"; {statistics.mean(per):.1f} KiB per connected socket")
    if report.closed:
        print(f"closed by the server meanwhile: {dict(report.closed)}")


if __name__ == "__main__":
    main()
