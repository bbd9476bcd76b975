"""Ready means ready: after a restart over real history, the incentive service never answers
an estimate from tables that are still recovering.

The processor is restarted (SIGTERM, then a fresh process whose memory:// tables must be
rebuilt from the changelogs) and probed as fast as the test can: the runner's health port
(what the kubelet and devstack ask), the API port's health, and GetWeeklyEstimate for every
creator. Every estimate obtained while SERVING, and every estimate the RPC answers at all,
equals the one before the restart; NOT_SERVING (or UNAVAILABLE) is seen before SERVING.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from grpc_health.v1 import health_pb2, health_pb2_grpc
from scoring_harness import ProcessorProcess, poll_until
from test_scoring_processor import Events, summary

from planet.incentive.v1.incentive_service_pb2 import GetWeeklyEstimateRequest
from planet.incentive.v1.incentive_service_pb2_grpc import IncentiveServiceStub

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CREATORS = 40
POSTS_PER_CREATOR = 25
CONSUMERS = 30
SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture
async def history_events(kafka_bootstrap: str, topic_suffix: str) -> AsyncIterator[Events]:
    # The test stands in for every writer of the processor's inputs.
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True,
                                acks="all", linger_ms=5)
    await producer.start()
    yield Events(producer, topic_suffix)
    await producer.stop()


async def _health(address: str) -> int | None:
    """The overall status at ``address``, or None while nothing answers there."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.aio.AioRpcError:
            return None
    return int(reply.status)


async def _estimates(
    p: ProcessorProcess, creators: list[str], week: str
) -> tuple[dict[str, tuple[int, ...]], set[grpc.StatusCode]]:
    """Every creator's estimate that was answered, and the codes of those refused."""
    answered: dict[str, tuple[int, ...]] = {}
    refused: set[grpc.StatusCode] = set()
    async with grpc.aio.insecure_channel(p.address, interceptors=[p.signing()]) as channel:
        stub = IncentiveServiceStub(channel)  # type: ignore[misc]
        for creator in creators:
            try:
                e = await stub.GetWeeklyEstimate(  # type: ignore[misc]
                    GetWeeklyEstimateRequest(creator_id=creator, week=week), timeout=2)
            except grpc.aio.AioRpcError as exc:
                refused.add(exc.code())
                continue
            s = summary(e)
            assert s is not None
            answered[creator] = s
    return answered, refused


async def test_after_a_restart_no_estimate_is_answered_before_the_tables_are_recovered(
    processor: ProcessorProcess, history_events: Events
) -> None:
    events = history_events
    await processor.wait_serving()
    creators = [f"cr{i}-{events.suffix}" for i in range(CREATORS)]
    consumers = [f"u{j}-{events.suffix}" for j in range(CONSUMERS)]
    for j, user in enumerate(consumers):
        if j % 2 == 0:
            await events.kyc(user)
        await events.fee(user, f"fee-{j}", 1_000 * (j + 1))
    for i, creator in enumerate(creators):
        for k in range(POSTS_PER_CREATOR):
            await events.post(creator, f"p{i}-{k}")
        rows = {consumers[(i + j) % CONSUMERS]: [1, 10 + j, j % 3] for j in range(5)}
        await events.deltas(creator, rows, f"rec-{i}")
    await events.producer.flush()

    last = creators[-1]

    async def settled() -> tuple[int, ...] | None:
        answered, _ = await _estimates(processor, [last], events.week)
        return answered.get(last)

    await poll_until(settled, lambda s: s is not None and s[0] == POSTS_PER_CREATOR, 120,
                     "the history was never fully counted")
    expected, refused = await _estimates(processor, creators, events.week)
    assert not refused and len(expected) == CREATORS
    assert all(s[0] == POSTS_PER_CREATOR and s[4] == 5 for s in expected.values())

    processor.stop()
    processor.start()

    # Probe until both health services say SERVING and every estimate is answered.
    runner_health = f"127.0.0.1:{processor.health_port}"
    seen_not_serving = False
    seen_unavailable = False
    wrong: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    deadline = time.monotonic() + 120
    while True:
        assert processor.proc is not None and processor.proc.poll() is None, \
            processor.log_tail()
        status = await _health(runner_health)
        api_status = await _health(processor.address)
        answered, refused = await _estimates(processor, creators, events.week)
        seen_unavailable |= grpc.StatusCode.UNAVAILABLE in refused
        if status is not None and status != SERVING:
            seen_not_serving = True
        # Whatever health says, an answered estimate is the recovered one or nothing.
        wrong += [(c, s, expected[c]) for c, s in answered.items() if s != expected[c]]
        assert not wrong, f"answered from unrecovered tables: {wrong[:3]}"
        if status == SERVING and api_status == SERVING and len(answered) == CREATORS:
            break
        assert time.monotonic() < deadline, (status, api_status, refused, processor.log_tail())
    assert seen_not_serving, "SERVING was never preceded by NOT_SERVING"
    assert seen_unavailable, "the estimate RPC never said UNAVAILABLE while recovering"
    assert answered == expected
