"""Starting, probing and stopping the Planet processes."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import ALL as SERVICE_IDENTITIES

from . import health

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Ports:
    """Where each service listens."""

    gateway: int = 8080
    content: int = 50051
    incentive: int = 50052
    analytics: int = 50053
    incentive_web: int = 6067
    aggregator_health: int = 50054
    incentive_health: int = 50056
    analytics_health: int = 50057
    social: int = 50058
    scoring_health: int = 50059
    # A second gateway process: each pushes every notification to its own sockets.
    gateway2: int = 8081
    # The simulated exchange's payout desk (simulators/exchange/payouts.py).
    exchange_payouts_health: int = 50063
    # Group chats (services/groups): gRPC for the gateway, health on the same port.
    groups: int = 50065

    @classmethod
    def free(cls) -> Ports:
        """Fresh free ports, for a stack that must not collide with another."""
        return cls(**{f.name: free_port() for f in fields(cls)})


@dataclass
class Service:
    """One process of the stack."""

    name: str
    module: str
    env: dict[str, str]
    ready: Callable[[], bool]
    ready_timeout_s: float = 90.0
    proc: subprocess.Popen[bytes] | None = None
    # The service identity it signs as, when its name is not one (a second gateway).
    identity: str = ""


@dataclass
class Stack:
    """Every Planet service as a local process, with its logs and pids under ``run_dir``."""

    bootstrap: str
    run_dir: Path
    ports: Ports = field(default_factory=Ports)
    topic_suffix: str = ""
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    # The analytics sink's HMAC key for analysts' pseudonyms (docs/data-classification.md);
    # empty: the one kept in run_dir, so pseudonyms stay stable across `make run`s.
    pseudonym_key: str = ""
    python: str = sys.executable
    # Extra settings per service name, applied last (e.g. a test stack's rate limits).
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    # A fresh Ed25519 key pair per service and the trust file, under run_dir (never in git).
    service_auth: DevServiceAuth = field(init=False)

    def __post_init__(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.service_auth = DevServiceAuth.create(self.run_dir / "service-auth")
        if not self.pseudonym_key:
            key_file = self.run_dir / "analytics-pseudonym.key"
            if not key_file.exists():
                key_file.touch(mode=0o600)
                key_file.write_text(secrets.token_urlsafe(48))
            self.pseudonym_key = key_file.read_text().strip()
        p = self.ports
        self.services = {
            s.name: s
            for s in [
                # Before content: content asks it whether a creator may publish.
                Service("social", "services.social",
                        {"PLANET_SOCIAL_GRPC_HOST": "127.0.0.1",
                         "PLANET_SOCIAL_GRPC_PORT": str(p.social),
                         # Its partition stores: a restart catches up from their offsets.
                         "PLANET_SOCIAL_DATA_DIR": str(self.run_dir / "social-data"),
                         # Readiness is probed on the gRPC port (it serves the same states).
                         "PLANET_SOCIAL_HEALTH_PORT": "0"},
                        lambda: health.grpc_serving(f"127.0.0.1:{p.social}")),
                # After social: it asks social whether a group's creator holds an open
                # identity.
                Service("groups", "services.groups",
                        {"PLANET_GROUPS_GRPC_HOST": "127.0.0.1",
                         "PLANET_GROUPS_GRPC_PORT": str(p.groups),
                         # Its partition stores: a restart catches up from their offsets.
                         "PLANET_GROUPS_DATA_DIR": str(self.run_dir / "groups-data"),
                         "PLANET_GROUPS_SOCIAL_ADDR": f"127.0.0.1:{p.social}",
                         # Readiness is probed on the gRPC port (it serves the same states).
                         "PLANET_GROUPS_HEALTH_PORT": "0"},
                        lambda: health.grpc_serving(f"127.0.0.1:{p.groups}")),
                Service("content", "services.content",
                        {"PLANET_CONTENT_GRPC_HOST": "127.0.0.1",
                         "PLANET_CONTENT_GRPC_PORT": str(p.content),
                         # Its partition stores: a restart catches up from their offsets.
                         "PLANET_CONTENT_DATA_DIR": str(self.run_dir / "content-data"),
                         "PLANET_CONTENT_SOCIAL_ADDR": f"127.0.0.1:{p.social}",
                         # Readiness is probed on the gRPC port (it serves the same states).
                         "PLANET_CONTENT_HEALTH_PORT": "0"},
                        lambda: health.grpc_serving(f"127.0.0.1:{p.content}")),
                Service("incentive", "services.incentive",
                        {"PLANET_INCENTIVE_GRPC_HOST": "127.0.0.1",
                         "PLANET_INCENTIVE_GRPC_PORT": str(p.incentive),
                         "PLANET_INCENTIVE_WEB_HOST": "127.0.0.1",
                         "PLANET_INCENTIVE_WEB_PORT": str(p.incentive_web),
                         "PLANET_INCENTIVE_HEALTH_HOST": "127.0.0.1",
                         "PLANET_INCENTIVE_HEALTH_PORT": str(p.incentive_health),
                         "PLANET_INCENTIVE_DATA_DIR": str(self.run_dir / "incentive-data")},
                        # SERVING only once Faust has recovered its tables and holds
                        # every partition (services/incentive/adapters/faust_readiness.py).
                        lambda: health.grpc_serving(f"127.0.0.1:{p.incentive_health}"), 120.0),
                # SERVING only once its dedup memory is restored and its partitions are
                # assigned and positioned (planetkit.runner), never a line in a log.
                Service("aggregator", "services.incentive.engagement",
                        {"PLANET_AGGREGATOR_HEALTH_HOST": "127.0.0.1",
                         "PLANET_AGGREGATOR_HEALTH_PORT": str(p.aggregator_health)},
                        lambda: health.grpc_serving(f"127.0.0.1:{p.aggregator_health}")),
                # The weekly pool's scoring job: closes and settles weeks, keeps the estimate.
                # SERVING once it has fenced any earlier instance and folded the operations,
                # weeks and payout logs (planetkit.runner).
                # Dev only: the launch policy ("1") may close a week early (an operator's
                # POST /v1/operator/pool/weeks/{week}/close; production lists no policy), and
                # the estimate refreshes every 3 s instead of 15.
                Service("scoring", "services.incentive.scoring",
                        {"PLANET_SCORING_HEALTH_HOST": "127.0.0.1",
                         "PLANET_SCORING_HEALTH_PORT": str(p.scoring_health),
                         "PLANET_SCORING_EARLY_CLOSE_POLICIES": "1",
                         "PLANET_SCORING_ESTIMATE_INTERVAL_S": "3"},
                        lambda: health.grpc_serving(f"127.0.0.1:{p.scoring_health}")),
                # SERVING only once the store is open and migrated and the sink's consumer
                # has its partitions (planetkit.runner; the gRPC port answers the same).
                Service("analytics", "services.analytics",
                        {"PLANET_ANALYTICS_GRPC_HOST": "127.0.0.1",
                         "PLANET_ANALYTICS_GRPC_PORT": str(p.analytics),
                         "PLANET_ANALYTICS_HEALTH_HOST": "127.0.0.1",
                         "PLANET_ANALYTICS_HEALTH_PORT": str(p.analytics_health),
                         "PLANET_ANALYTICS_CHDB_PATH": str(self.run_dir / "chdb"),
                         "PLANET_ANALYTICS_PSEUDONYM_KEY": self.pseudonym_key},
                        lambda: health.grpc_serving(f"127.0.0.1:{p.analytics_health}")),
                # The exchange's payout desk answers payout instructions (confirms, refuses);
                # every 2nd payout twice, so the stack always exercises the answers' dedup.
                # SERVING once its ledger is read back from PAYOUTS.
                Service("exchange-payouts", "simulators.exchange.payouts",
                        {"PLANET_EXCHANGE_PAYOUTS_HEALTH_PORT": str(p.exchange_payouts_health),
                         "PLANET_EXCHANGE_PAYOUTS_DUPLICATE_EVERY": "2"},
                        lambda: health.grpc_serving(f"127.0.0.1:{p.exchange_payouts_health}")),
                Service("gateway", "gateway",
                        {"PLANET_GATEWAY_HOST": "127.0.0.1",
                         "PLANET_GATEWAY_PORT": str(p.gateway),
                         "PLANET_GATEWAY_DEV_MODE": "true",
                         "PLANET_GATEWAY_JWT_SECRET": self.jwt_secret,
                         "PLANET_GATEWAY_CONTENT_ADDR": f"127.0.0.1:{p.content}",
                         "PLANET_GATEWAY_INCENTIVE_ADDR": f"127.0.0.1:{p.incentive}",
                         "PLANET_GATEWAY_ANALYTICS_ADDR": f"127.0.0.1:{p.analytics}",
                         "PLANET_GATEWAY_SOCIAL_ADDR": f"127.0.0.1:{p.social}",
                         "PLANET_GATEWAY_GROUPS_ADDR": f"127.0.0.1:{p.groups}"},
                        lambda: health.http_ok(f"http://127.0.0.1:{p.gateway}/readyz")),
                Service("gateway2", "gateway",
                        {"PLANET_GATEWAY_HOST": "127.0.0.1",
                         "PLANET_GATEWAY_PORT": str(p.gateway2),
                         "PLANET_GATEWAY_DEV_MODE": "true",
                         "PLANET_GATEWAY_JWT_SECRET": self.jwt_secret,
                         "PLANET_GATEWAY_CONTENT_ADDR": f"127.0.0.1:{p.content}",
                         "PLANET_GATEWAY_INCENTIVE_ADDR": f"127.0.0.1:{p.incentive}",
                         "PLANET_GATEWAY_ANALYTICS_ADDR": f"127.0.0.1:{p.analytics}",
                         "PLANET_GATEWAY_SOCIAL_ADDR": f"127.0.0.1:{p.social}",
                         "PLANET_GATEWAY_GROUPS_ADDR": f"127.0.0.1:{p.groups}"},
                        lambda: health.http_ok(f"http://127.0.0.1:{p.gateway2}/readyz"),
                        identity="gateway"),
            ]
        }

    @property
    def gateway_url(self) -> str:
        """Base URL of the API gateway."""
        return f"http://127.0.0.1:{self.ports.gateway}"

    @property
    def gateway2_url(self) -> str:
        """Base URL of the second gateway process (same API, its own sockets)."""
        return f"http://127.0.0.1:{self.ports.gateway2}"

    def env_for(self, service: Service) -> dict[str, str]:
        """The environment ``service`` runs with: ours plus its settings and the stack's."""
        env = dict(os.environ)
        env.update(service.env)
        env["KAFKA_BOOTSTRAP_SERVERS"] = self.bootstrap
        env["PLANET_TOPIC_SUFFIX"] = self.topic_suffix
        env["PYTHONPATH"] = str(ROOT)
        env["PYTHONUNBUFFERED"] = "1"
        identity = service.identity or service.name
        if identity in SERVICE_IDENTITIES:
            env.update(self.service_auth.env(identity))
        env.update(self.overrides.get(service.name, {}))
        return env

    def start(self, name: str) -> None:
        """Start one service and wait until it is ready; RuntimeError with its log tail if not."""
        service = self.services[name]
        log_path = self.run_dir / f"{name}.log"
        with log_path.open("ab") as log:
            service.proc = subprocess.Popen(
                [self.python, "-m", service.module], cwd=ROOT, env=self.env_for(service),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        (self.run_dir / f"{name}.pid").write_text(str(service.proc.pid))
        proc = service.proc
        if not health.wait_for(service.ready, service.ready_timeout_s,
                               lambda: proc.poll() is None):
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-25:])
            self.stop(name)
            raise RuntimeError(f"{name} did not become ready (log {log_path}):\n{tail}")

    def create_topics(self) -> None:
        """Run the topics tool once (dev profile, the stack's suffix): services only check.

        RuntimeError with the tool's output if it fails.
        """
        env = dict(os.environ)
        env.update({"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                    "PLANET_TOPIC_SUFFIX": self.topic_suffix, "PLANET_TOPIC_PROFILE": "dev",
                    "PYTHONPATH": str(ROOT)})
        done = subprocess.run([self.python, "-m", "planetkit.kafka.topics_tool", "create"],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"creating topics failed:\n{done.stdout}{done.stderr}")
        # The exchange lists its instruments (the simulator's demo list: BTC/USDT, ETH/USDT,
        # SOL/USDT, ...) before content starts: trading components are checked against them.
        listed = subprocess.run([self.python, "-m", "simulators.exchange", "instruments"],
                                cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if listed.returncode != 0:
            raise RuntimeError(f"listing instruments failed:\n{listed.stdout}{listed.stderr}")

    def up(self, names: list[str] | None = None) -> None:
        """Create the topics, then start services in dependency order (gateway last)."""
        self.create_topics()
        for name in names or list(self.services):
            self.start(name)

    def stop(self, name: str, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 20) -> None:
        """Stop one service: ``sig`` first, SIGKILL after ``timeout_s``."""
        service = self.services[name]
        proc = service.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self, name: str) -> None:
        """SIGKILL one service: a crash, no goodbye."""
        self.stop(name, signal.SIGKILL)

    def down(self) -> None:
        """Stop every service, gateway first."""
        for name in reversed(list(self.services)):
            self.stop(name)


def stop_recorded(run_dir: Path, timeout_s: float = 20) -> list[str]:
    """Stop processes recorded in ``run_dir``'s pid files (from another invocation)."""
    stopped = []
    for pid_file in sorted(run_dir.glob("*.pid")):
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pid_file.unlink()
            continue
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(pid, signal.SIGKILL)
        pid_file.unlink()
        stopped.append(pid_file.stem)
    return stopped
