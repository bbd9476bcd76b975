"""Content's TopicService over gRPC (same process and channel as ContentService)."""

from __future__ import annotations

import grpc

from gateway.adapters.grpc_errors import translate
from gateway.adapters.service_calls import CallSigner
from gateway.auth import Principal
from planet.content.v1 import topics_pb2 as rpc
from planet.content.v1 import topics_pb2_grpc as rpc_grpc


class GrpcTopics:
    """TopicsPort over one grpc.aio channel; every call is signed for the user it serves."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rpc_grpc.TopicServiceStub(channel)
        self._timeout_s = timeout_s
        self._signer = signer

    async def list_topic_posts(self, caller: Principal, request: rpc.ListTopicPostsRequest
                               ) -> rpc.ListTopicPostsResponse:
        """A page of a topic."""
        try:
            response: rpc.ListTopicPostsResponse = await self._stub.ListTopicPosts(
                request, timeout=self._timeout_s, metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "content service") from None
        return response

    async def list_arena_posts(self, caller: Principal, request: rpc.ListArenaPostsRequest
                               ) -> rpc.ListTopicPostsResponse:
        """A page of an arena."""
        try:
            response: rpc.ListTopicPostsResponse = await self._stub.ListArenaPosts(
                request, timeout=self._timeout_s, metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "content service") from None
        return response

    async def put_arena(self, caller: Principal, request: rpc.PutArenaRequest) -> rpc.Arena:
        """Define or replace an arena (operators)."""
        try:
            response: rpc.Arena = await self._stub.PutArena(
                request, timeout=self._timeout_s, metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "content service") from None
        return response

    async def list_arenas(self, caller: Principal) -> rpc.ListArenasResponse:
        """Every arena."""
        try:
            response: rpc.ListArenasResponse = await self._stub.ListArenas(
                rpc.ListArenasRequest(), timeout=self._timeout_s,
                metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "content service") from None
        return response

    async def list_instruments(self, caller: Principal) -> rpc.ListInstrumentsResponse:
        """The exchange's instruments as content holds them."""
        try:
            response: rpc.ListInstrumentsResponse = await self._stub.ListInstruments(
                rpc.ListInstrumentsRequest(), timeout=self._timeout_s,
                metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "content service") from None
        return response
