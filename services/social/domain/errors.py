"""What a social use case can refuse, each mapped to one gRPC status by the servicer."""

from __future__ import annotations


class SocialError(Exception):
    """A refusal whose message is written for the end user."""


class Invalid(SocialError):
    """The request breaks a rule (INVALID_ARGUMENT)."""


class AlreadyExists(SocialError):
    """The thing to create exists, or the handle is taken (ALREADY_EXISTS)."""


class NotFound(SocialError):
    """No such identity, handle or sanction (NOT_FOUND)."""


class Precondition(SocialError):
    """The account is not in a state that allows this (FAILED_PRECONDITION)."""


class Denied(SocialError):
    """The caller may not do this (PERMISSION_DENIED)."""


class EventLogUnavailable(RuntimeError):
    """The log did not acknowledge an append; nothing was applied."""


class NotServing(RuntimeError):
    """The service is restoring its stores; retry."""
