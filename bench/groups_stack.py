"""What the group-chat benches start and set up: social, groups and K gateway processes.

The processes are devstack's (``devstack/stack.py``: the same modules, settings and service
keys as ``make run``), under a fresh topic suffix, free ports and a temporary run directory;
only the services a group chat needs run (social answers the creator check, groups decides,
the gateways serve HTTP and the sockets). Gateways beyond devstack's two are added as more
``gateway<k>`` processes of the same module. The gateways' rate limits are lifted (one
loopback address opens every socket and makes every member, as the system suite does).

Setup goes through the real API: the creator's KYC fact and open identity (as
``tests/integration/system_helpers.become_creator``), groups and invite links made by their
owners, members joining by link, all over HTTP with a bounded number of requests in flight.
Tokens are minted here with the stack's dev secret (``gateway.auth.issue_token``, what
``POST /v1/dev/tokens`` does), so 10 000 members cost no 10 000 mint requests.

Everything made is removed at the end: the processes, the run directory, every topic under
the suffix.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from devstack import health
from devstack.stack import Ports, Service, Stack, free_port
from gateway.auth import issue_token
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import EXCHANGE
from simulators.exchange.facts import ExchangeTopics, publish_kyc

T = TypeVar("T")

# One client address opens every socket and makes every member: lift the per-address and
# per-user limits (their own tests are tests/security/test_gateway_rate_limits).
NO_RATE_LIMITS = {
    f"PLANET_GATEWAY_RATE_{name}_PER_MINUTE": "100000000"
    for name in ("USER_WRITES", "IP_WRITES", "IP_TOKEN_USES", "IP_TOKEN_MINTS")
}
TOKEN_TTL_S = 4 * 3600
RETRIES = 5


def raise_fd_limit(want: int) -> int:
    """Raise this process's open-file limit towards ``want`` (children inherit it); the soft
    limit reached (capped by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def rss_kib(pid: int) -> int:
    """A process's resident set size now (KiB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_s(pid: int) -> float:
    """A process's user + system CPU seconds so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(pids: list[int], seconds: float) -> list[float]:
    """Each process's share of one core over ``seconds`` with nothing sent (what holding the
    sockets costs by itself)."""
    before = [cpu_s(p) for p in pids]
    time.sleep(seconds)
    return [(cpu_s(p) - b) / seconds for p, b in zip(pids, before, strict=True)]


class GroupsBenchStack:
    """social + groups + ``gateways`` gateway processes, up on enter, gone on exit."""

    def __init__(self, bootstrap: str, gateways: int, ws_poll_s: float | None = None) -> None:
        self.bootstrap = bootstrap
        self.suffix = f"bgrp{uuid.uuid4().hex[:8]}"
        self.run_dir = Path(tempfile.mkdtemp(prefix="planet-groups-bench-"))
        gateway_env = dict(NO_RATE_LIMITS)
        if ws_poll_s is not None:  # how often a socket known to be behind reads again
            gateway_env["PLANET_GATEWAY_WS_POLL_S"] = str(ws_poll_s)
        overrides = {"gateway": gateway_env, "gateway2": gateway_env}
        self.stack = Stack(bootstrap=bootstrap, run_dir=self.run_dir, ports=Ports.free(),
                           topic_suffix=self.suffix, overrides=overrides)
        self.gateway_names = ["gateway", "gateway2"][:gateways]
        base = self.stack.services["gateway2"]
        for k in range(3, gateways + 1):
            port = free_port()
            env = {**base.env, "PLANET_GATEWAY_PORT": str(port)}
            name = f"gateway{k}"
            self.stack.services[name] = Service(
                name, "gateway", env, partial(health.http_ok, f"http://127.0.0.1:{port}/readyz"),
                identity="gateway")
            self.stack.overrides[name] = gateway_env
            self.gateway_names.append(name)

    @property
    def urls(self) -> list[str]:
        """Each gateway's base URL, in order."""
        return [f"http://127.0.0.1:{self.stack.services[n].env['PLANET_GATEWAY_PORT']}"
                for n in self.gateway_names]

    @property
    def gateway_pids(self) -> list[int]:
        """Each gateway process's pid, in order."""
        pids = []
        for name in self.gateway_names:
            proc = self.stack.services[name].proc
            assert proc is not None
            pids.append(proc.pid)
        return pids

    def token(self, user_id: str) -> str:
        """A bearer token for ``user_id`` signed with the stack's dev secret."""
        return issue_token(self.stack.jwt_secret, user_id, [], now_s=int(time.time()),
                           ttl_s=TOKEN_TTL_S)

    def __enter__(self) -> GroupsBenchStack:
        t0 = time.perf_counter()
        try:
            self.stack.create_topics()
            for name in ["social", "groups", *self.gateway_names]:
                self.stack.start(name)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        print(f"stack: social, groups, {len(self.gateway_names)} gateway(s) up in "
              f"{time.perf_counter() - t0:.1f} s (topic suffix {self.suffix})", flush=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.stack.down()
        finally:
            try:
                asyncio.run(self._delete_topics())
            finally:
                shutil.rmtree(self.run_dir, ignore_errors=True)

    async def _delete_topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            ours = [t for t in await admin.list_topics() if t.endswith("." + self.suffix)]
            if ours:
                await admin.delete_topics(ours)
        finally:
            await admin.close()

    # --- setup through the API --------------------------------------------------------

    async def become_creator(self, api: httpx.AsyncClient, user_id: str) -> None:
        """KYC then an open creator identity (groups asks social whether it is open)."""
        producer = make_producer(self.bootstrap, writer=EXCHANGE)
        await producer.start()
        try:
            await publish_kyc(producer, ExchangeTopics.with_suffix(self.suffix), user_id)
        finally:
            await producer.stop()
        handle = "h_" + uuid.uuid5(uuid.NAMESPACE_OID, user_id).hex[:16]
        body = {"handle": handle, "display_name": user_id[:40], "bio": "bench",
                "links": [], "topics": ["btc"]}
        deadline = time.monotonic() + 60
        while True:  # social opens it once it has read the KYC fact
            got = await api.post("/v1/creators/me/identity", json=body,
                                 headers=self.headers(user_id))
            if got.status_code in (201, 409):
                return
            if got.status_code != 403 or time.monotonic() > deadline:
                raise RuntimeError(f"opening {user_id}'s identity: {got.status_code} {got.text}")
            await asyncio.sleep(0.2)

    def headers(self, user_id: str) -> dict[str, str]:
        """A write's headers: a fresh token and Idempotency-Key."""
        return {"Authorization": f"Bearer {self.token(user_id)}",
                "Idempotency-Key": uuid.uuid4().hex}

    async def call(self, api: httpx.AsyncClient, method: str, path: str, user_id: str,
                   body: dict[str, Any] | None = None, ok: Sequence[int] = (200, 201)
                   ) -> dict[str, Any]:
        """One API call as ``user_id``; RuntimeError unless its status is in ``ok``.

        A dropped connection (a keep-alive the server closed as it was reused) is retried
        with the same Idempotency-Key, so the retry answers the first command's result."""
        headers = self.headers(user_id)
        for attempt in range(RETRIES):
            try:
                got = await api.request(method, path, json=body, headers=headers)
                break
            except httpx.TransportError:
                if attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
        if got.status_code not in ok:
            raise RuntimeError(f"{method} {path} as {user_id}: {got.status_code} {got.text}")
        out: dict[str, Any] = got.json()
        return out

    async def private_group(self, api: httpx.AsyncClient, owner: str, name: str
                            ) -> tuple[str, str]:
        """A private, invite-only group of ``owner`` and an unlimited invite link to it."""
        made = await self.call(api, "POST", "/v1/groups", owner, {
            "name": name, "topics": ["btc"], "visibility": "private",
            "join_mode": "invite_only"})
        group_id = str(made["group_id"])
        link = await self.call(api, "POST", f"/v1/groups/{group_id}/invite-links", owner,
                               {"name": "bench"})
        return group_id, str(link["link_id"])

    async def join(self, api: httpx.AsyncClient, group_id: str, link_id: str,
                   user_id: str) -> None:
        """``user_id`` joins by the link."""
        await self.call(api, "POST", f"/v1/groups/{group_id}/join-by-link", user_id,
                        {"link_id": link_id})


async def bounded(jobs: Sequence[Callable[[], Awaitable[T]]], limit: int,
                  progress: str = "", every: int = 0) -> list[T]:
    """Run ``jobs`` with at most ``limit`` in flight; their results in order."""
    gate = asyncio.Semaphore(limit)
    done = 0
    t0 = time.perf_counter()

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        nonlocal done
        async with gate:
            out = await job()
        done += 1
        if every and done % every == 0:
            print(f"  {progress}: {done:,}/{len(jobs):,} "
                  f"({done / (time.perf_counter() - t0):,.0f}/s)", flush=True)
        return out

    return list(await asyncio.gather(*(one(j) for j in jobs)))


def api_client(base_url: str, connections: int = 64) -> httpx.AsyncClient:
    """An HTTP client for setup and posting: as many pooled connections as requests in
    flight (none left idle for the server's keep-alive timeout to close), generous timeouts."""
    return httpx.AsyncClient(base_url=base_url, timeout=120,
                             limits=httpx.Limits(max_connections=connections,
                                                 max_keepalive_connections=connections))
