"""The gate of the container path: the one test collected here when they cannot run (no Docker engine,
or its images not built)."""

from tests.containers.services import unavailable
from tests.integration.services import missing


def test_a_docker_engine_with_the_images_answers_for_the_container_tests() -> None:
    reason = unavailable()
    if reason:
        missing("the container tests of tests/containers/", reason)
