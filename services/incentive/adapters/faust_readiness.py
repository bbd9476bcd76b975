"""When the Faust app can answer correctly: tables recovered and every partition held.

Faust's own "Worker ready" comes after the first recovery only; a later rebalance pauses the
streams and recovers the tables again without telling anyone. So readiness is read from the
app's state each time it is asked:

- the first table recovery has completed (``tables.recovery.completed``): before it, every
  table is empty or partial, whatever the store;
- no rebalance and no recovery is in progress (``app.rebalancing`` is set when partitions
  are revoked and cleared by Faust at the end of the recovery that follows the assignment;
  ``app.in_recovery`` while the changelogs are being read);
- this worker holds every partition of every source topic: the read API answers from the
  local tables, which cover every creator only while it owns them all (the chart runs one
  worker; a second one joining makes both NOT_SERVING rather than half right).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TableReadiness:
    """A predicate over a Faust app: True only while its tables answer for everything."""

    def __init__(self, app: Any, source_partitions: Mapping[str, int]) -> None:
        self._app = app
        self._wanted = frozenset(
            (topic, p) for topic, n in source_partitions.items() for p in range(n)
        )

    def __call__(self) -> bool:
        """Whether the app has recovered its tables and holds every source partition."""
        app = self._app
        if not app.tables.recovery.completed.is_set():
            return False
        if app.rebalancing or app.in_recovery:
            return False
        # The consumer exists once the first recovery completed (checked above).
        held = {(tp.topic, tp.partition) for tp in app.consumer.assignment()}
        return self._wanted <= held
