"""Entry point: ``python -m services.incentive`` (the Faust worker and the gRPC API)."""

from __future__ import annotations

from planetkit.runner import run_service
from planetkit.settings import load_settings
from services.incentive.bootstrap import NAME, build
from services.incentive.settings import IncentiveSettings

if __name__ == "__main__":
    settings = load_settings(IncentiveSettings)
    run_service(NAME, lambda: build(settings), settings)
