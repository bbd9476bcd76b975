"""Agent: apply engagement-delta records, one table write per (creator, week) per record."""

from __future__ import annotations

from typing import Any

from planetkit.envelope import UndecodableEvent
from services.incentive.processor.dead_letters import DeadLetters
from services.incentive.processor.handlers import on_deltas
from services.incentive.processor.tables import ProcessorTables


def register(app: Any, topic: Any, tables: ProcessorTables, dead_letters: DeadLetters) -> None:
    """Attach the engagement-deltas agent to ``app``."""

    async def apply_deltas(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                on_deltas(
                    message.value, message.partition, tables.creator_weeks, tables.applied_deltas
                )
            except UndecodableEvent as exc:
                await dead_letters.send(message, str(exc))

    app.agent(topic, name="apply-engagement-deltas")(apply_deltas)
