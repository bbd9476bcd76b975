"""Reports, the operators' moderation queues, removals and appeals.

Anyone signed in reports a post, an article or a comment under a policy reason (once per item:
a repeat answers the first report; one's own item: 403). Operators see the open reports grouped
per item, oldest first, and confirm (the item is removed: hidden from everyone but its author
and operators, and it stops earning) or dismiss them, with a reason the author is told. The
author of a removed item appeals once (a second appeal: 409); an operator upholds the appeal
(the item is restored everywhere) or denies it. Content decides all of it on the replica that
owns the item's post (services/content/moderation.py); the gateway checks shapes and roles.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from gateway.auth import Principal
from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.errors import Forbidden, UpstreamUnavailable
from gateway.ids import POST_HEX_DIGITS
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.ports import Backends, ReportsPort
from gateway.routes.interaction_shapes import IdempotencyKey
from gateway.schemas import Strict
from planet.content.v1 import reports_pb2 as rp

router = APIRouter(tags=["reports and moderation"])

# Content's operator role (services/content/domain/post_rules.OPERATOR_ROLES).
OPERATOR_ROLES = frozenset({"operator"})
MAX_PAGE = 100
MAX_DETAIL_CHARS = 1_000
MAX_NOTE_CHARS = 1_000
MAX_APPEAL_CHARS = 2_000
# A post id or a comment id: the strict alphabets content parses (domain/interactions.py).
ITEM_ID_PATTERN = (f"^(post_[0-9a-f]{{{POST_HEX_DIGITS}}}|"
                   f"cmt_[0-9a-f]{{{POST_HEX_DIGITS}}}_[0-9a-f]{{24}})$")
ItemId = Annotated[str, Path(pattern=ITEM_ID_PATTERN, description=(
    "A post id (post_ + 24 lowercase hex digits) or a comment id (cmt_ + 24 hex + _ + 24 "
    "hex)."))]
Cursor = Annotated[str, Query(max_length=200, pattern="^[A-Za-z0-9_-]*$", description=(
    "next_cursor of the previous page (opaque: A-Z a-z 0-9 - _); empty for the first."))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page (1-100).")]
Reason = Literal["spam", "scam", "market_manipulation", "harassment", "hate", "illegal",
                 "misinformation", "impersonation", "other"]
_REASONS: dict[str, rp.PolicyReason.ValueType] = {
    name.removeprefix("POLICY_REASON_").lower(): number
    for name, number in rp.PolicyReason.items() if number != rp.POLICY_REASON_UNSPECIFIED}
AppealState = Literal["none", "pending", "upheld", "denied"]
_APPEALS: dict[int, AppealState] = {
    rp.APPEAL_STATE_UNSPECIFIED: "none", rp.APPEAL_STATE_PENDING: "pending",
    rp.APPEAL_STATE_UPHELD: "upheld", rp.APPEAL_STATE_DENIED: "denied"}
ITEM_404 = "No such post or comment (or you may not see it)."
OPERATORS_403 = "Only operators see the queues and decide reports and appeals."


class ReportBody(Strict):
    """What is reported and why."""

    item_id: str = Field(pattern=ITEM_ID_PATTERN, description="A post id or a comment id.")
    reason: Reason
    detail: str = Field(default="", max_length=MAX_DETAIL_CHARS,
                        description="Optional words for the operators (never shown to the "
                                    "author).")


class ReportOut(BaseModel):
    """A report: ``created`` is false when this answers your earlier report of the item."""

    report_id: str
    item_id: str
    reason: str
    reported_at_ms: int
    created: bool


class ReasonCountOut(BaseModel):
    """How many open reports gave a reason."""

    reason: str
    reports: int


class ModerationOut(BaseModel):
    """An item's moderation. The author sees the decisions, never the reports."""

    item_id: str
    kind: Literal["post", "comment"]
    post_id: str
    author_id: str
    open_reports: int
    reasons: list[ReasonCountOut]
    first_reported_at_ms: int | None
    last_reported_at_ms: int | None
    removed: bool
    removed_at_ms: int | None
    removal_reason: str | None
    removal_note: str | None = Field(description="The operator's reason, told to the author.")
    appeal: AppealState
    appealed_at_ms: int | None
    appeal_text: str | None
    appeal_note: str | None


class QueueOut(BaseModel):
    """A page of a queue, oldest first; pass next_cursor for the next (null on the last)."""

    items: list[ModerationOut]
    next_cursor: str | None


class ReportDecisionBody(Strict):
    """Confirm (remove the item) or dismiss its open reports, with a reason."""

    decision: Literal["confirm", "dismiss"]
    reason: str = Field(min_length=1, max_length=MAX_NOTE_CHARS,
                        description="Told to the author when confirmed; kept for the audit.")
    policy: Reason | None = Field(default=None, description=(
        "The policy broken (confirm); default: the reason most reporters gave."))


class AppealBody(Strict):
    """The author's case for restoring the item."""

    text: str = Field(min_length=1, max_length=MAX_APPEAL_CHARS)


class AppealDecisionBody(Strict):
    """Uphold (restore the item) or deny the appeal, with a reason."""

    decision: Literal["uphold", "deny"]
    reason: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


def _reason_name(reason: int) -> str:
    for name, number in _REASONS.items():
        if number == reason:
            return name
    return "other"


def moderation_out(m: rp.ItemModeration) -> ModerationOut:
    """JSON of an item's moderation."""
    return ModerationOut(
        item_id=m.item_id, kind="comment" if m.kind == rp.MODERATED_KIND_COMMENT else "post",
        post_id=m.post_id, author_id=m.author_id, open_reports=m.open_reports,
        reasons=[ReasonCountOut(reason=_reason_name(r.reason), reports=r.reports)
                 for r in m.reasons],
        first_reported_at_ms=m.first_reported_at_ms or None,
        last_reported_at_ms=m.last_reported_at_ms or None,
        removed=m.removed_at_ms > 0, removed_at_ms=m.removed_at_ms or None,
        removal_reason=_reason_name(m.removal_reason) if m.removal_reason else None,
        removal_note=m.removal_note or None, appeal=_APPEALS.get(m.appeal, "none"),
        appealed_at_ms=m.appealed_at_ms or None, appeal_text=m.appeal_text or None,
        appeal_note=m.appeal_note or None)


def _reports(backends: Backends) -> ReportsPort:
    if backends.reports is None:
        raise UpstreamUnavailable("the content service's reports are not configured")
    return backends.reports


def _operator(user: Principal) -> None:
    if not user.roles & OPERATOR_ROLES:
        raise Forbidden("only operators see the queues and decide reports and appeals")


@router.post("/v1/reports", status_code=201, response_model=ReportOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404,
                              s403="You cannot report your own post or comment.",
                              s404=ITEM_404))
async def report_item(body: ReportBody, user: WriterDep, backends: BackendsDep,
                      idempotency_key: IdempotencyKey) -> ReportOut:
    """Report a post, an article or a comment under a policy reason (once per item: a repeat
    answers your first report, ``created`` false)."""
    answer = await _reports(backends).report(user, rp.ReportItemRequest(
        request_id=idempotency_key, reporter_id=user.user_id, item_id=body.item_id,
        reason=_REASONS[body.reason], detail=body.detail))
    return ReportOut(report_id=answer.report_id, item_id=answer.item_id,
                     reason=_reason_name(answer.reason), reported_at_ms=answer.reported_at_ms,
                     created=answer.created)


async def _queue(queue: rp.QueueKind.ValueType, user: Principal, backends: Backends,
                 cursor: str, limit: int) -> QueueOut:
    _operator(user)
    page = await _reports(backends).queue(user, rp.ListQueueRequest(
        queue=queue, cursor=cursor, limit=limit))
    return QueueOut(items=[moderation_out(m) for m in page.items],
                    next_cursor=page.next_cursor or None)


@router.get("/v1/operator/reports", response_model=QueueOut,
            responses=errors(*AUTHED, 403, s403=OPERATORS_403))
async def report_queue(user: UserDep, backends: BackendsDep, cursor: Cursor = "",
                       limit: Limit = 20) -> QueueOut:
    """Operators: items with open reports (count, reasons, first and last report), the
    oldest first report first, across every partition."""
    return await _queue(rp.QUEUE_KIND_REPORTS, user, backends, cursor, limit)


@router.get("/v1/operator/appeals", response_model=QueueOut,
            responses=errors(*AUTHED, 403, s403=OPERATORS_403))
async def appeal_queue(user: UserDep, backends: BackendsDep, cursor: Cursor = "",
                       limit: Limit = 20) -> QueueOut:
    """Operators: removed items whose appeal waits for a decision, the oldest first."""
    return await _queue(rp.QUEUE_KIND_APPEALS, user, backends, cursor, limit)


@router.post("/v1/operator/reports/{item_id}/decision", response_model=ModerationOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409, s403=OPERATORS_403,
                              s404="The item has no reports.",
                              s409="The item has no open reports to decide."))
async def decide_reports(item_id: ItemId, body: ReportDecisionBody, user: WriterDep,
                         backends: BackendsDep, idempotency_key: IdempotencyKey
                         ) -> ModerationOut:
    """Operators: confirm (the item is removed and its author told why) or dismiss the open
    reports of an item; a retry with the same Idempotency-Key answers the first decision."""
    _operator(user)
    return moderation_out(await _reports(backends).decide_reports(user, rp.DecideReportsRequest(
        item_id=item_id, operator_id=user.user_id, confirm=body.decision == "confirm",
        note=body.reason, request_id=idempotency_key,
        reason=_REASONS[body.policy] if body.policy else rp.POLICY_REASON_UNSPECIFIED)))


@router.post("/v1/items/{item_id}/appeal", response_model=ModerationOut,
             responses=errors(*AUTHED, *WITH_BODY, 404, 409,
                              s404="No removal of an item of yours to appeal.",
                              s409="This removal was appealed already (once per removal)."))
async def appeal_removal(item_id: ItemId, body: AppealBody, user: WriterDep,
                         backends: BackendsDep, idempotency_key: IdempotencyKey
                         ) -> ModerationOut:
    """The author appeals the removal of their post or comment, once; a retry with the same
    Idempotency-Key answers the appeal made."""
    return moderation_out(await _reports(backends).appeal(user, rp.AppealRemovalRequest(
        item_id=item_id, author_id=user.user_id, text=body.text, request_id=idempotency_key)))


@router.post("/v1/operator/appeals/{item_id}/decision", response_model=ModerationOut,
             responses=errors(*AUTHED, *WITH_BODY, 403, 404, 409, s403=OPERATORS_403,
                              s404="The item has no appeal.",
                              s409="The item has no pending appeal."))
async def decide_appeal(item_id: ItemId, body: AppealDecisionBody, user: WriterDep,
                        backends: BackendsDep, idempotency_key: IdempotencyKey
                        ) -> ModerationOut:
    """Operators: uphold (the item is restored everywhere) or deny an appeal."""
    _operator(user)
    return moderation_out(await _reports(backends).decide_appeal(user, rp.DecideAppealRequest(
        item_id=item_id, operator_id=user.user_id, uphold=body.decision == "uphold",
        note=body.reason, request_id=idempotency_key)))


@router.get("/v1/items/{item_id}/moderation", response_model=ModerationOut,
            responses=errors(*AUTHED, 404, s404="No moderation of this item you may see."))
async def item_moderation(item_id: ItemId, user: UserDep, backends: BackendsDep
                          ) -> ModerationOut:
    """An item's moderation: why it was removed, its appeal. Its author and operators only
    (operators also see the open reports)."""
    return moderation_out(await _reports(backends).get(user, item_id))
