"""A Faust agent per source topic: decode, call a handler, dead-letter what is unreadable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from planetkit.envelope import UndecodableEvent
from services.incentive.adapters.dead_letters import DeadLetters


def register(
    app: Any, topic: Any, name: str, handle: Callable[[Any], object], dead_letters: DeadLetters
) -> None:
    """Attach agent ``name``: ``handle`` each message of ``topic``, dead-letter unreadable ones."""

    async def agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                handle(message)
            except UndecodableEvent as exc:
                await dead_letters.send(message, str(exc))

    app.agent(topic, name=name)(agent)
