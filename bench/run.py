"""`just bench`: run every line of the performance issue against its same-run baseline; print the table.

Default sizes are the issue's (2-3 minutes on 2 cores); `--quick` scales them down for a 1-minute smoke run.
Every process and file made here is gone when it ends, whatever happens."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.body import GiB, MiB
from bench.large import LargeSizes, measure_large
from bench.report import Row, machine, table
from bench.s3 import measure_s3
from bench.server import BARE, SERVE, Process, provision, service_env
from bench.small import small_rows, uploads_per_second
from bench.stores import scratch_database

SMALL_SYSTEMS = 64


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run of under a minute")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    parser.add_argument("--only", choices=["large", "s3", "small"], action="append", help="run only these lines")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL small-upload line")
    args = parser.parse_args()
    if args.quick:
        sizes = LargeSizes(ingest=128 * MiB, peak=256 * MiB, concurrent=16 * MiB, streams=8, runs=args.runs)
        s3_size, small_seconds = 32 * MiB, 1.5
    else:
        sizes = LargeSizes(ingest=GiB, peak=2 * GiB, concurrent=128 * MiB, streams=8, runs=args.runs)
        s3_size, small_seconds = 256 * MiB, 5.0
    only = set(args.only or ["large", "s3", "small"])

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="backup-collect-bench-"))
    rows: list[Row] = []
    try:
        print(f"bench: {machine()}; work dir {workdir} (df: {_free(workdir)})", flush=True)
        embedded = service_env(workdir / "embedded")
        systems = provision(embedded, max(sizes.streams, SMALL_SYSTEMS))
        with Process(SERVE, embedded, workdir / "embedded.log", "/api/ready") as server:
            if "large" in only:
                rows += measure_large(server, systems, sizes, workdir / "embedded", workdir)
                _progress(rows, started)
            sqlite = uploads_per_second(server, systems, small_seconds, args.runs) if "small" in only else 0.0
        if "s3" in only:
            rows.append(measure_s3(workdir, s3_size, args.runs))
            _progress(rows, started)
        if "small" in only:
            postgres = None if args.no_postgres else _postgres(workdir, small_seconds, args.runs)
            with Process(BARE, {}, workdir / "bare.log", "/api/health") as bare:
                baseline = uploads_per_second(bare, systems, small_seconds, args.runs)
            rows += small_rows(sqlite, postgres, baseline, SMALL_SYSTEMS)
    except BaseException:
        _show_logs(workdir)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\n{machine()}\n`just bench` ({'--quick, ' if args.quick else ''}median of {args.runs} runs), "
        f"{time.monotonic() - started:.0f} s:\n"
    )
    print(table(rows))
    return 1 if any(row.passed is False for row in rows) else 0


def _postgres(workdir: Path, seconds: float, runs: int) -> float:
    with scratch_database() as url:
        env = service_env(workdir / "postgres", BACKUP_DATABASE_URL=url)
        systems = provision(env, SMALL_SYSTEMS)
        with Process(SERVE, env, workdir / "postgres.log", "/api/ready") as server:
            return uploads_per_second(server, systems, seconds, runs)


def _progress(rows: list[Row], started: float) -> None:
    print(f"  [{time.monotonic() - started:5.0f} s] {rows[-1].name}: {rows[-1].measured}", flush=True)


def _show_logs(workdir: Path) -> None:
    for log in sorted(workdir.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-25:]
        print(f"--- last lines of {log.name}:", *tail, sep="\n", file=sys.stderr)


def _free(path: Path) -> str:
    result = subprocess.run(["df", "-h", "--output=avail", str(path)], capture_output=True, text=True, check=False)  # noqa: S603, S607
    return result.stdout.split()[-1] + " free" if result.returncode == 0 else "unknown"


if __name__ == "__main__":
    sys.exit(main())
