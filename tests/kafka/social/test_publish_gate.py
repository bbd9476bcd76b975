"""Content asks social before it publishes: a social service that does not answer refuses the
publish as UNAVAILABLE (the gateway's 503 + Retry-After), never lets it through."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from devstack.stack import free_port
from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planetkit.kafka.admin import ensure_topics
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, GATEWAY
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import AUTHOR_POSTS, DRAFTS, INTERACTIONS, MODERATION, POSTS, with_suffix
from services.content.bootstrap import start as start_content
from services.content.settings import ContentSettings
from services.content.topics import TopicTopics

pytestmark = pytest.mark.kafka


async def test_publishing_while_social_is_down_is_unavailable_not_allowed(
    kafka_bootstrap: str, topic_suffix: str, tmp_path: Path,
) -> None:
    auth = DevServiceAuth.create(tmp_path / "keys")
    await ensure_topics(kafka_bootstrap, [with_suffix(POSTS, topic_suffix),
                                          with_suffix(AUTHOR_POSTS, topic_suffix),
                                          with_suffix(INTERACTIONS, topic_suffix),
                                          with_suffix(DRAFTS, topic_suffix),
                                          with_suffix(MODERATION, topic_suffix)])
    await ensure_topics(kafka_bootstrap, TopicTopics.with_suffix(topic_suffix).all())
    content = await start_content(ContentSettings(
        grpc_port=0, shutdown_grace_s=0, auth=auth.settings(CONTENT),
        social_addr=f"127.0.0.1:{free_port()}",  # nobody listens there
        publisher_check_timeout_s=1.0,
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        topics=TopicSettings(topic_suffix=topic_suffix)))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{content.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await rpc_grpc.ContentServiceStub(channel).PublishPost(
                    rpc.PublishPostRequest(request_id="r1", creator_id="alice",
                                           kind=ev.POST_KIND_SHORT, body="gm"),
                    metadata=auth.metadata(CONTENT, "alice", as_=GATEWAY), timeout=30)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "social service did not answer" in (refused.value.details() or "")
        assert content.replica.stats.posts_new == 0
    finally:
        await content.stop()
