"""Entry point: ``python -m services.incentive.engagement``."""

from __future__ import annotations

from planetkit.runner import run_service
from planetkit.settings import load_settings
from services.incentive.engagement.bootstrap import NAME, build
from services.incentive.engagement.settings import AggregatorSettings

if __name__ == "__main__":
    settings = load_settings(AggregatorSettings)
    run_service(NAME, lambda: build(settings), settings)
