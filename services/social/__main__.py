"""Entry point: ``python -m services.social``."""

from __future__ import annotations

from planetkit.runner import run_service
from planetkit.settings import load_settings
from services.social.bootstrap import NAME, build
from services.social.settings import SocialSettings

if __name__ == "__main__":
    settings = load_settings(SocialSettings)
    run_service(NAME, lambda: build(settings), settings)
