"""Many private groups live at once: 1 000 groups of 50 members, every member watching.

    python -m bench.groups_many                                  # 1 000 groups x 50 members
    python -m bench.groups_many --groups 100 --members 20        # quicker
    python -m bench.groups_many --gateways 2 --messages 3

Real processes (``bench/groups_stack.py``): social, groups and ``--gateways`` gateway
processes on a fresh topic suffix. Setup, untimed, over HTTP with ``--concurrency`` requests
in flight: ``--owners`` creators (KYC, open identity) make ``--groups`` private invite-only
groups between them, each with a link; ``--members`` distinct users join each group by its
link. Then ``--loaders`` load processes (``bench/groups_sockets.py``) open one
``/v1/ws/groups/{id}`` socket per (group, member), spread round-robin over the gateways, and
wait for each one's ``caught_up``; the gateways' RSS before and after gives the memory per
connected socket.

Timed: every group's owner posts ``--messages`` messages, all groups at once (posts fired
with ``--post-concurrency`` HTTP requests in flight; each text holds its send time, taken
just before its request). Every group fact goes through the groups service's one writer
(group commit: one Kafka transaction per batch of commands) and through each gateway's ONE
consumer, so this is the whole path under load. Prints the member deliveries per second
(from the first send to the last frame read), the posts per second the service took,
message-to-member latency p50 / p99 / max, the time until a message's last member had it,
the gateways' CPU and RSS per socket. The load processes share the machine's cores with the
gateways (and with whatever else runs there): read the numbers with the machine's load in
mind. Nothing is asserted.
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


def member(g: int, j: int) -> str:
    return f"mm-{g:05d}-{j:04d}"


async def setup(bs: GroupsBenchStack, owners: list[str], groups: int, members: int,
                concurrency: int) -> list[str]:
    """Each group made by its owner, its members joined by its link; the group ids."""
    async with api_client(bs.urls[0], concurrency) as api:
        t0 = time.perf_counter()
        await asyncio.gather(*(bs.become_creator(api, o) for o in owners))
        made = await bounded(
            [partial(bs.private_group, api, owners[g % len(owners)], f"Desk {g}")
             for g in range(groups)], concurrency, "groups made", every=max(1, groups // 5))
        t1 = time.perf_counter()
        print(f"setup: {len(owners)} creators and {groups:,} groups with links in "
              f"{t1 - t0:.1f} s", flush=True)
        joins = [partial(bs.join, api, made[g][0], made[g][1], member(g, j))
                 for g in range(groups) for j in range(members)]
        await bounded(joins, concurrency, "joined", every=max(1, len(joins) // 10))
        dt = time.perf_counter() - t1
        print(f"setup: {len(joins):,} members joined by links in {dt:.1f} s "
              f"({len(joins) / dt:,.0f} joins/s over HTTP, {concurrency} in flight)",
              flush=True)
    return [group_id for group_id, _ in made]


async def post_all(bs: GroupsBenchStack, group_ids: list[str], owners: list[str],
                   messages: int, concurrency: int) -> tuple[list[float], float, int]:
    """Every group's owner posts ``messages`` texts, all groups at once: each post's HTTP
    latency (s), the seconds the posting took, and how many posts were refused."""
    latencies: list[float] = []
    refused = 0
    async with api_client(bs.urls[0], concurrency) as api:

        async def one(g: int) -> None:
            nonlocal refused
            owner = owners[g % len(owners)]
            headers = bs.headers(owner)  # signed before the clock starts
            t0 = time.monotonic()
            try:
                got = await api.post(f"/v1/groups/{group_ids[g]}/messages", headers=headers,
                                     json={"text": bench_text()})
            except httpx.TransportError as exc:
                refused += 1
                print(f"  post to group {g}: {exc!r}", flush=True)
                return
            latencies.append(time.monotonic() - t0)
            if got.status_code != 201:
                refused += 1
                if refused <= 5:
                    print(f"  post to group {g}: {got.status_code} {got.text}", flush=True)

        # Round by round, so each group's messages are spread through the run (the flood
        # limit lets a member post 5 at once, then one a second).
        jobs = [partial(one, g) for _ in range(messages) for g in range(len(group_ids))]
        t0 = time.monotonic()
        await bounded(jobs, concurrency)
        return latencies, time.monotonic() - t0, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=1_000)
    parser.add_argument("--members", type=int, default=50, help="members per group")
    parser.add_argument("--messages", type=int, default=2, help="messages per group")
    parser.add_argument("--owners", type=int, default=10, help="creators owning the groups")
    parser.add_argument("--gateways", type=int, default=1)
    parser.add_argument("--loaders", type=int, default=2, help="socket load processes")
    parser.add_argument("--concurrency", type=int, default=64, help="setup requests in flight")
    parser.add_argument("--post-concurrency", type=int, default=64,
                        help="posts in flight while sending")
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

    sockets = args.groups * args.members
    fds = raise_fd_limit(sockets + 4096)
    print(f"open-file limit raised to {fds:,} (inherited by the gateways and load processes)")
    owners = [f"mm-owner-{i:03d}" for i in range(max(1, min(args.owners, args.groups)))]
    with GroupsBenchStack(args.bootstrap, args.gateways, args.ws_poll_s) as bs:
        group_ids = asyncio.run(setup(bs, owners, args.groups, args.members,
                                      args.concurrency))
        ws_bases = [u.replace("http", "ws", 1) for u in bs.urls]
        seats = [Seat(ws_bases[(g * args.members + j) % len(ws_bases)], gid,
                      bs.token(member(g, j)))
                 for g, gid in enumerate(group_ids) for j in range(args.members)]
        pids = bs.gateway_pids
        rss0 = [rss_kib(p) for p in pids]
        loaders = Loaders(seats, args.loaders, None if args.compression == "none"
                          else "deflate", fds, args.connect_deadline)
        try:
            opened, rss1 = connect_all(loaders, pids, args.loaders, args.compression)
            cpu0 = [cpu_s(p) for p in pids]
            t1 = time.monotonic()
            posts, post_s, refused = asyncio.run(post_all(
                bs, group_ids, owners, args.messages, args.post_concurrency))
            expected = opened * args.messages - refused * args.members
            got = loaders.wait_for(expected, timeout_s=180)
            phase_s = time.monotonic() - t1
            cpu1 = [cpu_s(p) for p in pids]
            report = loaders.report()
            rss2 = [rss_kib(p) for p in pids]
        finally:
            loaders.close()

    window = (report.last_arrival - t1) if report.last_arrival else float("nan")
    print(f"posted: {len(posts):,} messages ({refused} refused or lost) in {post_s:.1f} s "
          f"({len(posts) / post_s:,.0f} posts/s through the groups service's one writer)")
    print(f"delivered: {got:,} of {expected:,} member deliveries in {window:.1f} s from the "
          f"first send to the last frame read: {got / window:,.0f} deliveries/s")
    q = quantiles_ms(report.latencies)
    print(f"message-to-member latency (send -> frame read by the member's socket): "
          f"p50 {q['p50']:.0f} ms, p99 {q['p99']:.0f} ms, max {q['max']:.0f} ms")
    last = [v[1] for v in report.per_message.values()]
    if last:
        print(f"until a message's LAST member had it: median "
              f"{statistics.median(last) * 1000:.0f} ms, worst {max(last) * 1000:.0f} ms over "
              f"{len(last):,} messages")
    pq = quantiles_ms(posts)
    print(f"post HTTP latency (queued behind the other posts): p50 {pq['p50']:.0f} ms, "
          f"p99 {pq['p99']:.0f} ms")
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
