"""Two content replicas (real processes) share the posts; one is SIGKILLed; the survivor answers.

Each replica owns half of the partitions (consumer group) and forwards reads and publishes
for the other half to its owner. A call signed as content itself is never forwarded, so it
shows which replica owns a post: exactly one of the two answers it. After the SIGKILL, the
group moves the dead replica's partitions to the survivor (after the session timeout), the
survivor restores them from the topic, and every read is answered again, by it alone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from content_harness import (
    every_answer_right,
    publish_all,
    record_count,
    signed,
    spread_requests,
    until,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devstack.stack import free_port
from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import CONTENT
from services.social.bootstrap import RunningSocial

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[3]


class Replica:
    """``python -m services.content`` on a free port with stores of its own."""

    def __init__(self, name: str, run_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.log = run_dir / f"{name}.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "services.content"], cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, **env, "PYTHONPATH": str(ROOT),
                     "PLANET_CONTENT_GRPC_PORT": str(self.port),
                     "PLANET_CONTENT_HEALTH_PORT": "0",
                     "PLANET_CONTENT_DATA_DIR": str(run_dir / name)})

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


@pytest.fixture
def replicas(
    tmp_path: Path, kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth,
    posts_topic: str, social: RunningSocial,
) -> Iterator[list[Replica]]:
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PLANET_TOPIC_SUFFIX": topic_suffix,
           "PLANET_CONTENT_SOCIAL_ADDR": f"127.0.0.1:{social.port}",
           "PLANET_CONTENT_SESSION_TIMEOUT_MS": "6000", **service_auth.env(CONTENT)}
    started = [Replica(name, tmp_path, env) for name in ("a", "b")]
    try:
        yield started
    finally:
        for replica in started:
            replica.stop()


async def _serving(replica: Replica, timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with grpc.aio.insecure_channel(replica.addr) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            assert replica.proc.poll() is None, replica.tail()
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            assert asyncio.get_running_loop().time() < deadline, replica.tail()
            await asyncio.sleep(0.1)


async def _owned_by(stub: rpc_grpc.ContentServiceAsyncStub, auth: DevServiceAuth,
                    post_ids: list[str]) -> set[str]:
    """The posts this replica answers without forwarding (a call signed as content)."""
    owned = set()
    for post_id in post_ids:
        try:
            await stub.GetPost(rpc.GetPostRequest(post_id=post_id),
                               metadata=signed(auth, "reader", as_=CONTENT), timeout=5)
            owned.add(post_id)
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
    return owned


async def test_two_replicas_split_the_partitions_and_the_survivor_of_a_kill_answers_all(
    replicas: list[Replica], service_auth: DevServiceAuth, kafka_bootstrap: str,
    posts_topic: str,
) -> None:
    a, b = replicas
    await asyncio.gather(_serving(a), _serving(b))
    requests = spread_requests(per_partition=6)
    async with grpc.aio.insecure_channel(a.addr) as ca, \
            grpc.aio.insecure_channel(b.addr) as cb:
        stub_a, stub_b = rpc_grpc.ContentServiceStub(ca), rpc_grpc.ContentServiceStub(cb)
        # Every publish goes through "a": half of them are forwarded to "b", their owner.
        posts = await publish_all(stub_a, service_auth, requests)
        await _serving(a)
        await _serving(b)

        # Ownership is split: each post is answered locally by exactly one replica.
        ids = list(posts)
        owned_a, owned_b = await until(
            lambda: asyncio.gather(_owned_by(stub_a, service_auth, ids),
                                   _owned_by(stub_b, service_auth, ids)), 30)
        assert owned_a and owned_b and owned_a.isdisjoint(owned_b)
        assert owned_a | owned_b == set(ids)
        # ... and either replica answers every read (forwarding the other half).
        await every_answer_right(stub_a, service_auth, posts, requests)
        await every_answer_right(stub_b, service_auth, posts, requests)

        b.stop(signal.SIGKILL)

        # Once the group notices (session timeout) "a" owns every partition, restores the
        # ones it never held from the topic, and answers everything itself.
        deadline = asyncio.get_running_loop().time() + 90
        while True:
            try:
                await _serving(a)
                if await _owned_by(stub_a, service_auth, ids) == set(ids):
                    await every_answer_right(stub_a, service_auth, posts, requests)
                    break
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
            assert asyncio.get_running_loop().time() < deadline, a.tail()
            await asyncio.sleep(0.2)

    # Re-publishing every request, before and after the kill, appended nothing.
    assert await record_count(kafka_bootstrap, posts_topic) == len(requests)
