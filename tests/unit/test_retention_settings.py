from __future__ import annotations

import pytest

from app.settings import Settings, SettingsError
from domain.model import RetentionPolicy


def test_without_keep_settings_the_default_policy_is_the_seeds_rule() -> None:
    limits = Settings.from_env({"BACKUP_MAX_PER_SYSTEM": "7"}).limits
    assert limits.retention is None
    assert limits.default_retention == RetentionPolicy(keep_last=7)
    assert limits.max_protected_per_system == 3


def test_keep_settings_make_the_default_policy() -> None:
    env = {"BACKUP_KEEP_LAST": "3", "BACKUP_KEEP_DAILY": "4", "BACKUP_KEEP_WEEKLY": "2", "BACKUP_KEEP_MONTHLY": "1"}
    limits = Settings.from_env({**env, "BACKUP_MAX_PROTECTED_PER_SYSTEM": "5"}).limits
    assert limits.default_retention == RetentionPolicy(keep_last=3, keep_daily=4, keep_weekly=2, keep_monthly=1)
    assert limits.max_protected_per_system == 5


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"BACKUP_KEEP_LAST": "0"}, "BACKUP_KEEP_LAST"),
        ({"BACKUP_KEEP_DAILY": "-1"}, "BACKUP_KEEP_DAILY"),
        ({"BACKUP_KEEP_WEEKLY": "1.5"}, "BACKUP_KEEP_WEEKLY"),
        ({"BACKUP_KEEP_DAILY": "1"}, r"BACKUP_KEEP_\*: .* exceeds BACKUP_MAX_PER_SYSTEM \(10\)"),
        ({"BACKUP_KEEP_LAST": "5", "BACKUP_KEEP_MONTHLY": "6"}, "exceeds BACKUP_MAX_PER_SYSTEM"),
    ],
)
def test_a_policy_the_service_cannot_hold_refuses_to_start(env: dict[str, str], match: str) -> None:
    with pytest.raises(SettingsError, match=match):
        Settings.from_env(env)
