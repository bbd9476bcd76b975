"""One directory of per-partition stores for one topic: ``<root>/<topic>/p<partition>``,
each opened on first use (the posts, the author index, the topic index and the
interactions all keep their partitions this way)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Generic, Protocol, TypeVar


class _Closable(Protocol):
    def close(self) -> None:
        """Flush and close."""


S = TypeVar("S", bound=_Closable)


class PartitionDirs(Generic[S]):
    """The stores of one topic's partitions under one directory, opened as partitions arrive."""

    def __init__(self, root: Path, topic: str, open_store: Callable[[Path, int], S]) -> None:
        self.root = root / topic
        self._open_store = open_store
        self._open: dict[int, S] = {}

    def store(self, partition: int) -> S:
        """The store of ``partition``, opened (or created) on first use."""
        store = self._open.get(partition)
        if store is None:
            store = self._open_store(self.root / f"p{partition}", partition)
            self._open[partition] = store
        return store

    def close(self) -> None:
        """Close every open store."""
        for store in self._open.values():
            store.close()
        self._open.clear()
