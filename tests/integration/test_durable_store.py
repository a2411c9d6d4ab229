"""The file store makes an object durable before `put` returns: temp file, writeback while the body
arrives, fsync, rename, directory fsync — proven through the system-call seam and under strace."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.objectstore.disk import Disk
from adapters.objectstore.file_store import BLOCK_SIZE, FileObjectStore
from adapters.sql.engine import make_engine
from app.settings import Settings
from domain.errors import ObjectMissing, StoreUnavailable
from tests.integration.live import object_files, provision, serving, settings_for
from tests.unit.fakes import pgp

KEY = "org/sys/one.bin"


class RecordingDisk(Disk):
    """The real system calls, each recorded (name and path) in the order they ran."""

    def __init__(self, fail: str | None = None) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []
        self.writeback_started = threading.Event()
        self._fail = fail
        self._paths: dict[int, str] = {}

    def _record(self, name: str, what: object) -> None:
        self.calls.append((name, str(what)))
        if name == self._fail:
            raise OSError(5, "injected I/O error")

    def make_dirs(self, directory: Path, root: Path) -> None:
        self._record("make_dirs", directory)
        super().make_dirs(directory, root)

    def create_temp(self, target: Path) -> tuple[int, Path]:
        fd, temp = super().create_temp(target)
        self._paths[fd] = str(temp)
        self._record("create_temp", temp)
        return fd, temp

    def write(self, fd: int, parts: Sequence[bytes], offset: int) -> int:
        self._record("write", self._paths[fd])
        return super().write(fd, parts, offset)

    def start_writeback(self, fd: int, offset: int, length: int) -> None:
        self._record("start_writeback", self._paths[fd])
        super().start_writeback(fd, offset, length)
        self.writeback_started.set()

    def fsync(self, fd: int) -> None:
        self._record("fsync", self._paths[fd])
        super().fsync(fd)

    def close(self, fd: int) -> None:
        self.calls.append(("close", self._paths[fd]))
        super().close(fd)

    def rename(self, source: Path, target: Path) -> None:
        self._record("rename", target)
        super().rename(source, target)

    def fsync_dir(self, directory: Path) -> None:
        self._record("fsync_dir", directory)
        super().fsync_dir(directory)


def names(disk: RecordingDisk) -> list[str]:
    return [name for name, _ in disk.calls]


async def body_waiting_for_writeback(disk: RecordingDisk, blocks: int) -> AsyncIterator[bytes]:
    """`blocks` full blocks, then — only once the kernel was asked to write back — one last chunk."""
    for _ in range(blocks):
        yield os.urandom(BLOCK_SIZE)
    started = await asyncio.get_running_loop().run_in_executor(None, disk.writeback_started.wait, 30)
    assert started, "no writeback started while the body was still arriving"
    yield b"tail"


async def test_put_starts_writeback_while_the_body_arrives_then_fsyncs_renames_and_syncs_the_directory(
    tmp_path: Path,
) -> None:
    disk = RecordingDisk()
    store = FileObjectStore(tmp_path / "objects", disk)
    written = await store.put(KEY, body_waiting_for_writeback(disk, 3))
    disk.calls.append(("returned", ""))

    assert written == 3 * BLOCK_SIZE + 4
    temp = disk.calls[3][1]
    assert temp.startswith(str(store.root / "org/sys/one.bin#"))
    calls = names(disk)
    assert calls[:4] == [
        "make_dirs",
        "fsync_dir",  # org/ is new: its entry in the root made durable
        "fsync_dir",  # org/sys/ likewise
        "create_temp",
    ]
    # The three blocks, possibly written by different threads at once; each one's writeback started.
    assert sorted(calls[4:10]) == ["start_writeback"] * 3 + ["write"] * 3
    assert calls[10:] == ["write", "fsync", "close", "rename", "fsync_dir", "returned"]
    assert disk.calls[-3][1] == str(store.root / KEY)
    assert disk.calls[-2][1] == str(store.root / "org/sys")
    assert os.path.getsize(store.root / KEY) == written
    assert [p.name for p in (store.root / "org/sys").iterdir()] == ["one.bin"]


async def test_a_body_smaller_than_a_block_is_written_synced_and_renamed_in_that_order(tmp_path: Path) -> None:
    disk = RecordingDisk()
    store = FileObjectStore(tmp_path / "objects", disk)
    (store.root / "org/sys").mkdir(parents=True)
    assert await store.put(KEY, body_of(b"small", b" body")) == 10
    assert names(disk) == ["make_dirs", "create_temp", "write", "fsync", "close", "rename", "fsync_dir"]
    assert (store.root / KEY).read_bytes() == b"small body"


@pytest.mark.parametrize("failing", ["write", "fsync", "rename", "fsync_dir"])
async def test_a_failure_writing_a_small_body_leaves_no_file(tmp_path: Path, failing: str) -> None:
    disk = RecordingDisk(fail=failing)
    store = FileObjectStore(tmp_path / "objects", disk)
    (store.root / "org/sys").mkdir(parents=True)
    with pytest.raises(StoreUnavailable):
        await store.put(KEY, body_of(b"small"))
    assert list((store.root / "org/sys").iterdir()) == []
    assert names(disk).count("close") == 1


async def body_of(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.mark.parametrize("failing", ["write", "start_writeback", "fsync", "rename", "fsync_dir"])
async def test_an_io_failure_at_any_step_is_store_unavailable_and_leaves_no_file(tmp_path: Path, failing: str) -> None:
    disk = RecordingDisk(fail=failing)
    store = FileObjectStore(tmp_path / "objects", disk)
    (store.root / "org/sys").mkdir(parents=True)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(2):
            yield os.urandom(BLOCK_SIZE)

    with pytest.raises(StoreUnavailable):
        await store.put(KEY, body())
    assert list((store.root / "org/sys").iterdir()) == []
    assert names(disk).count("close") == 1  # the temp file's descriptor closed exactly once


async def test_a_cancelled_put_waits_for_its_writer_and_leaves_no_file(tmp_path: Path) -> None:
    store = FileObjectStore(tmp_path / "objects")
    arrived = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield os.urandom(BLOCK_SIZE + 1)
        arrived.set()
        await asyncio.Event().wait()
        yield b"never"

    task = asyncio.create_task(store.put(KEY, stalled()))
    await arrived.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


# --- end to end, under strace ----------------------------------------------------------------------

TRACED = "openat,rename,renameat,renameat2,fsync,fdatasync,sync_file_range,sendto,write,writev,sendmsg"


async def test_abandoned_finds_the_temp_files_a_crash_left_once_they_are_older_than_the_cutoff(
    tmp_path: Path,
) -> None:
    store = FileObjectStore(tmp_path)
    now = time.time()
    for name, age in {"org/sys/crashed#3": 7200, "org/sys/writing#4": 10, "org/sys/stored": 7200}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        os.utime(path, (now - age, now - age))
    cutoff = datetime.fromtimestamp(now - 3600, UTC)
    assert await store.abandoned(cutoff) == ["org/sys/crashed#3"]


async def test_a_missing_object_is_object_missing_for_get_and_move(tmp_path: Path) -> None:
    store = FileObjectStore(tmp_path)
    with pytest.raises(ObjectMissing):
        await store.get("org/sys/none")
    with pytest.raises(ObjectMissing):
        await store.move("org/sys/none", "quarantine/org/sys/none")
    (tmp_path / "org").write_bytes(b"a file where a directory is expected")
    with pytest.raises(ObjectMissing):
        await store.get("org/sys/none")


def _first(lines: list[str], pattern: str, after: int = -1) -> int:
    for index, line in enumerate(lines):
        if index > after and re.search(pattern, line):
            return index
    raise AssertionError(f"no {pattern!r} after line {after} in the trace")


def _last(lines: list[str], pattern: str, before: int) -> int:
    found = [index for index, line in enumerate(lines[:before]) if re.search(pattern, line)]
    assert found, f"no {pattern!r} before line {before} in the trace"
    return found[-1]


def test_a_201_is_sent_only_after_the_object_its_directory_and_the_commit_are_synced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings: Settings = settings_for(data)
    tenant = provision(settings)[0]
    trace = tmp_path / "strace.out"
    wrapper = ["strace", "-f", "-qq", "-yy", "-s", "24", "-e", f"trace={TRACED}", "-o", str(trace)]
    env = {**os.environ, "BACKUP_DATA_DIR": str(data)}
    body = pgp(2 * BLOCK_SIZE + 12345)
    with serving(env, tmp_path / "serve.log", wrapper=wrapper) as server:
        answer = httpx.post(f"{server.url}/api/systems/backups", content=body, auth=tenant.auth, timeout=120)
    assert answer.status_code == 201, answer.text
    [stored] = object_files(settings)
    assert stored.read_bytes() == body

    lines = trace.read_text().splitlines()
    target = re.escape(str(stored))
    temp = target + r"#\d+"
    created = _first(lines, rf"openat\(.*{temp}>?\".*O_CREAT")
    writeback = _first(lines, rf"sync_file_range\(\d+<{temp}>", created)
    synced = _first(lines, rf"fsync\(\d+<{temp}>", writeback)
    renamed = _first(lines, rf"rename(at2?)?\(.*{temp}.*{target}\"", synced)
    directory = _first(lines, rf"fsync\(\d+<{re.escape(str(stored.parent))}>\)", renamed)
    answered = _first(lines, r"(sendto|write|writev|sendmsg)\(\d+<TCP.*HTTP/1\.1 201")
    committed = _last(lines, r"f(data)?sync\(\d+<.*\.db-wal>", answered)
    assert created < writeback < synced < renamed < directory < committed < answered
    with closing(sqlite3.connect(settings.database_url.removeprefix("sqlite+aiosqlite:///"))) as db:
        assert db.execute("SELECT state FROM backups").fetchall() == [("stored",)]


async def test_sqlite_commits_with_synchronous_full(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/catalog.db")
    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA synchronous")).scalar() == 2  # FULL
            assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        await engine.dispose()
