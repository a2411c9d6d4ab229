"""The HTTP edge's one error table: each domain error's status, message and upload outcome."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from adapters.http import aborted
from adapters.http.answers import ANSWERS, UploadOutcome, answer_for, upload_outcome
from adapters.http.metrics import OUTCOMES
from domain import errors
from domain.errors import DomainError, OverQuota, StoreUnavailable, TooLarge

# Deliberately not in the table: an internal error (500, logged) if it ever reaches the edge.
INTERNAL = {DomainError, errors.ObjectMissing}


def test_no_entry_is_hidden_behind_an_earlier_entry_for_its_base_class() -> None:
    kinds = list(ANSWERS)
    for later, kind in enumerate(kinds):
        assert not any(issubclass(kind, earlier) for earlier in kinds[:later]), kind


def test_every_error_the_domain_and_the_edge_raise_has_an_answer() -> None:
    raised = {
        value
        for module in (errors, aborted)
        for value in vars(module).values()
        if inspect.isclass(value) and issubclass(value, DomainError)
    }
    assert [kind for kind in raised - INTERNAL if not any(issubclass(kind, known) for known in ANSWERS)] == []


@pytest.mark.parametrize(
    ("error", "status", "message", "outcome"),
    [
        (OverQuota(10), 413, "payload too large", UploadOutcome.QUOTA),
        (TooLarge("body", "past the cap", "11"), 413, "payload too large", UploadOutcome.TOO_LARGE),
        (StoreUnavailable("down"), 503, "object store unavailable", UploadOutcome.UNAVAILABLE),
        (errors.StoreFull("ENOSPC"), 503, "no space left in the object store", UploadOutcome.UNAVAILABLE),
        (aborted.ShuttingDown("shutting down"), 503, "server unavailable", UploadOutcome.ABORTED),
        (aborted.BodyIdle(60), 408, "no body received for 60 s", UploadOutcome.ABORTED),
        (aborted.ClientGone("hung up"), 400, "hung up", UploadOutcome.ABORTED),
    ],
)
def test_an_error_answers_its_status_and_message_and_counts_under_its_outcome(
    error: DomainError, status: int, message: str, outcome: UploadOutcome
) -> None:
    answer = answer_for(error)
    assert answer is not None
    assert (answer.status, answer.message.format(error=error), answer.outcome) == (status, message, outcome)
    assert upload_outcome(answer.status, error) is outcome


def test_an_upload_without_an_answer_or_cancelled_is_aborted_and_framework_answers_go_by_status() -> None:
    assert upload_outcome(None, None) is UploadOutcome.ABORTED
    assert upload_outcome(503, asyncio.CancelledError()) is UploadOutcome.ABORTED
    assert upload_outcome(201, None) is UploadOutcome.STORED
    assert upload_outcome(413, None) is UploadOutcome.TOO_LARGE
    assert upload_outcome(405, None) is UploadOutcome.INVALID
    assert upload_outcome(500, RuntimeError()) is UploadOutcome.UNAVAILABLE


def test_the_metric_counts_every_outcome_spec_names() -> None:
    assert OUTCOMES == (
        "stored", "duplicate", "replayed", "unauthorized", "too_large",
        "rate_limited", "quota", "invalid", "unavailable", "aborted",
    )  # fmt: skip
