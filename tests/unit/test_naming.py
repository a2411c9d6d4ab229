from __future__ import annotations

import pytest

from domain.naming import derive_name, extension_of, is_backup_id

UUID = "01934fab-bc33-7890-a1b2-c3d4e5f6a7b8"


def test_seed_example_drops_envelope_and_keeps_tar_gz() -> None:
    name = derive_name("daily-backup-2026-04-12.tar.gz.gpg", UUID)
    assert name.filename == "daily-backup-2026-04-12.tar.gz"
    assert name.backup_id(UUID) == f"{UUID}.tar.gz"
    assert name.mimetype == "application/gzip"
    assert name.download_name == "daily-backup-2026-04-12.tar.gz.gpg"


@pytest.mark.parametrize(
    ("header", "filename"),
    [
        ("  spaced.txt  ", "spaced.txt"),
        ("../../etc/passwd", "passwd"),
        ("C:\\configs\\fw.xml.asc", "fw.xml"),
        ("weird name (1).json.PGP", "weird_name__1_.json"),
        ("...hidden.yaml", "hidden.yaml"),
        ("config.gpg.gpg", "config.gpg"),
        ("ünïcode.tar", "_n_code.tar"),
        ("a" * 300 + ".zip", "a" * 255),
    ],
)
def test_filename_is_sanitised_in_spec_order(header: str, filename: str) -> None:
    assert derive_name(header, UUID).filename == filename


@pytest.mark.parametrize("header", [None, "", "   ", "...", "/", "configs/"])
def test_nothing_left_names_the_backup_after_its_uuid(header: str | None) -> None:
    name = derive_name(header, UUID)
    assert name.filename == f"backup-{UUID}"
    assert name.extension == ".bin"
    assert name.mimetype == "application/octet-stream"


def test_envelope_suffix_is_kept_for_the_download_name() -> None:
    assert derive_name("fw.tgz.ASC", UUID).download_name == "fw.tgz.ASC"
    assert derive_name("fw.tgz", UUID).download_name == "fw.tgz.gpg"


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("x.TAR.GZ", ".tar.gz"),
        ("x.tgz", ".tgz"),
        ("x.gz", ".gz"),
        ("x.tar.xz", ".tar.xz"),
        ("x.tar.bz2", ".tar.bz2"),
        ("x.tar.zst", ".tar.zst"),
        ("x.yml", ".yml"),
        ("x.conf", ".bin"),
        ("x", ".bin"),
    ],
)
def test_extension_is_the_longest_allowlisted_suffix(name: str, ext: str) -> None:
    assert extension_of(name) == ext


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (f"{UUID}.tar.gz", True),
        (f"{UUID}.bin", True),
        (f"{UUID}.exe", False),
        (f"{UUID}", False),
        ("01934fab-bc33-4890-a1b2-c3d4e5f6a7b8.bin", False),  # a v4 uuid
        (f"../{UUID}.bin", False),
        (f"{UUID.upper()}.bin", False),
    ],
)
def test_backup_ids_are_uuid7_plus_allowlisted_extension(value: str, ok: bool) -> None:
    assert is_backup_id(value) is ok
