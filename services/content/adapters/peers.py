"""Calls to the other content replicas: reads and publishes for partitions they own.

Each call is signed with content's own key for the end user the original call was made for
(service-auth assertions, audience ``content``), so the owner authorizes it exactly as it
would a call from the gateway: a forwarded PublishPost is still only for its creator.
"""

from __future__ import annotations

import grpc

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import content_service_pb2_grpc as rpc_grpc
from planetkit.service_auth import Caller
from planetkit.service_auth_assertion import AssertionSigner


class PeerFailed(RuntimeError):
    """The owner replica did not answer; ``code`` is what to tell the caller."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class Peers:
    """One channel per peer address, opened on first use."""

    def __init__(self, signer: AssertionSigner | None, audience: str, timeout_s: float) -> None:
        self._signer = signer
        self._audience = audience
        self._timeout_s = timeout_s
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _stub(self, addr: str) -> rpc_grpc.ContentServiceAsyncStub:
        channel = self._channels.get(addr)
        if channel is None:
            channel = grpc.aio.insecure_channel(addr)
            self._channels[addr] = channel
        return rpc_grpc.ContentServiceStub(channel)

    def _metadata(self, caller: Caller) -> tuple[tuple[str, str]]:
        if self._signer is None:
            raise PeerFailed(grpc.StatusCode.UNAVAILABLE,
                             "this replica has no service key (PLANET_SERVICE_AUTH_KEY_FILE), "
                             "so it cannot reach the replica that owns this post")
        return self._signer.metadata(self._audience, caller.user_id, caller.roles)

    async def get_post(self, addr: str, post_id: str, caller: Caller) -> rpc.Post | None:
        """The owner's answer; None when it has no such post."""
        try:
            post: rpc.Post = await self._stub(addr).GetPost(
                rpc.GetPostRequest(post_id=post_id), timeout=self._timeout_s,
                metadata=self._metadata(caller))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise _failed(addr, exc) from None
        return post

    async def resolve_authors(self, addr: str, ids: list[str], caller: Caller) -> dict[str, str]:
        """Creator of each id the owner knows."""
        try:
            response = await self._stub(addr).ResolveAuthors(
                rpc.ResolveAuthorsRequest(item_ids=ids), timeout=self._timeout_s,
                metadata=self._metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise _failed(addr, exc) from None
        return dict(response.authors)

    async def publish(
        self, addr: str, request: rpc.PublishPostRequest, caller: Caller
    ) -> rpc.Post:
        """Publish on the owner (idempotent there on the request id)."""
        try:
            response = await self._stub(addr).PublishPost(
                request, timeout=self._timeout_s, metadata=self._metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise _failed(addr, exc) from None
        return response.post

    async def list_author_posts(
        self, addr: str, request: rpc.ListAuthorPostsRequest, caller: Caller
    ) -> rpc.ListAuthorPostsResponse:
        """The owner's page of an author's posts."""
        try:
            response: rpc.ListAuthorPostsResponse = await self._stub(addr).ListAuthorPosts(
                request, timeout=self._timeout_s, metadata=self._metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise _failed(addr, exc) from None
        return response

    async def close(self) -> None:
        """Close every channel."""
        for channel in self._channels.values():
            await channel.close(None)
        self._channels.clear()


def _failed(addr: str, exc: grpc.aio.AioRpcError) -> PeerFailed:
    code = exc.code()
    # What the owner said about the request itself passes through; anything about reaching
    # it (down, slow, moving) is UNAVAILABLE, which callers retry.
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED):
        return PeerFailed(code, exc.details() or "")
    return PeerFailed(grpc.StatusCode.UNAVAILABLE,
                      f"the replica that owns this post ({addr}) did not answer: "
                      f"{code.name} {(exc.details() or '')[:200]}")
