"""Reading one BACKUP_* variable: its type, its bounds, and the one-line error that names it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from domain.durations import parse_duration
from domain.sizes import parse_size

_WHOLE = re.compile(r"[0-9]+")
TOKEN_MIN_LENGTH = 32
# Printable ASCII without the space: `!` (0x21) to `~` (0x7e).
_TOKEN = re.compile(rf"[\x21-\x7e]{{{TOKEN_MIN_LENGTH},}}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """One line naming the variable and what is wrong with its value."""


@dataclass(frozen=True, slots=True)
class EnvReader:
    """The environment the settings are read from; each method reads one variable or raises SettingsError."""

    env: Mapping[str, str]

    def text(self, name: str, default: str) -> str:
        value = self.env.get(name, "").strip()
        return value or default

    def url(self, name: str, default: str, schemes: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if not value.startswith(schemes):
            raise SettingsError(f"{name}: {value!r} must start with one of {', '.join(schemes)}")
        return value

    def size(self, name: str, default: str, minimum: int) -> int:
        value = self.text(name, default)
        try:
            size = parse_size(value)
        except ValueError as exc:
            raise SettingsError(f"{name}: {exc}") from None
        return self._at_least(name, value, size, minimum)

    def integer(self, name: str, default: str, minimum: int) -> int:
        value = self.text(name, default)
        if not _WHOLE.fullmatch(value) or len(value) > 18:
            raise SettingsError(f"{name}: {value!r} is not a whole number")
        return self._at_least(name, value, int(value), minimum)

    def duration(self, name: str, default: str, *, allow_zero: bool = False) -> timedelta:
        value = self.text(name, default)
        try:
            duration = parse_duration(value)
        except ValueError as exc:
            raise SettingsError(f"{name}: {exc}") from None
        if not duration and not allow_zero:
            raise SettingsError(f"{name}: {value!r} must be longer than 0")
        return duration

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default).lower()
        if value not in choices:
            raise SettingsError(f"{name}: {value!r} is not one of {', '.join(choices)}")
        return value

    def networks(self, name: str) -> tuple[str, ...]:
        """Comma-separated IP addresses or CIDR networks, each normalised to a network (`a.b.c.d/32`)."""
        found = []
        for item in self.text(name, "").split(","):
            if not item.strip():
                continue
            try:
                found.append(str(ipaddress.ip_network(item.strip())))
            except ValueError as exc:
                raise SettingsError(f"{name}: {item.strip()!r} is not an IP address or CIDR network ({exc})") from None
        return tuple(found)

    def token(self, name: str) -> str | None:
        """A bearer token: unset (or empty) is None; otherwise at least TOKEN_MIN_LENGTH printable ASCII
        characters with no whitespace. The error never repeats the value: it is a secret."""
        value = self.env.get(name, "")
        if not value:
            return None
        if not _TOKEN.fullmatch(value):
            raise SettingsError(
                f"{name}: must be at least {TOKEN_MIN_LENGTH} printable ASCII characters with no whitespace "
                f"(it has {len(value)}); generate one with `openssl rand -hex 32`"
            )
        return value

    def boolean(self, name: str, default: str) -> bool:
        value = self.text(name, default).lower()
        if value not in _TRUE | _FALSE:
            raise SettingsError(f"{name}: {value!r} is not true or false")
        return value in _TRUE

    @staticmethod
    def _at_least(name: str, raw: str, value: int, minimum: int) -> int:
        if value < minimum:
            raise SettingsError(f"{name}: {raw!r} must be at least {minimum}")
        return value
