"""Why a command is refused: a stable code, a message for the end user, and the details a
client needs to act (when to retry, until when a mute runs, which rule or right).

The gateway maps each code to an HTTP status (``HTTP_STATUS``) and the servicer to a gRPC
status (``GRPC_STATUS``, by name so this module imports no gRPC); ``flood`` and ``slow_mode``
are 429 with ``Retry-After: retry_after_s``. Codes are part of the API: never rename one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc
from services.groups.domain.rights import Right


class Code(StrEnum):
    """Every refusal code."""

    INVALID = "invalid"  # a field breaks a rule (the message says which)
    EMPTY = "empty"  # a message with no text and no attachment
    TOO_LONG = "too_long"  # a text over its limit
    NOT_FOUND = "not_found"  # no such group (or a private group the caller is not in)
    ALREADY_EXISTS = "already_exists"  # the group id is taken
    NOT_CREATOR = "not_creator"  # creating a group needs an open creator identity
    NOT_MEMBER = "not_member"  # the actor is not a member
    TARGET_NOT_MEMBER = "target_not_member"  # the member acted on is not one
    ALREADY_MEMBER = "already_member"
    BANNED = "banned"  # the actor is banned from the group
    TARGET_BANNED = "target_banned"  # adding or approving a banned user
    MUTED = "muted"  # the actor is muted until until_ms
    SLOW_MODE = "slow_mode"  # retry_after_s until the next message is accepted
    FLOOD = "flood"  # the burst is spent; retry_after_s until one token is back
    FILTERED = "filtered"  # a block filter rule hit (rule)
    FORBIDDEN = "forbidden"  # the role lacks the right (missing_right) or rank
    GROUP_CLOSED = "group_closed"  # closed by an operator
    MEMBER_LIMIT = "member_limit"
    JOIN_MODE = "join_mode"  # this way in is not open (invite only, requests only, ...)
    LINK_NOT_FOUND = "link_not_found"
    LINK_EXPIRED = "link_expired"
    LINK_USED_UP = "link_used_up"
    LINK_REVOKED = "link_revoked"
    NO_REQUEST = "no_request"  # no pending join request
    REQUEST_PENDING = "request_pending"  # a request is already waiting
    NO_SUCH_MESSAGE = "no_such_message"
    NOT_AUTHOR = "not_author"  # editing someone else's message
    NOT_HELD = "not_held"  # deciding a message that is not held
    PIN_LIMIT = "pin_limit"
    REACTION_LIMIT = "reaction_limit"
    OWNER_MUST_TRANSFER = "owner_must_transfer"  # the owner leaves only after a transfer
    NOT_CLOSED = "not_closed"  # an appeal of an open group
    APPEAL_EXISTS = "appeal_exists"  # one appeal per closure
    NO_APPEAL = "no_appeal"  # deciding an appeal nobody made


HTTP_STATUS: dict[Code, int] = {
    Code.INVALID: 422, Code.EMPTY: 422, Code.TOO_LONG: 413, Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409, Code.NOT_CREATOR: 403, Code.NOT_MEMBER: 403,
    Code.TARGET_NOT_MEMBER: 404, Code.ALREADY_MEMBER: 409, Code.BANNED: 403,
    Code.TARGET_BANNED: 409, Code.MUTED: 403, Code.SLOW_MODE: 429, Code.FLOOD: 429,
    Code.FILTERED: 422, Code.FORBIDDEN: 403, Code.GROUP_CLOSED: 403, Code.MEMBER_LIMIT: 409,
    Code.JOIN_MODE: 403, Code.LINK_NOT_FOUND: 404, Code.LINK_EXPIRED: 410,
    Code.LINK_USED_UP: 410, Code.LINK_REVOKED: 410, Code.NO_REQUEST: 404,
    Code.REQUEST_PENDING: 409, Code.NO_SUCH_MESSAGE: 404, Code.NOT_AUTHOR: 403,
    Code.NOT_HELD: 409, Code.PIN_LIMIT: 409, Code.REACTION_LIMIT: 409,
    Code.OWNER_MUST_TRANSFER: 409, Code.NOT_CLOSED: 409, Code.APPEAL_EXISTS: 409,
    Code.NO_APPEAL: 409,
}

_GRPC_BY_HTTP = {
    403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "FAILED_PRECONDITION",
    410: "FAILED_PRECONDITION", 413: "INVALID_ARGUMENT", 422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
}
GRPC_STATUS: dict[Code, str] = {code: _GRPC_BY_HTTP[http] for code, http in HTTP_STATUS.items()}
# An existing group id is ALREADY_EXISTS, not a failed precondition.
GRPC_STATUS[Code.ALREADY_EXISTS] = "ALREADY_EXISTS"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused command: nothing is appended."""

    code: Code
    message: str
    retry_after_s: int = 0
    until_ms: int = 0
    missing_right: Right | None = None
    rule: ev.FilterRule | None = None

    @property
    def http_status(self) -> int:
        """The HTTP status the gateway answers with."""
        return HTTP_STATUS[self.code]

    def pb(self) -> rpc.Refusal:
        """The API form, carried in the gRPC status details."""
        out = rpc.Refusal(code=self.code.value, message=self.message,
                          retry_after_s=self.retry_after_s, until_ms=self.until_ms)
        if self.missing_right is not None:
            out.missing_right = self.missing_right
        if self.rule is not None:
            out.rule.CopyFrom(self.rule)
        return out
