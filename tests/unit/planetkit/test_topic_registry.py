"""The topic registry as a contract: writers are identities, profiles set durability."""

from __future__ import annotations

import pytest

from planet.exchange.v1.events_pb2 import KycVerified
from planetkit import service_identities
from planetkit.envelope import wrap
from planetkit.kafka.admin import TopicState, contract_problems
from planetkit.kafka.producer import ForeignTopic, check_writer, make_producer
from planetkit.topics import (
    ALL,
    DEV,
    ENGAGEMENT_BATCHES,
    KYC,
    POSTS,
    PRODUCTION,
    Topic,
    profile_named,
    registered,
    with_suffix,
)


def test_every_writer_is_a_service_identity() -> None:
    assert {t.writer for t in ALL} <= set(service_identities.WRITERS)
    with pytest.raises(ValueError, match="not an identity"):
        Topic("planet.x.v1", "k", (), "scoring-processor")


def test_profiles_choose_replication_and_min_isr() -> None:
    assert (PRODUCTION.replication_factor, PRODUCTION.min_insync_replicas) == (3, 2)
    assert (DEV.replication_factor, DEV.min_insync_replicas) == (1, 1)
    assert profile_named("production") is PRODUCTION
    with pytest.raises(ValueError, match="choose one of dev, production"):
        profile_named("prod")


def test_a_contract_carries_partitions_retention_and_cleanup() -> None:
    snapshot = next(t for t in ALL if t.compacted)
    c = snapshot.contract(PRODUCTION)
    assert c.configs() == {"cleanup.policy": "compact", "retention.ms": "-1",
                           "retention.bytes": "-1", "min.insync.replicas": "2"}
    assert (c.partitions, c.replication_factor) == (snapshot.partitions, 3)


def test_suffixed_names_resolve_to_their_registered_topic() -> None:
    assert registered(POSTS.name) is POSTS
    suffixed = registered(with_suffix(POSTS, "t1a.b").name)
    assert suffixed is not None and suffixed.writer == POSTS.writer
    assert registered("planet.content.posts.v10") is None
    assert registered("somebody.elses.topic") is None


def test_the_writer_check_names_the_owner() -> None:
    check_writer(KYC.writer, with_suffix(KYC, "t1").name)
    with pytest.raises(ForeignTopic, match="its registered writer is exchange"):
        check_writer(service_identities.CONTENT, with_suffix(KYC, "t1").name)
    with pytest.raises(ForeignTopic, match="not in the topic registry"):
        check_writer(service_identities.CONTENT, "scratch")
    check_writer(service_identities.CONTENT, "scratch", internal={"scratch"})


def test_a_producer_cannot_claim_another_writers_topic_as_internal() -> None:
    with pytest.raises(ForeignTopic, match="cannot be internal"):
        make_producer("127.0.0.1:1", writer=service_identities.GATEWAY, internal={POSTS.name})
    with pytest.raises(ValueError, match="not an identity"):
        make_producer("127.0.0.1:1", writer="scoring-processor")


def test_an_envelope_source_is_an_identity() -> None:
    fact = KycVerified(user_id="u")
    env = wrap(fact, event_id="e", source=service_identities.EXCHANGE, aggregate_id="u",
               occurred_at_ms=0)
    assert env.source == "exchange"
    with pytest.raises(ValueError, match="not a service identity"):
        wrap(fact, event_id="e", source="bench", aggregate_id="u", occurred_at_ms=0)


def _state(partitions: int, replicas: int, **configs: str) -> TopicState:
    base = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1",
            "min.insync.replicas": "2"}
    return TopicState("t", partitions, replicas, {**base, **configs}, {})


def test_what_the_tool_may_fix_and_what_it_must_not() -> None:
    contract = ENGAGEMENT_BATCHES.contract(PRODUCTION)
    assert contract_problems(contract, _state(4, 3)) == ([], True)
    problems, fixable = contract_problems(contract, _state(4, 3, **{"min.insync.replicas": "1"}))
    assert fixable and problems == [
        f"{contract.name}: min.insync.replicas is 1, the contract says 2"]
    problems, fixable = contract_problems(contract, _state(8, 3))
    assert not fixable and "new topic version" in problems[0]
    problems, fixable = contract_problems(contract, _state(4, 1))
    assert not fixable and "partition reassignment" in problems[0]
