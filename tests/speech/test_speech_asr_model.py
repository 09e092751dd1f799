"""Assembly of the packaged Whisper base model."""

from pathlib import Path

import pytest

from voicebot.speech import asr_model
from voicebot.speech.asr_model import (
    WHISPER_BASE_MODEL_BIN_SIZE,
    ModelError,
    ensure_whisper_base,
    resolve_model_dir,
    verify_whisper_base,
)


def test_assembled_model_matches_recorded_hashes(whisper_base_dir: Path) -> None:
    assert (whisper_base_dir / "model.bin").stat().st_size == WHISPER_BASE_MODEL_BIN_SIZE
    verify_whisper_base(whisper_base_dir)  # raises on any mismatch


def test_second_call_reuses_the_assembled_model(whisper_base_dir: Path) -> None:
    mtime = (whisper_base_dir / "model.bin").stat().st_mtime_ns
    assert ensure_whisper_base(whisper_base_dir.parent) == whisper_base_dir
    assert (whisper_base_dir / "model.bin").stat().st_mtime_ns == mtime


def test_truncated_model_is_rebuilt(tmp_path: Path) -> None:
    model_dir = ensure_whisper_base(tmp_path)
    with (model_dir / "model.bin").open("r+b") as f:
        f.truncate(1000)
    assert ensure_whisper_base(tmp_path) == model_dir
    verify_whisper_base(model_dir)


def test_hash_mismatch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asr_model, "WHISPER_BASE_MODEL_BIN_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="does not match"):
        ensure_whisper_base(tmp_path)
    assert not (tmp_path / "whisper-base-ct2").exists()
    assert list(tmp_path.iterdir()) == []  # staging directory cleaned up


def test_configured_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"x")
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model_dir(str(tmp_path), tmp_path / "cache") == tmp_path


def test_configured_directory_must_hold_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"lacks model\.bin, config\.json"):
        resolve_model_dir(str(tmp_path), tmp_path / "cache")
    with pytest.raises(ModelError, match="not a directory"):
        resolve_model_dir("large-v3", tmp_path / "cache")


def test_no_configuration_uses_whisper_base(whisper_base_dir: Path) -> None:
    assert resolve_model_dir(None, whisper_base_dir.parent) == whisper_base_dir
