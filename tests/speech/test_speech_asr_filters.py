"""Transcript filters: prompt echoes, repetition loops, digits."""

from voicebot.speech.asr import (
    DOMAIN_PROMPT,
    collapse_repetitions,
    digits_only,
    drop_echoed_tail,
    is_prompt_echo,
    is_repetition_loop,
)


def test_prompt_echo_is_recognised() -> None:
    assert is_prompt_echo("以下是普通话的电话录音，关于贷款", DOMAIN_PROMPT)
    assert is_prompt_echo("这次是普通话的电话录音，关于贷款还款、逾期、减免和投诉。", DOMAIN_PROMPT)


def test_short_answers_overlapping_the_prompt_are_kept() -> None:
    assert not is_prompt_echo("还款", DOMAIN_PROMPT)
    assert not is_prompt_echo("我下周五还三千块", DOMAIN_PROMPT)


def test_the_prompt_read_back_after_an_answer_is_dropped() -> None:
    assert drop_echoed_tail("我想办分期,分12期,减免和投诉。", DOMAIN_PROMPT) == "我想办分期,分12期,"
    assert drop_echoed_tail("我要投诉，减免和投诉", DOMAIN_PROMPT) == "我要投诉，"
    assert drop_echoed_tail("我想分期，还款", DOMAIN_PROMPT) == "我想分期，还款"  # short: said
    assert drop_echoed_tail("减免和投诉", DOMAIN_PROMPT) == "减免和投诉"  # all of it: an echo
    assert drop_echoed_tail("我下周五还三千块。", DOMAIN_PROMPT) == "我下周五还三千块。"


def test_one_character_loops_are_noise() -> None:
    assert is_repetition_loop("塞塞塞塞塞塞")
    assert not is_repetition_loop("对对对")
    assert not is_repetition_loop("好的好的")
    assert is_repetition_loop("1111")
    assert not is_repetition_loop("尾号1111", allow_digits=True)


def test_a_looped_answer_is_kept_once() -> None:
    assert collapse_repetitions("是我 是我 是我 是") == "是我"
    assert collapse_repetitions("请问,请问,请问,请问,请问") == "请问"
    assert collapse_repetitions("月底 还一千 月底 还一千") == "月底还一千"
    assert collapse_repetitions("公司一直拖欠公司公司公司一直拖欠公司") == "公司一直拖欠"
    # Heard in a call: the tail loop kept 月底 after the amount, and the amount was lost.
    assert collapse_repetitions("月底还一千 月底 月底 月底 月底 月") == "月底还一千"


def test_repeated_characters_and_digits_are_left_alone() -> None:
    assert collapse_repetitions("好的好的") == "好的"  # same meaning, said once
    assert collapse_repetitions("对对对，是我。") == "对对对，是我。"
    assert collapse_repetitions("我已经还了") == "我已经还了"
    assert collapse_repetitions("12 12 12", allow_digits=True) == "12 12 12"
    # Longer than an ID number: the decoder looping on the four digits until its token cap.
    assert collapse_repetitions("3508350835083508350", allow_digits=True) == "3508"


def test_digits_only() -> None:
    assert digits_only("一二三四") == "1234"
    assert digits_only("尾号是12 34。") == "尾号是1234。"
    assert digits_only("四七一九") == "4719"
