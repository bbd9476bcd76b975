"""A groups refusal as an HTTP answer: the status its stable code maps to (docs/groups.md),
with the details a client acts on (``Retry-After`` for slow mode and floods, a mute's end,
the filter rule hit, the missing right).

The table repeats services/groups/domain/refusals.py's ``HTTP_STATUS`` (the gateway imports
no service); a code this gateway does not know yet falls back on the gRPC status.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import GatewayError
from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc

HTTP_STATUS: dict[str, int] = {
    "invalid": 422, "empty": 422, "too_long": 413, "not_found": 404, "already_exists": 409,
    "not_creator": 403, "not_member": 403, "target_not_member": 404, "already_member": 409,
    "banned": 403, "target_banned": 409, "muted": 403, "slow_mode": 429, "flood": 429,
    "filtered": 422, "forbidden": 403, "group_closed": 403, "member_limit": 409,
    "join_mode": 403, "link_not_found": 404, "link_expired": 410, "link_used_up": 410,
    "link_revoked": 410, "no_request": 404, "request_pending": 409, "no_such_message": 404,
    "not_author": 403, "not_held": 409, "pin_limit": 409, "reaction_limit": 409,
    "owner_must_transfer": 409, "not_closed": 409, "appeal_exists": 409, "no_appeal": 409,
}
_BY_GRPC = {"PERMISSION_DENIED": 403, "NOT_FOUND": 404, "FAILED_PRECONDITION": 409,
            "INVALID_ARGUMENT": 422, "RESOURCE_EXHAUSTED": 429, "ALREADY_EXISTS": 409}


def right_name(right: int) -> str:
    """An admin right's API name ("pin", "ban", ...)."""
    try:
        return ev.AdminRight.Name(right).removeprefix("ADMIN_RIGHT_").lower()  # type: ignore[arg-type]
    except ValueError:
        return "other"


def rule_out(rule: ev.FilterRule) -> dict[str, str]:
    """A filter rule's API form."""
    kind = ev.FilterKind.Name(rule.kind).removeprefix("FILTER_KIND_").lower()
    action = ev.FilterAction.Name(rule.action).removeprefix("FILTER_ACTION_").lower()
    return {"kind": kind, "pattern": rule.pattern, "action": action}


class GroupRefused(GatewayError):
    """The groups service refused the command or read; ``body`` is the whole error body."""

    def __init__(self, refusal: rpc.Refusal, grpc_status: str) -> None:
        super().__init__(refusal.message or refusal.code)
        self.status = HTTP_STATUS.get(refusal.code, _BY_GRPC.get(grpc_status, 403))
        self.code = refusal.code
        self.retry_after_s = max(1, refusal.retry_after_s) if self.status == 429 else 0
        body: dict[str, Any] = {"error": self.message, "code": refusal.code}
        if self.status == 429:
            body["retry_after_s"] = self.retry_after_s
        if refusal.until_ms:
            body["until_ms"] = refusal.until_ms
        if refusal.missing_right:
            body["missing_right"] = right_name(refusal.missing_right)
        if refusal.HasField("rule"):
            body["rule"] = rule_out(refusal.rule)
        self.body = body

    @property
    def headers(self) -> dict[str, str]:
        """Retry-After for 429s."""
        return {"Retry-After": str(self.retry_after_s)} if self.status == 429 else {}
