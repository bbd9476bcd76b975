"""Client side: a grpc.aio channel interceptor that signs every unary call it sends.

For a caller that always acts for the same user (or for itself, user ""); a caller that acts
for many users (the gateway) passes ``AssertionSigner.metadata(...)`` per call instead. Each
call gets an assertion minted at that moment: nothing outlives the call it was made for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import grpc

from planetkit.service_auth_assertion import METADATA_KEY, AssertionSigner

# grpc's stubs make the interceptor classes generic; at run time they are not subscriptable.
if TYPE_CHECKING:
    _ClientInterceptor = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
else:
    _ClientInterceptor = grpc.aio.UnaryUnaryClientInterceptor


class SigningInterceptor(_ClientInterceptor):
    """Adds a fresh assertion for ``audience`` on behalf of ``user_id`` to each call."""

    def __init__(
        self, signer: AssertionSigner, audience: str, user_id: str = "", roles: Iterable[str] = ()
    ) -> None:
        self._signer = signer
        self._audience = audience
        self._user_id = user_id
        self._roles = tuple(roles)

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        kept = [(k, v) for k, v in (client_call_details.metadata or ()) if k != METADATA_KEY]
        signed = self._signer.metadata(self._audience, self._user_id, self._roles)
        details = grpc.aio.ClientCallDetails(
            client_call_details.method,
            client_call_details.timeout,
            grpc.aio.Metadata(*kept, *signed),
            client_call_details.credentials,
            client_call_details.wait_for_ready,
        )
        return await continuation(details, request)
