"""What the HTTP tests read from an answer, one copy for the in-process tests (tests/unit, Litestar's test
client) and the real-socket ones (tests/integration): a /metrics scrape and a stored upload's id."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

UPLOAD_URL = "/api/systems/backups"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples_of(answer: httpx.Response) -> Samples:
    """A 200 /metrics answer in Prometheus' text format, as (name, sorted labels) → value."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def outcomes(samples: Samples) -> dict[str, float]:
    return {
        dict(labels)["outcome"]: value
        for (name, labels), value in samples.items()
        if name == "backup_collect_uploads_total"
    }


def dependency_errors(samples: Samples) -> dict[str, float]:
    return {
        dict(labels)["dependency"]: value
        for (name, labels), value in samples.items()
        if name == "backup_collect_dependency_errors_total"
    }


def one(samples: Samples, name: str) -> float:
    return samples[(name, ())]


def store(http: httpx.Client, body: bytes, name: str | None = "daily.tar.gz.gpg") -> str:
    """Upload `body` as the client's system; the new backup's id (the answer must be `201`)."""
    headers = {"X-Filename": name} if name is not None else {}
    answer = http.post(UPLOAD_URL, content=body, headers=headers)
    assert answer.status_code == 201, answer.text
    backup_id: str = answer.json()["data"]["id"]
    return backup_id
