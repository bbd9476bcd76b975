"""The one topics tool and the writer-bound producer, against the real broker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from planet.exchange.v1.events_pb2 import KycVerified
from planetkit.envelope import wrap
from planetkit.kafka.admin import TopicContractError, check_topics, ensure_topics, require_topics
from planetkit.kafka.producer import ForeignTopic, make_producer, publish
from planetkit.service_identities import CONTENT, EXCHANGE
from planetkit.topics import ALL, DEV, KYC, POSTS, Topic, with_suffix

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[3]


def tool(bootstrap: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "planetkit.kafka.topics_tool", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


async def _end_offsets(bootstrap: str, topic: str, partitions: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    finally:
        await consumer.stop()
    return sum(ends.values())


async def _until(bootstrap: str, topic: Topic, problems: list[str]) -> None:
    deadline = time.monotonic() + 20
    while (seen := await check_topics(bootstrap, [topic], profile=DEV)) != problems:
        assert time.monotonic() < deadline, seen
        await asyncio.sleep(0.1)


def test_create_makes_every_registered_topic_and_check_agrees(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    checked = tool(kafka_bootstrap, "check", "--suffix", topic_suffix)
    assert checked.returncode == 1
    assert f"{with_suffix(POSTS, topic_suffix).name} does not exist" in checked.stderr

    created = tool(kafka_bootstrap, "create", "--suffix", topic_suffix, "--profile", "dev")
    assert created.returncode == 0, created.stderr
    assert created.stdout.count("topics: created ") == len(ALL)
    assert "compact" in created.stdout

    again = tool(kafka_bootstrap, "create", "--suffix", topic_suffix)
    assert again.returncode == 0 and "created" not in again.stdout, again.stdout
    assert tool(kafka_bootstrap, "check", "--suffix", topic_suffix).returncode == 0


def test_a_production_profile_on_one_broker_fails_naming_the_topics(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    result = tool(kafka_bootstrap, "create", "--suffix", topic_suffix, "--profile", "production")
    assert result.returncode == 1
    assert with_suffix(POSTS, topic_suffix).name in result.stderr
    assert "replication factor of 3" in result.stderr


async def test_a_partition_count_change_is_refused_never_repartitioned(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    posts = with_suffix(POSTS, topic_suffix)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(posts.name, posts.partitions + 2, 1)])
    finally:
        await admin.close()
    with pytest.raises(TopicContractError, match=f"{posts.name} has 6 partitions but the "
                                                 "registry says 4.*new topic version"):
        await ensure_topics(kafka_bootstrap, [posts], profile=DEV)
    with pytest.raises(TopicContractError, match=f"{posts.name} has 6 partitions"):
        await require_topics(kafka_bootstrap, [posts])
    kyc = with_suffix(KYC, topic_suffix)
    with pytest.raises(TopicContractError, match=f"{kyc.name} does not exist: create"):
        await require_topics(kafka_bootstrap, [kyc])


async def test_drifted_configs_are_set_back_and_other_overrides_kept(
    kafka_bootstrap: str, topic_suffix: str
) -> None:
    posts = with_suffix(POSTS, topic_suffix)
    await ensure_topics(kafka_bootstrap, [posts], profile=DEV)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.alter_configs([ConfigResource(
            ConfigResourceType.TOPIC, posts.name,
            # AlterConfigs replaces every override: keep the contract's size bound so only
            # retention.ms drifts.
            {"retention.ms": "60000", "retention.bytes": "-1", "segment.ms": "3600000"})])
        drift = [f"{posts.name}: retention.ms is 60000, the contract says -1"]
        await _until(kafka_bootstrap, posts, drift)  # configs apply asynchronously
        done = await ensure_topics(kafka_bootstrap, [posts], profile=DEV)
        assert done == [f"reconfigured {posts.name}: retention.ms is 60000, the contract "
                        "says -1"]
        await _until(kafka_bootstrap, posts, [])
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, posts.name,
                            {"retention.ms": None, "segment.ms": None})])
        entries = {e["config_names"]: e["config_value"]
                   for e in response.to_object()["resources"][0]["config_entries"]}
    finally:
        await admin.close()
    await _until(kafka_bootstrap, posts, [])
    assert entries["segment.ms"] == "3600000"


async def test_a_producer_refuses_another_writers_topic_before_sending(
    kafka_bootstrap: str, registered_topics: str
) -> None:
    kyc = with_suffix(KYC, registered_topics)
    fact = KycVerified(user_id="u1")
    env = wrap(fact, event_id="kyc_u1", source=EXCHANGE, aggregate_id="u1", occurred_at_ms=0)
    content = make_producer(kafka_bootstrap, writer=CONTENT)
    await content.start()
    try:
        with pytest.raises(ForeignTopic, match=f"content may not write '{kyc.name}': its "
                                               "registered writer is exchange"):
            await publish(content, kyc, env)
        with pytest.raises(ForeignTopic, match="not in the topic registry"):
            await content.send_and_wait(f"scratch.{registered_topics}", b"x", key=b"k")
        batch = content.create_batch()
        batch.append(key=b"u1", value=b"x", timestamp=None)
        with pytest.raises(ForeignTopic):
            await content.send_batch(batch, kyc.name, partition=0)
    finally:
        await content.stop()
    assert await _end_offsets(kafka_bootstrap, kyc.name, kyc.partitions) == 0

    exchange = make_producer(kafka_bootstrap, writer=EXCHANGE)
    await exchange.start()
    try:
        await publish(exchange, kyc, env)
    finally:
        await exchange.stop()
    assert await _end_offsets(kafka_bootstrap, kyc.name, kyc.partitions) == 1
