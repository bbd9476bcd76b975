"""The publish handler with an in-memory event log: no I/O."""

from __future__ import annotations

import asyncio

import pytest

from planet.content.v1.events_pb2 import PostPublished
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import decode, encode
from services.content.domain.catalog import PostCatalog
from services.content.domain.commands import PublishPost
from services.content.domain.model import PostKind
from services.content.domain.validation import InvalidPost
from services.content.handlers import ContentHandlers, EventLogUnavailable


class MemoryLog:
    """An event log that keeps envelopes in a list and can be told to fail."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.fail = False

    async def append(self, envelope: Envelope) -> None:
        await asyncio.sleep(0)  # let racing publishes interleave
        if self.fail:
            raise EventLogUnavailable("broker down")
        self.envelopes.append(envelope)


def _cmd(request_id: str = "req-1") -> PublishPost:
    return PublishPost(request_id, "user_1", PostKind.SHORT, "", "gm", ("crypto",))


def _handlers(log: MemoryLog) -> ContentHandlers:
    return ContentHandlers(PostCatalog(), log, lambda: 1_700_000_000_000)


async def test_publish_appends_one_enveloped_event_then_serves_the_post() -> None:
    log = MemoryLog()
    handlers = _handlers(log)
    result = await handlers.publish_post(_cmd())
    assert result.created
    [env] = log.envelopes
    event = decode(encode(env), PostPublished)
    assert env.aggregate_id == result.post.post_id
    assert (env.aggregate_version, env.source) == (1, "content")
    assert event.payload.body == "gm"
    assert handlers.get_post(result.post.post_id) == result.post
    assert handlers.resolve_authors([result.post.post_id, "nope"]) == {
        result.post.post_id: "user_1"
    }


async def test_the_same_request_twice_publishes_once_even_when_racing() -> None:
    log = MemoryLog()
    handlers = _handlers(log)
    a, b, c = await asyncio.gather(*(handlers.publish_post(_cmd()) for _ in range(3)))
    assert len(log.envelopes) == 1
    assert a.post == b.post == c.post
    assert [a.created, b.created, c.created].count(True) == 1


async def test_an_invalid_post_appends_nothing() -> None:
    log = MemoryLog()
    with pytest.raises(InvalidPost):
        await _handlers(log).publish_post(PublishPost("r", "u", PostKind.SHORT, "", ""))
    assert log.envelopes == []


async def test_a_failed_append_is_not_applied_and_can_be_retried() -> None:
    log = MemoryLog()
    handlers = _handlers(log)
    log.fail = True
    with pytest.raises(EventLogUnavailable):
        await handlers.publish_post(_cmd())
    log.fail = False
    assert (await handlers.publish_post(_cmd())).created
    assert len(log.envelopes) == 1
