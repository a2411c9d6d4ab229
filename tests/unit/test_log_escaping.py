"""Text and JSON log lines carry no raw control character of what a client sent (SPEC: operator surfaces)."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest

from app.logs import JsonFormatter, TextFormatter

INJECTED = "/api/health\n2026-12-04T03:00:00.000Z INFO backup_collect.access: POST /x 201\r\x1b[2J\x7f\x85\u2028\t"
RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def record(message: str, *args: object, fields: dict[str, object] | None = None) -> logging.LogRecord:
    made = logging.LogRecord("backup_collect.access", logging.INFO, __file__, 1, message, args, None)
    made.fields = fields or {}
    return made


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()])
def test_a_path_a_field_and_a_list_from_a_request_stay_on_one_line_escaped(formatter: logging.Formatter) -> None:
    line = formatter.format(
        record("%s %s %s", "GET", INJECTED, 404, fields={"path": INJECTED, "pruned": [INJECTED], "status": 404})
    )
    assert not RAW_CONTROL.search(line), line
    if isinstance(formatter, JsonFormatter):
        assert json.loads(line)["path"] == INJECTED


def test_text_lines_show_each_control_character_as_a_visible_escape() -> None:
    line = TextFormatter().format(record("%s", "a\nb\rc\td\x1be\x7ff\x85g\u2028h"))
    assert line.endswith(r"a\nb\rc\td\x1be\x7ff\x85g\u2028h")


def test_an_exception_keeps_its_traceback_lines_and_escapes_what_its_message_quotes() -> None:
    try:
        raise ValueError("bad path /x\x1b[31m")
    except ValueError:
        made = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = TextFormatter().format(made)
    assert "Traceback" in text.splitlines()[1]
    assert "\x1b" not in text
    assert r"/x\x1b[31m" in text
