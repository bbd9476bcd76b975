"""kill -9 mid-stream loses nothing and counts nothing twice.

The real ``python -m services.groups`` runs as a process; 30 members post 2 messages each
while it is SIGKILLed once and started again on the same data directory. Every client
retries its command with the same request id until it is answered (as the gateway does on
UNAVAILABLE). Afterwards the group's history holds every message exactly once, with gapless
seqs, and the restarted store equals, key for key, a store rebuilt from the log: the restart
is indistinguishable from an undisturbed run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

from devstack.stack import free_port
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import GROUPS
from services.groups.bootstrap import RunningGroups
from services.social.bootstrap import RunningSocial
from tests.kafka.groups.groups_harness import Client, dump, ensure_groups_topics, profile
from tests.kafka.social.social_harness import open_creators

MEMBERS = 30
EACH = 2
ROOT = Path(__file__).resolve().parents[3]


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "services.groups"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


async def test_groups_service_kill_9_mid_stream_loses_nothing_counts_nothing_twice(
    kafka_bootstrap: str, topic_suffix: str, service_auth: DevServiceAuth, tmp_path: Path,
    social: RunningSocial, groups_service: Callable[..., Awaitable[RunningGroups]],
) -> None:
    await open_creators(social, service_auth, kafka_bootstrap, topic_suffix, ["owner3"])
    await ensure_groups_topics(kafka_bootstrap, topic_suffix)
    port = free_port()
    live_dir = tmp_path / "live"
    env = {**os.environ, **service_auth.env(GROUPS),
           "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PLANET_TOPIC_SUFFIX": topic_suffix,
           "PLANET_GROUPS_GRPC_PORT": str(port), "PLANET_GROUPS_HEALTH_PORT": "0",
           "PLANET_GROUPS_DATA_DIR": str(live_dir), "PLANET_GROUPS_SHUTDOWN_GRACE_S": "1",
           "PLANET_GROUPS_SOCIAL_ADDR": f"127.0.0.1:{social.port}"}
    log = tmp_path / "groups.log"
    proc = _spawn(env, log)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            owner = Client(channel, service_auth, "owner3")
            group = (await owner.call("CreateGroup", request_id="c",
                                      profile=profile("Kill test"))).group_id
            members = [Client(channel, service_auth, f"k{i}") for i in range(MEMBERS)]
            for m in members:
                await m.call("JoinGroup", request_id="j", group_id=group)
            answered: list[int] = []

            async def post(m: Client) -> None:
                for n in range(EACH):
                    result = await m.call("PostMessage", request_id=f"p{n}", group_id=group,
                                          text=f"{m.user} #{n}")
                    answered.append(result.message_seq)

            posting = asyncio.gather(*(post(m) for m in members))
            while len(answered) < MEMBERS * EACH // 3:
                await asyncio.sleep(0.005)
            proc.send_signal(signal.SIGKILL)  # mid-stream: calls in flight are cut
            proc.wait()
            killed_after = len(answered)
            proc = _spawn(env, log)
            await posting
            assert killed_after < MEMBERS * EACH

            # Every command answered once, each with its own message.
            assert len(answered) == MEMBERS * EACH == len(set(answered))
            page = await owner.call("History", group_id=group, before=100)
            texts = [m.text for m in page.messages]
            assert sorted(texts) == sorted(f"k{i} #{n}" for i in range(MEMBERS)
                                           for n in range(EACH))
            assert sorted(m.seq for m in page.messages) == sorted(answered)
            # Gapless: the creation (GroupCreated and the owner's MemberJoined), the joins,
            # the posts; nothing twice.
            assert page.last_seq == 2 + MEMBERS + MEMBERS * EACH
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    rebuilt_dir = tmp_path / "rebuilt"
    rebuilt = await groups_service(rebuilt_dir)
    await rebuilt.stop()
    assert dump(rebuilt_dir) == dump(live_dir)
