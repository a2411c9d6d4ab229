"""Prometheus metrics of one application, in a registry of its own (tests build many apps in one process).

Labels carry only an outcome or a dependency name: never a system key, an org id or a filename, so a
fleet of thousands of appliances stays a handful of series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from adapters.http.answers import UploadOutcome

__all__ = ["DEPENDENCIES", "MEDIA_TYPE", "OUTCOMES", "Metrics"]

OUTCOMES: Final = tuple(UploadOutcome)
DEPENDENCIES: Final = ("database", "object_store", "rate_limit")
# The classic text format every Prometheus understands (the answer adds `; charset=utf-8`).
MEDIA_TYPE: Final = "text/plain; version=0.0.4"
# Uploads take from well under a second (a small config on a LAN) to hours (2 GiB over a slow uplink).
DURATION_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 7200, float("inf"))


class _DependencyErrors:
    """`backup_collect_dependency_errors_total{dependency}`: the errors the HTTP edge met, plus the rate
    limiter's own count of storage failures (it fails open, so no request ever sees them as errors)."""

    def __init__(self, rate_limit_failures: Callable[[], int]) -> None:
        self.counts = dict.fromkeys(DEPENDENCIES, 0)
        self._rate_limit_failures = rate_limit_failures

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "backup_collect_dependency_errors",
            "Failures of a dependency met while serving requests, by dependency.",
            labels=["dependency"],
        )
        for dependency, count in self.counts.items():
            extra = self._rate_limit_failures() if dependency == "rate_limit" else 0
            family.add_metric([dependency], count + extra)
        yield family


class Metrics:
    """The instruments the HTTP edge feeds, and the text a scrape returns."""

    def __init__(self, rate_limit_failures: Callable[[], int] = lambda: 0) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._uploads = Counter(
            "backup_collect_uploads", "Upload attempts, by outcome.", ["outcome"], registry=self.registry
        )
        for outcome in OUTCOMES:
            self._uploads.labels(outcome)
        self._bytes = Counter(
            "backup_collect_upload_bytes", "Bytes of the uploads committed as new backups.", registry=self.registry
        )
        self._duration = Histogram(
            "backup_collect_upload_duration_seconds",
            "Time from request to answer of the uploads stored as new backups.",
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self._pruned = Counter(
            "backup_collect_pruned_backups", "Backups retention removed after an upload.", registry=self.registry
        )
        self._inflight = Gauge(
            "backup_collect_uploads_in_flight", "Uploads being received right now.", registry=self.registry
        )
        self._stale = Gauge(
            "backup_collect_stale_systems",
            "Systems down: no stored backup within their expected interval plus grace.",
            registry=self.registry,
        )
        self._responses = Counter(
            "backup_collect_http_responses",
            "Answers by status class (2xx, 3xx, 4xx, 5xx): the 5xx rate the alerting rules watch.",
            ["code"],
            registry=self.registry,
        )
        for code in ("2xx", "3xx", "4xx", "5xx"):
            self._responses.labels(code)
        self._store_full = Counter(
            "backup_collect_store_full",
            "Requests refused (503) because the object store has no space left.",
            registry=self.registry,
        )
        self._deliveries = Counter(
            "backup_collect_webhook_deliveries",
            "Webhook delivery attempts, by outcome (delivered, retried, failed).",
            ["outcome"],
            registry=self.registry,
        )
        for delivery in ("delivered", "retried", "failed"):
            self._deliveries.labels(delivery)
        self._states = Gauge(
            "backup_collect_systems",
            "Systems in each state (new, up, late, down, failing, paused).",
            ["state"],
            registry=self.registry,
        )
        for state in ("new", "up", "late", "down", "failing", "paused"):
            self._states.labels(state)
        self._verify_failures = Counter(
            "backup_collect_verify_failures",
            "Backups the scrubber found with a mismatched or missing object.",
            registry=self.registry,
        )
        self._unverified = Gauge(
            "backup_collect_unverified_backups",
            "Stored backups not verified within BACKUP_VERIFY_EVERY.",
            registry=self.registry,
        )
        self._dependency_errors = _DependencyErrors(rate_limit_failures)
        self.registry.register(self._dependency_errors)

    def upload(self, outcome: str, *, size: int = 0, seconds: float = 0.0, pruned: int = 0) -> None:
        """Count one upload attempt; a `stored` one also adds its bytes and duration."""
        self._uploads.labels(outcome).inc()
        if outcome == "stored":
            self._bytes.inc(size)
            self._duration.observe(seconds)
        if pruned:
            self._pruned.inc(pruned)

    def response(self, status: int, *, store_full: bool = False) -> None:
        """Count one answer by its status class (and a full object store behind a 503)."""
        if 200 <= status < 600:
            self._responses.labels(f"{status // 100}xx").inc()
        if store_full:
            self._store_full.inc()

    def delivery(self, outcome: str) -> None:
        """Count one webhook delivery attempt: `delivered`, `retried` or `failed`."""
        self._deliveries.labels(outcome).inc()

    def verify_failure(self) -> None:
        self._verify_failures.inc()

    def set_unverified(self, count: int) -> None:
        self._unverified.set(count)

    def dependency_error(self, dependency: str) -> None:
        if dependency in self._dependency_errors.counts:
            self._dependency_errors.counts[dependency] += 1

    def track_inflight(self, count: Callable[[], int]) -> None:
        """Read the uploads in flight from `count` at every scrape."""
        self._inflight.set_function(count)

    def set_states(self, counts: Mapping[str, int]) -> None:
        """The count of systems in each state; `down` ones are also the stale-systems gauge."""
        for state, count in counts.items():
            self._states.labels(state).set(count)
        self._stale.set(counts.get("down", 0))

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric of this registry."""
        return generate_latest(self.registry)
