from __future__ import annotations

from datetime import timedelta

import pytest

from app.settings import Settings, SettingsError, parse_size
from domain.sizes import human_size


def test_defaults_are_spec_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///var/backups.db"
    assert settings.storage_url == "file://var/objects"
    assert settings.rate_limit_storage_url == "memory://"
    assert settings.max_upload_size == 2 * 1024**3
    assert settings.max_per_system == 10
    assert settings.max_size_per_system == 500 * 1024**2
    assert settings.max_size_per_org == 100 * 1024**3
    assert (settings.rate_limit_per_minute, settings.rate_limit_per_hour) == (6, 60)
    assert settings.require_openpgp is True
    assert settings.append_only is False
    assert settings.admin_token is None
    assert settings.metrics_token is None
    assert (settings.expect_every, settings.grace) == (timedelta(hours=24), timedelta(hours=12))
    assert settings.check_every == timedelta(minutes=1)
    assert settings.deprecated == ()
    assert settings.log_format == "text"


@pytest.mark.parametrize(("text", "size"), [("123", 123), ("2GiB", 2 << 30), ("500 MiB", 500 << 20), ("4kib", 4096)])
def test_sizes_accept_bytes_and_iec_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BACKUP_MAX_UPLOAD_SIZE", "2GB"),
        ("BACKUP_MAX_UPLOAD_SIZE", "0"),
        ("BACKUP_MAX_PER_SYSTEM", "0"),
        ("BACKUP_MAX_PER_SYSTEM", "ten"),
        ("BACKUP_MAX_SIZE_PER_SYSTEM", "-1"),
        ("BACKUP_RATE_LIMIT_PER_MINUTE", "1.5"),
        ("BACKUP_REQUIRE_OPENPGP", "maybe"),
        ("BACKUP_MAX_PER_SYSTEM", "²"),
        ("BACKUP_MAX_PER_SYSTEM", "١٢"),
        ("BACKUP_MAX_SIZE_PER_ORG", "99999999999999999TiB"),
        ("BACKUP_STORAGE_URL", "ftp://x"),
        ("BACKUP_DATABASE_URL", "mysql://x"),
        ("BACKUP_DATABASE_URL", "postgresql://db/backups"),
        ("BACKUP_RATE_LIMIT_STORAGE_URL", "foo://"),
        ("BACKUP_STALE_AFTER", "36"),
        ("BACKUP_STALE_AFTER", "0h"),
        ("BACKUP_STALE_AFTER", "1.5d"),
        ("BACKUP_LOG_FORMAT", "yaml"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_data_dir_moves_the_embedded_defaults() -> None:
    settings = Settings.from_env({"BACKUP_DATA_DIR": "/srv/backups"})
    assert settings.database_url == "sqlite+aiosqlite:////srv/backups/backups.db"
    assert settings.storage_url == "file:///srv/backups/objects"


def test_observability_settings_are_read() -> None:
    settings = Settings.from_env(
        {"BACKUP_STALE_AFTER": "2d", "BACKUP_LOG_FORMAT": "JSON", "BACKUP_METRICS_TOKEN": "scrape-me-" * 4}
    )
    assert settings.log_format == "json"
    assert settings.metrics_token == "scrape-me-" * 4


def test_deprecated_stale_after_is_the_expected_interval_with_no_grace_and_says_so() -> None:
    settings = Settings.from_env({"BACKUP_STALE_AFTER": "2d"})
    assert (settings.expect_every, settings.grace) == (timedelta(days=2), timedelta(0))
    (line,) = settings.deprecated
    assert "BACKUP_STALE_AFTER is deprecated" in line
    assert "BACKUP_EXPECT_EVERY" in line


def test_expect_every_wins_over_the_deprecated_stale_after() -> None:
    settings = Settings.from_env({"BACKUP_STALE_AFTER": "2d", "BACKUP_EXPECT_EVERY": "1h", "BACKUP_GRACE": "30m"})
    assert (settings.expect_every, settings.grace) == (timedelta(hours=1), timedelta(minutes=30))
    assert "ignored" in settings.deprecated[0]


@pytest.mark.parametrize(
    ("name", "value"), [("BACKUP_EXPECT_EVERY", "0s"), ("BACKUP_GRACE", "soon"), ("BACKUP_CHECK_EVERY", "0m")]
)
def test_a_bad_schedule_stops_the_process_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    given = {"BACKUP_TRUSTED_PROXIES": " 10.0.0.5, 192.168.10.0/24,::1 ,"}
    assert Settings.from_env(given).trusted_proxies == ("10.0.0.5/32", "192.168.10.0/24", "::1/128")


@pytest.mark.parametrize("value", ["10.0.0.5/24", "nginx.internal", "*", "10.0.0.5,300.1.1.1", "10.0.0.0/33"])
def test_a_bad_trusted_proxy_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match=r"^BACKUP_TRUSTED_PROXIES: '[^']+' is not an IP address or CIDR network"):
        Settings.from_env({"BACKUP_TRUSTED_PROXIES": value})


def test_bounds_on_clients_default_to_spec_and_are_read() -> None:
    defaults = Settings.from_env({})
    assert defaults.body_idle_timeout == timedelta(seconds=60)
    assert (defaults.max_connections, defaults.max_uploads_per_system) == (1000, 2)
    settings = Settings.from_env(
        {"BACKUP_BODY_IDLE_TIMEOUT": "5m", "BACKUP_MAX_CONNECTIONS": "50", "BACKUP_MAX_UPLOADS_PER_SYSTEM": "1"}
    )
    assert settings.body_idle_timeout == timedelta(minutes=5)
    assert (settings.max_connections, settings.max_uploads_per_system) == (50, 1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BACKUP_BODY_IDLE_TIMEOUT", "0s"),
        ("BACKUP_BODY_IDLE_TIMEOUT", "60"),
        ("BACKUP_MAX_CONNECTIONS", "0"),
        ("BACKUP_MAX_UPLOADS_PER_SYSTEM", "0"),
        ("BACKUP_MAX_UPLOADS_PER_SYSTEM", "two"),
    ],
)
def test_a_bad_bound_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize("name", ["BACKUP_ADMIN_TOKEN", "BACKUP_METRICS_TOKEN"])
@pytest.mark.parametrize(
    "weak",
    [" ", "a" * 31, "a" * 31 + " ", " " + "a" * 32, "a" * 16 + "\t" + "a" * 16, "é" * 32, "a" * 32 + "\n", "\x7f" * 32],
)
def test_a_weak_token_stops_the_process_naming_its_variable_and_not_its_value(name: str, weak: str) -> None:
    with pytest.raises(SettingsError, match=name) as refused:
        Settings.from_env({name: weak})
    assert "\n" not in str(refused.value)
    assert weak.strip() not in str(refused.value) or not weak.strip()


@pytest.mark.parametrize("name", ["BACKUP_ADMIN_TOKEN", "BACKUP_METRICS_TOKEN"])
def test_a_token_of_32_printable_ascii_characters_is_taken_and_empty_means_unset(name: str) -> None:
    strong = "!~" + "x" * 30
    field = name.removeprefix("BACKUP_").lower()
    assert getattr(Settings.from_env({name: strong}), field) == strong
    assert getattr(Settings.from_env({name: ""}), field) is None


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "1.5 KiB"), (100 << 30, "100 GiB"), (3 << 40, "3 TiB")],
)
def test_a_size_is_shown_in_iec_units_the_same_way_by_the_cli_and_the_console(size: int, shown: str) -> None:
    assert human_size(size) == shown


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BACKUP_SIZE_ANOMALY_RATIO", "1"),
        ("BACKUP_SIZE_ANOMALY_RATIO", "-2"),
        ("BACKUP_SIZE_ANOMALY_RATIO", "often"),
        ("BACKUP_PUBLIC_URL", "backups.example.org"),
    ],
)
def test_a_bad_alert_setting_stops_the_process_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_alert_settings_are_read() -> None:
    settings = Settings.from_env({"BACKUP_SIZE_ANOMALY_RATIO": "0", "BACKUP_PUBLIC_URL": "https://b.example.org/"})
    assert (settings.size_anomaly_ratio, settings.public_url) == (0.0, "https://b.example.org")
    assert settings.limits.size_anomaly_ratio == 0.0
    assert Settings.from_env({}).size_anomaly_ratio == 2.0
