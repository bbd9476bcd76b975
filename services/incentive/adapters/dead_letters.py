"""Park undecodable records on the incentive service's dead-letter topic, with the reason."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from planetkit.kafka.dead_letter import dead_letter
from planetkit.service_identities import INCENTIVE
from services.incentive.adapters.faust_transactions import send_in_source_transaction

log = logging.getLogger(__name__)


class DeadLetters:
    """Sends DeadLetter protos for Faust messages (topic, partition, offset, key, value).

    ``topic`` is the Faust topic of planet.dlq.scoring-processor.v1 (under the suffix). The
    letter is written in the source record's transaction, so a record is dead-lettered once.
    """

    def __init__(self, topic: Any, now_ms: Callable[[], int]) -> None:
        self._topic = topic
        self._now_ms = now_ms

    async def send(self, message: Any, reason: str) -> None:
        """Dead-letter ``message`` and carry on."""
        # The consumer is named by its service identity, like every other writer.
        letter = dead_letter(message, reason=reason, consumer=INCENTIVE, now_ms=self._now_ms())
        log.warning(
            "dead-lettering",
            extra={"topic": message.topic, "partition": message.partition,
                   "offset": message.offset, "reason": reason},
        )
        await send_in_source_transaction(
            self._topic.app, message, self._topic.get_topic_name(), self._topic.partitions,
            str(message.topic), letter.SerializeToString(),
        )
