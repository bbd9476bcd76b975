"""Content's TopicService over gRPC (same process and channel as ContentService)."""

from __future__ import annotations

import grpc

from gateway.adapters.service_calls import CallSigner, SignedCalls
from gateway.auth import Principal
from planet.content.v1 import topics_pb2 as rpc
from planet.content.v1 import topics_pb2_grpc as rpc_grpc


class GrpcTopics:
    """TopicsPort over one grpc.aio channel; every call is signed for the user it serves."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rpc_grpc.TopicServiceStub(channel)
        self._call = SignedCalls(signer, timeout_s, "content service")

    async def list_topic_posts(self, caller: Principal, request: rpc.ListTopicPostsRequest
                               ) -> rpc.ListTopicPostsResponse:
        """A page of a topic."""
        return await self._call(caller, self._stub.ListTopicPosts, request)

    async def list_arena_posts(self, caller: Principal, request: rpc.ListArenaPostsRequest
                               ) -> rpc.ListTopicPostsResponse:
        """A page of an arena."""
        return await self._call(caller, self._stub.ListArenaPosts, request)

    async def put_arena(self, caller: Principal, request: rpc.PutArenaRequest) -> rpc.Arena:
        """Define or replace an arena (operators)."""
        return await self._call(caller, self._stub.PutArena, request)

    async def list_arenas(self, caller: Principal) -> rpc.ListArenasResponse:
        """Every arena."""
        return await self._call(caller, self._stub.ListArenas, rpc.ListArenasRequest())

    async def list_instruments(self, caller: Principal) -> rpc.ListInstrumentsResponse:
        """The exchange's instruments as content holds them."""
        return await self._call(caller, self._stub.ListInstruments, rpc.ListInstrumentsRequest())
