"""The social service over gRPC."""

from __future__ import annotations

import grpc

from gateway.adapters.service_calls import CallSigner, SignedCalls
from gateway.auth import Principal
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planet.social.v1 import track_record_pb2 as tr

SERVICE = "social service"


class GrpcSocial:
    """SocialPort over one grpc.aio channel; every call is signed for the user it serves."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float, signer: CallSigner) -> None:
        self._stub = rpc_grpc.SocialServiceStub(channel)
        self._call = SignedCalls(signer, timeout_s, SERVICE)

    async def open_identity(self, caller: Principal,
                            request: rpc.OpenIdentityRequest) -> rpc.Identity:
        """Open the caller's identity."""
        return await self._call(caller, self._stub.OpenIdentity, request)

    async def change_handle(self, caller: Principal,
                            request: rpc.ChangeHandleRequest) -> rpc.Identity:
        """Change the caller's handle."""
        return await self._call(caller, self._stub.ChangeHandle, request)

    async def update_profile(self, caller: Principal,
                             request: rpc.UpdateProfileRequest) -> rpc.Identity:
        """Replace the caller's profile."""
        return await self._call(caller, self._stub.UpdateProfile, request)

    async def get_profile(self, caller: Principal,
                          request: rpc.GetProfileRequest) -> rpc.HomePage:
        """A home page by user id or handle."""
        return await self._call(caller, self._stub.GetProfile, request)

    async def moderate(self, caller: Principal, action: str,
                       request: rpc.IdentityActionRequest) -> rpc.Identity:
        """suspend, reinstate or close an identity."""
        method = {"suspend": self._stub.SuspendIdentity,
                  "reinstate": self._stub.ReinstateIdentity,
                  "close": self._stub.CloseIdentity}[action]
        return await self._call(caller, method, request)

    async def sanction(self, caller: Principal,
                       request: rpc.SanctionAccountRequest) -> rpc.Sanction:
        """Sanction an account."""
        return await self._call(caller, self._stub.SanctionAccount, request)

    async def lift_sanction(self, caller: Principal,
                            request: rpc.LiftSanctionRequest) -> rpc.Sanction:
        """Lift a sanction."""
        return await self._call(caller, self._stub.LiftSanction, request)

    async def appeal(self, caller: Principal,
                     request: rpc.AppealSanctionRequest) -> rpc.Sanction:
        """Appeal a sanction, once."""
        return await self._call(caller, self._stub.AppealSanction, request)

    async def sanctions(self, caller: Principal, user_id: str) -> rpc.Sanctions:
        """An account's sanctions."""
        return await self._call(caller, self._stub.GetSanctions,
                                rpc.GetSanctionsRequest(user_id=user_id))

    async def get_track_record(self, caller: Principal,
                               request: rpc.GetTrackRecordRequest) -> tr.TrackRecord:
        """A user's track record (hidden: 404 but for its owner and operators)."""
        return await self._call(caller, self._stub.GetTrackRecord, request)

    async def set_track_record_visibility(
            self, caller: Principal, request: rpc.SetTrackRecordVisibilityRequest,
    ) -> rpc.Identity:
        """The creator hides or shows their track record."""
        return await self._call(caller, self._stub.SetTrackRecordVisibility, request)

    async def follow(self, caller: Principal, request: rpc.FollowRequest) -> rpc.FollowState:
        """The caller follows a creator."""
        return await self._call(caller, self._stub.Follow, request)

    async def unfollow(self, caller: Principal, request: rpc.FollowRequest) -> rpc.FollowState:
        """The caller unfollows a creator."""
        return await self._call(caller, self._stub.Unfollow, request)

    async def set_bell(self, caller: Principal,
                       request: rpc.SetBellRequest) -> rpc.FollowState:
        """The caller's bell for a followed creator."""
        return await self._call(caller, self._stub.SetBell, request)

    async def list_follows(self, caller: Principal, which: str,
                           request: rpc.ListFollowsRequest) -> rpc.FollowPage:
        """A page of ``followers`` or ``following``."""
        method = self._stub.ListFollowers if which == "followers" else self._stub.ListFollowing
        return await self._call(caller, method, request)

    async def list_notifications(
            self, caller: Principal, request: rpc.ListNotificationsRequest,
    ) -> rpc.NotificationPage:
        """The caller's own notifications after a position."""
        return await self._call(caller, self._stub.ListNotifications, request)

    async def mark_notifications_read(
            self, caller: Principal, request: rpc.MarkNotificationsReadRequest,
    ) -> rpc.NotificationPage:
        """The caller marks their notifications read up to a position."""
        return await self._call(caller, self._stub.MarkNotificationsRead, request)

    async def relate(self, caller: Principal, action: str,
                     request: rpc.RelationRequest) -> rpc.RelationState:
        """block, unblock, mute or unmute, for the caller."""
        method = {"block": self._stub.Block, "unblock": self._stub.Unblock,
                  "mute": self._stub.Mute, "unmute": self._stub.Unmute}[action]
        return await self._call(caller, method, request)

    async def list_relations(self, caller: Principal, which: str,
                             request: rpc.ListFollowsRequest) -> rpc.FollowPage:
        """A page of the caller's ``blocked`` or ``muted`` users."""
        method = self._stub.ListBlocked if which == "blocked" else self._stub.ListMuted
        return await self._call(caller, method, request)

    async def decide_appeal(self, caller: Principal,
                            request: rpc.DecideAppealRequest) -> rpc.Sanction:
        """Grant or deny an appeal (operators)."""
        return await self._call(caller, self._stub.DecideAppeal, request)
