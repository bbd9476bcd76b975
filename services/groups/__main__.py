"""Entry point: ``python -m services.groups``."""

from __future__ import annotations

from planetkit.runner import run_service
from planetkit.settings import load_settings
from services.groups.bootstrap import NAME, build
from services.groups.settings import GroupsSettings

if __name__ == "__main__":
    settings = load_settings(GroupsSettings)
    run_service(NAME, lambda: build(settings), settings)
