import os
from pathlib import Path

import pytest


@pytest.fixture
def store_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the default store at a fresh SQLite file for commands run in this test."""
    path = tmp_path / "calls.sqlite3"
    monkeypatch.setenv("VOICEBOT_STORE__PATH", str(path))
    return path


os.environ.setdefault("HF_HUB_OFFLINE", "1")
