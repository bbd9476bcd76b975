"""Every topic has a sink policy and every field the sink could store has a class.

A new topic, payload or field fails here, naming what to classify, until it is classified in
planetkit/classification.py (and documented in docs/data-classification.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf.descriptor import Descriptor

from planet.content.v1.content_service_pb2 import PublishPostRequest
from planet.content.v1.events_pb2 import PostPublished
from planet.events.v1.envelope_pb2 import DeadLetter, Envelope
from planetkit.classification import (
    FIELD_CLASSES,
    NEVER_STORED,
    PER_TOPIC_ENVELOPE_FIELDS,
    PERSONAL,
    PUBLIC,
    SECRET,
    SINK_POLICIES,
    NotSunk,
    Sunk,
    UnclassifiedError,
    check_classified,
    sink_policy,
    unclassified_fields,
)
from planetkit.topics import ALL, DLQ_ANALYTICS, ENGAGEMENT_BATCHES, KYC, POSTS, Topic
from services.analytics.domain.flatten import sunk_sources

DOC = Path(__file__).resolve().parents[3] / "docs" / "data-classification.md"
AUDIT_TOPIC = "planet.audit.analytics-queries.v1"


def _descriptors(descriptor: Descriptor, seen: set[str] | None = None) -> list[Descriptor]:
    """``descriptor`` and every message type reachable from it."""
    seen = set() if seen is None else seen
    if descriptor.full_name in seen:
        return []
    seen.add(descriptor.full_name)
    found = [descriptor]
    for field in descriptor.fields:
        if field.message_type is not None:
            found.extend(_descriptors(field.message_type, seen))
    return found


@pytest.mark.parametrize("topic", ALL, ids=lambda t: t.name)
def test_every_registered_topic_states_its_sink_policy(topic: Topic) -> None:
    assert topic.name in SINK_POLICIES, (
        f"topic {topic.name} has no sink policy: add Sunk(...) or NotSunk(reason) to "
        f"planetkit/classification.py")


@pytest.mark.parametrize("topic", ALL, ids=lambda t: t.name)
def test_every_payload_field_of_every_topic_is_classified(topic: Topic) -> None:
    for payload in topic.payloads:
        missing = unclassified_fields(payload.DESCRIPTOR)
        assert missing == [], (
            f"{topic.name}: unclassified fields {missing}: classify each in "
            f"planetkit/classification.py")


def test_every_envelope_field_is_classified_or_left_to_the_topic() -> None:
    assert unclassified_fields(Envelope.DESCRIPTOR) == []
    assert {f.full_name for f in Envelope.DESCRIPTOR.fields} - set(FIELD_CLASSES) == set(
        PER_TOPIC_ENVELOPE_FIELDS)
    # Numbers are stored in numeric columns as they are: they can only ever be public.
    for name in ("schema_version", "occurred_at_ms", "aggregate_version"):
        assert FIELD_CLASSES[f"planet.events.v1.Envelope.{name}"] is PUBLIC


def test_the_whole_registry_passes_the_start_up_check() -> None:
    check_classified(ALL)


def test_an_unclassified_field_fails_naming_it() -> None:
    # PublishPostRequest is a gRPC request no topic carries: nothing classifies its fields.
    topic = Topic("planet.content.posts.v1", "post id", (PublishPostRequest,), "content")
    with pytest.raises(UnclassifiedError) as failed:
        check_classified([topic])
    assert "planet.content.v1.PublishPostRequest.request_id" in str(failed.value)
    # Nested messages are walked into: the components' own fields are named too.
    assert "planet.content.v1.PublishPostRequest.components" not in str(failed.value)
    assert unclassified_fields(PostPublished.DESCRIPTOR) == []


def test_a_topic_without_a_policy_fails_naming_it() -> None:
    topic = Topic("planet.new.thing.v1", "user id", (PostPublished,), "content")
    with pytest.raises(UnclassifiedError, match=r"planet\.new\.thing\.v1 has no sink policy"):
        check_classified([*ALL, topic])
    with pytest.raises(UnclassifiedError):
        sunk_sources([*ALL, topic], "")


def test_a_sunk_topic_must_carry_envelopes_and_storable_ids() -> None:
    raw = Topic(POSTS.name, POSTS.key, POSTS.payloads, POSTS.writer, enveloped=False)
    with pytest.raises(UnclassifiedError, match="sunk but its records have no envelope"):
        check_classified([raw])
    with pytest.raises(ValueError, match="cannot be secret"):
        Sunk(event_id=SECRET, aggregate_id=PUBLIC)


def test_topics_are_not_sunk_only_when_they_say_so() -> None:
    sources = sunk_sources(ALL, "sfx")
    sunk = {name for name, policy in SINK_POLICIES.items() if isinstance(policy, Sunk)}
    assert {s.topic.name.removesuffix(".sfx") for s in sources.values()} == sunk & {
        t.name for t in ALL}
    assert isinstance(sink_policy(DLQ_ANALYTICS), NotSunk)
    assert DLQ_ANALYTICS.name + ".sfx" not in sources


def test_the_query_audit_topic_is_explicitly_never_sunk() -> None:
    policy = SINK_POLICIES[AUDIT_TOPIC]
    assert isinstance(policy, NotSunk) and "analysts" in policy.reason


def test_every_sunk_policy_names_a_registered_topic() -> None:
    # A stale Sunk entry would hide a renamed topic; NotSunk entries may name topics ahead.
    registered = {t.name for t in ALL}
    stale = [name for name, p in SINK_POLICIES.items()
             if isinstance(p, Sunk) and name not in registered]
    assert stale == []


def test_user_keyed_topics_have_personal_keys() -> None:
    for topic in (KYC, ENGAGEMENT_BATCHES):
        policy = sink_policy(topic)
        assert isinstance(policy, Sunk) and policy.aggregate_id is PERSONAL
        assert policy.event_id is PERSONAL
    assert "planet.events.v1.DeadLetter.value" in FIELD_CLASSES
    assert FIELD_CLASSES["planet.events.v1.DeadLetter.value"] in NEVER_STORED


def test_the_document_lists_every_classified_field_with_its_class() -> None:
    doc = DOC.read_text()
    for name, cls in FIELD_CLASSES.items():
        assert f"| `{name}` | {cls} |" in doc, f"{name} ({cls}) missing from {DOC.name}"
    for topic in SINK_POLICIES:
        assert f"`{topic}`" in doc, f"topic {topic} missing from {DOC.name}"
    # Every message type reachable from a payload is covered (not just the top level).
    for topic in ALL:
        for payload in topic.payloads:
            for descriptor in _descriptors(payload.DESCRIPTOR):
                if descriptor.GetOptions().map_entry:
                    continue
                assert descriptor.full_name in doc
    assert DeadLetter.DESCRIPTOR.full_name in doc
