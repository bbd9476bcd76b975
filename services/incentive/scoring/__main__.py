"""Entry point: ``python -m services.incentive.scoring``."""

from __future__ import annotations

from planetkit.runner import run_service
from planetkit.settings import load_settings
from services.incentive.scoring.bootstrap import NAME, build
from services.incentive.scoring.settings import ScoringSettings

if __name__ == "__main__":
    settings = load_settings(ScoringSettings)
    run_service(NAME, lambda: build(settings), settings)
