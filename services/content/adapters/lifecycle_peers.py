"""Forwarded lifecycle calls (edit, delete, revisions, drafts) to the replica that owns the
post's (or the author's) partition, signed for the original end user like ``peers.py``'s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import drafts_pb2 as dr
from planet.content.v1 import drafts_pb2_grpc as dr_grpc
from planet.content.v1 import post_lifecycle_pb2 as lc
from planet.content.v1 import post_lifecycle_pb2_grpc as lc_grpc
from planetkit.service_auth import Caller
from planetkit.service_auth_assertion import AssertionSigner
from services.content.adapters.peers import PeerFailed

R = TypeVar("R")
# What the owner said about the request itself passes through to the caller; anything
# about reaching it (down, slow, moving) becomes UNAVAILABLE, which callers retry.
_PASSED = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED,
                     grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION,
                     grpc.StatusCode.ABORTED})


class LifecyclePeers:
    """One channel per peer address, opened on first use."""

    def __init__(self, signer: AssertionSigner | None, audience: str, timeout_s: float) -> None:
        self._signer = signer
        self._audience = audience
        self._timeout_s = timeout_s
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _channel(self, addr: str) -> grpc.aio.Channel:
        channel = self._channels.get(addr)
        if channel is None:
            channel = grpc.aio.insecure_channel(addr)
            self._channels[addr] = channel
        return channel

    def _metadata(self, caller: Caller) -> tuple[tuple[str, str]]:
        if self._signer is None:
            raise PeerFailed(grpc.StatusCode.UNAVAILABLE,
                             "this replica has no service key (PLANET_SERVICE_AUTH_KEY_FILE), "
                             "so it cannot reach the replica that owns this partition")
        return self._signer.metadata(self._audience, caller.user_id, caller.roles)

    async def _call(self, addr: str, call: Callable[..., Awaitable[R]], request: object,
                    caller: Caller) -> R:
        try:
            return await call(request, timeout=self._timeout_s, metadata=self._metadata(caller))
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code in _PASSED:
                raise PeerFailed(code, exc.details() or "") from None
            raise PeerFailed(grpc.StatusCode.UNAVAILABLE,
                             f"the replica that owns this partition ({addr}) did not answer: "
                             f"{code.name} {(exc.details() or '')[:200]}") from None

    def _lc(self, addr: str) -> lc_grpc.PostLifecycleServiceAsyncStub:
        return lc_grpc.PostLifecycleServiceStub(self._channel(addr))

    def _dr(self, addr: str) -> dr_grpc.DraftServiceAsyncStub:
        return dr_grpc.DraftServiceStub(self._channel(addr))

    async def edit_post(self, addr: str, request: lc.EditPostRequest, caller: Caller
                        ) -> rpc.Post:
        """The owner's answer."""
        post: rpc.Post = await self._call(addr, self._lc(addr).EditPost, request, caller)
        return post

    async def delete_post(self, addr: str, request: lc.DeletePostRequest, caller: Caller
                          ) -> rpc.Post:
        """The owner's answer."""
        post: rpc.Post = await self._call(addr, self._lc(addr).DeletePost, request, caller)
        return post

    async def list_revisions(self, addr: str, request: lc.ListPostRevisionsRequest,
                             caller: Caller) -> lc.ListPostRevisionsResponse:
        """The owner's page."""
        page: lc.ListPostRevisionsResponse = await self._call(
            addr, self._lc(addr).ListPostRevisions, request, caller)
        return page

    async def draft_call(self, addr: str, method: str, request: object, caller: Caller
                         ) -> object:
        """A DraftService ``method`` on the owner of the author's partition."""
        answer: object = await self._call(addr, getattr(self._dr(addr), method), request,
                                          caller)
        return answer

    async def close(self) -> None:
        """Close every channel."""
        for channel in self._channels.values():
            await channel.close(None)
        self._channels.clear()


__all__ = ["LifecyclePeers", "PeerFailed", "dr"]
