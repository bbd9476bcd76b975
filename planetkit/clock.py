"""The wall clock, in the one unit every event uses: UTC epoch milliseconds.

Composition roots pass this function to whatever needs the time, so pure code and
tests get a clock they control instead of reading it themselves.
"""

from __future__ import annotations

import time


def now_ms() -> int:
    """Now, as UTC epoch milliseconds."""
    return time.time_ns() // 1_000_000
