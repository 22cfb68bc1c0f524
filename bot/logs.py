"""Structured (JSON) logs with a correlation id per turn, and never any case data.

Log calls pass only identifiers (correlation id, verb, command name, outcome); the formatter
drops the exception text of errors so that nothing a user typed can reach the log through an
exception message, keeping the exception type and the traceback's code locations.
"""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
import traceback
from datetime import UTC, datetime

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")


def new_correlation_id() -> str:
    """Short enough to read out over the phone, unique enough to find in the logs."""
    return secrets.token_hex(4)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None) or correlation_id.get(),
        }
        for key in ("command", "verb", "outcome", "status", "activity_type"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
            frames = traceback.extract_tb(record.exc_info[2])
            entry["stack"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in frames]
        return json.dumps(entry)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "alembic", "urllib3", "msrest"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
