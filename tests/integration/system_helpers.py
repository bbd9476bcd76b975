"""Helpers for the system tests: tokens, polling to a deadline, unique ids."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import httpx

T = TypeVar("T")


def mint(api: httpx.Client, user_id: str, roles: list[str] | None = None) -> dict[str, str]:
    """Authorization header for ``user_id`` (dev-mode token endpoint)."""
    resp = api.post("/v1/dev/tokens", json={"user_id": user_id, "roles": roles or []})
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def eventually(probe: Callable[[], T], accept: Callable[[T], bool], timeout_s: float = 60) -> T:
    """Poll ``probe`` until ``accept`` holds (no fixed sleeps); fail with the last value."""
    deadline = time.monotonic() + timeout_s
    last = probe()
    while not accept(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout_s}s; last value: {last!r}")
        time.sleep(0.3)
        last = probe()
    return last


def unique(prefix: str) -> str:
    """An id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
