"""The incentive service's intake alone, as a process: the service's own Faust app
(bootstrap.create_app: exactly-once, raw codecs) with only the intake's agents and tables.

Lets the intake's Kafka tests run while the read side is changed elsewhere; the real
deployable (``python -m services.incentive``) wires the same declare_intake/register_intake.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import faust

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from planetkit.clock import now_ms
from planetkit.kafka.admin import ensure_topics, require_topics
from planetkit.settings import load_settings
from planetkit.topics import profile_named
from services.incentive.adapters import faust_intake
from services.incentive.adapters.dead_letters import DeadLetters
from services.incentive.bootstrap import create_app
from services.incentive.settings import IncentiveSettings


def main() -> None:
    settings = load_settings(IncentiveSettings)
    bootstrap, suffix = settings.kafka.bootstrap_servers, settings.topics.topic_suffix
    asyncio.run(require_topics(bootstrap, faust_intake.registry_topics(suffix)))
    asyncio.run(ensure_topics(bootstrap, faust_intake.changelog_topics(settings.full_app_id()),
                              profile=profile_named(settings.topics.topic_profile)))
    app = create_app(settings)
    intake = faust_intake.declare_intake(app, suffix)
    faust_intake.register_intake(app, intake, DeadLetters(intake.dead_letters, now_ms),
                                 settings.quote_asset)
    faust.Worker(app, loglevel="info", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
