"""``python -m services.incentive.reconcile --week 2026-W48``: print differences, exit 0/1/2/3."""

from __future__ import annotations

import argparse
import asyncio
import sys

from planetkit.settings import KafkaSettings, TopicSettings, load_settings
from services.incentive.reconcile.loader import BadInput
from services.incentive.reconcile.run import reconcile
from services.incentive.scoring.fact_log import PoolTopics


def main(argv: list[str] | None = None) -> int:
    """Run one reconciliation; the exit code says how it went."""
    parser = argparse.ArgumentParser(
        prog="python -m services.incentive.reconcile",
        description="Recompute a settled week's counted engagement in ClickHouse SQL and "
                    "check its records (exit 0: no difference, 1: differences, 2: bad input "
                    "(unknown or unsettled week, missing topic), 3: could not run).")
    parser.add_argument("--week", required=True, help="ISO week, e.g. 2026-W48")
    parser.add_argument("--bootstrap", help="Kafka (default: $KAFKA_BOOTSTRAP_SERVERS)")
    parser.add_argument("--suffix", help="topic suffix (default: $PLANET_TOPIC_SUFFIX)")
    parser.add_argument("--clickhouse-url",
                        help="a ClickHouse server (default: $CLICKHOUSE_URL; else chdb)")
    args = parser.parse_args(argv)
    bootstrap = args.bootstrap or load_settings(KafkaSettings).bootstrap_servers
    suffix = args.suffix if args.suffix is not None else load_settings(TopicSettings).topic_suffix
    try:
        report = asyncio.run(reconcile(bootstrap, PoolTopics.named(suffix), args.week,
                                       args.clickhouse_url))
    except BadInput as exc:
        print(f"reconcile: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except LookupError as exc:  # a pool topic does not exist (fact_log): nothing to read
        print(f"reconcile: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:  # the broker, the engine: no verdict either way
        print(f"reconcile: could not run: {type(exc).__name__}: {_one_line(str(exc))}",
              file=sys.stderr)
        return 3
    for line in report.differences:
        print(f"DIFF {_one_line(line)}")
    print(report.reasons_line())
    print(report.summary())
    return 1 if report.differences else 0


def _one_line(text: str) -> str:
    """A difference or an error is one line, whatever a message it quotes holds."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


if __name__ == "__main__":
    sys.exit(main())
