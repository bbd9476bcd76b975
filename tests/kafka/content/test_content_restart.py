"""A restart reads only what the stores have not applied; a lost store is rebuilt from the topic."""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import pytest
from content_harness import (
    StartContent,
    every_answer_right,
    publish_all,
    record_count,
    spread_requests,
    tailed,
)

from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planetkit.service_auth_dev import DevServiceAuth
from services.content.bootstrap import RunningContent

pytestmark = pytest.mark.kafka


def _stub(service: RunningContent, channel: grpc.aio.Channel) -> rpc_grpc.ContentServiceAsyncStub:
    return rpc_grpc.ContentServiceStub(channel)


async def test_a_restart_reads_only_from_the_stored_offsets(
    start_content: StartContent, service_auth: DevServiceAuth, kafka_bootstrap: str,
    posts_topic: str,
) -> None:
    first = await start_content()
    assert first.replica.stats.last_restore_records == 0  # a new topic: nothing to read
    requests = spread_requests(per_partition=5)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        posts = await publish_all(_stub(first, channel), service_auth, requests)
    # The tail applies the replica's own posts too, and stores their offsets.
    await tailed(first, len(requests))
    await first.stop()

    second = await start_content()
    assert second.replica.stats.last_restore_records == 0
    more = spread_requests(per_partition=7)[len(requests):]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{second.port}") as channel:
        posts |= await publish_all(_stub(second, channel), service_auth, more)
    await tailed(second, len(more))
    await second.stop()

    third = await start_content()
    assert third.replica.stats.last_restore_records == 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{third.port}") as channel:
        await every_answer_right(_stub(third, channel), service_auth, posts, requests + more)
    assert await record_count(kafka_bootstrap, posts_topic) == len(posts)


async def test_a_store_that_stopped_early_catches_up_only_the_records_it_missed(
    start_content: StartContent, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    # Replica "a" publishes; replica "b" (another data dir, so other stores) starts later,
    # after "a" has stopped: it reads everything once, then a restart of "b" reads nothing.
    requests = spread_requests(per_partition=3)
    a = await start_content(data_dir=tmp_path / "a")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as channel:
        posts = await publish_all(_stub(a, channel), service_auth, requests)
    await tailed(a, len(requests))
    await a.stop()
    b = await start_content(data_dir=tmp_path / "b")
    # Each post is a record of the posts topic, one of the author-posts topic and one of the
    # topic-posts topic (its one topic, #btc).
    assert b.replica.stats.last_restore_records == 3 * len(requests)
    await b.stop()
    a_again = await start_content(data_dir=tmp_path / "a")
    assert a_again.replica.stats.last_restore_records == 0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{a_again.port}") as channel:
        await every_answer_right(_stub(a_again, channel), service_auth, posts, requests)


async def test_a_deleted_store_directory_is_rebuilt_from_the_topic_with_identical_answers(
    start_content: StartContent, service_auth: DevServiceAuth, tmp_path: Path,
) -> None:
    requests = spread_requests(per_partition=4)
    first = await start_content()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        posts = await publish_all(_stub(first, channel), service_auth, requests)
    await first.stop()

    shutil.rmtree(tmp_path / "content-data")
    rebuilt = await start_content()
    assert rebuilt.replica.stats.last_restore_records == 3 * len(requests)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{rebuilt.port}") as channel:
        await every_answer_right(_stub(rebuilt, channel), service_auth, posts, requests)
