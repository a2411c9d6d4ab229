"""Logging of `serve`: every line through the standard `logging` module, on stderr, `text` or `json`.

uvicorn's loggers propagate to the root handler configured here (its own access log is off: the HTTP
edge writes one line per request with more fields). A line written while a request is served carries its
`request_id`. Fields come from a record's `fields` mapping (`extra={"fields": {...}}`); nothing else of a
request (no header, no body) is ever handed to a formatter.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
from datetime import UTC, datetime
from typing import Any

from adapters.http.observe import request_id_var

_BARE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:+,[]")
# C0, DEL, C1 and the Unicode line and paragraph separators: what a client could use to start a line of
# its own or to send escape sequences to the operator's terminal.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(text: str) -> str:
    """`text` with every control character written as a visible escape (`\\n`, `\\x1b`, `\\u2028`)."""
    return _CONTROL.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
    if named is not None:
        return named
    return f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = dict(getattr(record, "fields", None) or {})
    current = request_id_var.get()
    if current is not None:
        fields.setdefault("request_id", current)
    return fields


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`2026-04-12T02:15:00.123Z INFO logger: message key=value …`; values with spaces are JSON-quoted."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_time(record)} {record.levelname} {record.name}: {escape(record.getMessage())}"
        for key, value in _fields(record).items():
            line += f" {key}={_text(value)}"
        if record.exc_info:
            # The traceback keeps its lines; what an exception's message quotes is escaped within them.
            trace = self.formatException(record.exc_info)
            line += "\n" + "\n".join(escape(part) for part in trace.split("\n"))
        return line


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return "[" + ",".join(escape(str(v)) for v in value) + "]"
    text = str(value)
    # json.dumps (ASCII only) escapes every control character, DEL and C1 included.
    return text if text and set(text) <= _BARE else json.dumps(text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `time`, `level`, `logger`, `message`, the fields, `exception` if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= _fields(record)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # ASCII only: every control character (DEL, C1, U+2028 too) is written as a \u escape.
        return json.dumps(line, default=str)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": TextFormatter, "json": JsonFormatter}


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each line to the `sys.stderr` of that moment, not the one at configuration: a CLI command run
    in process (the tests do) must not leave the root logger writing to a stream since closed."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """StreamHandler's constructor sets a stream; ours is always the current stderr."""


def configure(log_format: str, level: int = logging.INFO) -> None:
    """One stderr handler on the root logger, in `log_format`; every logger propagates to it. Python's
    warnings go through it too, so that nothing else writes to stderr."""
    logging.captureWarnings(True)
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"main": {"()": FORMATTERS[log_format]}},
            "handlers": {"stderr": {"()": StderrHandler, "formatter": "main"}},
            "root": {"handlers": ["stderr"], "level": level},
            "loggers": {
                name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
            },
        }
    )
