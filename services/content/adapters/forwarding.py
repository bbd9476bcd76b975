"""Forwarding a gRPC call to the replica that owns its partition: one channel per address,
signed as content for the same end user, the owner's refusals passed through and anything about
reaching it (down, slow, moving) turned into UNAVAILABLE, which callers retry."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf.message import Message

from planetkit.service_auth import Caller
from planetkit.service_auth_assertion import AssertionSigner
from services.content.adapters.peers import PeerFailed


class ForwardingPeers:
    """Calls ``method`` of the stub ``stub_for`` makes on the owner's channel."""

    def __init__(self, signer: AssertionSigner | None, audience: str, timeout_s: float,
                 stub_for: Callable[[grpc.aio.Channel], object],
                 passed_through: frozenset[grpc.StatusCode]) -> None:
        self._signer = signer
        self._audience = audience
        self._timeout_s = timeout_s
        self._stub_for = stub_for
        self._passed_through = passed_through
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _stub(self, addr: str) -> object:
        channel = self._channels.get(addr)
        if channel is None:
            channel = grpc.aio.insecure_channel(addr)
            self._channels[addr] = channel
        return self._stub_for(channel)

    async def forward(self, addr: str, method: str, request: Message, caller: Caller
                      ) -> Message:
        """The owner's answer to ``request`` (PeerFailed when it does not give one)."""
        if self._signer is None:
            raise PeerFailed(grpc.StatusCode.UNAVAILABLE,
                             "this replica has no service key (PLANET_SERVICE_AUTH_KEY_FILE), "
                             "so it cannot reach the replica that owns this post")
        call = getattr(self._stub(addr), method)
        try:
            answer: Message = await call(
                request, timeout=self._timeout_s,
                metadata=self._signer.metadata(self._audience, caller.user_id, caller.roles))
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            if code in self._passed_through:
                raise PeerFailed(code, exc.details() or "") from None
            raise PeerFailed(grpc.StatusCode.UNAVAILABLE,
                             f"the replica that owns this post ({addr}) did not answer: "
                             f"{code.name} {(exc.details() or '')[:200]}") from None
        return answer

    async def close(self) -> None:
        """Close every channel."""
        for channel in self._channels.values():
            await channel.close(None)
        self._channels.clear()
