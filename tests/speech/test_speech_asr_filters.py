"""Transcript filters: prompt echoes, repetition loops, digits."""

from voicebot.speech.asr import DOMAIN_PROMPT, digits_only, is_prompt_echo, is_repetition_loop


def test_prompt_echo_is_recognised() -> None:
    assert is_prompt_echo("以下是普通话的电话录音，关于贷款", DOMAIN_PROMPT)
    assert is_prompt_echo("这次是普通话的电话录音，关于贷款还款、逾期、减免和投诉。", DOMAIN_PROMPT)


def test_short_answers_overlapping_the_prompt_are_kept() -> None:
    assert not is_prompt_echo("还款", DOMAIN_PROMPT)
    assert not is_prompt_echo("我下周五还三千块", DOMAIN_PROMPT)


def test_repetition_loops() -> None:
    assert is_repetition_loop("塞塞塞塞塞塞")
    assert is_repetition_loop("请问,请问,请问,请问,请问")
    assert not is_repetition_loop("好的好的")
    assert is_repetition_loop("1111")
    assert not is_repetition_loop("尾号1111", allow_digits=True)


def test_digits_only() -> None:
    assert digits_only("一二三四") == "1234"
    assert digits_only("尾号是12 34。") == "尾号是1234。"
    assert digits_only("四七一九") == "4719"
