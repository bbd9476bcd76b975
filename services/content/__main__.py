"""Entry point: ``python -m services.content``."""

from __future__ import annotations

import asyncio
import logging
import signal

from planetkit.settings import load_settings
from services.content.bootstrap import start
from services.content.settings import ContentSettings


async def _main() -> None:
    settings = load_settings(ContentSettings)
    service = await start(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await service.stop()


def main() -> None:
    """Run the content service until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(_main())


if __name__ == "__main__":
    main()
