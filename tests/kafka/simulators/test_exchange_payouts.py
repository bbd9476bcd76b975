"""The simulated exchange's payout desk, as a real process on the real broker.

It answers each instruction once per appearance in the log (answers and offsets in one
transaction), pays a payout id at most once across restarts (its memory is the PAYOUTS topic
read back), refuses with a reason, and answers every Nth new payout twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from devstack.health import grpc_serving
from devstack.stack import free_port
from planet.exchange.v2.payouts_pb2 import PayoutConfirmed, PayoutInstructed, PayoutRefused
from planetkit.envelope import DomainEvent, decode, encode, wrap
from planetkit.kafka.admin import ensure_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import INCENTIVE
from planetkit.topics import PAYOUT_INSTRUCTIONS, PAYOUTS, with_suffix
from simulators.exchange.payout_decisions import exchange_reference

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
WEEK = "2026-W48"
Answer = PayoutConfirmed | PayoutRefused


class Desk:
    """``python -m simulators.exchange payouts`` as a child process."""

    def __init__(self, bootstrap: str, suffix: str, log: Path) -> None:
        self.health = free_port()
        self.env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                    "PLANET_TOPIC_SUFFIX": suffix, "PYTHONPATH": str(ROOT),
                    "PLANET_EXCHANGE_PAYOUTS_HEALTH_PORT": str(self.health)}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "simulators.exchange", "payouts",
                 "--refuse-creator", "cr_closed", "--duplicate-every", "3"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not grpc_serving(f"127.0.0.1:{self.health}"):
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"desk not ready:\n{self.log.read_text()}"
            time.sleep(0.2)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


@pytest.fixture
def desk(kafka_bootstrap: str, topic_suffix: str, tmp_path: Path) -> Iterator[Desk]:
    asyncio.run(ensure_topics(kafka_bootstrap, [with_suffix(PAYOUT_INSTRUCTIONS, topic_suffix),
                                                with_suffix(PAYOUTS, topic_suffix)]))
    made = Desk(kafka_bootstrap, topic_suffix, tmp_path / "desk.log")
    yield made
    if made.proc is not None and made.proc.poll() is None:
        made.proc.kill()
        made.proc.wait()


def _instruction(creator: str, amount: int) -> PayoutInstructed:
    return PayoutInstructed(payout_id=f"{WEEK}:{creator}", creator_id=creator, week=WEEK,
                            amount_minor=amount, asset="USDT", at_ms=1_000)


async def _instruct(bootstrap: str, suffix: str, instructions: list[PayoutInstructed]) -> None:
    topic = with_suffix(PAYOUT_INSTRUCTIONS, suffix).name
    producer = make_producer(bootstrap, writer=INCENTIVE)
    await producer.start()
    try:
        for n, ins in enumerate(instructions):
            envelope = wrap(ins, event_id=f"instr-{ins.payout_id}-{n}-{time.time_ns()}",
                            source=INCENTIVE, aggregate_id=ins.creator_id, occurred_at_ms=1)
            await producer.send_and_wait(topic, encode(envelope), key=ins.creator_id.encode())
    finally:
        await producer.stop()


async def _answered_all(bootstrap: str, suffix: str, group: str) -> None:
    """Wait until the desk's committed offsets reach the end of the instructions: its answers
    were committed in the same transactions, so the PAYOUTS topic then holds all of them."""
    topic = with_suffix(PAYOUT_INSTRUCTIONS, suffix)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False)
    await probe.start()
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        ends = await probe.end_offsets(tps)
        deadline = time.monotonic() + 60
        while True:
            committed = {tp: (await probe.committed(tp)) or 0 for tp in tps}
            if all(committed[tp] >= ends[tp] for tp in tps):
                return
            assert time.monotonic() < deadline, f"desk stuck: {committed} < {ends}"
            await asyncio.sleep(0.2)
    finally:
        await probe.stop()


async def _answers(bootstrap: str, suffix: str) -> list[DomainEvent[Answer]]:
    """Every committed answer on PAYOUTS, in each partition's order."""
    topic = with_suffix(PAYOUTS, suffix)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[DomainEvent[Answer]] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                out.extend(decode(r.value, PayoutConfirmed, PayoutRefused) for r in records)
        return out
    finally:
        await consumer.stop()


def _by_payout(answers: list[DomainEvent[Answer]]) -> dict[str, list[DomainEvent[Answer]]]:
    out: dict[str, list[DomainEvent[Answer]]] = {}
    for a in answers:
        out.setdefault(a.payload.payout_id, []).append(a)
    return out


def test_desk_pays_once_refuses_with_reasons_and_answers_some_twice(
        desk: Desk, kafka_bootstrap: str, topic_suffix: str) -> None:
    group = f"exchange-payouts-{topic_suffix}"
    payable = {f"cr_{c}": 100 * (i + 1) for i, c in enumerate("abcde")}
    first = [_instruction(c, a) for c, a in payable.items()]
    first += [_instruction("cr_closed", 700), _instruction("cr_zero", 0)]
    first.append(_instruction("cr_a", 100))  # redelivered: answered again, not paid again
    asyncio.run(_instruct(kafka_bootstrap, topic_suffix, first))
    desk.start()
    asyncio.run(_answered_all(kafka_bootstrap, topic_suffix, group))
    answers = asyncio.run(_answers(kafka_bootstrap, topic_suffix))
    by_payout = _by_payout(answers)

    # 7 new payouts, every 3rd answered twice (2 of them), plus the redelivered one: 10.
    assert len(answers) == 10
    assert len(by_payout) == 7
    assert sorted(len(v) for k, v in by_payout.items() if k != f"{WEEK}:cr_a").count(2) \
        + (len(by_payout[f"{WEEK}:cr_a"]) - 2) == 2
    assert len({a.event_id for a in answers}) == 10
    for creator, amount in payable.items():
        pid = f"{WEEK}:{creator}"
        payloads = {a.payload.SerializeToString() for a in by_payout[pid]}
        assert len(payloads) == 1, f"{pid} answered differently: one payment, one answer"
        confirmed = by_payout[pid][0].payload
        assert isinstance(confirmed, PayoutConfirmed)
        assert (confirmed.creator_id, confirmed.amount_minor, confirmed.asset) == (
            creator, amount, "USDT")
        assert confirmed.exchange_reference == exchange_reference(pid)
        envelope = by_payout[pid][0].envelope
        assert envelope.source == "exchange" and envelope.aggregate_id == creator
    closed = by_payout[f"{WEEK}:cr_closed"][0].payload
    zero = by_payout[f"{WEEK}:cr_zero"][0].payload
    assert isinstance(closed, PayoutRefused) and "refuses payouts" in closed.reason
    assert isinstance(zero, PayoutRefused) and "amount must be positive, not 0" in zero.reason
    assert desk.stop() == 0

    # A restart remembers from the log: cr_a redelivered gets the very same confirmation
    # (same reference, same time), cr_f (the 8th new payout) is paid once.
    paid_a = by_payout[f"{WEEK}:cr_a"][0].payload
    asyncio.run(_instruct(kafka_bootstrap, topic_suffix,
                          [_instruction("cr_a", 100), _instruction("cr_f", 900)]))
    desk.start()
    asyncio.run(_answered_all(kafka_bootstrap, topic_suffix, group))
    after = _by_payout(asyncio.run(_answers(kafka_bootstrap, topic_suffix)))
    again = after[f"{WEEK}:cr_a"]
    assert len(again) == len(by_payout[f"{WEEK}:cr_a"]) + 1
    assert again[-1].payload == paid_a
    assert again[-1].event_id == f"payout-answer:{WEEK}:cr_a:{len(again)}"
    [paid_f] = after[f"{WEEK}:cr_f"]
    assert isinstance(paid_f.payload, PayoutConfirmed) and paid_f.payload.amount_minor == 900
    assert sum(len(v) for v in after.values()) == 12
    assert desk.stop() == 0
