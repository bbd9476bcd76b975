"""Who is calling a gRPC service: the calling service and the end user it acts for.

Every gRPC call between Planet services carries a short-lived assertion signed by the calling
service (see the interceptor in this module). The interceptor verifies it and makes the
verified caller available to the handler through ``current_caller()``; each service then
decides authorization itself from it (defence in depth, not only at the gateway).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified caller: the service that signed the call and the end user it acts for."""

    service: str  # the calling service's identity, e.g. "gateway"
    user_id: str  # the end user the call is made for; "" when the service acts for itself
    roles: frozenset[str]  # the end user's roles, as the gateway verified them

    def has_any_role(self, roles: frozenset[str]) -> bool:
        """True when the end user holds at least one of ``roles``."""
        return bool(self.roles & roles)


_current: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "planet_caller", default=None
)


def current_caller() -> Caller:
    """The verified caller of the RPC being handled; RuntimeError outside a verified call."""
    caller = _current.get()
    if caller is None:
        raise RuntimeError("no verified caller: the handler runs outside the auth interceptor")
    return caller


def bind_caller(caller: Caller | None) -> contextvars.Token[Caller | None]:
    """Set the verified caller for the current handler (used by the interceptor and tests)."""
    return _current.set(caller)


def reset_caller(token: contextvars.Token[Caller | None]) -> None:
    """Undo ``bind_caller``."""
    _current.reset(token)
