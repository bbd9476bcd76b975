"""Signing the gateway's gRPC calls: one fresh assertion per call, for the verified user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from gateway.adapters.grpc_errors import translate
from gateway.auth import Principal
from planetkit.service_auth_assertion import AssertionSigner

T = TypeVar("T")


class CallSigner:
    """Call metadata for one callee, naming the user each call is made for."""

    def __init__(self, signer: AssertionSigner, audience: str) -> None:
        self._signer = signer
        self._audience = audience

    def metadata(self, caller: Principal) -> tuple[tuple[str, str]]:
        """Metadata with an assertion minted now (never reused: it lives seconds)."""
        return self._signer.metadata(self._audience, caller.user_id, caller.roles)


class SignedCalls:
    """Unary calls to one service: each signed for its user, bounded by the gateway's
    deadline, its gRPC failure translated into the gateway's errors (grpc_errors.py)."""

    def __init__(self, signer: CallSigner, timeout_s: float, service: str) -> None:
        self._signer = signer
        self._timeout_s = timeout_s
        self._service = service

    async def __call__(self, caller: Principal, method: Callable[..., Awaitable[T]],
                       request: object) -> T:
        try:
            return await method(request, timeout=self._timeout_s,
                                metadata=self._signer.metadata(caller))
        except grpc.aio.AioRpcError as exc:
            raise translate(exc, self._service) from None
