"""Fixtures: a gateway app over in-memory backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from gateway_fakes import FakeContent, FakeEvents, FakeIncentive, Fakes, client_for, settings


@pytest.fixture
def fakes() -> Fakes:
    """Fresh in-memory backends."""
    return Fakes(FakeContent(), FakeIncentive(), FakeEvents())


@pytest.fixture
def client(fakes: Fakes) -> Iterator[TestClient]:
    """A client of an app over ``fakes``."""
    with client_for(settings(), fakes) as c:
        yield c
