"""Agent: count PostPublished per creator and ISO week."""

from __future__ import annotations

from typing import Any

from planetkit.envelope import UndecodableEvent
from services.incentive.processor.dead_letters import DeadLetters
from services.incentive.processor.handlers import on_post
from services.incentive.processor.tables import ProcessorTables


def register(app: Any, topic: Any, tables: ProcessorTables, dead_letters: DeadLetters) -> None:
    """Attach the posts agent to ``app``."""

    async def count_posts(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                on_post(message.value, message.partition, tables.posts)
            except UndecodableEvent as exc:
                await dead_letters.send(message, str(exc))

    app.agent(topic, name="count-posts")(count_posts)
