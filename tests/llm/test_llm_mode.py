"""LLM mode end to end: the real openai SDK over HTTP against the loopback fake."""

from typing import Any

from fakes.openai_server import FakeOpenAIServer
from llm_helpers import (
    NOW,
    VERIFIED,
    by_utterance,
    make_scenario,
    reading,
)

from voicebot.config import Settings
from voicebot.conversation.script import Script
from voicebot.llm.driver import LLMMode
from voicebot.scenario import parse_now
from voicebot.simulate import run_llm_text_call, run_text_call

SCHOOL_FEES = "孩子上学花钱多"  # a reason the rules have no word for
OFF_SCRIPT = "逾期了会多收钱吗"  # a question the script does not cover
PAYS_NEXT_FRIDAY = [*VERIFIED, SCHOOL_FEES, "下周五还全部", "对"]
GROUNDED_ANSWER = "逾期期间的罚息按照您借款合同的约定计算。具体以App账单上显示的为准。"


async def _call(
    borrower: list[str], settings: Settings, script: Script, mode: LLMMode
) -> dict[str, Any]:
    scenario = make_scenario(borrower)
    return await run_llm_text_call(scenario, settings, script, parse_now(NOW, "now"), mode)


def _bot_lines(summary: dict[str, Any]) -> list[str]:
    return [x["text"] for x in summary["transcript"] if x["speaker"] == "bot"]


def _lines_after(summary: dict[str, Any], said: str) -> list[str]:
    texts = [x["text"] for x in summary["transcript"]]
    return texts[texts.index(said) + 1 :]


async def test_the_llm_fills_slots_the_rules_missed(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.tool_arguments = by_utterance(
        {
            SCHOOL_FEES: reading(reason="income_drop", sentiment="anxious"),
            "这次三k吧": reading(amount=3000),
        }
    )
    borrower = [*VERIFIED, SCHOOL_FEES, "这次三k吧", "下周五", "对"]
    summary = await _call(borrower, llm_settings, script, mode)

    assert summary["reason"] == {"category": "income_drop", "text": SCHOOL_FEES}
    assert summary["promise_to_pay"] == {"amount": 3000.0, "date": "2026-12-04", "confirmed": True}
    assert summary["sentiment"] == "anxious"
    assert fake_llm.purposes() == ["understanding", "understanding", "notes"]
    llm = summary["metrics"]["llm"]
    assert llm["turns_consulted"] == 2 and llm["fallbacks"] == 0
    # Without the LLM the rules keep the words as an unplaced reason, and no amount.
    rules_only = run_text_call(make_scenario(borrower), llm_settings, script, parse_now(NOW, "n"))
    assert rules_only["reason"] == {"category": "other", "text": SCHOOL_FEES}


async def test_an_amount_or_date_the_borrower_did_not_say_is_dropped(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    # "两三千" is no amount, "元旦前后" no day: a guess must not become a promise.
    fake_llm.tool_arguments = by_utterance(
        {"元旦前后吧能还个两三千": reading(amount=2000, date="2027-01-01")}
    )
    borrower = [*VERIFIED, "忘了", "元旦前后吧能还个两三千"]
    summary = await _call(borrower, llm_settings, script, mode)

    assert summary["promise_to_pay"] is None
    assert summary["metrics"]["llm"]["slots_rejected"] == ["amount 2000", "date 2027-01-01"]


async def test_an_off_script_question_gets_a_grounded_answer_then_the_question_again(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.tool_arguments = by_utterance({OFF_SCRIPT: reading(off_script_question=True)})
    fake_llm.reply_text = GROUNDED_ANSWER
    summary = await _call([*VERIFIED, OFF_SCRIPT, "忘了"], llm_settings, script, mode)

    after = _lines_after(summary, OFF_SCRIPT)
    # Spoken sentence by sentence, as each arrived; then the step's question again.
    first, second = GROUNDED_ANSWER.split("。", 1)
    assert after[:4] == [f"{first}。", second, script.lines["ask_reason_rephrase"], "忘了"]
    assert summary["reason"]["category"] == "forgot"
    reply_request = fake_llm.requests[fake_llm.purposes().index("reply")]
    grounding = reply_request["messages"][1]["content"]
    assert "常见问题" in grounding and "三千二百五十元六角" in grounding
    assert summary["metrics"]["llm"]["off_script_answers"] == 1


async def test_an_answer_that_invents_an_amount_is_never_spoken(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.tool_arguments = by_utterance({OFF_SCRIPT: reading(off_script_question=True)})
    fake_llm.reply_text = "逾期后每天会加收50元。请您尽快处理。"
    summary = await _call([*VERIFIED, OFF_SCRIPT, "忘了"], llm_settings, script, mode)

    assert not any("50" in line for line in _bot_lines(summary))
    assert _lines_after(summary, OFF_SCRIPT)[0] == script.lines["ask_reason_rephrase"]
    events = summary["metrics"]["llm"]["fallback_events"]
    assert events == [{"turn": 3, "stage": "reply", "why": "blocked: figure: 50元"}]


async def test_an_answer_with_a_banned_claim_stops_before_that_sentence(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.tool_arguments = by_utterance({OFF_SCRIPT: reading(off_script_question=True)})
    fake_llm.reply_text = "罚息按照您借款合同的约定计算。再不还款我们就起诉您。"
    summary = await _call([*VERIFIED, OFF_SCRIPT, "忘了"], llm_settings, script, mode)

    assert not any("起诉" in line for line in _bot_lines(summary))
    after = _lines_after(summary, OFF_SCRIPT)
    assert after[:2] == ["罚息按照您借款合同的约定计算。", script.lines["ask_reason_rephrase"]]
    assert summary["metrics"]["llm"]["fallback_events"][0]["why"] == "blocked: banned: 起诉"


async def test_before_verification_an_answer_says_nothing_about_the_debt(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    question = "你们这个是关于什么的"
    fake_llm.tool_arguments = by_utterance({question: reading(off_script_question=True)})
    fake_llm.reply_text = "是关于您逾期的借款。"
    summary = await _call([question, "对，我是", "1234"], llm_settings, script, mode)

    first_answer = _lines_after(summary, question)[0]
    assert first_answer == script.render("opening_rephrase", {"borrower": "张先生"})
    assert "账户信息" in fake_llm.requests[1]["messages"][1]["content"]
    assert "三千二百五十" not in fake_llm.requests[1]["messages"][1]["content"]
    assert summary["identity_verified"]


async def test_a_slow_endpoint_falls_back_to_the_rules_and_the_call_goes_on(
    fake_llm: FakeOpenAIServer, script: Script, llm_settings: Settings
) -> None:
    fake_llm.delay_s = 5.0  # far past the budget below
    fake_llm.tool_arguments = reading(reason="income_drop")
    settings = _with_budget(llm_settings, 0.2)
    mode = LLMMode.from_settings(settings, script)
    try:
        summary = await _call(PAYS_NEXT_FRIDAY, settings, script, mode)
    finally:
        await mode.aclose()

    assert _lines_after(summary, SCHOOL_FEES)[:2] == [
        script.lines["ack_other"],
        script.lines["ask_plan"],
    ]
    assert summary["promise_to_pay"] == {
        "amount": 3250.6,
        "date": "2026-12-04",
        "confirmed": True,
    }
    llm = summary["metrics"]["llm"]
    assert {"turn": 3, "stage": "understanding", "why": "timeout"} in llm["fallback_events"]
    assert llm["notes_source"] == "rules"  # the notes waited too, and gave up


async def test_a_failing_endpoint_falls_back_to_the_rules(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.error_status = 500
    summary = await _call(PAYS_NEXT_FRIDAY, llm_settings, script, mode)

    assert summary["promise_to_pay"] == {
        "amount": 3250.6,
        "date": "2026-12-04",
        "confirmed": True,
    }
    llm = summary["metrics"]["llm"]
    assert [e["why"] for e in llm["fallback_events"]] == ["http_500", "http_500"]
    assert [e["stage"] for e in llm["fallback_events"]] == ["understanding", "notes"]
    assert summary["notes"].startswith("结果：")  # the rules' notes


async def test_a_reading_outside_the_schema_is_refused(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.tool_arguments = reading(reason="bankrupt")
    summary = await _call([*VERIFIED, SCHOOL_FEES], llm_settings, script, mode)

    assert summary["reason"] == {"category": "other", "text": SCHOOL_FEES}
    assert summary["metrics"]["llm"]["fallback_events"][0]["why"] == "invalid"


async def test_notes_come_from_the_llm_and_the_fields_from_the_engine(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.notes_text = "客户因忘记还款逾期，承诺12月4日还清3250.60元，态度配合。"
    borrower = [*VERIFIED, "忘了", "下周五还全部", "对"]
    summary = await _call(borrower, llm_settings, script, mode)
    rules_only = run_text_call(make_scenario(borrower), llm_settings, script, parse_now(NOW, "n"))

    assert summary["notes"] == fake_llm.notes_text
    assert summary["metrics"]["llm"]["notes_source"] == "llm"
    volatile = ("call_id", "notes", "metrics", "ended_at", "duration_s", "transcript")
    assert {k: v for k, v in summary.items() if k not in volatile} == {
        k: v for k, v in rules_only.items() if k not in volatile
    }
    assert [x["text"] for x in summary["transcript"]] == [
        x["text"] for x in rules_only["transcript"]
    ]
    notes_request = fake_llm.requests[-1]["messages"][-1]["content"]
    promise = '"promise_to_pay": {"amount": 3250.6, "date": "2026-12-04", "confirmed": true}'
    assert promise in notes_request


async def test_notes_that_state_an_unknown_figure_are_replaced_by_the_rules_notes(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.notes_text = "客户承诺还款5000元。"
    summary = await _call([*VERIFIED, "忘了", "下周五还全部", "对"], llm_settings, script, mode)

    assert summary["notes"].startswith("结果：")
    assert summary["metrics"]["llm"]["fallback_events"][0]["stage"] == "notes"


async def test_metrics_count_calls_tokens_and_time(
    fake_llm: FakeOpenAIServer, llm_settings: Settings, script: Script, mode: LLMMode
) -> None:
    fake_llm.tool_arguments = by_utterance({OFF_SCRIPT: reading(off_script_question=True)})
    fake_llm.reply_text = GROUNDED_ANSWER
    summary = await _call([*VERIFIED, OFF_SCRIPT, "忘了"], llm_settings, script, mode)

    llm = summary["metrics"]["llm"]
    assert llm["model"] == "fake-model"
    assert llm["calls"] == 3 == len(llm["call_s"])
    assert [c["purpose"] for c in llm["call_s"]] == ["understanding", "reply", "notes"]
    assert all(c["ok"] and c["s"] >= 0 for c in llm["call_s"])
    assert llm["prompt_tokens"] > 0 and llm["completion_tokens"] > 0
    assert fake_llm.requests[0]["tool_choice"]["function"]["name"] == "record_meaning"


def _with_budget(settings: Settings, budget_s: float) -> Settings:
    from dataclasses import replace

    llm = replace(settings.llm, budget_s=budget_s, notes_timeout_s=budget_s)
    return replace(settings, llm=llm)
