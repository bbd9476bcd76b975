"""Settle a 10 M-event week through the running scoring job, from the input it folded as the
facts arrived (services/incentive/scoring/warm_weeks.py), and check it against the log.

    python -m bench.settle_warm                      # 10 M events
    python -m bench.settle_warm --events 1000000 --no-compare

bench/settle_from_log.py's synthetic week, its times squeezed into the current ISO week up to
now (so the job's live week is that week), is written to suffixed topics as the services
write them (a child process; not timed). Then the real job (`python -m
services.incentive.scoring`, its own process) starts, folds the week from the log as it
would have during it (timed apart: "fold"), refreshes its estimate, and an operator's early
close (policy "1" allowed) makes it close and settle. Printed:

- close -> settled: from the WeekClosed record's timestamp to the WeekSettled record's (both
  written by the job): what the settlement costs when the job followed the week;
- request -> settled visible: from sending the close request to reading the WeekSettled;
- the job's peak resident memory (VmHWM: the live week, its estimates and the settlement);
- with --compare (default): the same week settled from the log in this process (load_week
  with the close's cut, as a restarted job does) and whether the two WeekSettled agree
  byte for byte but for settled_at_ms, with that path's time.

The goal (issue 14): a 10 M-event week settled under 60 s and 4 GiB on the 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
from aiokafka import AIOKafkaConsumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.settle_from_log import _produce, drop_topics
from bench.settle_week import synthetic_week
from planet.incentive.v1.weekly_pool_pb2 import (
    PoolFunded,
    WeekClosed,
    WeekCloseRequested,
    WeekSettled,
)
from planetkit.envelope import UndecodableEvent, decode, encode, wrap
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import INCENTIVE
from planetkit.topics import (
    ESTIMATES,
    PAYOUT_INSTRUCTIONS,
    PAYOUT_STATES,
    PAYOUTS,
    with_suffix,
)
from services.incentive.domain.facts import MS_PER_WEEK, IsoWeek, WeekFacts
from services.incentive.domain.settlement import settle
from services.incentive.scoring.fact_log import (
    REGISTERED,
    PoolTopics,
    cut_of,
    load_week,
    read_pool_book,
)
from services.incentive.scoring.results import week_settled

REPO = Path(__file__).resolve().parents[1]
ASSET = "USDT"


def squeezed(facts: WeekFacts, week: IsoWeek, now_ms: int) -> WeekFacts:
    """The week's events and removals moved into ``week`` and squeezed into [start, now)."""
    span = max(1, now_ms - week.start_ms - 60_000)
    ev = facts.events

    def move(at: np.ndarray) -> np.ndarray:
        offset = at - facts.week.start_ms
        return week.start_ms + (offset * span) // MS_PER_WEEK

    items = tuple(replace(i, removed_at_ms=int(move(np.array([i.removed_at_ms]))[0]))
                  if i.removed_at_ms is not None else i for i in facts.items)
    return replace(facts, week=week, events=replace(ev, occurred_at_ms=move(ev.occurred_at_ms)),
                   items=items)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _job_topics(suffix: str) -> list[str]:
    return [with_suffix(t, suffix).name for t in (ESTIMATES, PAYOUT_STATES, PAYOUT_INSTRUCTIONS,
                                                  PAYOUTS)]


async def write(args: argparse.Namespace) -> None:
    """The child: generate, squeeze into this week, write; print the pool and the week."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    await ensure_topics(bootstrap, [with_suffix(t, args.suffix) for t in (
        *REGISTERED, ESTIMATES, PAYOUT_STATES, PAYOUT_INSTRUCTIONS, PAYOUTS)])
    scale = args.events / 10_000_000
    now = int(time.time() * 1000)
    week = IsoWeek.containing(now)
    facts = squeezed(synthetic_week(args.events, max(1, int(1_000_000 * scale)),
                                    max(1, int(100_000 * scale)), max(1, int(1_000_000 * scale))),
                     week, now)
    t = time.perf_counter()
    sent = await _produce(bootstrap, PoolTopics.named(args.suffix), facts, "consumer")
    print(f"wrote {len(facts.events):,} events as {sent:,} records in "
          f"{time.perf_counter() - t:.1f} s (not timed)", flush=True)
    print(json.dumps({"pool": facts.pool_minor, "week": str(week)}))


async def _operation(bootstrap: str, topic: str, payload: PoolFunded | WeekCloseRequested,
                     event_id: str, week: str) -> None:
    producer = make_producer(bootstrap, writer=INCENTIVE)
    await producer.start()
    try:
        env = wrap(payload, event_id=event_id, source=INCENTIVE, aggregate_id=week,
                   occurred_at_ms=int(time.time() * 1000))
        await producer.send_and_wait(topic, encode(env), key=week.encode())
    finally:
        await producer.stop()


async def _weeks_log(bootstrap: str, topic: str) -> list[tuple[int, object]]:
    """(record timestamp, WeekClosed | WeekSettled) of the weeks log, in order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        out: list[tuple[int, object]] = []
        while await consumer.position(tp) < end:
            for record in (await consumer.getmany(tp, timeout_ms=500)).get(tp, []):
                try:
                    out.append((record.timestamp, decode(record.value, WeekClosed,
                                                         WeekSettled).payload))
                except UndecodableEvent:
                    continue
        return out
    finally:
        await consumer.stop()


def _hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _wait_for(what: str, check: object, timeout_s: float, job: subprocess.Popen[bytes],
                    log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if job.poll() is not None:
            raise SystemExit(f"the job exited ({job.returncode}) waiting for {what}:\n"
                             f"{log.read_text(errors='replace')[-3000:]}")
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}:\n{log.read_text(errors='replace')[-3000:]}")


async def run(args: argparse.Namespace, bootstrap: str, suffix: str) -> None:
    child = subprocess.run(
        [sys.executable, "-m", "bench.settle_warm", "--write-only", "--events",
         str(args.events), "--suffix", suffix], cwd=REPO, stdout=subprocess.PIPE, text=True,
        check=True)
    *lines, summary_line = child.stdout.strip().splitlines()
    print("\n".join(lines), flush=True)
    written = json.loads(summary_line)
    week, pool = written["week"], written["pool"]
    topics = PoolTopics.named(suffix)
    await _operation(bootstrap, topics.operations, PoolFunded(
        funding_id="bench", week=week, amount_minor=pool, asset=ASSET, operator_id="bench",
        at_ms=1), "fund-bench", week)
    log = Path(args.workdir) / f"scoring-{suffix}.log"
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PLANET_TOPIC_SUFFIX": suffix,
           "PLANET_SCORING_HEALTH_PORT": str(_free_port()),
           "PLANET_SCORING_EARLY_CLOSE_POLICIES": "1", "PLANET_SCORING_LOG_LEVEL": "info"}
    t_start = time.perf_counter()
    with log.open("wb") as out:
        job = subprocess.Popen([sys.executable, "-m", "services.incentive.scoring"], cwd=REPO,
                               env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        async def folded() -> bool:
            return "live week read up to now" in log.read_text(errors="replace")
        await _wait_for("the job to fold the week", folded, 1800, job, log)
        print(f"fold        {time.perf_counter() - t_start:6.1f} s  (the job read the week "
              "from the log: what it does as the week's facts arrive)", flush=True)

        async def estimated() -> bool:
            return "estimates written" in log.read_text(errors="replace")
        await _wait_for("the first estimate", estimated, 600, job, log)
        sent = time.perf_counter()
        await _operation(bootstrap, topics.operations, WeekCloseRequested(
            week=week, operator_id="bench", reason="bench", at_ms=1, request_id="close-bench"),
            "close-bench", week)

        async def settled() -> bool:
            return any(isinstance(m, WeekSettled) and m.week == week
                       for _, m in await _weeks_log(bootstrap, topics.weeks))
        await _wait_for("the settlement", settled, 1800, job, log)
        visible = time.perf_counter() - sent
        peak = _hwm_mib(job.pid)
    finally:
        job.terminate()
        job.wait(60)
    entries = await _weeks_log(bootstrap, topics.weeks)
    closed_at, closed = next((ts, m) for ts, m in entries
                             if isinstance(m, WeekClosed) and m.week == week)
    settled_at, done = next((ts, m) for ts, m in entries
                            if isinstance(m, WeekSettled) and m.week == week)
    assert isinstance(closed, WeekClosed) and isinstance(done, WeekSettled)
    # The job logs logfmt: the settlement's line names its input and each stage's seconds.
    settled_line = next((line for line in log.read_text(errors="replace").splitlines()
                         if 'msg="week settled"' in line and f"week={week}" in line), "")
    warm = "input=warm" in settled_line
    print("  stages: " + " ".join(f for f in settled_line.split() if f.endswith(tuple(
        "0123456789")) and "_s=" in f), flush=True)
    print(f"close -> settled  {(settled_at - closed_at) / 1000:6.1f} s  "
          f"(settled from the {'folded input' if warm else 'LOG (not warm!)'}; goal < 60 s)")
    print(f"request -> settled visible {visible:6.1f} s;  job peak RSS {peak:,.0f} MiB "
          f"(goal < 4 GiB); {done.facts_counted:,} rows; root {done.merkle_root}", flush=True)
    if args.compare:
        t0 = time.perf_counter()
        book = await read_pool_book(bootstrap, topics, ASSET)
        built = await load_week(bootstrap, topics, IsoWeek.parse(week), cut_of(closed), book,
                                ASSET, status_at_ms=closed.closed_at_ms)
        result = settle(built.facts, book.policy_for(week))
        again = week_settled(result, ASSET, settled_at_ms=done.settled_at_ms,
                             facts_counted=built.rows, facts_late=done.facts_late)
        same = again.SerializeToString(deterministic=True) == done.SerializeToString(
            deterministic=True)
        print(f"from the log {time.perf_counter() - t0:6.1f} s (read + build + model, in this "
              f"process); WeekSettled {'identical' if same else 'DIFFERENT'}", flush=True)


async def main(args: argparse.Namespace) -> None:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    suffix = args.suffix or f"bench{uuid.uuid4().hex[:8]}"
    try:
        await run(args, bootstrap, suffix)
    finally:
        if not args.keep_topics:
            await drop_topics(bootstrap, PoolTopics.named(suffix))
            await _drop(bootstrap, _job_topics(suffix))


async def _drop(bootstrap: str, names: list[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if gone := [n for n in names if n in existing]:
            await admin.delete_topics(gone, timeout_ms=30_000)
    finally:
        await admin.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--keep-topics", action="store_true")
    ap.add_argument("--suffix", default="")
    ap.add_argument("--workdir", default="/tmp")
    ap.add_argument("--no-compare", dest="compare", action="store_false",
                    help="skip settling the same week from the log in this process")
    ap.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    parsed = ap.parse_args()
    asyncio.run(write(parsed) if parsed.write_only else main(parsed))
