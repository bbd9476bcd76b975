"""A real ``python -m gateway`` process: uvicorn as deployed, logging and proxies included."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from planetkit.kafka.admin import ensure_topics
from planetkit.service_auth_keys import create_keyring
from planetkit.service_identities import GATEWAY
from planetkit.topics import (
    ENGAGEMENT_BATCHES,
    ESTIMATES,
    GROUP_EVENTS,
    SOCIAL_NOTIFICATIONS,
    with_suffix,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "process-test-secret-of-at-least-32-bytes"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Gateway:
    """A running gateway: where it answers and where its log goes."""

    base: str
    log_path: Path
    proc: subprocess.Popen[bytes]

    def log(self) -> str:
        """Everything the process wrote so far (stdout and stderr)."""
        return self.log_path.read_text(errors="replace")


@contextmanager
def gateway_process(tmp: Path, bootstrap: str, **env: str) -> Iterator[Gateway]:
    """Start a dev-mode gateway whose backends are unreachable; SIGTERM it afterwards."""
    port = _free_port()
    dead = f"127.0.0.1:{_free_port()}"
    keyring = create_keyring(tmp / "keys", [GATEWAY])
    settings = {
        "PLANET_GATEWAY_DEV_MODE": "true",
        "PLANET_GATEWAY_JWT_SECRET": SECRET,
        "PLANET_GATEWAY_PORT": str(port),
        "PLANET_GATEWAY_CONTENT_ADDR": dead,
        "PLANET_GATEWAY_INCENTIVE_ADDR": dead,
        "PLANET_GATEWAY_ANALYTICS_ADDR": dead,
        "PLANET_GATEWAY_GRPC_TIMEOUT_S": "1",
        "PLANET_SERVICE_AUTH_KEY_FILE": str(keyring.key_file(GATEWAY)),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "PLANET_TOPIC_SUFFIX": f".sec-{uuid.uuid4().hex[:8]}",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    # The gateway only checks its topics exist: made first, as the topics tool would.
    batches = with_suffix(ENGAGEMENT_BATCHES, settings["PLANET_TOPIC_SUFFIX"])
    # On a thread of its own: async tests call this with their event loop running.
    with ThreadPoolExecutor(1) as pool:
        notifications = with_suffix(SOCIAL_NOTIFICATIONS, settings["PLANET_TOPIC_SUFFIX"])
        estimates = with_suffix(ESTIMATES, settings["PLANET_TOPIC_SUFFIX"])
        groups = with_suffix(GROUP_EVENTS, settings["PLANET_TOPIC_SUFFIX"])
        pool.submit(asyncio.run, ensure_topics(bootstrap, [batches, notifications,
                                                           estimates, groups])).result()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PLANET_")}
    log_path = tmp / "gateway.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=ROOT,
                                env={**clean, **settings}, stdout=log,
                                stderr=subprocess.STDOUT)
    gateway = Gateway(f"http://127.0.0.1:{port}", log_path, proc)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gateway exited:\n{gateway.log()}")
            try:
                if httpx.get(f"{gateway.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not start:\n{gateway.log()}")
            time.sleep(0.1)
        yield gateway
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
