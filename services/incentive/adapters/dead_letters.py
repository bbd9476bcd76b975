"""Park undecodable records on the processor's dead-letter topic, with the reason."""

from __future__ import annotations

import logging
from typing import Any

from planetkit.clock import now_ms
from planetkit.kafka.dead_letter import dead_letter

CONSUMER = "scoring-processor"
log = logging.getLogger(__name__)


class DeadLetters:
    """Sends DeadLetter protos for Faust messages (topic, partition, offset, key, value)."""

    def __init__(self, topic: Any) -> None:
        self._topic = topic

    async def send(self, message: Any, reason: str) -> None:
        """Dead-letter ``message`` and carry on."""
        letter = dead_letter(
            message, reason=reason, consumer=CONSUMER, now_ms=now_ms()
        )
        log.warning(
            "dead-lettering %s[%s]@%s: %s", message.topic, message.partition, message.offset, reason
        )
        await self._topic.send(key=str(message.topic).encode(), value=letter.SerializeToString())
