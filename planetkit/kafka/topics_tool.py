"""``python -m planetkit.kafka.topics_tool create|check``: the one tool that makes topics.

``create`` makes every registered topic (planetkit.topics.ALL, under PLANET_TOPIC_SUFFIX)
with its contract under PLANET_TOPIC_PROFILE (``dev`` or ``production``) and brings drifted
configs back; ``check`` only reports. Both exit 1 naming each topic that differs in a way
the tool must not fix (partition count: a new topic version; too few replicas: a partition
reassignment). ``make topics`` runs ``create`` on the local broker, devstack runs it before
any service starts, and the Helm chart runs it as a pre-install/pre-upgrade Job with the
production profile. Services only check that their topics exist (require_topics).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from planetkit.kafka.admin import (
    TopicContractError,
    check_topics,
    ensure_topics,
    wait_for_broker,
)
from planetkit.settings import KafkaSettings, TopicSettings, load_settings
from planetkit.topics import ALL, Topic, TopicProfile, profile_named, with_suffix


def registered_topics(suffix: str) -> list[Topic]:
    """Every registered topic under ``suffix``."""
    return [with_suffix(t, suffix) for t in ALL]


async def create(bootstrap: str, suffix: str, profile: TopicProfile) -> list[str]:
    """Create (or bring back to contract) every registered topic; what was done."""
    return await ensure_topics(bootstrap, registered_topics(suffix), profile=profile)


async def _run(command: str, bootstrap: str, suffix: str, profile: TopicProfile,
               wait_s: float) -> int:
    await wait_for_broker(bootstrap, timeout_s=wait_s)
    where = f"{bootstrap} (profile {profile.name}, suffix {suffix or 'none'})"
    if command == "check":
        problems = await check_topics(bootstrap, registered_topics(suffix), profile=profile)
        for line in problems:
            print(f"topics: {line}", file=sys.stderr)
        if problems:
            return 1
        print(f"topics: all {len(ALL)} registered topics match their contract on {where}")
        return 0
    try:
        done = await create(bootstrap, suffix, profile)
    except TopicContractError as exc:
        print(f"topics: {exc}", file=sys.stderr)
        return 1
    for line in done:
        print(f"topics: {line}")
    print(f"topics: all {len(ALL)} registered topics match their contract on {where}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line (settings from the environment) and act."""
    parser = argparse.ArgumentParser(prog="python -m planetkit.kafka.topics_tool",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("command", choices=("create", "check"))
    parser.add_argument("--profile", help="dev or production (default: PLANET_TOPIC_PROFILE)")
    parser.add_argument("--suffix", help="topic name suffix (default: PLANET_TOPIC_SUFFIX)")
    parser.add_argument("--wait-s", type=float, default=60.0,
                        help="how long to wait for the broker to answer (default 60)")
    args = parser.parse_args(argv)
    settings = load_settings(TopicSettings)
    bootstrap = load_settings(KafkaSettings).bootstrap_servers
    try:
        profile = profile_named(args.profile or settings.topic_profile)
    except ValueError as exc:
        parser.error(str(exc))
    suffix = settings.topic_suffix if args.suffix is None else args.suffix
    try:
        return asyncio.run(_run(args.command, bootstrap, suffix, profile, args.wait_s))
    except TimeoutError as exc:
        print(f"topics: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
