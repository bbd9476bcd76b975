"""Park undecodable records on the incentive service's dead-letter topic, with the reason."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from planetkit.kafka.dead_letter import dead_letter
from planetkit.service_identities import INCENTIVE

log = logging.getLogger(__name__)


class DeadLetters:
    """Sends DeadLetter protos for Faust messages (topic, partition, offset, key, value)."""

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
        await self._topic.send(key=str(message.topic).encode(), value=letter.SerializeToString())
