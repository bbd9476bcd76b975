"""Whether a creator may publish, asked of the social service (``CheckPublisher``).

Why a call and not a projection of planet.social.identities.v1 in content's own stores:
content's stores are partitioned by post id while identities are keyed by user id, so each
replica would have to read the whole identities topic; and a creator who has just opened an
identity must be able to publish at once, which a tail read a moment later cannot promise.
The call is signed as content for the creator, bounded by a timeout, and a social service
that does not answer refuses the publish as UNAVAILABLE (the gateway's 503 + Retry-After),
never lets it through.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from planet.social.v1 import social_service_pb2 as social
from planet.social.v1 import social_service_pb2_grpc as social_grpc
from planetkit.service_auth import Caller
from planetkit.service_auth_assertion import AssertionSigner
from services.content.domain.errors import IdentityCheckUnavailable
from services.content.domain.validation import InvalidPost


class GrpcPublisherGate:
    """CheckPublisher over one channel to the social service."""

    def __init__(self, channel: grpc.aio.Channel, signer: AssertionSigner | None,
                 audience: str, timeout_s: float) -> None:
        self._channel = channel
        self._stub = social_grpc.SocialServiceStub(channel)
        self._signer = signer
        self._audience = audience
        self._timeout_s = timeout_s

    async def refusal(self, creator_id: str, caller: Caller,
                      mentions: Sequence[str] = ()) -> str:
        """"" when ``creator_id`` may publish; else why not (for the end user). InvalidPost
        when a mention names nobody social knows (asked in the same call: a mention must
        resolve to a user, who is then notified)."""
        if self._signer is None:
            raise IdentityCheckUnavailable(
                "content has no service key (PLANET_SERVICE_AUTH_KEY_FILE), so it cannot ask "
                "the social service whether the creator may publish")
        try:
            status = await self._stub.CheckPublisher(
                social.CheckPublisherRequest(user_id=creator_id, mentions=mentions),
                timeout=self._timeout_s,
                metadata=self._signer.metadata(self._audience, creator_id, caller.roles))
        except grpc.aio.AioRpcError as exc:
            raise IdentityCheckUnavailable(
                f"the social service did not answer whether the creator may publish: "
                f"{exc.code().name}") from None
        if not status.may_publish:
            return status.reason or "publishing is not allowed"
        if status.unknown_mentions:
            raise InvalidPost("no user is called " + ", ".join(
                f"@{m}" for m in status.unknown_mentions))
        return ""

    async def close(self) -> None:
        """Close the channel to social (the replica's stop: no connection outlives it)."""
        await self._channel.close(None)
