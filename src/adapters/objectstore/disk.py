"""The system calls of a durable file write, one method each: the seam a test records the order through."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

# sync_file_range(2): SYNC_FILE_RANGE_WRITE (linux/fs.h) starts writeback without waiting for it.
_WRITE = 2
# writev(2) takes at most IOV_MAX (1024 on Linux) buffers per call.
_MAX_PARTS = 512


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """libc's sync_file_range, or None where there is none (not Linux)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return cast("Callable[[int, int, int, int], int]", function)


class Disk:
    """What `FileObjectStore` asks of the kernel. Every method raises OSError on failure.

    Writeback: after each block `start_writeback` asks the kernel to begin writing it out
    (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, which does not wait), so the final `fsync` finds most of the
    file on its way to the disk already. Without sync_file_range (not Linux) the file is `fdatasync`ed each
    time a block crosses a multiple of `FALLBACK_BYTES`, in the writer thread.
    """

    FALLBACK_BYTES = 32 * 1024 * 1024

    def __init__(self) -> None:
        self._range_sync = _sync_file_range()

    def make_dirs(self, directory: Path, root: Path) -> None:
        """Create `directory` (under `root`) and every missing parent, each made durable in its parent."""
        missing = []
        probe = directory
        while probe != root and not probe.is_dir():
            missing.append(probe)
            probe = probe.parent
        for created in reversed(missing):
            try:
                created.mkdir()
            except FileExistsError:
                continue  # a racing upload made it; it syncs the parent itself
            self.fsync_dir(created.parent)

    def free_bytes(self, directory: Path) -> int:
        """Bytes an unprivileged writer may still use on the file system holding `directory`."""
        stats = os.statvfs(directory)
        return stats.f_bavail * stats.f_frsize

    def create_temp(self, target: Path) -> tuple[int, Path]:
        """A new, empty `<target>#<digits>` beside `target` (same directory: the rename is atomic)."""
        temp = target.with_name(f"{target.name}#{secrets.randbelow(10**12)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        return fd, temp

    def write(self, fd: int, parts: Sequence[bytes], offset: int) -> int:
        """Write every byte of `parts` at `offset` (no join: one pwritev per up to 512 buffers, so blocks
        of one file may be written by several threads at once); the count written."""
        written = 0
        for first in range(0, len(parts), _MAX_PARTS):
            pending = [memoryview(part) for part in parts[first : first + _MAX_PARTS] if part]
            while pending:
                done = os.pwritev(fd, pending, offset + written)
                written += done
                while pending and done >= len(pending[0]):
                    done -= len(pending.pop(0))
                if pending and done:
                    pending[0] = pending[0][done:]
        return written

    def start_writeback(self, fd: int, offset: int, length: int) -> None:
        """Begin writing out `length` bytes at `offset`, without waiting for them."""
        if self._range_sync is None:
            if (offset + length) // self.FALLBACK_BYTES != offset // self.FALLBACK_BYTES:
                os.fdatasync(fd)
            return
        self._range(fd, offset, length, _WRITE)

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def close(self, fd: int) -> None:
        os.close(fd)

    def rename(self, source: Path, target: Path) -> None:
        os.rename(source, target)

    def fsync_dir(self, directory: Path) -> None:
        """Make the directory's entries (a rename, a new file or directory) durable."""
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def unlink(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def _range(self, fd: int, offset: int, length: int, flags: int) -> None:
        if self._range_sync is not None and self._range_sync(fd, offset, length, flags) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error))
