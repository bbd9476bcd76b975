"""ReplayGuard: a record Faust seeks back to is skipped while its partition stays assigned."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from services.incentive.adapters.faust_transactions import ReplayGuard


@dataclass(frozen=True)
class Msg:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


class Signal:
    def __init__(self) -> None:
        self.receivers: list[Any] = []

    def connect(self, fun: Any) -> None:
        self.receivers.append(fun)

    def send(self, assigned: set[TP]) -> None:
        for r in self.receivers:
            asyncio.run(r(self, assigned))


class App:
    def __init__(self) -> None:
        self.on_partitions_assigned = Signal()


def test_processed_offsets_are_skipped_until_their_partition_is_taken_away() -> None:
    app = App()
    guard = ReplayGuard(app)
    for offset in range(5):
        guard.mark(Msg("posts", 0, offset))
    guard.mark(Msg("posts", 1, 7))
    assert guard.seen(Msg("posts", 0, 4)) and not guard.seen(Msg("posts", 0, 5))
    app.on_partitions_assigned.send({TP("posts", 0), TP("posts", 1)})  # kept: still skipped
    assert guard.seen(Msg("posts", 0, 3)) and guard.seen(Msg("posts", 1, 7))
    app.on_partitions_assigned.send({TP("posts", 1)})  # partition 0 revoked: its transaction
    assert not guard.seen(Msg("posts", 0, 3))           # was aborted, so process again
    assert guard.seen(Msg("posts", 1, 7)) and not guard.seen(Msg("kyc", 1, 0))
