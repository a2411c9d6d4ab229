"""The container path's faults: a container not ready in time, an image build that fails, a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from tests.containers.services import ContainerNotReady, OnHost, image, on_host, running
from tests.integration.seaweedfs import weed_binary
from tests.integration.services import free_port, missing

HERE = Path(__file__).parent


def docker(*args: str, host: str | None = None) -> str:
    env = os.environ | ({"DOCKER_HOST": host} if host else {})
    return subprocess.run(["docker", *args], env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def as_root() -> None:
    if os.geteuid() != 0:
        missing("root (debootstrap and dockerd need it)", f"running as uid {os.geteuid()}")


def test_a_container_not_ready_in_time_fails_with_its_last_log_lines_and_is_removed() -> None:
    port = free_port()
    never = (
        on_host(OnHost(image("redis")))
        .with_command(["--port", str(port), "--bind", "127.0.0.1", "--save", ""])
        .waiting_for(LogMessageWaitStrategy("a line redis never prints").with_startup_timeout(2))
    )
    with pytest.raises(ContainerNotReady) as failure, running(never, timeout=2):
        pytest.fail("a container that never became ready was handed out")
    message = str(failure.value)
    assert f"{image('redis')} not ready within 2 s" in message
    # Redis's own log, from inside the container: it did start, on the port it was told.
    assert "Ready to accept connections" in message
    assert never._container is not None
    assert never._container.id not in docker("ps", "-aq", "--no-trunc").split()


def build_from_a_closed_mirror(cache: Path) -> tuple[str, subprocess.CompletedProcess[str]]:
    """build-images into `cache` from a mirror where nothing listens: debootstrap fails at once."""
    closed = f"http://127.0.0.1:{free_port()}/debian"
    env = os.environ | {"BACKUP_IMAGE_CACHE": str(cache), "BACKUP_IMAGE_MIRROR": closed, "WEED": str(weed_binary())}
    return closed, subprocess.run([HERE / "build-images"], env=env, capture_output=True, text=True, timeout=300)


def test_an_image_build_that_fails_names_its_package_step(as_root: None, tmp_path: Path) -> None:
    closed, build = build_from_a_closed_mirror(tmp_path)
    assert build.returncode != 0
    assert "FAILED at step: debootstrap " in build.stderr
    assert f" from {closed} with packages postgresql,redis-server" in build.stderr
    assert "last lines of its log" in build.stderr
    # The failed build left nothing: no build dir, no tarball (a half-built one would be taken as cached).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock"]


def test_the_build_after_a_killed_one_erases_its_build_dir_and_what_it_left_mounted(
    as_root: None, tmp_path: Path
) -> None:
    # What a build killed during debootstrap's second stage leaves: its dir, with /proc mounted inside.
    proc = tmp_path / "build.killed" / "rootfs" / "proc"
    proc.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "killed-build", str(proc)], check=True)
    try:
        _, build = build_from_a_closed_mirror(tmp_path)
        assert f"erasing a killed build's leftovers: {tmp_path}/build.killed" in build.stderr
        assert not mounts_under(str(tmp_path))
        assert not (tmp_path / "build.killed").exists()
    finally:
        subprocess.run(["umount", "-l", str(proc)], check=False, capture_output=True)


# --- a killed run ----------------------------------------------------------------------------------


def sleep_image(path: Path) -> Path:
    """A root file system of `sleep` and the libraries it loads: enough for a container that keeps running."""
    libs = subprocess.run(["ldd", "/bin/sleep"], check=True, capture_output=True, text=True).stdout
    files = ["/bin/sleep"] + [word for word in libs.split() if word.startswith("/")]
    with tarfile.open(path, "w") as tar:
        for name in files:
            tar.add(os.path.realpath(name), arcname=name.lstrip("/"))
    return path


@pytest.fixture
def owner() -> Iterator[subprocess.Popen[bytes]]:
    """A stand-in for the CI run that owns an engine."""
    process = subprocess.Popen(["sleep", "600"])
    yield process
    process.kill()
    process.wait()


def engine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HERE / "engine", *args], capture_output=True, text=True, timeout=120, check=True)


def test_the_run_after_a_killed_one_leaves_no_container_mount_socket_or_daemon_of_it(
    as_root: None, owner: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    host = engine("start", str(owner.pid)).stdout.strip()
    root = host.removeprefix("unix://").removesuffix("/docker.sock")
    docker("import", str(sleep_image(tmp_path / "sleep.tar")), "sleep:killed-run", host=host)
    container = docker("run", "-d", "--network", "host", "sleep:killed-run", "/bin/sleep", "600", host=host)
    sleeper = int(docker("inspect", "--format", "{{.State.Pid}}", container, host=host))
    dockerd = int(Path(root, "dockerd.pid").read_text())
    containerd = int(Path(root, "exec/containerd/containerd.pid").read_text())
    # The run is killed outright, and its daemon with it (as a kill of its process group would):
    # the container and its shim live on, their mounts stay.
    for pid in (owner.pid, dockerd, containerd):
        os.kill(pid, signal.SIGKILL)
    owner.wait()
    assert alive(sleeper)
    assert mounts_under(root)

    next_run = engine("start", str(os.getpid()))
    try:
        assert f"reaping the engine of a run that is gone: {root}" in next_run.stderr
        assert not Path(root).exists()
        assert not mounts_under(root)
        assert not [pid for pid in processes_mentioning(root)]
        deadline = time.monotonic() + 10
        while alive(sleeper) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(sleeper)
    finally:
        subprocess.run([HERE / "engine", "stop"], env=os.environ | {"DOCKER_HOST": next_run.stdout.strip()}, check=True)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def mounts_under(root: str) -> list[str]:
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return [line.split()[4] for line in lines if line.split()[4].startswith(root + "/")]


def processes_mentioning(root: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and proc.name != str(os.getpid()):
            try:
                if root.encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found
