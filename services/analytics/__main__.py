"""Entry point: ``python -m services.analytics`` (the sink and the query API)."""

from __future__ import annotations

from planetkit.runner import run_service
from planetkit.settings import load_settings
from services.analytics.bootstrap import NAME, build
from services.analytics.settings import AnalyticsSettings

if __name__ == "__main__":
    settings = load_settings(AnalyticsSettings)
    run_service(NAME, lambda: build(settings), settings)
