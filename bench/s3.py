"""Line 3: one upload through the service on S3 (SeaweedFS) against a direct obstore put of the same bytes."""

from __future__ import annotations

from pathlib import Path

from bench.body import make_block
from bench.client import upload
from bench.large import checked
from bench.report import Row, median, rate
from bench.server import SERVE, Process, provision, service_env
from bench.stores import BUCKET, direct_put_seconds, s3_server


def measure_s3(workdir: Path, size: int, runs: int) -> Row:
    with s3_server() as aws:
        env = service_env(workdir / "s3-data", BACKUP_STORAGE_URL=f"s3://{BUCKET}", **aws)
        (who,) = provision(env, 1)
        with Process(SERVE, env, workdir / "s3-serve.log", "/api/ready") as server:
            served, direct = [], []
            for run in range(runs):  # interleaved, so a drift of the server's speed hits both alike
                # A body of its own each run: the same bytes again would be answered as a duplicate.
                block = make_block()
                served.append(checked(upload(server.port, who, block, size), size).seconds)
                direct.append(direct_put_seconds(aws, block, size, f"direct/{run}"))
    ratio = median(direct) / median(served)
    return Row(
        f"3. {size >> 20} MiB upload on S3 (SeaweedFS)",
        rate(size, median(served)),
        f"direct obstore put {rate(size, median(direct))}",
        f"{ratio:.2f}x",
        ">= 0.85x",
        ratio >= 0.85,
    )
