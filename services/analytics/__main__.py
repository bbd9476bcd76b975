"""Entry point: ``python -m services.analytics``."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from planetkit.analytics import AnalyticsStoreError
from planetkit.settings import load_settings
from services.analytics.bootstrap import start
from services.analytics.settings import AnalyticsSettings

log = logging.getLogger("services.analytics")


async def _main() -> int:
    settings = load_settings(AnalyticsSettings)
    try:
        service = await start(settings)
    except AnalyticsStoreError as exc:
        # Most often a second sink on the same chdb directory: the message says what to do.
        print(f"analytics: cannot open the store: {exc}", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stopped = asyncio.create_task(stop.wait())
    # A sink that dies (Kafka fatal error) ends the process so its supervisor restarts it.
    await asyncio.wait({stopped, service.sink_task}, return_when=asyncio.FIRST_COMPLETED)
    failed = service.sink_task.done() and not stop.is_set()
    if failed and (error := service.sink_task.exception()) is not None:
        log.error("analytics sink stopped: %r", error, exc_info=error)
    stopped.cancel()
    await service.stop()
    return 1 if failed else 0


def main() -> None:
    """Run the analytics sink until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    raise SystemExit(asyncio.run(_main()))


if __name__ == "__main__":
    main()
