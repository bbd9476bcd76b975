"""The sanctions table's checkpoint on real Kafka, real social and a real RocksDB store: a
restarted tail loads the table and reads only what social wrote since (start-up does not grow
with the identities topic's history), lifted sanctions leave the store, and a checkpoint ahead
of its topic (the topic was recreated) is dropped and the topic read from the start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.topics import SOCIAL_IDENTITIES, with_suffix
from services.content.adapters.instrument_store import SANCTION_FACTS, ReferenceTail
from services.content.adapters.sanctions_snapshot import SanctionsSnapshot
from services.content.domain.topics import Sanctions
from services.social.bootstrap import RunningSocial
from tests.kafka.social.social_harness import signed

pytestmark = pytest.mark.kafka


def _tail(bootstrap: str, suffix: str, path: Path) -> tuple[ReferenceTail, Sanctions]:
    sanctions = Sanctions()
    snapshot = SanctionsSnapshot(path, sanctions)
    tail = ReferenceTail(
        "sanctions",
        lambda: AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                 enable_auto_commit=False, auto_offset_reset="earliest",
                                 isolation_level="read_committed"),
        with_suffix(SOCIAL_IDENTITIES, suffix), SANCTION_FACTS, snapshot.apply(),
        checkpoint=snapshot)
    return tail, sanctions


async def _loaded(tail: ReferenceTail, timeout_s: float = 30) -> None:
    await tail.start()
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not tail.loaded:
        assert asyncio.get_running_loop().time() < deadline, "the table never loaded"
        await tail.poll()


async def test_a_restart_reads_only_what_is_new(
    social: RunningSocial, service_auth: DevServiceAuth, kafka_bootstrap: str,
    topic_suffix: str, posts_topic: str, tmp_path: Path,
) -> None:
    operator = signed(service_auth, "op-1", ("operator",))
    path = tmp_path / "sanctions"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{social.port}") as channel:
        stub = rpc_grpc.SocialServiceStub(channel)

        async def sanction(user: str) -> rpc.Sanction:
            s: rpc.Sanction = await stub.SanctionAccount(
                rpc.SanctionAccountRequest(user_id=user, reason="spam"), metadata=operator,
                timeout=10)
            return s

        mallory = await sanction("user_mallory")
        await sanction("user_trudy")

        first, table = _tail(kafka_bootstrap, topic_suffix, path)
        await _loaded(first)
        # Everything social wrote so far (the test's creators' identities too) was read once.
        history = first.records
        assert history >= 2
        assert table.is_sanctioned("user_mallory", 0) and table.is_sanctioned("user_trudy", 0)
        await first.stop()

        await stub.LiftSanction(rpc.LiftSanctionRequest(
            user_id="user_mallory", sanction_id=mallory.sanction_id, reason="appeal"),
            metadata=operator, timeout=10)
        await sanction("user_oscar")

        again, table = _tail(kafka_bootstrap, topic_suffix, path)
        await _loaded(again)
        # Loaded from the store, then only the two new facts read.
        assert again.records == 2 < history + 2
        assert not table.is_sanctioned("user_mallory", 0)
        assert table.is_sanctioned("user_trudy", 0) and table.is_sanctioned("user_oscar", 0)
        assert table.standing("user_mallory") == {}
        await again.stop()

    # A checkpoint ahead of its topic (as if the topic were recreated): dropped, read whole.
    snapshot = SanctionsSnapshot(path, Sanctions())
    snapshot.save({0: 10**12})
    snapshot.close()
    rebuilt, table = _tail(kafka_bootstrap, topic_suffix, path)
    await _loaded(rebuilt)
    assert rebuilt.records == history + 2
    assert not table.is_sanctioned("user_mallory", 0)
    assert table.is_sanctioned("user_trudy", 0) and table.is_sanctioned("user_oscar", 0)
    await rebuilt.stop()
