"""Entry point: ``python -m gateway``."""

from __future__ import annotations

import uvicorn

from gateway.app import create_app
from gateway.settings import GatewaySettings
from planetkit.settings import load_settings


def main() -> None:
    """Serve the gateway with uvicorn until SIGTERM (uvicorn drains connections)."""
    settings = load_settings(GatewaySettings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                proxy_headers=True, log_level="info")


if __name__ == "__main__":
    main()
