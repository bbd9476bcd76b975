"""Creator identities and home pages, operator moderation, and the caller's sanctions.

The social service decides everything (who may open, edit, moderate, appeal); the gateway
checks shapes and sizes, names the caller, and rate-limits writes. Field limits and the
handle alphabet below mirror the service's rules so OpenAPI documents them; the service
re-checks and owns the messages.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.auth import Principal
from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.errors import NotFound, UpstreamUnavailable
from gateway.ids import MAX_USER_ID_LENGTH
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.ports import Backends, SocialPort
from gateway.routes.creator_posts import with_latest_posts
from gateway.schemas import (
    AppealBody,
    AppealDecisionBody,
    HandleBody,
    HomePageOut,
    IdentityOut,
    OpenIdentityBody,
    ProfileBody,
    ReasonBody,
    SanctionBody,
    SanctionOut,
    SanctionsOut,
    home_page_out,
    identity_out,
    profile_pb,
    sanction_out,
)
from planet.social.v1 import social_service_pb2 as rpc

router = APIRouter(tags=["creators"])

HANDLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
SANCTION_ID_PATTERN = "^sanc_[0-9a-f]{20}$"

HandleOrId = Annotated[str, Path(
    min_length=1, max_length=MAX_USER_ID_LENGTH,
    description="A handle (3-30 of a-z, 0-9, _), else a user id; `me` is the caller.")]
UserId = Annotated[str, Path(min_length=1, max_length=MAX_USER_ID_LENGTH,
                             description="The account's user id (from the exchange).")]
SanctionId = Annotated[str, Path(pattern=SANCTION_ID_PATTERN,
                                 description='A sanction id: "sanc_" + 20 hex digits.')]
LiftReason = Annotated[str, Query(min_length=1, max_length=500,
                                  description="Why the sanction is lifted.")]
NO_KYC_403 = ("Refused with the reason: KYC verification required (the exchange has not "
              "verified this user), or not allowed.")
MODERATION_403 = "Only operators moderate identities and accounts."
STATE_403 = "The identity is closed or not in a state that allows this; the message says why."


def _social(backends: Backends) -> SocialPort:
    if backends.social is None:
        raise UpstreamUnavailable("the social service is not configured")
    return backends.social


@router.post("/v1/creators/me/identity", status_code=201, response_model=IdentityOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 409, s403=NO_KYC_403,
                              s409="This account already has an identity, or the handle is "
                                   "taken or reserved."))
async def open_identity(body: OpenIdentityBody, user: WriterDep,
                        backends: BackendsDep) -> IdentityOut:
    """Open the caller's creator identity (KYC-verified users only), claiming a handle."""
    identity = await _social(backends).open_identity(user, rpc.OpenIdentityRequest(
        user_id=user.user_id, handle=body.handle, profile=profile_pb(body)))
    return identity_out(identity)


@router.patch("/v1/creators/me/identity", response_model=IdentityOut,
              responses=errors(*AUTHED, *WITH_BODY, 403, 404, s403=STATE_403,
                               s404="The caller has no creator identity."))
async def update_profile(body: ProfileBody, user: WriterDep,
                         backends: BackendsDep) -> IdentityOut:
    """Replace the caller's public profile."""
    identity = await _social(backends).update_profile(user, rpc.UpdateProfileRequest(
        user_id=user.user_id, profile=profile_pb(body)))
    return identity_out(identity)


@router.put("/v1/creators/me/handle", response_model=IdentityOut,
            responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409, s403=STATE_403,
                             s404="The caller has no creator identity.",
                             s409="The handle is taken, reserved, or already the caller's."))
async def change_handle(body: HandleBody, user: WriterDep, backends: BackendsDep) -> IdentityOut:
    """Change the caller's handle; the old one stays reserved for them for a while."""
    identity = await _social(backends).change_handle(user, rpc.ChangeHandleRequest(
        user_id=user.user_id, handle=body.handle))
    return identity_out(identity)


@router.get("/v1/creators/{handle_or_id}", response_model=HomePageOut,
            responses=errors(*AUTHED, 404, s404="No creator with that handle or user id."))
async def home_page(handle_or_id: HandleOrId, user: UserDep,
                    backends: BackendsDep) -> HomePageOut:
    """A creator's public home page, by handle first, then by user id (`me`: the caller)."""
    social = _social(backends)
    if handle_or_id == "me":
        return await with_latest_posts(home_page_out(await social.get_profile(
            user, rpc.GetProfileRequest(user_id=user.user_id))), user, backends)
    if 3 <= len(handle_or_id) <= 30 and set(handle_or_id) <= HANDLE_CHARS:
        try:
            by_handle = home_page_out(await social.get_profile(
                user, rpc.GetProfileRequest(handle=handle_or_id)))
        except NotFound:
            pass  # no such handle: it may be a user id
        else:
            return await with_latest_posts(by_handle, user, backends)
    return await with_latest_posts(home_page_out(await social.get_profile(
        user, rpc.GetProfileRequest(user_id=handle_or_id))), user, backends)


async def _moderate(action: str, user_id: str, body: ReasonBody, user: Principal,
                    backends: Backends) -> IdentityOut:
    return identity_out(await _social(backends).moderate(user, action, rpc.IdentityActionRequest(
        user_id=user_id, reason=body.reason)))


_MODERATION = errors(*AUTHED, *WITH_BODY, 403, 404, s403=MODERATION_403 + " " + STATE_403,
                     s404="The account has no creator identity.")


@router.post("/v1/operator/identities/{user_id}/suspend", response_model=IdentityOut,
             responses=_MODERATION)
async def suspend(user_id: UserId, body: ReasonBody, user: WriterDep,
                  backends: BackendsDep) -> IdentityOut:
    """Operators: suspend an identity (it cannot publish until reinstated)."""
    return await _moderate("suspend", user_id, body, user, backends)


@router.post("/v1/operator/identities/{user_id}/reinstate", response_model=IdentityOut,
             responses=_MODERATION)
async def reinstate(user_id: UserId, body: ReasonBody, user: WriterDep,
                    backends: BackendsDep) -> IdentityOut:
    """Operators: reinstate a suspended identity."""
    return await _moderate("reinstate", user_id, body, user, backends)


@router.post("/v1/operator/identities/{user_id}/close", response_model=IdentityOut,
             responses=_MODERATION)
async def close(user_id: UserId, body: ReasonBody, user: WriterDep,
                backends: BackendsDep) -> IdentityOut:
    """Operators: close an identity for good (its handle stays reserved a while)."""
    return await _moderate("close", user_id, body, user, backends)


@router.post("/v1/operator/accounts/{user_id}/sanctions", status_code=201,
             response_model=SanctionOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, s403=MODERATION_403))
async def sanction(user_id: UserId, body: SanctionBody, user: WriterDep,
                   backends: BackendsDep) -> SanctionOut:
    """Operators: sanction any account, with a reason and an end (until_ms) or none."""
    return sanction_out(await _social(backends).sanction(user, rpc.SanctionAccountRequest(
        user_id=user_id, reason=body.reason, until_ms=body.until_ms or 0)))


@router.delete("/v1/operator/accounts/{user_id}/sanctions/{sanction_id}",
               response_model=SanctionOut,
               responses=errors(*AUTHED, 403, 404,
                                s403=MODERATION_403 + " Or the sanction is no longer active.",
                                s404="No such sanction on this account."))
async def lift(user_id: UserId, sanction_id: SanctionId, user: WriterDep,
               backends: BackendsDep, reason: LiftReason = "lifted by an operator") -> SanctionOut:
    """Operators: lift a sanction, with a reason (recorded with the decision)."""
    return sanction_out(await _social(backends).lift_sanction(user, rpc.LiftSanctionRequest(
        user_id=user_id, sanction_id=sanction_id, reason=reason)))


@router.post("/v1/operator/accounts/{user_id}/sanctions/{sanction_id}/appeal-decision",
             response_model=SanctionOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409,
                              s403=MODERATION_403 + " Or the sanction has no appeal to decide.",
                              s404="No such sanction on this account.",
                              s409="This appeal was already decided (once only)."))
async def decide_appeal(user_id: UserId, sanction_id: SanctionId, body: AppealDecisionBody,
                        user: WriterDep, backends: BackendsDep) -> SanctionOut:
    """Operators: grant an appeal (the sanction is lifted from now on) or deny it (the
    sanction stands), once, with a reason the account holder sees."""
    return sanction_out(await _social(backends).decide_appeal(user, rpc.DecideAppealRequest(
        user_id=user_id, sanction_id=sanction_id, grant=body.grant, reason=body.reason)))


@router.get("/v1/me/sanctions", response_model=SanctionsOut, responses=errors(*AUTHED))
async def my_sanctions(user: UserDep, backends: BackendsDep) -> SanctionsOut:
    """The caller's sanctions: why, until when, and whether appealed."""
    got = await _social(backends).sanctions(user, user.user_id)
    return SanctionsOut(sanctions=[sanction_out(s) for s in got.sanctions])


@router.post("/v1/me/sanctions/{sanction_id}/appeal", response_model=SanctionOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409,
                              s403="The sanction is no longer active.",
                              s404="No such sanction on the caller's account.",
                              s409="This sanction was already appealed (once only)."))
async def appeal(sanction_id: SanctionId, body: AppealBody, user: WriterDep,
                 backends: BackendsDep) -> SanctionOut:
    """Appeal one of the caller's sanctions, once."""
    return sanction_out(await _social(backends).appeal(user, rpc.AppealSanctionRequest(
        user_id=user.user_id, sanction_id=sanction_id, text=body.text)))
