"""The scenario suite: every case in scenarios.yaml runs through the real engine."""

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from voicebot.calls import TextLine, open_engine, summarise
from voicebot.calls.text import converse_in_text
from voicebot.config import load_settings
from voicebot.conversation.script import load_script
from voicebot.conversation.state import CallState
from voicebot.scenario import Scenario, parse_scenario
from voicebot.simulate import run_text_call, scenario_spec
from voicebot.summary import TimedLine, validate_summary

CASES = yaml.safe_load((Path(__file__).parent / "scenarios.yaml").read_text(encoding="utf-8"))
PARAPHRASED = yaml.safe_load(
    (Path(__file__).parent / "scenarios_paraphrased.yaml").read_text(encoding="utf-8")
)
# Paraphrased calls the service still gets wrong (each a self-harm hint that is escalated
# late or not at all): strict, so a fix shows up as an unexpected pass.
KNOWN_MISSES: set[str] = set()  # scenario names the service still gets wrong
_KNOWN_MISS = pytest.mark.xfail(strict=True, reason="known miss, see the README")
DEFAULT_NOW = "2026-11-25T10:00:00+08:00"
DEFAULT_ACCOUNT = {
    "account_id": "A1001",
    "name": "张伟",
    "gender": "M",
    "phone": "13800138000",
    "id_number": "110101199003071234",
    "product": "个人消费贷款",
    "overdue_amount": 3250.60,
    "overdue_days": 15,
    "due_date": "2026-11-10",
}
# Words that reveal the debt: never said to anyone but the verified borrower.
DEBT_WORDS = ("逾期", "欠款", "三千二百五十", "3250")
SETTINGS = load_settings(environ={})
SCRIPT = load_script(SETTINGS.prompts_dir)


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    raw = {
        "now": case.get("now", DEFAULT_NOW),
        "direction": case.get("direction", "outbound"),
        "account": DEFAULT_ACCOUNT | case.get("account", {}),
        "borrower": case["borrower"],
    }
    if "caller" in case:
        raw["caller"] = case["caller"]
    scenario = parse_scenario(raw, Path("tests/scenarios.yaml"))
    assert scenario.now is not None
    if "after_goodbye" in case:
        return _run_then_hear(scenario, case["after_goodbye"])
    return run_text_call(scenario, SETTINGS, SCRIPT, scenario.now)


def _run_then_hear(scenario: Scenario, late: list[str]) -> dict[str, Any]:
    """The call as `run_text_call` runs it, then `late` heard while the goodbye plays, as
    the voice line delivers a greeting's second half (the text line stops earlier)."""
    assert scenario.now is not None
    spec = scenario_spec(scenario)
    state = CallState(direction=spec.direction, account=spec.account, now=scenario.now)
    assert spec.directory is not None
    engine = open_engine(state, SETTINGS, SCRIPT, spec.directory, spec.caller, None)
    line, transcript = TextLine(scenario.borrower), []
    asyncio.run(converse_in_text(line, engine, transcript.append))
    for text in late:
        transcript.append(TimedLine("borrower", text, line.speak(text)))
        assert asyncio.run(engine.hear(text)).say == ()
    summary = summarise(
        state, spec.call_id, scenario.now, line.now, transcript, SETTINGS.prompts_dir
    )
    assert [x["text"] for x in summary["transcript"][-len(late) :]] == late
    return summary


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_scenario(case: dict[str, Any]) -> None:
    check_case(case)


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=_KNOWN_MISS) if c["name"] in KNOWN_MISSES else c for c in PARAPHRASED],
    ids=[c["name"] for c in PARAPHRASED],
)
def test_paraphrased_scenario(case: dict[str, Any]) -> None:
    """Calls written by someone who never saw the lexicons, the examples or the suite
    above (tests/scenarios_paraphrased.yaml); never edited to make the product pass."""
    check_case(case)


def check_case(case: dict[str, Any]) -> None:
    summary = run_case(case)
    validate_summary(summary)
    expect = case["expect"]
    bot_lines = [x["text"] for x in summary["transcript"] if x["speaker"] == "bot"]
    checks = {
        "outcome": summary["outcome"],
        "verified": summary["identity_verified"],
        "disclosed": summary["disclosed"] is not None,
        "reason": (summary["reason"] or {}).get("category"),
        "requests": summary["requests"],
        "periods": summary["installment_periods"],
        "intent": summary["intent"],
        "sentiment": summary["sentiment"],
        "escalation": summary["escalation"]["reasons"],
        "priority": summary["escalation"]["priority"],
        "next_action": summary["next_action"],
        "account_id": summary["account_id"],
        "transcript_empty": summary["transcript"] == [],
        "readers": summary["metrics"]["readers"],
    }
    for key, actual in checks.items():
        if key in expect:
            wanted = expect[key]
            if key == "escalation":
                actual, wanted = sorted(actual), sorted(wanted)
            assert actual == wanted, f"{key}: {actual!r} != {wanted!r}"
    if "promise" in expect:
        _check_promise(summary["promise_to_pay"], expect["promise"])
    if "reason_text" in expect:
        assert expect["reason_text"] in summary["reason"]["text"]
    if "bot_says" in expect:
        assert any(expect["bot_says"] in line for line in bot_lines), bot_lines
    if "bot_never_says" in expect:
        assert not any(expect["bot_never_says"] in line for line in bot_lines), bot_lines
    if not summary["identity_verified"]:
        leaked = [line for line in bot_lines if any(word in line for word in DEBT_WORDS)]
        assert leaked == [], "the debt was mentioned to an unverified counterpart"
    compliance = summary["compliance"]
    assert compliance["identity_checked_before_disclosure"]
    if summary["outcome"] != "outside_calling_hours":
        assert "智能语音助手" in bot_lines[0] and "录音" in bot_lines[0]
        assert compliance["ai_disclosed"] and compliance["recording_notice"]


def _check_promise(actual: dict[str, Any] | None, wanted: dict[str, Any] | None) -> None:
    if wanted is None:
        assert actual is None
        return
    assert actual is not None, "no promise to pay was recorded"
    assert Decimal(str(actual["amount"])) == Decimal(str(wanted["amount"]))
    assert actual["date"] == wanted["date"]
    if "confirmed" in wanted:
        assert actual["confirmed"] is wanted["confirmed"], f"confirmed: {actual['confirmed']}"


def test_suite_covers_every_enum_value_of_the_contract() -> None:
    schema = yaml.safe_load((Path("voicebot/schema/call_summary.schema.json")).read_text())
    props = schema["properties"]
    expected: dict[str, set[str]] = {
        "outcome": set(props["outcome"]["enum"]),
        "reason": set(props["reason"]["oneOf"][1]["properties"]["category"]["enum"]),
        "requests": set(props["requests"]["items"]["enum"]),
        "intent": {i for i in props["intent"]["enum"] if i},
        "escalation": set(props["escalation"]["properties"]["reasons"]["items"]["enum"]),
    }
    for key, values in expected.items():
        covered: set[str] = set()
        for case in CASES:
            value = case["expect"].get(key)
            covered |= set(value) if isinstance(value, list) else {value}
        assert values <= covered, f"{key} never expected: {sorted(values - covered)}"
