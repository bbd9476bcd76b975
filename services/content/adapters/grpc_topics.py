"""TopicService over grpc.aio (served by the content process beside ContentService), the
client a replica forwards topic pages with, and the arenas topic's appender.

Topic pages, arenas and the instrument list are public: any trusted caller reads them (content
itself too: a replica forwards a topic page to its owner). Only the gateway calls PutArena, and
the service itself checks that the end user is an operator.

Every post a TopicService answer carries is rendered: each component with the instrument's
current price and its server-built link (``domain/components.render``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import grpc
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import topics_pb2 as tpb
from planet.content.v1 import topics_pb2_grpc as tpb_grpc
from planet.content.v1.components_pb2 import RenderedComponent
from planetkit.envelope import wrap
from planetkit.grpc_health import abort as _abort
from planetkit.kafka.producer import publish
from planetkit.service_auth import Caller, current_caller
from planetkit.service_auth_assertion import AssertionSigner
from planetkit.service_auth_server import ANY_TRUSTED_CALLER, MethodPolicy, method_name
from planetkit.service_identities import CONTENT, GATEWAY
from planetkit.topics import Topic
from services.content.adapters.peers import PeerFailed
from services.content.domain.author_index import InvalidPage
from services.content.domain.codec import post_to_pb
from services.content.domain.components import Instruments, render
from services.content.domain.errors import EventLogUnavailable, NotServing
from services.content.domain.model import Post
from services.content.domain.topics import Arena, InvalidTopic
from services.content.topics import (
    ORDER_FROM_PB,
    NotOperator,
    TopicHandlers,
    TopicPage,
    UnknownArena,
)

TOPIC_SERVICE = tpb.DESCRIPTOR.services_by_name["TopicService"].full_name
TOPIC_POLICY: MethodPolicy = {
    # Topic pages are public, like the posts on them; content forwards them to the owner.
    method_name(TOPIC_SERVICE, "ListTopicPosts"): frozenset({ANY_TRUSTED_CALLER}),
    # Operators curate arenas through the gateway (the role is checked here too).
    method_name(TOPIC_SERVICE, "PutArena"): frozenset({GATEWAY}),
    method_name(TOPIC_SERVICE, "ListArenas"): frozenset({ANY_TRUSTED_CALLER}),
    method_name(TOPIC_SERVICE, "ListArenaPosts"): frozenset({ANY_TRUSTED_CALLER}),
    method_name(TOPIC_SERVICE, "ListInstruments"): frozenset({ANY_TRUSTED_CALLER}),
}
# Bounds on what a client sends before anything is parsed or echoed.
MAX_TOPIC_INPUT_CHARS = 200
MAX_ARENA_TOPICS_INPUT = 50

Context = grpc.aio.ServicerContext[Any, Any]


def rendered_post(post: Post, instruments: Instruments, exchange_url: str) -> rpc.Post:
    """The post as the RPC message with each component rendered now."""
    out = post_to_pb(post)
    for comp in post.components:
        r = render(comp, post.post_id, post.creator_id, instruments, exchange_url)
        out.rendered.append(RenderedComponent(
            instrument=r.instrument, last_price=r.last_price,
            last_price_at_ms=r.last_price_at_ms, link=r.link))
    return out


def _arena_pb(arena: Arena) -> tpb.Arena:
    return tpb.Arena(arena_id=arena.arena_id, name=arena.name, topics=arena.topics,
                     updated_at_ms=arena.updated_at_ms)


class TopicServicer(tpb_grpc.TopicServiceServicer):
    """Translates TopicService calls to TopicHandlers and errors to status codes."""

    def __init__(self, handlers: TopicHandlers, exchange_url: str) -> None:
        self._handlers = handlers
        self._exchange_url = exchange_url

    def _page(self, page: TopicPage) -> tpb.ListTopicPostsResponse:
        instruments = self._handlers.instruments
        return tpb.ListTopicPostsResponse(topic=page.topic, next_cursor=page.next_cursor, posts=[
            tpb.TopicPost(post=rendered_post(p, instruments, self._exchange_url),
                          engaged_users=n) for p, n in page.posts])

    async def ListTopicPosts(self, request: tpb.ListTopicPostsRequest,
                             context: Context) -> tpb.ListTopicPostsResponse:
        """A topic's page, in the order asked for."""
        if len(request.topic) > MAX_TOPIC_INPUT_CHARS:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         f"topic has more than {MAX_TOPIC_INPUT_CHARS} characters")
        order = ORDER_FROM_PB.get(request.order)
        if order is None:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         "order must be newest, engaged_24h or engaged_7d")
        try:
            page = await self._handlers.list_topic_posts(
                request.topic, order, request.cursor, request.limit, current_caller())
        except (InvalidTopic, InvalidPage) as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except NotServing as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        except PeerFailed as exc:
            await _abort(context, exc.code, exc.details)
        return self._page(page)

    async def ListArenaPosts(self, request: tpb.ListArenaPostsRequest,
                             context: Context) -> tpb.ListTopicPostsResponse:
        """An arena's posts, newest first across its topics."""
        try:
            page = await self._handlers.list_arena_posts(
                request.arena_id, request.cursor, request.limit, current_caller())
        except UnknownArena as exc:
            await _abort(context, grpc.StatusCode.NOT_FOUND, str(exc))
        except (InvalidTopic, InvalidPage) as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except NotServing as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        except PeerFailed as exc:
            await _abort(context, exc.code, exc.details)
        return self._page(page)

    async def PutArena(self, request: tpb.PutArenaRequest, context: Context) -> tpb.Arena:
        """Define or replace an arena (operators only)."""
        if len(request.topics) > MAX_ARENA_TOPICS_INPUT or any(
                len(t) > MAX_TOPIC_INPUT_CHARS for t in request.topics):
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         "an arena has at most 20 topics of at most 50 characters")
        try:
            arena = await self._handlers.put_arena(
                request.arena_id, request.name, list(request.topics), current_caller())
        except NotOperator as exc:
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED, str(exc))
        except InvalidTopic as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except EventLogUnavailable as exc:
            await _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc))
        return _arena_pb(arena)

    async def ListArenas(self, request: tpb.ListArenasRequest,
                         context: Context) -> tpb.ListArenasResponse:
        """Every arena."""
        return tpb.ListArenasResponse(arenas=[_arena_pb(a) for a in self._handlers.arenas.all()])

    async def ListInstruments(self, request: tpb.ListInstrumentsRequest,
                              context: Context) -> tpb.ListInstrumentsResponse:
        """The exchange's instruments as content holds them."""
        return tpb.ListInstrumentsResponse(instruments=[
            tpb.Instrument(symbol=i.symbol, base=i.base, quote=i.quote, status=i.status.value,
                           last_price="" if i.last_price is None else format(i.last_price, "f"),
                           at_ms=i.at_ms)
            for i in self._handlers.instruments.all()])


def add_topics(server: grpc.aio.Server, handlers: TopicHandlers, exchange_url: str) -> None:
    """Serve TopicService on ``server`` (its methods are in TOPIC_POLICY)."""
    tpb_grpc.add_TopicServiceServicer_to_server(TopicServicer(handlers, exchange_url), server)


class TopicPeersClient:
    """Forwards a topic page to the replica that owns the topic, signed as content for the
    same end user."""

    def __init__(self, signer: AssertionSigner | None, audience: str, timeout_s: float) -> None:
        self._signer = signer
        self._audience = audience
        self._timeout_s = timeout_s
        self._channels: dict[str, grpc.aio.Channel] = {}

    async def list_topic_posts(self, addr: str, request: tpb.ListTopicPostsRequest,
                               caller: Caller) -> tpb.ListTopicPostsResponse:
        """The owner's page."""
        if self._signer is None:
            raise PeerFailed(grpc.StatusCode.UNAVAILABLE,
                             "this replica has no service key (PLANET_SERVICE_AUTH_KEY_FILE), "
                             "so it cannot reach the replica that owns this topic")
        channel = self._channels.get(addr)
        if channel is None:
            channel = self._channels[addr] = grpc.aio.insecure_channel(addr)
        try:
            response: tpb.ListTopicPostsResponse = await tpb_grpc.TopicServiceStub(
                channel).ListTopicPosts(
                request, timeout=self._timeout_s,
                metadata=self._signer.metadata(self._audience, caller.user_id, caller.roles))
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED):
                raise PeerFailed(code, exc.details() or "") from None
            raise PeerFailed(grpc.StatusCode.UNAVAILABLE,
                             f"the replica that owns this topic ({addr}) did not answer: "
                             f"{code.name} {(exc.details() or '')[:200]}") from None
        return response

    async def close(self) -> None:
        """Close every channel."""
        for channel in self._channels.values():
            await channel.close(None)
        self._channels.clear()


class KafkaArenaLog:
    """Appends ArenaDefined to planet.content.arenas.v1 (idempotent producer, acks=all)."""

    def __init__(self, producer: Callable[[], AIOKafkaProducer], topic: Topic) -> None:
        # Made on the first append: most replicas never see an operator's PutArena.
        self._new_producer = producer
        self._producer: AIOKafkaProducer | None = None
        self._topic = topic
        self._lock = asyncio.Lock()

    async def append(self, fact: tpb.ArenaDefined) -> None:
        """Append and wait for the ack; EventLogUnavailable otherwise."""
        try:
            async with self._lock:
                if self._producer is None:
                    producer = self._new_producer()
                    await producer.start()
                    self._producer = producer
            await publish(self._producer, self._topic, wrap(
                fact, event_id=f"arena_{fact.arena_id}_{fact.at_ms}", source=CONTENT,
                aggregate_id=fact.arena_id, occurred_at_ms=fact.at_ms))
        except KafkaError as exc:
            raise EventLogUnavailable(f"the arenas log did not take it: {exc!r}") from exc

    async def close(self) -> None:
        """Stop the producer."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
