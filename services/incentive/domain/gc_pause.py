"""Pausing CPython's cyclic garbage collector while a settlement builds its result objects.

A week's result holds about 1.5 million small objects (item shares, discounts) and their
canonical encoding builds as many lists. Each allocation of a container counts towards the
cyclic collector's thresholds, so building them triggers collections that rescan the whole
heap (the week's million consumer values included) again and again: at 10 M events that was
more than half of the time of stages 4 and 5. Nothing built here forms reference cycles
(frozen dataclasses of ints, strings and tuples), so reference counting frees everything
anyway; the collector is switched back on afterwards if it was on before. Results do not
depend on it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic garbage collector for the block; restore its previous state."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
