"""deploy/prometheus/alerts.yml: Prometheus accepts the rules, their unit tests pass, and every metric they
watch is one the service exposes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.integration.services import missing
from tests.unit.fakes import World

RULES = Path(__file__).parents[2] / "deploy" / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    if promtool is None:
        missing("promtool", "not installed (Debian's package prometheus; .ci/run installs it)")
    return subprocess.run([promtool, *args], cwd=RULES, capture_output=True, text=True, timeout=60, check=False)


def test_promtool_checks_the_alerting_rules() -> None:
    checked = _promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


def test_the_rules_unit_tests_pass() -> None:
    tested = _promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_metric_the_rules_watch_is_exposed() -> None:
    watched = set(re.findall(r"backup_collect_[a-z_]+", (RULES / "alerts.yml").read_text()))
    exposed = World().services.metrics.render().decode()
    assert watched >= {"backup_collect_systems", "backup_collect_http_responses_total"}
    for name in watched:
        assert re.search(rf"^{name}[{{ ]", exposed, re.MULTILINE), name
