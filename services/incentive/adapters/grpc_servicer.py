"""IncentiveService over gRPC: authorizes the end user, validates, answers from the read side's
tables, writes operator decisions to INCENTIVE_OPERATIONS.

The calling service is authenticated by ``planetkit.service_auth_server`` before this runs
(only the gateway may call); the END USER is authorized here, whoever the calling service is
(defence in depth: the gateway checks the same):

- creator RPCs: the creator themself, or an operator/admin;
- public RPCs (settled weeks): any authenticated user;
- operator RPCs: operators and admins only.

Order of checks: who (PERMISSION_DENIED), what (INVALID_ARGUMENT), then readiness: while the
tables have not caught up with their sources a call answers UNAVAILABLE, since an answer
from half-restored tables would be wrong, not just late.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import NoReturn, Protocol, TypeVar

import grpc
from google.protobuf.message import Message

from planet.incentive.v1 import incentive_service_pb2_grpc
from planet.incentive.v1.incentive_service_pb2 import (
    CloseWeekAnswer,
    CloseWeekRequest,
    CreatorCenter,
    CreatorCenterRequest,
    CreatorWeekRequest,
    CreatorWeeks,
    DecideHeldRequest,
    FundPoolRequest,
    GetWeeklyEstimateRequest,
    ItemLedgerPage,
    LateFactsPage,
    ListCreatorWeeksRequest,
    ListItemLedgerRequest,
    ListLateFactsRequest,
    ListSettledWeeksRequest,
    PoolFunding,
    PublishPolicyRequest,
    SettledWeeks,
    ShadowCompareRequest,
    ShadowComparison,
    WeeklyEstimate,
)
from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    HeldDecided,
    PolicyPublished,
    PoolFunded,
    WeekCloseRequested,
)
from planetkit.service_auth import Caller, current_caller
from planetkit.weeks import iso_week_of_ms, parse_iso_week
from services.incentive.domain.policy import ScoringPolicy
from services.incentive.readside import center, creators, weeks
from services.incentive.readside.codec import ReadTable
from services.incentive.readside.keys import SEP

Context = grpc.aio.ServicerContext[object, object]
V = TypeVar("V")
# Who may see any creator's data and run the operator RPCs.
OVERSEERS = frozenset({"operator", "admin"})
MAX_PAGE = 200
DEFAULT_PAGE = 20
# How long an operator write waits to see its record projected before answering.
PROJECTION_WAIT_S = 15.0


class OperationsWriter(Protocol):
    """Writes operator decisions (services.incentive.adapters.pool_operations)."""

    async def write(self, key: str, payload: Message, at_ms: int) -> str:
        """Write one record; its event id."""
        ...


class ShadowCompare(Protocol):
    """Runs a shadow comparison (services.incentive.adapters.shadow_runner)."""

    def compare(self, week: str, candidate: ScoringPolicy | None,
                now_ms: int) -> Awaitable[ShadowComparison]:
        """Compare ``candidate`` with the policy in force for ``week``."""
        ...


class IncentiveServicer(incentive_service_pb2_grpc.IncentiveServiceServicer):
    """Every IncentiveService RPC; an empty week means the current UTC ISO week where a
    request allows it."""

    def __init__(
        self, *, creators_table: ReadTable, weeks_table: ReadTable,
        operations: OperationsWriter, shadow: ShadowCompare, quote_asset: str,
        now_ms: Callable[[], int], ready: Callable[[], bool],
    ) -> None:
        self._creators = creators_table
        self._weeks = weeks_table
        self._operations = operations
        self._shadow = shadow
        self._asset = quote_asset
        self._now_ms = now_ms
        self._ready = ready
        # One shadow comparison at a time: each reads a week of facts and settles it twice.
        self._shadow_lock = asyncio.Lock()

    # ---- checks ------------------------------------------------------------------------

    async def _creator_access(self, context: Context, creator_id: str) -> Caller:
        caller = current_caller()
        own = bool(caller.user_id) and caller.user_id == creator_id
        if not own and not caller.has_any_role(OVERSEERS):
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED,
                         "only the creator (or an operator or admin) may see this")
        if not creator_id or SEP in creator_id:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         "creator_id is required (and holds no '|')")
        return caller

    async def _operator(self, context: Context) -> Caller:
        caller = current_caller()
        if not caller.has_any_role(OVERSEERS):
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED,
                         "only an operator or admin may do this")
        return caller

    async def _user(self, context: Context) -> Caller:
        caller = current_caller()
        if not caller.user_id:
            await _abort(context, grpc.StatusCode.PERMISSION_DENIED,
                         "settled weeks are shown to signed-in users")
        return caller

    async def _week(self, context: Context, week: str, what: str = "week", *,
                    default_current: bool = False) -> str:
        if not week and default_current:
            return self._current_week()
        try:
            parse_iso_week(week)
        except ValueError as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"{what}: {exc}")
        return week

    async def _id(self, context: Context, value: str, what: str) -> str:
        if not value or SEP in value:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         f"{what} is required (and holds no '|')")
        return value

    async def _serving(self, context: Context) -> None:
        # Asked at every call, not cached: readiness can drop (a rebalance) between probes.
        if not self._ready():
            await _abort(context, grpc.StatusCode.UNAVAILABLE,
                         "the incentive read side is catching up; retry shortly")

    def _current_week(self) -> str:
        return iso_week_of_ms(self._now_ms())

    # ---- creator -----------------------------------------------------------------------

    async def GetWeeklyEstimate(self, request: GetWeeklyEstimateRequest,
                                context: Context) -> WeeklyEstimate:
        """The legacy estimate shape, mapped from the model's CreatorEstimate."""
        await self._creator_access(context, request.creator_id)
        week = await self._week(context, request.week, default_current=True)
        await self._serving(context)
        estimate = creators.latest_estimate(self._creators, request.creator_id)
        return center.weekly_estimate(request.creator_id, week, estimate)

    async def GetCreatorEstimate(self, request: CreatorWeekRequest,
                                 context: Context) -> CreatorEstimate:
        """The current week's estimate so far; zero (no items) before any engagement."""
        await self._creator_access(context, request.creator_id)
        current = self._current_week()
        week = await self._week(context, request.week, default_current=True)
        if week != current:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         f"estimates are of the current week {current}; settled weeks are "
                         "read with GetCreatorWeek")
        await self._serving(context)
        estimate = creators.latest_estimate(self._creators, request.creator_id)
        if estimate is None or estimate.week != week:
            return CreatorEstimate(week=week, creator_id=request.creator_id, asset=self._asset,
                                   pool_minor=weeks.funded_minor(self._weeks, week))
        return estimate

    async def ListCreatorWeeks(self, request: ListCreatorWeeksRequest,
                               context: Context) -> CreatorWeeks:
        """Settled weeks newest first, with payout states."""
        await self._creator_access(context, request.creator_id)
        if request.before_week:
            await self._week(context, request.before_week, "before_week")
        await self._serving(context)
        return creators.list_creator_weeks(self._creators, request.creator_id,
                                           before_week=request.before_week,
                                           limit=_limit(request.limit))

    async def GetCreatorWeek(self, request: CreatorWeekRequest,
                             context: Context) -> CreatorWeekResult:
        """One settled week with breakdown, proof and root (empty week = the latest)."""
        await self._creator_access(context, request.creator_id)
        if request.week:
            await self._week(context, request.week)
        await self._serving(context)
        result = creators.creator_week(self._creators, request.creator_id, request.week)
        if result is None:
            await _abort(context, grpc.StatusCode.NOT_FOUND,
                         f"no settled week {request.week or '(any)'} for this creator")
        return result

    async def ListItemLedger(self, request: ListItemLedgerRequest,
                             context: Context) -> ItemLedgerPage:
        """Every item that earned, each with every week it earned and its lifetime total."""
        await self._creator_access(context, request.creator_id)
        await self._serving(context)
        return creators.item_ledger_page(self._creators, request.creator_id,
                                         cursor=request.cursor, limit=_limit(request.limit))

    async def GetCreatorCenter(self, request: CreatorCenterRequest,
                               context: Context) -> CreatorCenter:
        """Per week and per item: activity, estimated and settled earnings."""
        await self._creator_access(context, request.creator_id)
        first, last = center.default_range(self._current_week())
        if request.from_week or request.to_week:
            last = await self._week(context, request.to_week, "to_week", default_current=True)
            first = await self._week(context, request.from_week or last, "from_week")
        try:
            span = center.weeks_between(first, last)
        except ValueError as exc:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        await self._serving(context)
        return center.creator_center(self._creators, request.creator_id, span, self._asset)

    # ---- public ------------------------------------------------------------------------

    async def ListSettledWeeks(self, request: ListSettledWeeksRequest,
                               context: Context) -> SettledWeeks:
        """Each settled week's root, pool, policy and creators paid, newest first."""
        await self._user(context)
        if request.before_week:
            await self._week(context, request.before_week, "before_week")
        await self._serving(context)
        return weeks.list_settled_weeks(self._weeks, before_week=request.before_week,
                                        limit=_limit(request.limit))

    # ---- operator ----------------------------------------------------------------------

    async def FundPool(self, request: FundPoolRequest, context: Context) -> PoolFunding:
        """Fund a week once per funding_id; ``applied`` says whether THIS call's record
        counted (a retry, or a concurrent call with the same id, answers false)."""
        caller = await self._operator(context)
        week = await self._week(context, request.week)
        funding_id = await self._id(context, request.funding_id, "funding_id")
        if request.amount_minor <= 0:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         "amount_minor must be a positive integer of minor units")
        if request.asset != self._asset:
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         f"asset must be the pool's quote asset {self._asset!r}, "
                         f"not {request.asset!r}")
        await self._serving(context)
        if weeks.funding(self._weeks, week, funding_id) is not None:
            return self._funding_answer(week, applied=False)
        if weeks.settled_week(self._weeks, week) is not None:
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"week {week} is settled; fund a later week")
        # Once closed, a week's pool is what its settlement will read: no more fundings.
        if weeks.closed_week(self._weeks, week) is not None:
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"week {week} is closed; fund a later week")
        now = self._now_ms()
        event_id = await self._operations.write(week, PoolFunded(
            funding_id=funding_id, week=week, amount_minor=request.amount_minor,
            asset=request.asset, operator_id=caller.user_id, at_ms=now), now)
        # Answer from the projection: the first record of a funding id is the one that counts.
        applied = await self._projected(lambda: weeks.funding(self._weeks, week, funding_id))
        if applied is None:
            await _abort(context, grpc.StatusCode.UNAVAILABLE,
                         f"funding {funding_id} was written but is not projected yet; "
                         "retry with the same funding_id")
        return self._funding_answer(week, applied=applied.get("event_id") == event_id)

    def _funding_answer(self, week: str, *, applied: bool) -> PoolFunding:
        return PoolFunding(week=week, funded_minor=weeks.funded_minor(self._weeks, week),
                           asset=self._asset, applied=applied)

    async def PublishPolicy(self, request: PublishPolicyRequest,
                            context: Context) -> PolicyPublished:
        """Publish a policy taking effect from a future week (once per version)."""
        caller = await self._operator(context)
        try:
            policy = ScoringPolicy.from_canonical(request.policy_json)
        except (ValueError, TypeError, KeyError) as exc:  # JSON, fields, bounds
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         f"policy_json is not a valid policy: {exc}")
        version = request.version or policy.version
        effective = request.effective_week or policy.effective_from_week
        if (version, effective) != (policy.version, policy.effective_from_week):
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         f"version/effective_week {version}/{effective} differ from the "
                         f"policy's {policy.version}/{policy.effective_from_week}")
        await self._id(context, version, "version")
        await self._week(context, effective, "effective_week")
        current = self._current_week()
        if effective <= current:
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"effective_week {effective} must be after the current week {current}")
        await self._serving(context)
        existing = weeks.published_policy(self._weeks, version)
        if existing is not None:
            if existing.policy_hash == policy.hash:
                return existing
            await _abort(context, grpc.StatusCode.ALREADY_EXISTS,
                         f"version {version} is already published with another policy "
                         f"(hash {existing.policy_hash})")
        now = self._now_ms()
        published = PolicyPublished(
            version=version, effective_week=effective, policy_json=policy.canonical_bytes(),
            policy_hash=policy.hash, operator_id=caller.user_id, at_ms=now)
        await self._operations.write("policy", published, now)
        # Answer from the projection (first publication of a version wins), so a retry never
        # writes twice and a concurrent publication of the version is told apart.
        won = await self._projected(lambda: weeks.published_policy(self._weeks, version))
        if won is None:
            await _abort(context, grpc.StatusCode.UNAVAILABLE,
                         f"policy {version} was written but is not projected yet; retry")
        if won.policy_hash != policy.hash:
            await _abort(context, grpc.StatusCode.ALREADY_EXISTS,
                         f"version {version} was published with another policy "
                         f"(hash {won.policy_hash})")
        return won

    async def ShadowCompare(self, request: ShadowCompareRequest,
                            context: Context) -> ShadowComparison:
        """Settle a past or the current week under a candidate policy and diff per creator."""
        await self._operator(context)
        week = await self._week(context, request.week, default_current=True)
        if week > self._current_week():
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"week {week} has not started")
        candidate: ScoringPolicy | None = None
        if request.candidate_policy_json:
            try:
                candidate = ScoringPolicy.from_canonical(request.candidate_policy_json)
            except (ValueError, TypeError, KeyError) as exc:
                await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                             f"candidate_policy_json is not a valid policy: {exc}")
        await self._serving(context)
        async with self._shadow_lock:
            try:
                return await self._shadow.compare(week, candidate, self._now_ms())
            except LookupError as exc:
                await _abort(context, grpc.StatusCode.FAILED_PRECONDITION, str(exc))
            except ValueError as exc:  # the model refused the week's input (its message)
                await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                             f"the week cannot be settled: {exc}")

    async def CloseWeek(self, request: CloseWeekRequest, context: Context) -> CloseWeekAnswer:
        """Ask for an early close; the scoring job honours it only if the policy allows."""
        caller = await self._operator(context)
        week = await self._week(context, request.week)
        if week > self._current_week():
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"week {week} has not started")
        request_id = request.request_id or str(uuid.uuid4())
        await self._id(context, request_id, "request_id")
        await self._serving(context)
        closed = weeks.closed_week(self._weeks, week)
        if closed is not None:
            return CloseWeekAnswer(week=week, accepted=False,
                                   detail=f"already closed ({closed.cause}) at "
                                          f"{closed.closed_at_ms}")
        now = self._now_ms()
        await self._operations.write(week, WeekCloseRequested(
            week=week, operator_id=caller.user_id, reason=request.reason, at_ms=now,
            request_id=request_id), now)
        return CloseWeekAnswer(
            week=week, accepted=True,
            detail=f"close requested ({request_id}); the scoring job closes the week early only "
                   "if its policy allows it, else when its grace period ends")

    async def DecideHeld(self, request: DecideHeldRequest, context: Context) -> HeldDecided:
        """Release or forfeit a creator's held amount of a week, once."""
        caller = await self._operator(context)
        week = await self._week(context, request.week)
        creator_id = await self._id(context, request.creator_id, "creator_id")
        decision_id = await self._id(context, request.decision_id, "decision_id")
        if request.decision not in (HeldDecided.DECISION_RELEASE, HeldDecided.DECISION_FORFEIT):
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                         "decision must be DECISION_RELEASE or DECISION_FORFEIT")
        await self._serving(context)
        result = creators.creator_week(self._creators, creator_id, week)
        if result is None:
            await _abort(context, grpc.StatusCode.NOT_FOUND,
                         f"no settled week {week} for creator {creator_id}")
        if result.held_minor <= 0:
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"creator {creator_id}'s week {week} holds nothing "
                         f"(status {result.status})")
        existing = weeks.held_decision(self._weeks, week, creator_id)
        if existing is not None:
            if existing.decision_id == decision_id:
                return existing
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"already decided ({HeldDecided.Decision.Name(existing.decision)}) by "
                         f"decision {existing.decision_id}")
        now = self._now_ms()
        decided = HeldDecided(
            week=week, creator_id=creator_id, decision=request.decision,
            amount_minor=result.held_minor, asset=result.asset, operator_id=caller.user_id,
            reason=request.reason, at_ms=now, decision_id=decision_id)
        await self._operations.write(week, decided, now)
        won = await self._projected(lambda: weeks.held_decision(self._weeks, week, creator_id))
        if won is None:
            await _abort(context, grpc.StatusCode.UNAVAILABLE,
                         f"decision {decision_id} was written but is not projected yet; retry "
                         "with the same decision_id")
        if won.decision_id != decision_id:
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"already decided ({HeldDecided.Decision.Name(won.decision)}) by "
                         f"decision {won.decision_id}")
        return won

    async def ListLateFacts(self, request: ListLateFactsRequest,
                            context: Context) -> LateFactsPage:
        """Facts of a closed week that arrived after its cut, with their reasons."""
        await self._operator(context)
        week = await self._week(context, request.week)
        if request.cursor and not request.cursor.isdigit():
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, "cursor is not one we gave")
        await self._serving(context)
        return weeks.late_facts_page(self._weeks, week, cursor=request.cursor,
                                     limit=_limit(request.limit))

    async def _projected(self, read: Callable[[], V | None]) -> V | None:
        """Poll the (local replica's) table until ``read`` finds the value, or give up."""
        deadline = time.monotonic() + PROJECTION_WAIT_S
        while time.monotonic() < deadline:
            value = read()
            if value is not None:
                return value
            await asyncio.sleep(0.05)
        return None


def _limit(requested: int) -> int:
    return min(MAX_PAGE, requested or DEFAULT_PAGE)


async def _abort(context: Context, code: grpc.StatusCode, message: str) -> NoReturn:
    await context.abort(code, message)
    raise AssertionError("unreachable: context.abort raises")

