"""What can go wrong in a use case, beyond an invalid post (``validation.InvalidPost``)."""

from __future__ import annotations


class EventLogUnavailable(RuntimeError):
    """The event log did not acknowledge an append; nothing was applied."""


class NotServing(RuntimeError):
    """This replica cannot answer now (restoring, rebalancing, or the partition is moving)."""


class NotPublisher(RuntimeError):
    """The creator may not publish (no open creator identity, or it is suspended)."""


class IdentityCheckUnavailable(RuntimeError):
    """The social service could not say whether the creator may publish; nothing was done."""
