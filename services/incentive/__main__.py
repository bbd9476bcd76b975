"""Entry point: `python -m services.incentive.processor` runs the Faust worker and the gRPC API."""

from __future__ import annotations

import asyncio

from planetkit.kafka.admin import ensure_topics, wait_for_broker
from planetkit.settings import KafkaSettings, TopicSettings, load_settings
from services.incentive.processor.app import create_processor, run_worker
from services.incentive.processor.settings import ProcessorSettings
from services.incentive.processor.tables import changelog_topics
from services.incentive.processor.topics import registry_topics


def main() -> None:
    """Load settings (fail fast), make sure the topics exist, then run the worker."""
    settings = load_settings(ProcessorSettings)
    kafka = load_settings(KafkaSettings)
    suffix = load_settings(TopicSettings).topic_suffix
    # One loop for everything: topic setup first, then Faust and grpc.aio share it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(wait_for_broker(kafka.bootstrap_servers))
    loop.run_until_complete(ensure_topics(
        kafka.bootstrap_servers,
        [*registry_topics(suffix), *changelog_topics(settings.full_app_id(suffix))],
    ))
    run_worker(create_processor(settings, kafka, suffix), loop, settings.log_level)


if __name__ == "__main__":
    main()
