"""What every test gets: the process's logging as it was before the test.

Tests run CLI commands in process (`app.cli.main`), and a command configures the root logger for the
process, as it must in production. Without this, the first such test would leave its handler and level to
every later test, whose captured stderr would then hold other tests' log lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from app.logs import StderrHandler


@pytest.fixture(autouse=True)
def logging_as_before() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    # Only the handler a command installs: pytest adds and removes its own capture handlers per phase.
    for handler in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)
