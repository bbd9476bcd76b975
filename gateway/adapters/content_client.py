"""The content service over gRPC."""

from __future__ import annotations

import grpc

from gateway.adapters.service_calls import CallSigner, SignedCalls
from gateway.auth import Principal
from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc


class GrpcContent:
    """ContentPort over one grpc.aio channel; every call is signed for the user it serves."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rpc_grpc.ContentServiceStub(channel)
        self._call = SignedCalls(signer, timeout_s, "content service")

    async def publish_post(self, caller: Principal, request: rpc.PublishPostRequest) -> rpc.Post:
        """Publish (idempotent on request_id)."""
        response: rpc.PublishPostResponse = await self._call(
            caller, self._stub.PublishPost, request)
        return response.post

    async def get_post(self, caller: Principal, post_id: str) -> rpc.Post:
        """A post; NotFound when there is none."""
        return await self._call(caller, self._stub.GetPost, rpc.GetPostRequest(post_id=post_id))

    async def resolve_authors(self, caller: Principal, item_ids: list[str]) -> dict[str, str]:
        """Creator of each known item."""
        response: rpc.ResolveAuthorsResponse = await self._call(
            caller, self._stub.ResolveAuthors, rpc.ResolveAuthorsRequest(item_ids=item_ids))
        return dict(response.authors)

    async def list_author_posts(
        self, caller: Principal, request: rpc.ListAuthorPostsRequest
    ) -> rpc.ListAuthorPostsResponse:
        """A page of an author's posts, newest first (an author with none: an empty page)."""
        return await self._call(caller, self._stub.ListAuthorPosts, request)
