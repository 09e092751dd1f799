"""The checks on what the LLM returns: slots against the words, replies against the facts."""

from datetime import date
from decimal import Decimal

import pytest
from llm_helpers import ACCOUNT

from voicebot.accounts import parse_account
from voicebot.config import load_settings
from voicebot.conversation.script import load_script
from voicebot.llm.client import LLMError
from voicebot.llm.guard import ReplyGuard, amount_said, date_said
from voicebot.llm.prompts import load_llm_prompts
from voicebot.llm.understanding import validate_reading

SETTINGS = load_settings(environ={})
SCRIPT = load_script(SETTINGS.prompts_dir)
PROMPTS = load_llm_prompts(SETTINGS.prompts_dir, SETTINGS.lender, SCRIPT)
TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("amount", "said", "ok"),
    [
        ("3000", "这次三k吧", True),
        ("15000", "1.5w可以吗", True),
        ("1500", "一千五", True),
        ("2000", "能还个两三千", False),
        ("1625.30", "先还一半吧", False),
    ],
)
def test_an_amount_must_be_in_the_borrowers_words(amount: str, said: str, ok: bool) -> None:
    assert amount_said(Decimal(amount), said) is ok


@pytest.mark.parametrize(
    ("day", "said", "ok"),
    [
        (date(2026, 12, 2), "下周三吧", True),
        (date(2026, 12, 5), "12/5那天", True),
        (date(2027, 1, 1), "元旦前后吧", False),
        (date(2026, 12, 20), "月底前", False),
    ],
)
def test_a_date_must_be_derivable_or_literal(day: date, said: str, ok: bool) -> None:
    assert date_said(day, said, TODAY) is ok


def test_a_reading_with_a_value_outside_the_schema_is_invalid() -> None:
    with pytest.raises(LLMError) as raised:
        validate_reading({"sentiment": "furious"}, "气死了", TODAY)
    assert raised.value.kind == "invalid"
    with pytest.raises(LLMError):
        validate_reading({"verdict": "guilty"}, "嗯", TODAY)


def _guard(verified: bool = True) -> ReplyGuard:
    account = parse_account(ACCOUNT)
    texts = [*PROMPTS.grounding_texts(), SETTINGS.lender.hotline]
    return ReplyGuard(SCRIPT, account, verified, texts)


@pytest.mark.parametrize(
    "sentence",
    [
        "您的逾期金额是三千二百五十元六角，已经逾期十五天。",
        "您目前逾期3,250.60元。",
        "原定还款日是十一月十日。",
        "客服热线是400-820-1234，每天上午九点到晚上九点。",
        "稍等一下，一个专员会联系您，十分感谢。",
    ],
)
def test_figures_from_the_account_and_the_faq_may_be_said(sentence: str) -> None:
    assert _guard().problems(sentence) == []


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("逾期会产生50元的费用。", "figure: 50元"),
        ("罚息是每天百分之五。", "figure: 百分之五"),
        ("您已经逾期二十天。", "figure: 二十天"),
        ("您还欠三千元。", "figure: 三千元"),
        ("我们会通知您的家人。", "banned: 通知您的家人"),
        ("不还款会影响征信。", "banned: 影响征信"),
    ],
)
def test_invented_figures_and_banned_claims_are_caught(sentence: str, problem: str) -> None:
    assert problem in _guard().problems(sentence)


def test_before_verification_no_word_about_the_debt() -> None:
    assert _guard(verified=False).problems("您的逾期金额是三千二百五十元六角。")
    assert _guard(verified=False).problems("我们每天上午九点到晚上九点上班。") == []


def test_the_faq_is_reviewed_data_without_banned_claims_or_fees() -> None:
    assert {e.topic for e in PROMPTS.faq} >= {
        "repayment_channels", "overdue_charges", "installment", "hotline", "office_hours",
    }  # fmt: skip
    guard = _guard()
    for entry in PROMPTS.faq:
        assert guard.problems(entry.answer) == [], entry.topic
        assert "{" not in entry.answer
