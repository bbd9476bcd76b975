"""Whether a user is blocked by the author of what they act on, asked of the social service
(``GetRelation``).

Why a call (as for ``publishers.py``): blocks are keyed by the blocker in social's stores and
private (never sunk, never copied): content keeps no copy of them, and a block must hold from
the moment it is made. The call is signed as content for the acting user, bounded by a
timeout, and a social service that does not answer refuses the action as UNAVAILABLE (the
gateway's 503), never lets it through.
"""

from __future__ import annotations

import grpc

from planet.social.v1 import social_service_pb2 as social
from planet.social.v1 import social_service_pb2_grpc as social_grpc
from planetkit.service_auth import Caller
from planetkit.service_auth_assertion import AssertionSigner
from services.content.domain.errors import IdentityCheckUnavailable


class GrpcBlockCheck:
    """GetRelation over one channel to the social service."""

    def __init__(self, channel: grpc.aio.Channel, signer: AssertionSigner | None,
                 audience: str, timeout_s: float) -> None:
        self._channel = channel
        self._stub = social_grpc.SocialServiceStub(channel)
        self._signer = signer
        self._audience = audience
        self._timeout_s = timeout_s

    async def blocks(self, owner_id: str, user_id: str, caller: Caller) -> bool:
        """True when ``owner_id`` blocks ``user_id``; IdentityCheckUnavailable when social
        cannot say."""
        if self._signer is None:
            raise IdentityCheckUnavailable(
                "content has no service key (PLANET_SERVICE_AUTH_KEY_FILE), so it cannot ask "
                "the social service whether the author blocks this user")
        try:
            state = await self._stub.GetRelation(
                social.RelationRequest(user_id=owner_id, other_id=user_id),
                timeout=self._timeout_s,
                metadata=self._signer.metadata(self._audience, caller.user_id, caller.roles))
        except grpc.aio.AioRpcError as exc:
            raise IdentityCheckUnavailable(
                f"the social service did not answer whether the author blocks this user: "
                f"{exc.code().name}") from None
        return bool(state.blocking)

    async def close(self) -> None:
        """Close the channel to social."""
        await self._channel.close(None)
