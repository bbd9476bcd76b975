"""Posts appended before the author index existed are indexed by the one-off backfill.

History is written as the content service appended it before the index: the posts topic only.
The backfill appends each post's copy keyed by its author; a replica then lists them newest
first; a second run (and posts published since, through the transactional path) append
nothing more.
"""

from __future__ import annotations

import grpc
import pytest
from content_harness import StartContent, publish_all, record_count, signed

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planet.content.v1 import events_pb2 as ev
from planetkit.envelope import encode, wrap
from planetkit.kafka.partitioning import partition_for
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from planetkit.topics import AUTHOR_POSTS, POSTS
from services.content.backfill import backfill
from services.content.domain.ids import event_id_for, post_id_for

pytestmark = pytest.mark.kafka
AUTHOR = "user_alice"


async def _old_history(bootstrap: str, posts_topic: str, n: int) -> list[str]:
    """``n`` posts by AUTHOR on the posts topic only; their ids, newest first."""
    producer = make_producer(bootstrap, writer=CONTENT)
    await producer.start()
    ids: list[str] = []
    try:
        for i in range(n):
            post_id = post_id_for(AUTHOR, f"old-{i}")
            ms = 1_700_000_000_000 + i
            payload = ev.PostPublished(post_id=post_id, creator_id=AUTHOR,
                                       kind=ev.POST_KIND_SHORT, body=f"old {i}",
                                       published_at_ms=ms)
            env = wrap(payload, event_id=event_id_for(post_id, 1), source=CONTENT,
                       aggregate_id=post_id, occurred_at_ms=ms, aggregate_version=1)
            await producer.send_and_wait(posts_topic, encode(env), key=post_id.encode(),
                                         partition=partition_for(post_id, POSTS.partitions))
            ids.append(post_id)
    finally:
        await producer.stop()
    return ids[::-1]


async def test_backfill_indexes_old_history_once(
    start_content: StartContent, service_auth: DevServiceAuth, kafka_bootstrap: str,
    posts_topic: str, topic_suffix: str,
) -> None:
    old = await _old_history(kafka_bootstrap, posts_topic, 6)
    dry = await backfill(kafka_bootstrap, topic_suffix, dry_run=True)
    assert (dry.posts, dry.already_indexed, dry.appended) == (6, 0, 0)
    done = await backfill(kafka_bootstrap, topic_suffix)
    assert (done.posts, done.already_indexed, done.appended) == (6, 0, 6)

    service = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{service.port}") as channel:
        stub = rpc_grpc.ContentServiceStub(channel)
        new = await publish_all(stub, service_auth, [rpc.PublishPostRequest(
            request_id="new-1", creator_id=AUTHOR, kind=ev.POST_KIND_SHORT, body="new")])
        page = await stub.ListAuthorPosts(rpc.ListAuthorPostsRequest(author_id=AUTHOR),
                                          metadata=signed(service_auth, "reader"), timeout=10)
        assert [p.post_id for p in page.posts] == [*new, *old]

    again = await backfill(kafka_bootstrap, topic_suffix)
    assert (again.posts, again.already_indexed, again.appended) == (7, 7, 0)
    assert await record_count(kafka_bootstrap, f"{AUTHOR_POSTS.name}.{topic_suffix}") == 7
