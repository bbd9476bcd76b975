"""One-line structured logs, configured once per process by the runner.

Every record becomes one line: JSON (for log shippers) or ``key=value`` (for people
reading a terminal). Fields passed as ``extra={...}`` become keys of their own, so a
line can be filtered on ``partitions`` or ``ids`` without parsing its message.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["json", "kv"]
# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def _fields(record: logging.LogRecord) -> dict[str, object]:
    fields: dict[str, object] = {
        "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key, value in vars(record).items():
        if key not in _STANDARD and not key.startswith("_"):
            fields[key] = value
    if record.exc_info:
        fields["exc"] = logging.Formatter().formatException(record.exc_info)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(record), default=str, separators=(",", ":"))


class KeyValueFormatter(logging.Formatter):
    """``ts=… level=info logger=… msg="…" key=value`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        parts = []
        for key, value in _fields(record).items():
            text = (
                value
                if isinstance(value, str)
                else json.dumps(value, default=str, separators=(",", ":"))
            )
            if not text or any(c in text for c in ' "=\n\t'):
                text = json.dumps(text)  # quoted and escaped: still one line
            parts.append(f"{key}={text}")
        return " ".join(parts)


def configure_logging(fmt: LogFormat = "kv", level: str = "INFO") -> None:
    """Send every logger's records to stderr, one structured line each (replaces handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
