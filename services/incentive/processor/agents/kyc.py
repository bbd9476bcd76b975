"""Agent: remember KYC-verified users."""

from __future__ import annotations

from typing import Any

from planetkit.envelope import UndecodableEvent
from services.incentive.processor.dead_letters import DeadLetters
from services.incentive.processor.handlers import on_kyc
from services.incentive.processor.tables import ProcessorTables


def register(app: Any, topic: Any, tables: ProcessorTables, dead_letters: DeadLetters) -> None:
    """Attach the KYC agent to ``app``."""

    async def mark_verified(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                on_kyc(message.value, tables.kyc)
            except UndecodableEvent as exc:
                await dead_letters.send(message, str(exc))

    app.agent(topic, name="mark-verified")(mark_verified)
