"""Whether a user holds an open creator identity, asked of the social service.

Social's ``CheckPublisher`` is content's alone (its method policy), so groups asks the
closest public read, ``GetProfile`` (any trusted caller): an identity whose status is OPEN
may create a group; none (NOT_FOUND), suspended or closed may not. Signed as groups for the
creator; a social that does not answer makes CreateGroup UNAVAILABLE, never lets it through.
"""

from __future__ import annotations

import grpc

from planet.social.v1 import social_service_pb2 as social
from planet.social.v1 import social_service_pb2_grpc as social_grpc
from planetkit.service_auth_assertion import AssertionSigner


class CreatorCheckUnavailable(Exception):
    """Social did not answer: the command is refused as UNAVAILABLE (retry)."""


class GrpcCreatorCheck:
    """GetProfile over one channel to social."""

    def __init__(self, channel: grpc.aio.Channel, signer: AssertionSigner | None,
                 audience: str, timeout_s: float) -> None:
        self._channel = channel
        self._stub = social_grpc.SocialServiceStub(channel)
        self._signer = signer
        self._audience = audience
        self._timeout_s = timeout_s

    async def creator_open(self, user_id: str) -> bool:
        """True when ``user_id`` holds an open creator identity."""
        if self._signer is None:
            raise CreatorCheckUnavailable(
                "groups has no service key (PLANET_SERVICE_AUTH_KEY_FILE), so it cannot ask "
                "social whether the creator holds an open identity")
        try:
            page = await self._stub.GetProfile(
                social.GetProfileRequest(user_id=user_id), timeout=self._timeout_s,
                metadata=self._signer.metadata(self._audience, user_id, ()))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return False
            raise CreatorCheckUnavailable(
                f"social did not answer whether the creator holds an open identity: "
                f"{exc.code().name}") from None
        return bool(page.status == social.IDENTITY_STATUS_OPEN)

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close(None)
