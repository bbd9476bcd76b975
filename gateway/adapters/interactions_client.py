"""Content's InteractionService over gRPC (comments, likes, shares), on the content channel."""

from __future__ import annotations

import grpc

from gateway.adapters.service_calls import CallSigner, SignedCalls
from gateway.auth import Principal
from planet.content.v1 import interactions_pb2 as pb
from planet.content.v1 import interactions_pb2_grpc as pb_grpc


class GrpcInteractions:
    """InteractionsPort over one grpc.aio channel; every call is signed for its user."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = pb_grpc.InteractionServiceStub(channel)
        self._call = SignedCalls(signer, timeout_s, "content service")

    async def post_comment(self, caller: Principal, request: pb.PostCommentRequest
                           ) -> pb.Comment:
        """Comment or reply (idempotent on request_id)."""
        return await self._call(caller, self._stub.PostComment, request)

    async def edit_comment(self, caller: Principal, request: pb.EditCommentRequest
                           ) -> pb.Comment:
        """Edit one's own comment."""
        return await self._call(caller, self._stub.EditComment, request)

    async def delete_comment(self, caller: Principal, request: pb.DeleteCommentRequest
                             ) -> pb.DeleteCommentResponse:
        """Delete one's own comment."""
        return await self._call(caller, self._stub.DeleteComment, request)

    async def list_comments(self, caller: Principal, request: pb.ListCommentsRequest
                            ) -> pb.ListCommentsResponse:
        """A page of a thread."""
        return await self._call(caller, self._stub.ListComments, request)

    async def like(self, caller: Principal, request: pb.LikeRequest, *, on: bool
                   ) -> pb.LikeState:
        """Like (``on``) or unlike an item."""
        return await self._call(caller, self._stub.Like if on else self._stub.Unlike, request)

    async def share(self, caller: Principal, request: pb.ShareRequest) -> pb.ShareView:
        """Share a post."""
        return await self._call(caller, self._stub.Share, request)

    async def item_stats(self, caller: Principal, item_id: str) -> pb.ItemStats:
        """An item's exact counts."""
        return await self._call(caller, self._stub.GetItemStats,
                                pb.GetItemStatsRequest(item_id=item_id))
