"""Filename policy: X-Filename → user-facing name, id extension and mimetype (SPEC, upload)."""

from __future__ import annotations

import re
from dataclasses import dataclass

MIMETYPES: dict[str, str] = {
    ".tar.gz": "application/gzip",
    ".tgz": "application/gzip",
    ".gz": "application/gzip",
    ".tar.xz": "application/x-xz",
    ".txz": "application/x-xz",
    ".xz": "application/x-xz",
    ".tar.bz2": "application/x-bzip2",
    ".bz2": "application/x-bzip2",
    ".tar.zst": "application/zstd",
    ".zst": "application/zstd",
    ".tar": "application/x-tar",
    ".zip": "application/zip",
    ".json": "application/json",
    ".xml": "application/xml",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".txt": "text/plain",
    ".bin": "application/octet-stream",
}
DEFAULT_EXTENSION = ".bin"
ENVELOPE_SUFFIXES = (".gpg", ".pgp", ".asc")
DEFAULT_ENVELOPE = ".gpg"
MAX_NAME_LENGTH = 255

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Longest first, so `.tar.gz` wins over `.gz`.
_BY_LENGTH = sorted(MIMETYPES, key=len, reverse=True)
_UUID7 = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
_BACKUP_ID = re.compile(rf"({_UUID7})({'|'.join(re.escape(ext) for ext in _BY_LENGTH)})")


@dataclass(frozen=True, slots=True)
class BackupName:
    """The derived names of one backup."""

    filename: str
    extension: str
    mimetype: str
    envelope: str

    def backup_id(self, uuid: str) -> str:
        return f"{uuid}{self.extension}"

    @property
    def download_name(self) -> str:
        return download_name(self.filename, self.envelope)


def derive_name(header: str | None, uuid: str) -> BackupName:
    """Apply SPEC's derivation in its order; `uuid` names a backup whose header leaves nothing."""
    name = (header or "").strip()
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name).lstrip(".")
    envelope = DEFAULT_ENVELOPE
    for suffix in ENVELOPE_SUFFIXES:
        if name.lower().endswith(suffix):
            envelope = name[-len(suffix) :]
            name = name[: -len(suffix)]
            break
    name = name[:MAX_NAME_LENGTH] or f"backup-{uuid}"
    extension = extension_of(name)
    return BackupName(filename=name, extension=extension, mimetype=MIMETYPES[extension], envelope=envelope)


def download_name(filename: str, envelope: str) -> str:
    """The name a download is saved under: the filename with the envelope suffix it arrived with."""
    return f"{filename}{envelope or DEFAULT_ENVELOPE}"


def extension_of(name: str) -> str:
    """The longest allowlisted suffix of `name` in lower case, else `.bin`."""
    lowered = name.lower()
    return next((ext for ext in _BY_LENGTH if lowered.endswith(ext)), DEFAULT_EXTENSION)


def is_backup_id(value: str) -> bool:
    """True for `<uuidv7><allowlisted extension>`, the only shape an id may take near an object key."""
    return _BACKUP_ID.fullmatch(value) is not None


def object_key(org_id: str, system_key: str, backup_id: str) -> str:
    """`{org_id}/{system_key}/{id}`, derived from the authenticated identity only."""
    return f"{org_id}/{system_key}/{backup_id}"
