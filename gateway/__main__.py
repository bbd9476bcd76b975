"""Entry point: ``python -m gateway``."""

from __future__ import annotations

import uvicorn

from gateway.access_log import uvicorn_log_config
from gateway.app import create_app
from gateway.settings import GatewaySettings
from planetkit.settings import load_settings


def main() -> None:
    """Serve the gateway with uvicorn until SIGTERM (uvicorn drains connections)."""
    settings = load_settings(GatewaySettings)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # The gateway decides whom to believe about client addresses (trusted_proxies);
        # uvicorn's proxy_headers would rewrite the peer before the app could check it.
        proxy_headers=False,
        # gateway.access_log writes paths without query strings instead.
        access_log=False,
        log_config=uvicorn_log_config(),
        log_level="info",
        # Frames beyond this are refused by the server before the app sees them.
        ws_max_size=settings.ws_max_message_bytes,
        server_header=False,
    )


if __name__ == "__main__":
    main()
