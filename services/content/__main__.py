"""Entry point: ``python -m services.content``."""

from __future__ import annotations

from planetkit.runner import run_service
from planetkit.settings import load_settings
from services.content.bootstrap import NAME, build
from services.content.settings import ContentSettings

if __name__ == "__main__":
    settings = load_settings(ContentSettings)
    run_service(NAME, lambda: build(settings), settings)
