"""`just load`: a fleet night. N systems in several organizations each upload one OpenPGP-framed body
through C concurrent clients, against the embedded default and against two replicas on PostgreSQL +
SeaweedFS + Redis, with a bare Litestar handler measured by the same client in the same run as the
ceiling. Prints uploads/s, latency percentiles, errors by status (planned 429s apart), server CPU seconds
per upload, and checks the invariants afterwards (fsck clean, usage = sum, caps hold).

Everything it starts or creates (processes, database, bucket, Redis keys, temp dirs) is gone when it
ends, whatever happens; it talks to loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from bench import fleet
from bench.body import MiB, make_block
from bench.client import Credentials
from bench.report import Row, machine, table
from bench.setups import REDIS_URL, Caps, Deployment, bare, embedded, invariants, loopback, provision, replicas

RUN_DEADLINE = 600.0  # seconds one run may take before it stops sending


@dataclass(frozen=True, slots=True)
class Plan:
    systems: int
    orgs: int
    clients: int
    body: int
    big: int
    big_share: float
    burst_share: float
    runs: int
    mixed_runs: int


def jobs_for(systems: list[Credentials], plan: Plan, seed: int, *, mixed: bool, caps: Caps) -> list[fleet.Job]:
    """One upload per system in a seeded random order; `mixed`: a share of them `plan.big` bytes.
    Not mixed: a share of the systems also bursts past the minute window (planned 429s)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible order, not a secret
    jobs = [fleet.Job(who, plan.big if mixed and rng.random() < plan.big_share else plan.body) for who in systems]
    if not mixed:
        bursting = rng.sample(systems, max(1, round(plan.burst_share * len(systems))))
        jobs += [fleet.Job(who, plan.body) for who in bursting for _ in range(caps.per_minute + 1)]
    rng.shuffle(jobs)
    return jobs


def measure(
    name: str,
    start: Callable[[], AbstractContextManager[Deployment]],
    replicas_count: int,
    plan: Plan,
    caps: Caps,
    workdir: Path,
    target: float,
) -> list[Row]:
    block = make_block()
    windows = fleet.Windows(caps.per_minute, caps.per_hour, caps.in_flight)
    anyone = [Credentials(f"bare-{n}", "x") for n in range(plan.systems)]
    with bare(workdir, replicas_count) as ceiling_servers:
        small = [fleet.Job(who, plan.body) for who in anyone]
        ports = ceiling_servers.ports
        fleet.run(ports, small[: plan.clients * 4], plan.clients, block, windows, fleet.History(), RUN_DEADLINE)
        ceilings = []
        for _ in range(plan.runs):
            before = ceiling_servers.cpu_seconds()
            ceilings.append(fleet.run(ports, small, plan.clients, block, windows, fleet.History(), RUN_DEADLINE))
            ceilings[-1].cpu_seconds = ceiling_servers.cpu_seconds() - before
    ceiling = fleet.median_result(ceilings)
    say(
        f"{name}: bare ceiling {ceiling.rate:.0f}/s (p99 {ceiling.percentile(0.99) * 1000:.0f} ms,"
        f" {ceiling.cpu_per_upload * 1000:.2f} ms CPU/upload)"
    )

    with start() as deployment:
        began = time.monotonic()
        systems = provision(deployment.env, plan.systems, plan.orgs, TOKEN)
        say(f"{name}: {len(systems)} systems in {plan.orgs} orgs provisioned in {time.monotonic() - began:.0f} s")
        history = fleet.History()
        warm = fleet.run(
            deployment.ports,
            [fleet.Job(w, plan.body) for w in systems],
            plan.clients,
            block,
            windows,
            history,
            RUN_DEADLINE,
        )
        say(f"{name}: warm-up (every system's previous backup) {warm.rate:.0f}/s, unexpected {dict(warm.unexpected)}")
        results = [
            timed(deployment, systems, plan, run, False, caps, windows, history, block, name)
            for run in range(plan.runs)
        ]
        mixes = [
            timed(deployment, systems, plan, 100 + run, True, caps, windows, history, block, name)
            for run in range(plan.mixed_runs)
        ]
        problems = invariants(deployment, systems, caps)
    if any(r.unexpected for r in results + mixes):
        show_warnings(workdir)
    return rows(name, plan, results, mixes, ceiling, target, problems)


def timed(
    deployment: Deployment,
    systems: list[Credentials],
    plan: Plan,
    seed: int,
    mixed: bool,
    caps: Caps,
    windows: fleet.Windows,
    history: fleet.History,
    block: bytes,
    name: str,
) -> fleet.Result:
    jobs = jobs_for(systems, plan, seed, mixed=mixed, caps=caps)
    before, services = deployment.cpu_seconds(), deployment.service_cpu_seconds()
    result = fleet.run(deployment.ports, jobs, plan.clients, block, windows, history, RUN_DEADLINE)
    result.cpu_seconds = deployment.cpu_seconds() - before
    result.service_cpu_seconds = {
        name: seconds - services[name] for name, seconds in deployment.service_cpu_seconds().items()
    }
    say(
        f"{name}: {'mixed' if mixed else 'small'} run {result.rate:.0f}/s, p99 {result.percentile(0.99) * 1000:.0f} ms,"
        f" {result.cpu_per_upload * 1000:.1f} ms CPU/upload, planned 429 {result.planned_429},"
        f" unexpected {dict(result.unexpected) or 0}"
    )
    return result


def rows(
    name: str,
    plan: Plan,
    results: list[fleet.Result],
    mixes: list[fleet.Result],
    ceiling: fleet.Result,
    target: float,
    problems: list[str],
) -> list[Row]:
    best = fleet.median_result(results)
    rate = fleet.median_rate(results)
    kib = plan.body // 1024
    p = best.percentile
    out = [
        Row(
            f"{name}: {kib} KiB uploads/s, {plan.clients} clients",
            f"{rate:.0f}/s",
            f"bare Litestar {ceiling.rate:.0f}/s",
            f"{rate / ceiling.rate:.2f}x",
            f">= {target:.0f}/s",
            rate >= target,
        ),
        Row(
            f"{name}: latency p50 / p95 / p99",
            f"{p(0.5) * 1000:.0f} / {p(0.95) * 1000:.0f} / {p(0.99) * 1000:.0f} ms",
            f"bare p99 {ceiling.percentile(0.99) * 1000:.0f} ms",
            "-",
            "p99 < 1 s",
            p(0.99) < 1.0,
        ),
        Row(
            f"{name}: server CPU per upload",
            f"{best.cpu_per_upload * 1000:.1f} ms",
            "; ".join(
                [f"bare {ceiling.cpu_per_upload * 1000:.2f} ms"]
                + [
                    f"{service} {seconds / best.stored * 1000:.1f} ms"
                    for service, seconds in best.service_cpu_seconds.items()
                    if best.stored
                ]
            ),
            f"{best.cpu_per_upload / ceiling.cpu_per_upload:.0f}x",
            "(printed)",
            None,
        ),
        Row(
            f"{name}: errors (all runs)",
            f"{sum(sum(r.unexpected.values()) for r in results + mixes)} unexpected",
            f"{sum(r.planned_429 for r in results + mixes)} planned 429",
            "-",
            "0 unexpected",
            not any(r.unexpected for r in results + mixes),
        ),
    ]
    if mixes:
        mix = fleet.median_result(mixes)
        out.append(
            Row(
                f"{name}: {plan.big_share:.0%} of {plan.big // MiB} MiB, uploads/s",
                f"{fleet.median_rate(mixes):.0f}/s",
                f"p99 {kib} KiB {mix.percentile(0.99, plan.body) * 1000:.0f} ms,"
                f" {plan.big // MiB} MiB {mix.percentile(0.99, plan.big) * 1000:.0f} ms",
                "-",
                "(printed)",
                None,
            )
        )
    out.append(
        Row(
            f"{name}: fsck, usage = sum, caps",
            "clean" if not problems else f"{len(problems)} problems",
            "; ".join(problems[:3]) or "-",
            "-",
            "clean",
            not problems,
        )
    )
    return out


def show_warnings(workdir: Path, limit: int = 12) -> None:
    """What the servers logged about the unexpected answers (warnings and errors, the last few)."""
    for log in sorted(workdir.glob("*.log")):
        lines = [line for line in log.read_text(errors="replace").splitlines() if "WARNING" in line or "ERROR" in line]
        for line in lines[-limit:]:
            print(f"    {log.name}: {line[:300]}", flush=True)


def say(text: str) -> None:
    print(f"  [{time.monotonic() - STARTED:5.0f} s] {text}", flush=True)


STARTED = time.monotonic()
TOKEN = secrets.token_hex(3)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="300 systems, 1 mixed run: about a minute")
    parser.add_argument("--systems", type=int, help="systems in the fleet (default 2000; --quick 300)")
    parser.add_argument("--orgs", type=int, default=8, help="organizations; the first holds half the fleet")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument("--body-kib", type=int, default=64, help="body size in KiB (default 64)")
    parser.add_argument("--runs", type=int, default=3, help="runs of the small profile; the median is reported")
    parser.add_argument("--mixed-runs", type=int, help="runs of the 5%%-of-20-MiB profile (default 3; --quick 1)")
    parser.add_argument("--setup", choices=["embedded", "replicas"], action="append", help="only these setups")
    parser.add_argument("--redis", default=REDIS_URL, help=f"Redis for the replicas (loopback only; {REDIS_URL})")
    args = parser.parse_args()
    plan = Plan(
        systems=args.systems or (300 if args.quick else 2000),
        orgs=max(1, args.orgs),
        clients=args.clients,
        body=args.body_kib * 1024,
        big=20 * MiB,
        big_share=0.05,
        burst_share=0.01,
        runs=args.runs,
        mixed_runs=args.mixed_runs if args.mixed_runs is not None else (1 if args.quick else 3),
    )
    caps = Caps()
    redis_url = loopback(args.redis)
    setups = args.setup or ["embedded", "replicas"]
    workdir = Path(tempfile.mkdtemp(prefix="backup-collect-load-"))
    out: list[Row] = []
    try:
        print(f"load: {machine()}; {plan}; work dir {workdir}", flush=True)
        if "embedded" in setups:
            out += measure("embedded", lambda: embedded(workdir, caps), 1, plan, caps, workdir, 150)
        if "replicas" in setups:
            out += measure("2 replicas", lambda: replicas(workdir, caps, redis_url, TOKEN), 2, plan, caps, workdir, 300)
    except BaseException:
        for log in sorted(workdir.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-20:]
            print(f"--- last lines of {log.name}:", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\n{machine()}\n`just load` ({'--quick, ' if args.quick else ''}{plan.systems} systems, {plan.orgs} orgs, "
        f"{plan.clients} clients, median of {plan.runs} runs), {time.monotonic() - STARTED:.0f} s:\n"
    )
    print(table(out))
    return 1 if any(row.passed is False for row in out) else 0


if __name__ == "__main__":
    sys.exit(main())
