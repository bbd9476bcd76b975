"""Start-up time of content's sanctions table against the identities topic's history.

Writes ``--records`` identity facts to a fresh planet.social.identities.v1 (profile updates,
as social's changelog mostly holds, and ``--sanctioned`` AccountSanctioned among them) on the
real broker, then measures the production sanctions tail (services/content/adapters/
instrument_store.ReferenceTail) from start to ``loaded``:

- without a checkpoint (the old design: every start replays the whole topic);
- with a checkpoint, first start (reads the whole topic once, writing the checkpoint);
- with the checkpoint, restart (loads the table, reads only what is new: here nothing);
- with the checkpoint, restart after 1 000 more facts.

Prints the numbers; asserts nothing. Usage: python -m bench.sanctions_restart [--records N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from planet.social.v1 import events_pb2 as social
from planetkit.envelope import encode, wrap
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import SOCIAL
from planetkit.topics import SOCIAL_IDENTITIES, Topic, with_suffix
from services.content.adapters.instrument_store import (
    SANCTION_FACTS,
    ReferenceTail,
    apply_sanction,
)
from services.content.adapters.sanctions_snapshot import SanctionsSnapshot
from services.content.domain.topics import Sanctions


async def fill(bootstrap: str, topic: Topic, records: int, sanctioned: int, start: int) -> None:
    """``records`` identity facts, every (records // sanctioned)-th a sanction."""
    producer = make_producer(bootstrap, writer=SOCIAL)
    await producer.start()
    every = max(records // max(sanctioned, 1), 1)
    try:
        for i in range(start, start + records):
            user = f"user_{i % 50_000:05d}"
            payload = (social.AccountSanctioned(user_id=user, sanction_id=f"sanc_{i:020d}",
                                                reason="spam", at_ms=i)
                       if i % every == 0 else
                       social.ProfileUpdated(user_id=user, updated_at_ms=i))
            envelope = wrap(payload, event_id=f"evt_{i}", source=SOCIAL, aggregate_id=user,
                            occurred_at_ms=i)
            await producer.send(topic.name, encode(envelope), key=user.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def load(bootstrap: str, topic: Topic, path: Path | None) -> tuple[float, int, int]:
    """Seconds from start to loaded, records read, accounts sanctioned."""
    sanctions = Sanctions()
    snapshot = None if path is None else SanctionsSnapshot(path, sanctions)
    tail = ReferenceTail(
        "sanctions",
        lambda: AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                 enable_auto_commit=False, auto_offset_reset="earliest",
                                 isolation_level="read_committed"),
        topic, SANCTION_FACTS,
        apply_sanction(sanctions) if snapshot is None else snapshot.apply(),
        checkpoint=snapshot)
    t0 = time.perf_counter()
    await tail.start()
    while not tail.loaded:
        await tail.poll()
    elapsed = time.perf_counter() - t0
    await tail.stop()
    return elapsed, tail.records, sum(
        1 for u in range(50_000) if sanctions.is_sanctioned(f"user_{u:05d}", 0))


async def main(bootstrap: str, records: int, sanctioned: int) -> None:
    await wait_for_broker(bootstrap)
    topic = with_suffix(SOCIAL_IDENTITIES, f"bench{uuid.uuid4().hex[:8]}")
    await ensure_topics(bootstrap, [topic])
    try:
        t0 = time.perf_counter()
        await fill(bootstrap, topic, records, sanctioned, 0)
        print(f"wrote {records} identity facts ({sanctioned} sanctions) in "
              f"{time.perf_counter() - t0:.1f}s to {topic.name}")
        with tempfile.TemporaryDirectory(prefix="planet-sanctions-bench-") as tmp:
            path = Path(tmp) / "sanctions"
            for label, where in (("no checkpoint (replay)", None),
                                 ("checkpoint, first start", path),
                                 ("checkpoint, restart", path)):
                s, read, n = await load(bootstrap, topic, where)
                print(f"{label:32s} {s:7.3f}s  records read {read:>9}  sanctioned {n}")
            await fill(bootstrap, topic, 1_000, 10, records)
            s, read, n = await load(bootstrap, topic, path)
            print(f"{'checkpoint, restart +1000 new':32s} {s:7.3f}s  records read {read:>9}  "
                  f"sanctioned {n}")
    finally:
        # The broker's open-file limit is tight: a bench leaves no topic behind.
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([topic.name])
        finally:
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--sanctioned", type=int, default=2_000)
    args = parser.parse_args()
    asyncio.run(main(args.bootstrap, args.records, args.sanctioned))
