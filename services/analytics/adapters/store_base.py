"""What both store backends share: close once, refuse calls after that, and ``with``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from services.analytics.domain.store import AnalyticsStoreError


class ClosableStore(ABC):
    """What both backends share: close once, refuse calls after that, and ``with`` support."""

    _closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise AnalyticsStoreError("the store is closed")

    def close(self) -> None:
        """Release the engine or connection; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._release()

    @abstractmethod
    def _release(self) -> None:
        """Free the backend's engine sessions or connection (called once, by ``close``)."""
