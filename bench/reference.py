"""The C reference receiver of line 1 (`bench/ref/receiver.c`): built here with `cc` and OpenSSL's libcrypto."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).parent / "ref" / "receiver.c"


def build_reference(workdir: Path) -> tuple[Path | None, str]:
    """The compiled receiver, or None and one line saying why it could not be built."""
    compiler = shutil.which("cc")
    if compiler is None:
        return None, "no C compiler (cc)"
    binary = workdir / "ref-receiver"
    built = subprocess.run(  # noqa: S603 - our own source, a fixed command line
        [compiler, "-O2", "-pthread", str(SOURCE), "-lcrypto", "-o", str(binary)],
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        reason = built.stderr.strip().splitlines()[0] if built.stderr.strip() else f"cc exited {built.returncode}"
        return None, f"cc could not build it (OpenSSL headers? apt install libssl-dev): {reason}"
    return binary, ""


def reference_command(binary: Path, directory: Path, durable: bool = True) -> list[str]:
    """The receiver's command line; `Process` appends `--port N`."""
    directory.mkdir(parents=True, exist_ok=True)
    return [str(binary), str(directory), "durable" if durable else "nosync"]
