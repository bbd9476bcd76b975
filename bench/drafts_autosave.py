"""Autosave latency and throughput of drafts, one Kafka transaction per save.

Each UpdateDraft is decided by the replica owning the author's partition of
planet.content.drafts.v1: checked against the expected revision under the author's lock,
appended in a transaction of that partition's producer (saves of other authors on the same
partition share the commit: group commit), then applied to the RocksDB store. This starts a
real social service and one content replica in this process, on fresh suffixed topics of the
real broker, gives each of ``--authors`` authors one draft, and autosaves ``--saves`` times
at each concurrency of ``--concurrency`` (each worker its own authors, so no save conflicts);
then it times GetDraft, ListDrafts over an author's full list (the per-author limit), and
PublishDraft. Numbers are printed, never asserted.

Usage: python -m bench.drafts_autosave [--saves 2000] [--concurrency 1,8,32] [--authors 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import grpc

from bench.content_publish import _open_creators, _pct
from planet.content.v1 import drafts_pb2 as dr
from planet.content.v1 import drafts_pb2_grpc as dr_grpc
from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT, GATEWAY, SOCIAL
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import ALL, with_suffix
from services.content.bootstrap import start as start_content
from services.content.domain.drafts import MAX_DRAFTS_PER_AUTHOR
from services.content.settings import ContentSettings
from services.social.bootstrap import start as start_social
from services.social.settings import SocialSettings

BODY = "SOL reclaiming the range. " * 200  # ~5 KB: an article in progress


T = TypeVar("T")


async def _timed(latencies: list[float], call: Awaitable[T]) -> T:
    started = time.perf_counter()
    answer = await call
    latencies.append(time.perf_counter() - started)
    return answer


async def _autosave_run(stub: dr_grpc.DraftServiceAsyncStub, auth: DevServiceAuth,
                        drafts: dict[str, tuple[str, int]], saves: int, concurrency: int
                        ) -> tuple[float, list[float]]:
    authors = sorted(drafts)
    latencies: list[float] = []

    async def worker(k: int) -> None:
        mine = authors[k::concurrency]
        for i in range(saves // concurrency):
            author = mine[i % len(mine)]
            draft_id, revision = drafts[author]
            saved = await _timed(latencies, stub.UpdateDraft(dr.UpdateDraftRequest(
                author_id=author, draft_id=draft_id, expected_revision=revision,
                content=dr.DraftContent(title=f"Draft {i}", body=BODY + str(i))),
                metadata=auth.metadata(CONTENT, author, as_=GATEWAY), timeout=30))
            drafts[author] = (draft_id, saved.revision)

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return time.perf_counter() - started, latencies


async def main(args: argparse.Namespace) -> int:
    """Run the benchmark and print its report."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    await wait_for_broker(bootstrap)
    suffix = f"cdrafts{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [with_suffix(t, suffix) for t in ALL])
    work = Path(tempfile.mkdtemp(prefix="bench-drafts-"))
    auth = DevServiceAuth.create(work / "keys")
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    topics = TopicSettings(topic_suffix=suffix)
    social = await start_social(SocialSettings(
        grpc_port=0, shutdown_grace_s=0, auth=auth.settings(SOCIAL), kafka=kafka, topics=topics))
    authors = [f"bench_{i:05d}_{suffix[-6:]}" for i in range(args.authors)]
    await _open_creators(bootstrap, suffix, social.port, auth, authors)
    content = await start_content(ContentSettings(
        grpc_port=0, shutdown_grace_s=0, data_dir=work / "content",
        social_addr=f"127.0.0.1:{social.port}", auth=auth.settings(CONTENT), kafka=kafka,
        topics=topics))
    print(f"{args.authors} authors; one content replica owning all 4 partitions; body "
          f"{len(BODY)} characters; topics suffixed {suffix}", flush=True)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{content.port}") as channel:
            stub = dr_grpc.DraftServiceStub(channel)
            drafts: dict[str, tuple[str, int]] = {}
            for author in authors:
                made = await stub.SaveDraft(dr.SaveDraftRequest(
                    author_id=author, request_id="bench", content=dr.DraftContent(body=BODY)),
                    metadata=auth.metadata(CONTENT, author, as_=GATEWAY), timeout=30)
                drafts[author] = (made.draft_id, made.revision)
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                seconds, lat = await _autosave_run(stub, auth, drafts, args.saves, concurrency)
                print(f"autosave, concurrency {concurrency:>3}: {len(lat) / seconds:7.1f} "
                      f"saves/s; latency p50 {_pct(lat, 0.5):6.1f} ms, p99 "
                      f"{_pct(lat, 0.99):6.1f} ms", flush=True)
            one = authors[0]
            md = auth.metadata(CONTENT, one, as_=GATEWAY)
            for i in range(MAX_DRAFTS_PER_AUTHOR - 1):
                await stub.SaveDraft(dr.SaveDraftRequest(
                    author_id=one, request_id=f"fill-{i}", content=dr.DraftContent(body=BODY)),
                    metadata=md, timeout=30)
            gets: list[float] = []
            lists: list[float] = []
            for _ in range(500):
                await _timed(gets, stub.GetDraft(dr.GetDraftRequest(
                    author_id=one, draft_id=drafts[one][0]), metadata=md, timeout=10))
                await _timed(lists, stub.ListDrafts(dr.ListDraftsRequest(author_id=one),
                                                    metadata=md, timeout=10))
            print(f"GetDraft: p50 {_pct(gets, 0.5):.2f} ms, p99 {_pct(gets, 0.99):.2f} ms; "
                  f"ListDrafts of {MAX_DRAFTS_PER_AUTHOR}: p50 {_pct(lists, 0.5):.2f} ms, "
                  f"p99 {_pct(lists, 0.99):.2f} ms", flush=True)
            publishes: list[float] = []
            for author in authors[1:]:
                draft_id = drafts[author][0]
                await _timed(publishes, stub.PublishDraft(dr.PublishDraftRequest(
                    author_id=author, draft_id=draft_id),
                    metadata=auth.metadata(CONTENT, author, as_=GATEWAY), timeout=30))
            print(f"PublishDraft (identity check, post + DraftPublished, 2 transactions): "
                  f"p50 {_pct(publishes, 0.5):.1f} ms, p99 {_pct(publishes, 0.99):.1f} ms",
                  flush=True)
    finally:
        await content.stop()
        await social.stop()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=2000, help="autosaves per concurrency")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--authors", type=int, default=64)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
