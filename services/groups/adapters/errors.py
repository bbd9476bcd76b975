"""The service's one non-domain refusal: not ready to answer correctly yet."""

from __future__ import annotations


class NotServing(Exception):
    """Restoring, or re-reading a partition after an append of unknown outcome: UNAVAILABLE,
    the caller retries (with the same request id for a command)."""
