"""The content service over gRPC."""

from __future__ import annotations

import grpc

from gateway.adapters.grpc_errors import translate
from gateway.adapters.service_calls import CallSigner
from gateway.auth import Principal
from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc


class GrpcContent:
    """ContentPort over one grpc.aio channel; every call is signed for the user it serves."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rpc_grpc.ContentServiceStub(channel)
        self._timeout_s = timeout_s
        self._signer = signer

    async def publish_post(self, caller: Principal, request: rpc.PublishPostRequest) -> rpc.Post:
        """Publish (idempotent on request_id)."""
        try:
            response = await self._stub.PublishPost(
                request, timeout=self._timeout_s, metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "content service") from None
        return response.post

    async def get_post(self, caller: Principal, post_id: str) -> rpc.Post:
        """A post; NotFound when there is none."""
        try:
            return await self._stub.GetPost(
                rpc.GetPostRequest(post_id=post_id), timeout=self._timeout_s,
                metadata=self._signer.metadata(caller),
            )
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "content service") from None

    async def resolve_authors(self, caller: Principal, item_ids: list[str]) -> dict[str, str]:
        """Creator of each known item."""
        try:
            response = await self._stub.ResolveAuthors(
                rpc.ResolveAuthorsRequest(item_ids=item_ids), timeout=self._timeout_s,
                metadata=self._signer.metadata(caller),
            )
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "content service") from None
        return dict(response.authors)

    async def list_author_posts(
        self, caller: Principal, request: rpc.ListAuthorPostsRequest
    ) -> rpc.ListAuthorPostsResponse:
        """A page of an author's posts, newest first (an author with none: an empty page)."""
        try:
            response: rpc.ListAuthorPostsResponse = await self._stub.ListAuthorPosts(
                request, timeout=self._timeout_s, metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, "content service") from None
        return response
