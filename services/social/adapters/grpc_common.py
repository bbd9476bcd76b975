"""What every part of the social servicer shares: status mapping, the holder and operator
checks, and ``run`` (a use case's refusals become gRPC statuses, never a 500).

The servicer is split by area (``grpc_server`` for identities and follows,
``grpc_relations``, ``grpc_track_record``, ``grpc_notifications``); each area's module
holds its RPC methods as a mixin and its part of the method policy, and ``grpc_server``
composes them into the one ``SocialService``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from planet.social.v1 import social_service_pb2 as rpc
from planetkit.grpc_health import abort
from planetkit.service_auth import Caller
from services.social.domain.errors import (
    AlreadyExists,
    Denied,
    EventLogUnavailable,
    Invalid,
    NotFound,
    NotServing,
    Precondition,
    SocialError,
)

SERVICE_NAME = rpc.DESCRIPTOR.services_by_name["SocialService"].full_name
OPERATOR_ROLES = frozenset({"operator"})
Context = grpc.aio.ServicerContext[Any, Any]
T = TypeVar("T")

_CODES: list[tuple[type[Exception], grpc.StatusCode]] = [
    (Invalid, grpc.StatusCode.INVALID_ARGUMENT),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (Precondition, grpc.StatusCode.FAILED_PRECONDITION),
    (Denied, grpc.StatusCode.PERMISSION_DENIED),
    (NotServing, grpc.StatusCode.UNAVAILABLE),
    (EventLogUnavailable, grpc.StatusCode.UNAVAILABLE),
]


def status_of(exc: Exception) -> grpc.StatusCode:
    """The status a refusal maps to (INTERNAL for none: a bug, never a client's fault)."""
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def holder(caller: Caller, user_id: str) -> None:
    """Denied unless ``user_id`` is the end user the call is made for."""
    if not caller.user_id or caller.user_id != user_id:
        raise Denied("only the account holder may do this: user_id must be the end user the "
                     "call is made for")


def is_operator(caller: Caller) -> bool:
    """Whether the end user holds the operator role."""
    return bool(caller.user_id) and caller.has_any_role(OPERATOR_ROLES)


def operator(caller: Caller) -> None:
    """Denied unless the end user is an operator."""
    if not is_operator(caller):
        raise Denied("only an operator may do this")


async def run(context: Context, call: Callable[[], Awaitable[T]]) -> T:
    """Await ``call``; a social refusal aborts the RPC with its status and message."""
    try:
        return await call()
    except (SocialError, NotServing, EventLogUnavailable) as exc:
        await abort(context, status_of(exc), str(exc))
