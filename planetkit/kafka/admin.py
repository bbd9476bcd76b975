"""Broker readiness, and topics held to their registered contract (planetkit.topics).

``ensure_topics`` creates what is missing with its contract and brings the configs of what
exists back to it; it never repartitions (a partition count is part of a topic's identity:
a change is a new topic version) and cannot add replicas (that is a partition reassignment,
an operator's step). ``require_topics`` is what a service calls at start: it creates nothing
and only checks that what it reads and writes exists with the partitions it expects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError

from planetkit.topics import DEV, Topic, TopicContract, TopicProfile

# Kafka protocol error codes the tool tells apart.
_UNKNOWN_TOPIC = 3
_TOPIC_EXISTS = 36
# DescribeConfigs' config_source for a value set on the topic itself.
_DYNAMIC_TOPIC_CONFIG = 1
TOOL = "python -m planetkit.kafka.topics_tool create (make topics)"


class TopicContractError(RuntimeError):
    """Topics that are missing or differ from their contract in a way no tool may fix."""


@dataclass(frozen=True)
class TopicState:
    """What the cluster holds for one topic."""

    name: str
    partitions: int
    # The smallest number of replicas of any partition.
    replication_factor: int
    # Effective values of the configs a contract sets.
    configs: dict[str, str]
    # Every config set on the topic itself (kept when the contract's are re-applied).
    overrides: dict[str, str]


def partition_problem(name: str, expected: int, actual: int) -> str | None:
    """Why ``actual`` partitions are wrong for a topic registered with ``expected``."""
    if actual == expected:
        return None
    return (
        f"{name} has {actual} partitions but the registry says {expected}: a partition "
        "count is part of a topic's identity (keys, dedup and tables are per partition), "
        "so a change is a new topic version (.v2) with a migration, never an in-place "
        "repartition (docs/service-shape.md)"
    )


def contract_problems(contract: TopicContract, state: TopicState) -> tuple[list[str], bool]:
    """The differences between ``state`` and ``contract``, and whether configs alone differ.

    Returns (problems, fixable): fixable is True when every problem is a topic config the
    tool may set again (min ISR, retention, cleanup policy).
    """
    problems: list[str] = []
    fixable = True
    wrong_partitions = partition_problem(contract.name, contract.partitions, state.partitions)
    if wrong_partitions:
        problems.append(wrong_partitions)
        fixable = False
    if state.replication_factor < contract.replication_factor:
        problems.append(
            f"{contract.name} keeps {state.replication_factor} replica(s) of a partition but "
            f"the profile needs {contract.replication_factor}: add replicas with a partition "
            "reassignment (kafka-reassign-partitions.sh), then run the tool again"
        )
        fixable = False
    for key, want in contract.configs().items():
        have = state.configs.get(key)
        if have != want:
            problems.append(f"{contract.name}: {key} is {have}, the contract says {want}")
    return problems, fixable


async def wait_for_broker(bootstrap: str, timeout_s: float = 60.0) -> None:
    """Return once the cluster answers a metadata request; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaConnectionError, OSError) as exc:
            last = exc
        finally:
            await admin.close()
        await asyncio.sleep(0.5)
    raise TimeoutError(f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s: {last}")


async def _partitions(admin: Any, names: Sequence[str]) -> dict[str, list[Any]]:
    """The partitions of each topic that exists (absent ones are left out)."""
    if not names:
        return {}
    described = await admin.describe_topics(list(names))
    return {
        d["topic"]: d["partitions"]
        for d in described
        if d["error_code"] != _UNKNOWN_TOPIC and d["partitions"]
    }


async def _states(admin: Any, names: Sequence[str]) -> dict[str, TopicState]:
    """What the cluster holds for each of ``names`` that exists."""
    partitions = await _partitions(admin, names)
    if not partitions:
        return {}
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, n) for n in partitions]
    )
    configs: dict[str, dict[str, str]] = {}
    overrides: dict[str, dict[str, str]] = {}
    for response in responses:
        for res in response.to_object()["resources"]:
            entries = res["config_entries"]
            name = res["resource_name"]
            configs[name] = {e["config_names"]: e["config_value"] for e in entries}
            overrides[name] = {
                e["config_names"]: e["config_value"]
                for e in entries
                if e.get("config_source") == _DYNAMIC_TOPIC_CONFIG and not e["is_sensitive"]
            }
    return {
        name: TopicState(
            name=name,
            partitions=len(parts),
            replication_factor=min(len(p["replicas"]) for p in parts),
            configs=configs.get(name, {}),
            overrides=overrides.get(name, {}),
        )
        for name, parts in partitions.items()
    }


def _broker_errors(response: Any, ignore: int) -> list[str]:
    obj = response.to_object()
    rows = obj.get("topic_errors") or obj.get("resources") or []
    return [
        f"{r.get('topic') or r.get('resource_name')}: {r['error_message'] or r['error_code']}"
        for r in rows
        if r["error_code"] not in (0, ignore)
    ]


async def ensure_topics(
    bootstrap: str, topics: Iterable[Topic], *, profile: TopicProfile = DEV
) -> list[str]:
    """Create each topic with its contract under ``profile``; bring drifted configs back.

    Returns what was done, one line each. TopicContractError (after doing everything else)
    for what no tool may change: a partition count that differs from the registry, fewer
    replicas than the profile needs, or a topic the broker would not create.
    """
    wanted = {t.name: t.contract(profile) for t in topics}
    done: list[str] = []
    errors: list[str] = []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        states = await _states(admin, list(wanted))
        missing = [c for name, c in wanted.items() if name not in states]
        if missing:
            response = await admin.create_topics([
                NewTopic(c.name, c.partitions, c.replication_factor, topic_configs=c.configs())
                for c in missing
            ])
            # Another process may create a topic between our describe and create: then it
            # is checked like any existing one below.
            errors += _broker_errors(response, ignore=_TOPIC_EXISTS)
            failed = {e.partition(":")[0] for e in errors}
            created = [c for c in missing if c.name not in failed]
            await _wait_visible(admin, created)
            done += [f"created {c.name}: {_describe(c)}" for c in created]
            states = await _states(admin, list(wanted))
        repairs: list[ConfigResource] = []
        for name, state in states.items():
            contract = wanted[name]
            problems, fixable = contract_problems(contract, state)
            if not problems:
                continue
            if not fixable:
                # Configs are left alone too: min ISR above the replicas a topic really
                # has would refuse every acks=all write.
                errors += problems
                continue
            repairs.append(ConfigResource(
                ConfigResourceType.TOPIC, name, {**state.overrides, **contract.configs()}
            ))
            done.append(f"reconfigured {name}: " + "; ".join(
                p.partition(": ")[2] for p in problems))
        if repairs:
            for response in await admin.alter_configs(repairs):
                errors += _broker_errors(response, ignore=-1)
    finally:
        await admin.close()
    if errors:
        raise TopicContractError("topics differ from their contract:\n  " + "\n  ".join(errors))
    return done


def _describe(c: TopicContract) -> str:
    return (f"{c.partitions} partitions, replication factor {c.replication_factor}, "
            f"min ISR {c.min_insync_replicas}, {c.cleanup_policy}, retention.ms "
            f"{c.retention_ms}")


async def _wait_visible(admin: Any, contracts: Sequence[TopicContract]) -> None:
    """Metadata propagates asynchronously: wait until every created topic is listed whole."""
    deadline = time.monotonic() + 15
    names = [c.name for c in contracts]
    while names and time.monotonic() < deadline:
        seen = await _partitions(admin, names)
        if all(len(seen.get(c.name, ())) == c.partitions for c in contracts):
            return
        await asyncio.sleep(0.1)


async def check_topics(
    bootstrap: str, topics: Iterable[Topic], *, profile: TopicProfile = DEV
) -> list[str]:
    """Every way the cluster differs from the topics' contracts (empty: all as registered)."""
    wanted = {t.name: t.contract(profile) for t in topics}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        states = await _states(admin, list(wanted))
    finally:
        await admin.close()
    problems: list[str] = []
    for name, contract in wanted.items():
        if name not in states:
            problems.append(f"{name} does not exist")
            continue
        problems += contract_problems(contract, states[name])[0]
    return problems


async def require_topics(bootstrap: str, topics: Iterable[Topic]) -> None:
    """What a service checks at start: its topics exist with their registered partitions.

    Services create no topics (the topics tool does, before they start); TopicContractError
    names every topic that is missing or partitioned differently.
    """
    wanted = {t.name: t.partitions for t in topics}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        seen = await _partitions(admin, list(wanted))
    finally:
        await admin.close()
    problems = []
    for name, partitions in wanted.items():
        if name not in seen:
            problems.append(f"{name} does not exist: create the topics first with {TOOL}")
        else:
            problem = partition_problem(name, partitions, len(seen[name]))
            if problem:
                problems.append(problem)
    if problems:
        raise TopicContractError("; ".join(problems))


async def topic_partition_count(bootstrap: str, topic: str) -> int:
    """How many partitions the cluster says ``topic`` has (0 if it does not exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        seen = await _partitions(admin, [topic])
    finally:
        await admin.close()
    return len(seen.get(topic, []))
