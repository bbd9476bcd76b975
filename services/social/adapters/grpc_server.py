"""SocialService over grpc.aio, plus the standard health service.

Every call is authenticated by ``planetkit.service_auth_server``; this module says which
caller services may call which method and checks the end user itself: an account holder
acts only on their own account, operator actions need the ``operator`` role, and
CheckPublisher is content's alone.
"""

from __future__ import annotations

from typing import Any, Protocol

import grpc
from grpc_health.v1 import health_pb2_grpc

from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import social_service_pb2_grpc as rpc_grpc
from planetkit.grpc_health import Health
from planetkit.service_auth import current_caller
from planetkit.service_auth_assertion import AssertionVerifier
from planetkit.service_auth_server import (
    ANY_TRUSTED_CALLER,
    MethodPolicy,
    authenticating_server,
    method_name,
)
from planetkit.service_identities import CONTENT, GATEWAY
from services.social.adapters.grpc_common import OPERATOR_ROLES, SERVICE_NAME, Context
from services.social.adapters.grpc_common import holder as _holder
from services.social.adapters.grpc_common import operator as _operator
from services.social.adapters.grpc_common import run as _run_call
from services.social.adapters.grpc_notifications import (
    NOTIFICATIONS_POLICY,
    NotificationsRpc,
    NotificationUseCases,
)
from services.social.adapters.grpc_relations import (
    RELATIONS_POLICY,
    RelationsRpc,
    RelationUseCases,
)
from services.social.adapters.grpc_track_record import (
    TRACK_RECORD_POLICY,
    TrackRecordRpc,
    TrackRecordUseCases,
    fill_home_page,
)
from services.social.domain.errors import Invalid
from services.social.domain.validation import ProfileFields, check_profile

_GATEWAY_ONLY = frozenset({GATEWAY})
# Content allows 20 mentions per post (services/content/domain/validation.py); a bound here keeps
# one call's work small whatever a caller sends.
MAX_MENTIONS = 20
POLICY: MethodPolicy = {
    **{method_name(SERVICE_NAME, m): _GATEWAY_ONLY for m in (
        "OpenIdentity", "ChangeHandle", "UpdateProfile", "SuspendIdentity",
        "ReinstateIdentity", "CloseIdentity", "SanctionAccount", "LiftSanction",
        "AppealSanction", "GetSanctions", "Follow", "Unfollow", "SetBell", "ListFollowers",
        "ListFollowing", "DecideAppeal")},
    # A home page is public: any service may read it, for any user.
    method_name(SERVICE_NAME, "GetProfile"): frozenset({ANY_TRUSTED_CALLER}),
    # Only content asks, before it publishes, for the creator the call is made for.
    method_name(SERVICE_NAME, "CheckPublisher"): frozenset({CONTENT}),
    **RELATIONS_POLICY,
    **TRACK_RECORD_POLICY,
    **NOTIFICATIONS_POLICY,
}

class SocialUseCases(Protocol):
    """What the servicer calls (services.social.handlers.SocialHandlers)."""

    def home_page(self, user_id: str = "", handle: str = "") -> rpc.HomePage:
        """A public home page; NotFound when there is none."""

    def sanctions(self, user_id: str) -> list[rpc.Sanction]:
        """An account's sanctions as of now."""

    def publisher_refusal(self, user_id: str) -> str:
        """"" when the user may publish; else why not."""

    def mention_owner(self, name: str) -> str | None:
        """The user an @mention names; None for nobody."""

    async def open_identity(self, user_id: str, handle: str,
                            profile: ProfileFields) -> rpc.Identity:
        """Open an identity."""

    async def change_handle(self, user_id: str, handle: str) -> rpc.Identity:
        """Change a handle."""

    async def update_profile(self, user_id: str, profile: ProfileFields) -> rpc.Identity:
        """Replace a profile."""

    async def moderate(self, action: str, user_id: str, reason: str,
                       operator: str) -> rpc.Identity:
        """suspend, reinstate or close."""

    async def sanction(self, user_id: str, reason: str, until_ms: int,
                       operator: str) -> rpc.Sanction:
        """Sanction an account."""

    async def lift(self, user_id: str, sanction_id: str, reason: str,
                   operator: str) -> rpc.Sanction:
        """Lift a sanction."""

    async def appeal(self, user_id: str, sanction_id: str, text: str) -> rpc.Sanction:
        """Appeal a sanction once."""

    async def decide_appeal(self, user_id: str, sanction_id: str, grant: bool, reason: str,
                            operator: str) -> rpc.Sanction:
        """Grant or deny an appeal, once."""


class FollowUseCases(Protocol):
    """What the servicer calls for the graph (services.social.follows.FollowHandlers)."""

    async def follow(self, user: str, creator: str) -> rpc.FollowState:
        """Follow a creator."""

    async def unfollow(self, user: str, creator: str) -> rpc.FollowState:
        """Unfollow a creator."""

    async def set_bell(self, user: str, creator: str, on: bool) -> rpc.FollowState:
        """Turn a bell on or off."""

    def counts(self, user: str) -> tuple[int, int]:
        """(followers, following)."""

    def page(self, which: str, user: str, cursor: str, limit: int) -> rpc.FollowPage:
        """A page of followers or following."""


class SocialServicer(RelationsRpc, TrackRecordRpc, NotificationsRpc,
                     rpc_grpc.SocialServiceServicer):
    """Translates RPCs to handler calls and refusals to status codes (each area's methods
    in its mixin)."""

    def __init__(self, handlers: SocialUseCases, follows: FollowUseCases, *,
                 relations: RelationUseCases,
                 track_records: TrackRecordUseCases,
                 notifications: NotificationUseCases) -> None:
        self._h = handlers
        self._f = follows
        self._relations = relations
        self._tr = track_records
        self._notifications = notifications

    async def _run(self, context: Context, call: Any) -> Any:
        return await _run_call(context, call)

    async def OpenIdentity(self, request: rpc.OpenIdentityRequest,
                           context: Context) -> rpc.Identity:
        """Open the caller's identity (KYC-verified accounts only)."""
        async def call() -> rpc.Identity:
            _holder(current_caller(), request.user_id)
            p = request.profile
            profile = check_profile(p.display_name, p.bio, p.avatar_url, list(p.links),
                                    list(p.topics))
            return await self._h.open_identity(request.user_id, request.handle, profile)
        result: rpc.Identity = await self._run(context, call)
        return result

    async def ChangeHandle(self, request: rpc.ChangeHandleRequest,
                           context: Context) -> rpc.Identity:
        """Change the caller's handle."""
        async def call() -> rpc.Identity:
            _holder(current_caller(), request.user_id)
            return await self._h.change_handle(request.user_id, request.handle)
        result: rpc.Identity = await self._run(context, call)
        return result

    async def UpdateProfile(self, request: rpc.UpdateProfileRequest,
                            context: Context) -> rpc.Identity:
        """Replace the caller's public profile."""
        async def call() -> rpc.Identity:
            _holder(current_caller(), request.user_id)
            p = request.profile
            profile = check_profile(p.display_name, p.bio, p.avatar_url, list(p.links),
                                    list(p.topics))
            return await self._h.update_profile(request.user_id, profile)
        result: rpc.Identity = await self._run(context, call)
        return result

    async def GetProfile(self, request: rpc.GetProfileRequest,
                         context: Context) -> rpc.HomePage:
        """A public home page by user id or handle."""
        async def call() -> rpc.HomePage:
            which = request.WhichOneof("who")
            if which == "handle":
                page = self._h.home_page(handle=request.handle)
            elif which == "user_id" and request.user_id:
                page = self._h.home_page(user_id=request.user_id)
            else:
                raise Invalid("name a user_id or a handle")
            page.follower_count, page.following_count = self._f.counts(page.user_id)
            fill_home_page(page, self._tr)
            return page
        result: rpc.HomePage = await self._run(context, call)
        return result

    async def _moderate(self, action: str, request: rpc.IdentityActionRequest,
                        context: Context) -> rpc.Identity:
        async def call() -> rpc.Identity:
            caller = current_caller()
            _operator(caller)
            return await self._h.moderate(action, request.user_id, request.reason,
                                          caller.user_id)
        result: rpc.Identity = await self._run(context, call)
        return result

    async def SuspendIdentity(self, request: rpc.IdentityActionRequest,
                              context: Context) -> rpc.Identity:
        """Operators: suspend an identity."""
        return await self._moderate("suspend", request, context)

    async def ReinstateIdentity(self, request: rpc.IdentityActionRequest,
                                context: Context) -> rpc.Identity:
        """Operators: reinstate a suspended identity."""
        return await self._moderate("reinstate", request, context)

    async def CloseIdentity(self, request: rpc.IdentityActionRequest,
                            context: Context) -> rpc.Identity:
        """Operators: close an identity."""
        return await self._moderate("close", request, context)

    async def SanctionAccount(self, request: rpc.SanctionAccountRequest,
                              context: Context) -> rpc.Sanction:
        """Operators: sanction any account."""
        async def call() -> rpc.Sanction:
            caller = current_caller()
            _operator(caller)
            return await self._h.sanction(request.user_id, request.reason, request.until_ms,
                                          caller.user_id)
        result: rpc.Sanction = await self._run(context, call)
        return result

    async def LiftSanction(self, request: rpc.LiftSanctionRequest,
                           context: Context) -> rpc.Sanction:
        """Operators: lift a sanction."""
        async def call() -> rpc.Sanction:
            caller = current_caller()
            _operator(caller)
            return await self._h.lift(request.user_id, request.sanction_id, request.reason,
                                      caller.user_id)
        result: rpc.Sanction = await self._run(context, call)
        return result

    async def AppealSanction(self, request: rpc.AppealSanctionRequest,
                             context: Context) -> rpc.Sanction:
        """The account holder appeals a sanction, once."""
        async def call() -> rpc.Sanction:
            _holder(current_caller(), request.user_id)
            return await self._h.appeal(request.user_id, request.sanction_id, request.text)
        result: rpc.Sanction = await self._run(context, call)
        return result

    async def DecideAppeal(self, request: rpc.DecideAppealRequest,
                           context: Context) -> rpc.Sanction:
        """Operators: grant (lifting the sanction from now) or deny an appeal, once."""
        async def call() -> rpc.Sanction:
            caller = current_caller()
            _operator(caller)
            return await self._h.decide_appeal(request.user_id, request.sanction_id,
                                               request.grant, request.reason, caller.user_id)
        result: rpc.Sanction = await self._run(context, call)
        return result

    async def GetSanctions(self, request: rpc.GetSanctionsRequest,
                           context: Context) -> rpc.Sanctions:
        """The account's sanctions: its holder or an operator."""
        async def call() -> rpc.Sanctions:
            caller = current_caller()
            if not caller.has_any_role(OPERATOR_ROLES):
                _holder(caller, request.user_id)
            return rpc.Sanctions(sanctions=self._h.sanctions(request.user_id))
        result: rpc.Sanctions = await self._run(context, call)
        return result

    async def CheckPublisher(self, request: rpc.CheckPublisherRequest,
                             context: Context) -> rpc.PublisherStatus:
        """Whether the creator the call is made for may publish now, and why not."""
        async def call() -> rpc.PublisherStatus:
            _holder(current_caller(), request.user_id)
            if len(request.mentions) > MAX_MENTIONS:
                raise Invalid(f"at most {MAX_MENTIONS} mentions are checked per call")
            reason = self._h.publisher_refusal(request.user_id)
            unknown = [m for m in request.mentions if self._h.mention_owner(m) is None]
            return rpc.PublisherStatus(may_publish=not reason, reason=reason,
                                       unknown_mentions=unknown)
        result: rpc.PublisherStatus = await self._run(context, call)
        return result

    async def Follow(self, request: rpc.FollowRequest, context: Context) -> rpc.FollowState:
        """The caller follows a creator (idempotent)."""
        async def call() -> rpc.FollowState:
            _holder(current_caller(), request.user_id)
            return await self._f.follow(request.user_id, request.creator_id)
        result: rpc.FollowState = await self._run(context, call)
        return result

    async def Unfollow(self, request: rpc.FollowRequest, context: Context) -> rpc.FollowState:
        """The caller unfollows a creator (idempotent)."""
        async def call() -> rpc.FollowState:
            _holder(current_caller(), request.user_id)
            return await self._f.unfollow(request.user_id, request.creator_id)
        result: rpc.FollowState = await self._run(context, call)
        return result

    async def SetBell(self, request: rpc.SetBellRequest, context: Context) -> rpc.FollowState:
        """The caller turns their bell for a followed creator on or off."""
        async def call() -> rpc.FollowState:
            _holder(current_caller(), request.user_id)
            return await self._f.set_bell(request.user_id, request.creator_id, request.on)
        result: rpc.FollowState = await self._run(context, call)
        return result

    async def _list(self, which: str, request: rpc.ListFollowsRequest,
                    context: Context) -> rpc.FollowPage:
        async def call() -> rpc.FollowPage:
            return self._f.page(which, request.user_id, request.cursor, request.limit)
        result: rpc.FollowPage = await self._run(context, call)
        return result

    async def ListFollowers(self, request: rpc.ListFollowsRequest,
                            context: Context) -> rpc.FollowPage:
        """Who follows a user (public, like the count on the home page)."""
        return await self._list("followers", request, context)

    async def ListFollowing(self, request: rpc.ListFollowsRequest,
                            context: Context) -> rpc.FollowPage:
        """Whom a user follows (public)."""
        return await self._list("following", request, context)


def new_health() -> Health:
    """grpc.health.v1 on the service's port: NOT_SERVING until its stores are caught up."""
    return Health(SERVICE_NAME)


def make_server(servicer: SocialServicer, health_: Health,
                verifier: AssertionVerifier) -> grpc.aio.Server:
    """A grpc.aio server carrying both services, authenticating every call but health."""
    server = authenticating_server(verifier, POLICY)
    rpc_grpc.add_SocialServiceServicer_to_server(servicer, server)
    health_pb2_grpc.add_HealthServicer_to_server(health_.servicer, server)
    return server
