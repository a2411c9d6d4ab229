"""Two `backup-collect serve` replicas on PostgreSQL, S3 and Redis containers."""

from tests.integration.test_replicas_e2e import *  # noqa: F403
