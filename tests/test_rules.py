"""Compliance rules that hold whatever the conversation: script, masking, window."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from voicebot.campaigns.scheduler import DayCount, Policy, Refusal, Target, refusal
from voicebot.config import ConfigError, load_settings
from voicebot.conversation.rules import within_calling_window
from voicebot.conversation.script import ScriptError, load_script
from voicebot.masking import mask_phone, mask_text

SETTINGS = load_settings(environ={})


def test_no_script_line_makes_a_banned_claim() -> None:
    script = load_script(SETTINGS.prompts_dir)
    assert len(script.banned_phrases) >= 15
    offending = {key: script.banned_phrases_in(line) for key, line in script.lines.items()}
    assert {k: v for k, v in offending.items() if v} == {}


def test_a_refusal_to_verify_is_offered_the_official_hotline() -> None:
    script = load_script(SETTINGS.prompts_dir)
    line = script.render("refuse_verify", {"lender": "安信消费金融", "hotline": "400-820-1234"})
    assert "客服热线400-820-1234" in line
    assert not any(word in line for word in ("逾期", "欠款", "金额"))  # unverified listener


def test_banned_claim_check_catches_a_threat() -> None:
    script = load_script(SETTINGS.prompts_dir)
    assert script.banned_phrases_in("再不还就起诉您，通知您的家人") == ["起诉", "通知您的家人"]


def test_a_typo_in_a_placeholder_is_refused_at_load(tmp_path: Path) -> None:
    (tmp_path / "script.yaml").write_text('opening: "您好{lendr}"\n', encoding="utf-8")
    (tmp_path / "banned_claims.yaml").write_text("phrases: [起诉]\n", encoding="utf-8")
    with pytest.raises(ScriptError, match="opening: unknown placeholder lendr"):
        load_script(tmp_path)


@pytest.mark.parametrize(
    ("when", "zone", "allowed"),
    [
        ("2026-11-25T08:00:00+08:00", "Asia/Shanghai", True),
        ("2026-11-25T20:59:00+08:00", "Asia/Shanghai", True),
        ("2026-11-25T21:00:00+08:00", "Asia/Shanghai", False),
        ("2026-11-25T07:59:59+08:00", "Asia/Shanghai", False),
        ("2026-11-25T01:00:00+00:00", "Asia/Shanghai", True),  # 09:00 in Shanghai
        ("2026-11-25T10:00:00+08:00", "Asia/Urumqi", True),  # 08:00 in Urumqi
        ("2026-11-25T09:00:00+08:00", "Asia/Urumqi", False),  # 07:00 in Urumqi
    ],
)
def test_calling_window_is_in_the_borrowers_time_zone(when: str, zone: str, allowed: bool) -> None:
    assert within_calling_window(datetime.fromisoformat(when), zone, SETTINGS.rules) is allowed


def test_calling_window_is_configurable_by_environment() -> None:
    settings = load_settings(environ={"VOICEBOT_RULES__CALLING_WINDOW_END": "20:00"})
    when = datetime.fromisoformat("2026-11-25T20:30:00+08:00")
    assert not within_calling_window(when, "Asia/Shanghai", settings.rules)


def test_campaign_scheduler_asks_the_same_window_as_a_call() -> None:
    policy = Policy.from_settings(SETTINGS.rules, SETTINGS.campaigns)
    for hour in range(24):
        when = datetime(2026, 11, 25, hour, 30, tzinfo=UTC)
        assert within_calling_window(when, "Asia/Shanghai", policy) is within_calling_window(
            when, "Asia/Shanghai", SETTINGS.rules
        )
    target = Target("A1", "13800138000", "Asia/Shanghai", 10, Decimal("100"))
    late = datetime.fromisoformat("2026-11-25T21:00:00+08:00")
    assert refusal(target, late, DayCount(), False, None, policy) is Refusal.OUTSIDE_WINDOW


def test_bad_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="calling_window_start"):
        load_settings(environ={"VOICEBOT_RULES__CALLING_WINDOW_START": "eight"})


def test_masking_hides_phone_id_and_card_numbers() -> None:
    text = mask_text("电话13800138000，身份证110101199003071234，卡6222021234567890123")
    assert text == "电话138****8000，身份证**************1234，卡***************0123"
    assert mask_phone("13800138000") == "138****8000"


def test_labels_name_every_enum_value() -> None:
    labels = yaml.safe_load(Path("prompts/labels.yaml").read_text(encoding="utf-8"))
    assert set(labels["outcome"]) >= {"right_party_contact", "outside_calling_hours"}
