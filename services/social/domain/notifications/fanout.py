"""The progress of a post's fan-out to its creator's bell subscribers, as stored (pure).

Subscribers are visited in key order (by follower id); each write batch of notifications
also records the last subscriber it covered, so a restart resumes after it and a finished
fan-out is never run again: no subscriber is skipped and none is notified twice.
"""

from __future__ import annotations

from dataclasses import dataclass

_DONE = b"\x01"
_RUNNING = b"\x00"


@dataclass(frozen=True, slots=True)
class FanoutProgress:
    """``after``: the last subscriber covered ("" before the first); ``done``: all covered."""

    after: str = ""
    done: bool = False
    notified: int = 0


def progress_value(progress: FanoutProgress) -> bytes:
    """The stored form: a done flag, the count notified (8 bytes), then the last subscriber."""
    return ((_DONE if progress.done else _RUNNING) + progress.notified.to_bytes(8, "big")
            + progress.after.encode())


def progress_from_value(raw: bytes | None) -> FanoutProgress:
    """The progress a stored value holds (a fresh one when absent); ValueError if malformed."""
    if raw is None:
        return FanoutProgress()
    if len(raw) < 9 or raw[:1] not in (_DONE, _RUNNING):
        raise ValueError("not a fan-out progress value")
    return FanoutProgress(after=raw[9:].decode(), done=raw[:1] == _DONE,
                          notified=int.from_bytes(raw[1:9], "big"))
