"""The engine's seam for an outside reader: needs_help, hear(meaning), answer_off_script."""

import dataclasses
from datetime import date, datetime
from decimal import Decimal

from llm_helpers import ACCOUNT, NOW

from voicebot.accounts import parse_account
from voicebot.config import load_settings
from voicebot.conversation.engine import Conversation
from voicebot.conversation.script import load_script
from voicebot.conversation.state import CallState, Direction, Step
from voicebot.understanding.meaning import ReasonCategory, understand

SETTINGS = load_settings(environ={})
SCRIPT = load_script(SETTINGS.prompts_dir)


def _at_reason() -> Conversation:
    state = CallState(Direction.OUTBOUND, parse_account(ACCOUNT), datetime.fromisoformat(NOW))
    conversation = Conversation(state, SCRIPT, SETTINGS)
    conversation.start()
    conversation.hear("对，我是")
    conversation.hear("1234")
    assert state.step is Step.ASK_REASON
    return conversation


def test_needs_help_when_the_rules_make_no_progress_and_changes_nothing() -> None:
    conversation = _at_reason()
    lines_before = list(conversation.state.lines)
    assert conversation.needs_help(understand("孩子上学花钱多"))
    assert not conversation.needs_help(understand("我忘了"))
    assert not conversation.needs_help(understand("你们是哪里"))  # the rules answer it
    assert conversation.state.lines == lines_before
    assert conversation.state.step is Step.ASK_REASON and conversation.state.misunderstood == 0


def test_hear_uses_a_meaning_given_from_outside() -> None:
    conversation = _at_reason()
    meaning = dataclasses.replace(understand("孩子上学花钱多"), reason=ReasonCategory.INCOME_DROP)
    reply = conversation.hear("孩子上学花钱多", meaning)
    assert reply.say == (SCRIPT.lines["ack_income_drop"], SCRIPT.lines["ask_plan"])
    assert conversation.state.reason is not None
    assert conversation.state.reason.text == "孩子上学花钱多"


def test_plan_slots_can_come_from_the_meaning() -> None:
    conversation = _at_reason()
    conversation.hear("忘了")
    meaning = dataclasses.replace(
        understand("这次三k吧"), amount=Decimal(3000), pay_date=date(2026, 12, 4)
    )
    conversation.hear("这次三k吧", meaning)
    assert conversation.state.pending_amount == Decimal(3000)
    assert conversation.state.pending_date == date(2026, 12, 4)
    assert conversation.state.step is Step.CONFIRM_PROMISE


def test_an_off_script_answer_is_spoken_then_the_question_asked_again() -> None:
    conversation = _at_reason()
    reply = conversation.answer_off_script("你们几点下班", "每天上午九点到晚上九点。")
    assert reply.say == ("每天上午九点到晚上九点。", SCRIPT.lines["ask_reason_rephrase"])
    assert conversation.state.step is Step.ASK_REASON
    assert conversation.state.misunderstood == 0
    assert conversation.state.lines[-3].text == "你们几点下班"
