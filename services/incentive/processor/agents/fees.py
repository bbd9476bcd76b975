"""Agent: sum TradeFeeCharged per consumer and ISO week, once per fee id."""

from __future__ import annotations

from typing import Any

from planetkit.envelope import UndecodableEvent
from services.incentive.processor.dead_letters import DeadLetters
from services.incentive.processor.handlers import on_fee
from services.incentive.processor.tables import ProcessorTables


def register(app: Any, topic: Any, tables: ProcessorTables, dead_letters: DeadLetters) -> None:
    """Attach the trade-fees agent to ``app``."""

    async def sum_fees(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                on_fee(message.value, tables.fees)
            except UndecodableEvent as exc:
                await dead_letters.send(message, str(exc))

    app.agent(topic, name="sum-fees")(sum_fees)
