"""Table keys of the read side. Ids are joined with "|", so an id holding "|" is refused."""

from __future__ import annotations

from planetkit.weeks import parse_iso_week

SEP = "|"


class UnreadableRecord(ValueError):
    """A record the read side cannot project (the agent dead-letters it with this reason)."""


def check_id(what: str, value: str) -> str:
    """``value`` when it is a usable id; UnreadableRecord naming ``what`` otherwise."""
    if not value:
        raise UnreadableRecord(f"{what} is empty")
    if SEP in value:
        raise UnreadableRecord(f"{what} {value!r} holds {SEP!r}")
    return value


def check_week(what: str, value: str) -> str:
    """``value`` when it is an ISO week ("2026-W05"); UnreadableRecord otherwise."""
    try:
        parse_iso_week(value)
    except ValueError as exc:
        raise UnreadableRecord(f"{what}: {exc}") from None
    return value


def key(*parts: str) -> str:
    """A table key from its parts."""
    return SEP.join(parts)
