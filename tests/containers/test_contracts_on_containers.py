"""The contract suites of the PostgreSQL, S3 and Redis adapters, once more against containers."""

from tests.integration.contracts.test_catalog_contract import *  # noqa: F403
from tests.integration.contracts.test_directory_contract import *  # noqa: F403
from tests.integration.contracts.test_maintenance_contract import *  # noqa: F403
from tests.integration.contracts.test_objectstore_contract import *  # noqa: F403
from tests.integration.contracts.test_ratelimiter_contract import *  # noqa: F403
from tests.integration.contracts.test_restore_contract import *  # noqa: F403
from tests.integration.contracts.test_retry_contract import *  # noqa: F403
