"""The groups service's writer: commands per second and their latency, group commit against one
Kafka transaction per command, in the same process.

    python -m bench.groups_commands                   # 2 000 joins then 2 000 posts, 200 in flight
    python -m bench.groups_commands --members 500     # quick check

The real writer (``services/groups/handlers.py``: the domain's decisions, the RocksDB partition
stores, a transactional producer on the real broker) under a fresh topic suffix, driven
directly: no gRPC, no gateway, and the creator check answered yes (what the gateway and the
socket benches measure is measured there). For each ``max_batch`` (1: the baseline of one
transaction per command; then PLANET_GROUPS_MAX_BATCH's default) it creates one group, has
``--members`` users join it and then each post one message, ``--in-flight`` commands at a
time, and prints commands/s, latency p50/p99 and the Kafka transactions paid; then the ratio.
Numbers are printed, never asserted. The topics are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from planet.groups.v1 import group_events_pb2 as ev
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import GROUPS
from planetkit.topics import GROUP_EVENTS, GROUP_MEMBER_INDEX, with_suffix
from services.groups.adapters.kafka_log import KafkaEventLog
from services.groups.adapters.store import Stores
from services.groups.domain import commands as c
from services.groups.domain.refusals import Refusal
from services.groups.handlers import MAX_BATCH, GroupsHandlers, Topics


class _CreatorsOpen:
    """The creator check answered yes (social's own benches measure it)."""

    async def creator_open(self, user_id: str) -> bool:
        return True


async def _settled(partition: int) -> bool:
    return True  # never asked: no append here has an unknown outcome


def _ms() -> int:
    return time.time_ns() // 1_000_000


async def _phase(handlers: GroupsHandlers, commands: list[c.Command], in_flight: int
                 ) -> tuple[float, list[float]]:
    """Run ``commands`` with ``in_flight`` at a time; (seconds, latencies in ms)."""
    gate = asyncio.Semaphore(in_flight)
    latencies: list[float] = []

    async def one(cmd: c.Command) -> None:
        async with gate:
            t0 = time.perf_counter()
            result = await handlers.command(cmd, uuid.uuid4().hex)
            latencies.append((time.perf_counter() - t0) * 1000)
            if isinstance(result, Refusal):
                raise RuntimeError(f"refused: {result.message}")

    started = time.perf_counter()
    await asyncio.gather(*(one(cmd) for cmd in commands))
    return time.perf_counter() - started, latencies


def _q(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def _run(bootstrap: str, max_batch: int, members: int, in_flight: int) -> float:
    suffix = f"bgcmd{uuid.uuid4().hex[:8]}"
    events = with_suffix(GROUP_EVENTS, suffix)
    index = with_suffix(GROUP_MEMBER_INDEX, suffix)
    await ensure_topics(bootstrap, [events, index])
    producer = make_producer(bootstrap, writer=GROUPS, transactional_id=f"groups-{suffix}",
                             linger_ms=0)
    await producer.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-groups-") as tmp:
            stores = Stores(Path(tmp), events.partitions)
            event_log = KafkaEventLog(producer, 10.0)
            handlers = GroupsHandlers(stores, event_log,
                                      Topics(events.name, index.name, events.partitions),
                                      _CreatorsOpen(), _ms, _settled, max_batch=max_batch)
            handlers.serving = True
            try:
                created = await handlers.command(c.CreateGroup(
                    actor_id="bench-owner", group_id="",
                    profile=ev.GroupProfile(name="Bench", visibility=ev.GROUP_VISIBILITY_PUBLIC,
                                            join_mode=ev.JOIN_MODE_FREE,
                                            member_limit=members + 10)), "create")
                assert not isinstance(created, Refusal), created
                group = created.group_id
                users = [f"m{i:06d}" for i in range(members)]
                total = 0.0
                for name, commands in (
                        ("joins", [c.Join(actor_id=u, group_id=group) for u in users]),
                        ("posts", [c.PostMessage(actor_id=u, group_id=group, text=f"gm {i}")
                                   for i, u in enumerate(users)])):
                    paid = event_log.transactions
                    seconds, lat = await _phase(handlers, list(commands), in_flight)
                    paid = event_log.transactions - paid
                    rate = len(lat) / seconds
                    total += seconds
                    print(f"  max_batch {max_batch:>4}: {len(lat):,} {name} in {seconds:.2f} s"
                          f" = {rate:,.0f}/s; latency p50 {_q(lat, 50):.1f} ms, p99 "
                          f"{_q(lat, 99):.1f} ms; {paid:,} transactions "
                          f"({len(lat) / max(paid, 1):.1f} commands each)", flush=True)
                return 2 * members / total
            finally:
                await handlers.stop()
                stores.close()
    finally:
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([events.name, index.name])
        finally:
            await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--in-flight", type=int, default=200)
    parser.add_argument("--max-batch", type=int, default=MAX_BATCH)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    args = parser.parse_args()
    print(f"groups writer: {args.members:,} members join one group, then each posts once; "
          f"{args.in_flight} commands in flight")
    baseline = asyncio.run(_run(args.bootstrap, 1, args.members, args.in_flight))
    batched = asyncio.run(_run(args.bootstrap, args.max_batch, args.members, args.in_flight))
    print(f"group commit: {batched:,.0f} commands/s vs {baseline:,.0f}/s one transaction "
          f"per command: {batched / baseline:.1f}x")


if __name__ == "__main__":
    main()
