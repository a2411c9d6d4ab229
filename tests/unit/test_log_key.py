"""The embedded default's log key: made once in the data dir, whoever starts first."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.eventlog import LogKey
from app.settings import Settings


@pytest.mark.parametrize("data_dir", [f"replicas{n}" for n in range(10)])
def test_replicas_starting_together_on_one_data_dir_share_one_key(tmp_path: Path, data_dir: str) -> None:
    settings = Settings.from_env({"BACKUP_DATA_DIR": str(tmp_path / data_dir)})
    start = threading.Barrier(8)

    def first_use() -> str:
        key = LogKey(settings)
        start.wait()
        return key.verifier().text()

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: first_use(), range(8)))
    assert len(keys) == 1
    assert sorted(p.name for p in (tmp_path / data_dir).iterdir()) == ["log.key"]
