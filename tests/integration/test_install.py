"""The installs the README gives, run as a newcomer would: the first command, and the production install
(README, "Production"), each on a copy of the project in a temporary directory."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

from tests.integration.live import ServeProcess
from tests.integration.services import free_port, missing

ROOT = Path(__file__).resolve().parents[2]
# What a wheel of the project is built from (pyproject.toml's build section): no tests, no bench.
PROJECT = ("pyproject.toml", "uv.lock", "README.md", "src")
DEV_ONLY = ("pytest", "ruff", "mypy", "hypothesis", "lint-imports", "weed", "just")


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        missing("uv", "neither $UV nor uv on PATH")
    return found


def copy_of_project(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    return target


def clean_env(**extra: str) -> dict[str, str]:
    """This machine's environment without the test run's venv and settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH"} and not k.startswith(("BACKUP_", "AWS_"))
    }
    return env | extra


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result


def assert_no_dev_tools(venv: Path) -> None:
    scripts = {p.name for p in (venv / "bin").iterdir()}
    assert "backup-collect" in scripts
    assert scripts.isdisjoint(DEV_ONLY), scripts & set(DEV_ONLY)
    probe = subprocess.run(
        [str(venv / "bin/python"), "-c", "import pytest"], capture_output=True, text=True, timeout=60, check=False
    )
    assert probe.returncode != 0
    assert "No module named 'pytest'" in probe.stderr


def test_the_readmes_first_command_runs_the_service_without_the_dev_tools(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    first = readme.split("```sh\n", 1)[1].splitlines()[0]
    # The command after `pip install uv`, as the README gives it; only the port is ours.
    command = first.split("&&", 1)[1].split("#", 1)[0].split()
    assert command == ["python3", "-m", "uv", "run", "--locked", "--no-dev", "backup-collect", "serve"]
    project = copy_of_project(tmp_path / "clone")
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [uv(), *command[3:], "--port", str(port)], cwd=project, env=clean_env(), stdout=out, stderr=out
        )
    served = ServeProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        served.wait_ready("/api/ready", timeout=240)
    finally:
        served.stop()
    assert (project / "var/backups.db").is_file()  # the embedded default, in the directory it ran in
    assert_no_dev_tools(project / ".venv")


def unit_settings(text: str) -> dict[str, list[str]]:
    """`Key=value` lines of a systemd unit, every value of a key in order (sections ignored)."""
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def environment_file(text: str) -> dict[str, str]:
    """What systemd's EnvironmentFile= sets from `text` (VARIABLE=value lines, `#` comments)."""
    pairs = (line.partition("=") for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, _, value in pairs}


def test_the_production_install_runs_as_the_systemd_unit_says_without_dev_tools_or_source(tmp_path: Path) -> None:
    """The README's production steps into a stand-in for /opt/backup-collect, then the shipped unit's own
    commands, environment file and stop signal (systemd itself is not running here)."""
    opt, state, etc = tmp_path / "opt/backup-collect", tmp_path / "var/lib/backup-collect", tmp_path / "etc"
    project = copy_of_project(opt)
    run([uv(), "sync", "--locked", "--no-dev", "--no-editable"], project, clean_env())
    assert_no_dev_tools(project / ".venv")
    shutil.rmtree(project / "src")  # installed as a package: the checkout is not needed to run it

    port = free_port()
    places = {"/opt/backup-collect": str(opt), "/var/lib/backup-collect": str(state), "/etc/backup-collect": str(etc)}
    unit = (ROOT / "deploy/backup-collect.service").read_text()
    env_text = (ROOT / "deploy/backup-collect.env").read_text()
    for shipped, here in places.items():
        unit, env_text = unit.replace(shipped, here), env_text.replace(shipped, here)
    unit = unit.replace("--port 8080", f"--port {port}")
    etc.mkdir()
    (etc / "env").write_text(env_text)
    (tmp_path / "backup-collect.service").write_text(unit)
    state.mkdir(parents=True)  # systemd's StateDirectory=

    if shutil.which("systemd-analyze") is None:
        missing("systemd-analyze", "not installed (Debian's package systemd; .ci/run installs it)")
    analyzed = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "backup-collect.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (analyzed.returncode, analyzed.stdout + analyzed.stderr) == (0, "")
    exposure = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(tmp_path / "backup-collect.service")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    level = float(exposure.rsplit("Overall exposure level for backup-collect.service: ", 1)[1].split()[0])
    assert level <= 2.0, exposure  # systemd calls up to 3.9 "OK"; hardened services score about 1-2

    keys = unit_settings(unit)
    assert keys["User"] == ["backup-collect"]
    assert keys["ProtectSystem"] == ["strict"]
    env = clean_env() | environment_file((etc / "env").read_text())
    assert env["BACKUP_DATA_DIR"] == str(state)
    cwd = Path(keys["WorkingDirectory"][0])
    (pre,) = keys["ExecStartPre"]
    assert run(shlex.split(pre), cwd, env).stdout.startswith("schema created at revision ")  # a new database
    (start,) = keys["ExecStart"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(shlex.split(start), cwd=cwd, env=env, stdout=out, stderr=out)
    served = ServeProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        served.wait_ready("/api/ready")
        assert (state / "backups.db").is_file()
        process.send_signal(getattr(signal, keys["KillSignal"][0]))
        process.wait(timeout=float(keys["TimeoutStopSec"][0]))
    finally:
        served.stop()
    # Stopped by the signal it was sent, as uvicorn does: systemd counts that as a clean stop.
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()
