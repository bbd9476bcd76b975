"""``python -m devstack up|down|status``: the whole Planet stack on this machine."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from planetkit.kafka.admin import wait_for_broker

from .seed import seed_content, seed_exchange
from .stack import ROOT, Stack, stop_recorded

RUN_DIR = ROOT / ".local" / "run"


def _alive(run_dir: Path) -> list[str]:
    names = []
    for pid_file in sorted(run_dir.glob("*.pid")):
        try:
            os.kill(int(pid_file.read_text()), 0)
            names.append(pid_file.stem)
        except (ProcessLookupError, ValueError):
            pass
    return names


def up(bootstrap: str, seed: bool) -> int:
    """Start every service (Kafka must answer), seed demo data, print where things are.

    The topics tool creates every topic first; each service only checks its own.
    """
    running = _alive(RUN_DIR)
    if running:
        print(f"devstack: already running ({', '.join(running)}); "
              "'python -m devstack down' first", file=sys.stderr)
        return 1
    asyncio.run(wait_for_broker(bootstrap, timeout_s=60))
    stack = Stack(bootstrap=bootstrap, run_dir=RUN_DIR)
    try:
        stack.create_topics()
        for name in stack.services:
            print(f"devstack: starting {name}...", flush=True)
            stack.start(name)
    except RuntimeError as exc:
        stack.down()
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    if seed:
        asyncio.run(seed_exchange(bootstrap, ""))
        posts = seed_content(stack.gateway_url)
        print(f"devstack: seeded demo data (creators alice, bob; posts {posts})")
    print(f"""
Planet is running.
  API gateway   {stack.gateway_url}        (dev mode: POST /v1/dev/tokens mints tokens)
  OpenAPI docs  {stack.gateway_url}/docs
  gRPC          content :{stack.ports.content}, incentive :{stack.ports.incentive}, \
analytics :{stack.ports.analytics}, social :{stack.ports.social}, \
groups :{stack.ports.groups} (127.0.0.1)
  Kafka         {bootstrap}
  logs          {RUN_DIR}/*.log
Stop with: make stop""")
    return 0


def main() -> int:
    """Parse the command line and act."""
    parser = argparse.ArgumentParser(prog="python -m devstack")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="start every service and seed demo data")
    p_up.add_argument("--no-seed", action="store_true")
    sub.add_parser("down", help="stop every service started by 'up'")
    sub.add_parser("status", help="list running services")
    args = parser.parse_args()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    if args.cmd == "up":
        return up(bootstrap, seed=not args.no_seed)
    if args.cmd == "down":
        stopped = stop_recorded(RUN_DIR)
        print(f"devstack: stopped {', '.join(stopped) or 'nothing'}")
        return 0
    running = _alive(RUN_DIR)
    print(f"devstack: running: {', '.join(running) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
