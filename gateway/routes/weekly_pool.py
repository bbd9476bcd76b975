"""The weekly pool over HTTP: a creator's settled weeks, ledger and center; the public list
of settled weeks; the operators' fundings, policies, shadow comparisons, early closes, held
decisions and late facts.

The incentive service decides everything (services/incentive); the gateway checks shapes
(ISO weeks, exact integer amounts, sizes) and roles before any call: a creator reads only
their own data (operators and admins any), operator routes are operators' (and admins').
The service authorizes again from the call's signed assertion. Money is integer minor units
with its asset (gateway/schemas_weekly_pool.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from gateway.auth import Principal
from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.errors import Forbidden, Unprocessable
from gateway.ids import MAX_USER_ID_LENGTH
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.routes.estimates import OVERSEERS, CreatorId
from gateway.routes.interaction_shapes import IdempotencyKey
from gateway.schemas_weekly_pool import (
    DECISIONS,
    WEEK_PATTERN,
    CloseBody,
    CloseWeekOut,
    CreatorCenterOut,
    CreatorWeekOut,
    CreatorWeeksOut,
    FundingBody,
    HeldBody,
    HeldDecidedOut,
    ItemLedgerPageOut,
    LateFactsPageOut,
    PolicyBody,
    PolicyPublishedOut,
    PoolFundingOut,
    SettledWeeksOut,
    ShadowBody,
    ShadowComparisonOut,
    close_week_out,
    creator_center_out,
    creator_week_out,
    creator_weeks_out,
    held_decided_out,
    item_ledger_out,
    late_facts_out,
    policy_json,
    policy_published_out,
    pool_funding_out,
    settled_weeks_out,
    shadow_out,
)
from planet.incentive.v1 import incentive_service_pb2 as rpc
from planetkit.weeks import parse_iso_week

router = APIRouter(tags=["weekly pool"])

MAX_PAGE = 100
OWN_403 = "Only the creator (or an operator) may see this."
OPERATORS_403 = "Only operators (or admins) run the pool."
STATE_409 = "The pool is not in a state for this (e.g. the week is not closed or settled yet)."

WeekPath = Annotated[str, Path(pattern=WEEK_PATTERN, description="ISO week YYYY-Www.")]
OptionalWeek = Annotated[str, Query(max_length=8, pattern=r"^(\d{4}-W\d{2})?$",
                                    description="ISO week YYYY-Www; empty: see the operation.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Entries per page (1-100).")]
Cursor = Annotated[str, Query(max_length=512, pattern=r"^[!-~]*$", description=(
    "next_cursor of the previous page (opaque, printable ASCII); empty for the first."))]
HeldCreatorId = Annotated[str, Path(min_length=1, max_length=MAX_USER_ID_LENGTH,
                                    description="The held creator's user id.")]


def _week(week: str, name: str = "week") -> str:
    """``week`` when empty or a real ISO week (the pattern lets "2026-W60" through)."""
    if week:
        try:
            parse_iso_week(week)
        except ValueError:
            raise Unprocessable(f"{name}: not an ISO week of that year (YYYY-Www): "
                                f"{week!r}") from None
    return week


def _own(user: Principal, creator_id: str) -> None:
    if user.user_id != creator_id and not user.roles & OVERSEERS:
        raise Forbidden("only the creator (or an operator) may see this")


def _operator(user: Principal) -> None:
    if not user.roles & OVERSEERS:
        raise Forbidden("only operators (or admins) run the pool")


# ---- creators (their own; operators any) ------------------------------------------------

@router.get("/v1/creators/{creator_id}/pool/weeks", response_model=CreatorWeeksOut,
            responses=errors(*AUTHED, 403, 404, 409, s403=OWN_403, s409=STATE_409))
async def creator_weeks(creator_id: CreatorId, user: UserDep, backends: BackendsDep,
                        limit: Limit = 20, before_week: OptionalWeek = "") -> CreatorWeeksOut:
    """The creator's settled weeks, newest first, each with its amounts and payout state
    (pending, paid, refused, held, released, forfeited, rolled_over)."""
    _own(user, creator_id)
    return creator_weeks_out(await backends.incentive.creator_weeks(
        user, rpc.ListCreatorWeeksRequest(creator_id=creator_id, limit=limit,
                                          before_week=_week(before_week, "before_week"))))


@router.get("/v1/creators/{creator_id}/pool/weeks/{week}", response_model=CreatorWeekOut,
            responses=errors(*AUTHED, 403, 404, 409, s403=OWN_403,
                             s404="The creator has no result for this week.",
                             s409="The week is not settled yet."))
async def creator_week(creator_id: CreatorId, week: WeekPath, user: UserDep,
                       backends: BackendsDep) -> CreatorWeekOut:
    """One settled week: the amount and its parts, the breakdown explaining 100 % of it (per
    item, per consumer value tier, every discount with its reason code) and the Merkle proof
    of the amount against the week's published root."""
    _own(user, creator_id)
    return creator_week_out(await backends.incentive.creator_week(
        user, rpc.CreatorWeekRequest(creator_id=creator_id, week=_week(week))))


@router.get("/v1/creators/{creator_id}/pool/items", response_model=ItemLedgerPageOut,
            responses=errors(*AUTHED, 403, 404, 409, s403=OWN_403, s409=STATE_409))
async def item_ledger(creator_id: CreatorId, user: UserDep, backends: BackendsDep,
                      limit: Limit = 20, cursor: Cursor = "") -> ItemLedgerPageOut:
    """The per-item ledger: every week each item earned, whatever its age, and its lifetime
    total."""
    _own(user, creator_id)
    return item_ledger_out(await backends.incentive.item_ledger(
        user, rpc.ListItemLedgerRequest(creator_id=creator_id, limit=limit, cursor=cursor)))


@router.get("/v1/creators/{creator_id}/center", response_model=CreatorCenterOut,
            responses=errors(*AUTHED, 403, 404, 409, s403=OWN_403, s409=STATE_409))
async def creator_center(creator_id: CreatorId, user: UserDep, backends: BackendsDep,
                         from_week: OptionalWeek = "", to_week: OptionalWeek = ""
                         ) -> CreatorCenterOut:
    """The creator center: per week and per post, views, unique viewers, dwell, effective
    interactions, followers gained, estimated and settled earnings (``from_week`` ..
    ``to_week`` inclusive; default the last 8 weeks through the current one)."""
    _own(user, creator_id)
    first, last = _week(from_week, "from_week"), _week(to_week, "to_week")
    if first and last and first > last:
        raise Unprocessable("from_week must not be after to_week")
    return creator_center_out(await backends.incentive.creator_center(
        user, rpc.CreatorCenterRequest(creator_id=creator_id, from_week=first, to_week=last)))


# ---- public (any signed-in user) --------------------------------------------------------

@router.get("/v1/pool/weeks", response_model=SettledWeeksOut,
            responses=errors(*AUTHED, 403, 404, 409, s409=STATE_409))
async def settled_weeks(user: UserDep, backends: BackendsDep, limit: Limit = 20,
                        before_week: OptionalWeek = "") -> SettledWeeksOut:
    """Settled weeks, newest first: each week's Merkle root, pool, policy version and hash,
    amounts and number of creators paid. Anyone signed in."""
    return settled_weeks_out(await backends.incentive.settled_weeks(
        user, rpc.ListSettledWeeksRequest(limit=limit,
                                          before_week=_week(before_week, "before_week"))))


# ---- operators --------------------------------------------------------------------------

@router.post("/v1/operator/pool/fundings", status_code=201, response_model=PoolFundingOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409, s403=OPERATORS_403,
                              s409="The week is settled already: fund a later week."))
async def fund_pool(body: FundingBody, user: WriterDep, backends: BackendsDep,
                    idempotency_key: IdempotencyKey) -> PoolFundingOut:
    """Operators: fund a week's pool with an exact amount (integer minor units of ``asset``).
    The Idempotency-Key is the funding's id: the same key funds once (``applied`` false on a
    repeat)."""
    _operator(user)
    funding = await backends.incentive.fund_pool(user, rpc.FundPoolRequest(
        week=_week(body.week), amount_minor=body.amount_minor, asset=body.asset,
        funding_id=idempotency_key))
    return pool_funding_out(idempotency_key, funding)


@router.post("/v1/operator/pool/policies", status_code=201, response_model=PolicyPublishedOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409, s403=OPERATORS_403,
                              s409="The effective week is not after the current week."))
async def publish_policy(body: PolicyBody, user: WriterDep, backends: BackendsDep
                         ) -> PolicyPublishedOut:
    """Operators: publish a scoring policy taking effect from a future week (the service
    checks every field; a repeat of the same version and policy answers the first; the
    version published with another policy is a 409)."""
    _operator(user)
    effective = _week(body.effective_week, "effective_week")
    # The service reads a whole policy, version and first week included; the body names
    # them once (a policy naming others is refused by the service: 422).
    whole = {"version": body.version, "effective_from_week": effective, **body.policy}
    return policy_published_out(await backends.incentive.publish_policy(
        user, rpc.PublishPolicyRequest(version=body.version, effective_week=effective,
                                       policy_json=policy_json(whole))))


@router.post("/v1/operator/pool/shadow", response_model=ShadowComparisonOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409, s403=OPERATORS_403,
                              s404="No such week to compare on.", s409=STATE_409))
async def shadow_compare(body: ShadowBody, user: WriterDep, backends: BackendsDep
                         ) -> ShadowComparisonOut:
    """Operators: run a candidate policy on a past week (its closed cut: ``final``) or the
    current one (so far: ``estimate``) and list each creator's difference. Writes nothing."""
    _operator(user)
    candidate = b"" if body.candidate_policy is None else policy_json(body.candidate_policy)
    return shadow_out(await backends.incentive.shadow_compare(user, rpc.ShadowCompareRequest(
        week=_week(body.week), candidate_policy_json=candidate)))


@router.post("/v1/operator/pool/weeks/{week}/close", response_model=CloseWeekOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409, s403=OPERATORS_403,
                              s409="The week has not started yet."))
async def close_week(week: WeekPath, body: CloseBody, user: WriterDep, backends: BackendsDep,
                     idempotency_key: IdempotencyKey) -> CloseWeekOut:
    """Operators: ask to close a week before its grace period ends; the scoring job honours
    it only when the week's policy allows an early close (``accepted`` false: the week is
    closed already; ``detail`` says which)."""
    _operator(user)
    return close_week_out(await backends.incentive.close_week(user, rpc.CloseWeekRequest(
        week=_week(week), reason=body.reason, request_id=idempotency_key)))


@router.post("/v1/operator/pool/weeks/{week}/held/{creator_id}", response_model=HeldDecidedOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409, s403=OPERATORS_403,
                              s404="The creator has no held amount in this week.",
                              s409="Nothing is held for the creator that week, or it was "
                                   "decided already (by another decision)."))
async def decide_held(week: WeekPath, creator_id: HeldCreatorId, body: HeldBody,
                      user: WriterDep, backends: BackendsDep,
                      idempotency_key: IdempotencyKey) -> HeldDecidedOut:
    """Operators: release (pay) or forfeit (into the next week's pool) a sanctioned
    creator's held amount of a week; a retry with the same Idempotency-Key answers the
    decision made."""
    _operator(user)
    return held_decided_out(await backends.incentive.decide_held(user, rpc.DecideHeldRequest(
        week=_week(week), creator_id=creator_id, decision=DECISIONS[body.decision],
        reason=body.reason, decision_id=idempotency_key)))


@router.get("/v1/operator/pool/weeks/{week}/late", response_model=LateFactsPageOut,
            responses=errors(*AUTHED, 403, 404, 409, s403=OPERATORS_403,
                             s409="The week is not closed yet."))
async def late_facts(week: WeekPath, user: UserDep, backends: BackendsDep, limit: Limit = 50,
                     cursor: Cursor = "") -> LateFactsPageOut:
    """Operators: facts of a closed week that arrived after its cut, with the reason; counted
    nowhere."""
    _operator(user)
    return late_facts_out(await backends.incentive.late_facts(user, rpc.ListLateFactsRequest(
        week=_week(week), limit=limit, cursor=cursor)))
