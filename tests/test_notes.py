"""The Chinese labels of summary values come from the configured prompts directory."""

import shutil
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from voicebot.config import Settings, load_settings
from voicebot.conversation.state import CallState, Direction
from voicebot.notes import PACKAGED_PROMPTS_DIR
from voicebot.report import print_summary
from voicebot.summary import build_summary
from voicebot.web.app import create_app
from voicebot.web.keys import LABELS

RENAMED = "无人应答（本行自定）"


def _lender_prompts(tmp_path: Path) -> Settings:
    """Settings whose prompts are a copy with the `no_response` outcome renamed."""
    prompts = tmp_path / "prompts"
    shutil.copytree(PACKAGED_PROMPTS_DIR, prompts)
    path = prompts / "labels.yaml"
    names = yaml.safe_load(path.read_text(encoding="utf-8"))
    names["outcome"]["no_response"] = RENAMED
    path.write_text(yaml.safe_dump(names, allow_unicode=True), encoding="utf-8")
    return load_settings(environ={"VOICEBOT_PROMPTS__DIR": str(prompts)})


def test_summary_notes_and_printout_use_the_configured_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _lender_prompts(tmp_path)
    now = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
    state = CallState(Direction.OUTBOUND, None, now)
    summary = build_summary(
        state,
        call_id="C1",
        started_at=now,
        ended_at=now,
        transcript=[],
        prompts_dir=settings.prompts_dir,
    )
    assert summary["outcome"] == "no_response"
    assert summary["notes"].startswith(f"结果：{RENAMED}。")
    print_summary(summary, settings.prompts_dir)
    assert RENAMED in capsys.readouterr().out


def test_review_app_labels_come_from_the_configured_prompts(tmp_path: Path) -> None:
    settings = _lender_prompts(tmp_path)
    app = create_app(settings)
    assert app[LABELS]["outcome"]["no_response"] == RENAMED
