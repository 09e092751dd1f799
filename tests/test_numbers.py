"""Amounts, ID digits and installment periods as borrowers say them, and spoken amounts."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicebot.understanding.normalize import normalize
from voicebot.understanding.numbers import (
    id_characters_said,
    mentions_full_amount,
    parse_amount,
    parse_id_digits,
    parse_numeral,
    parse_periods,
    speak_amount,
    speak_number,
)


@pytest.mark.parametrize(
    ("said", "amount"),
    [
        ("三千", "3000"),
        ("两千五", "2500"),
        ("3千", "3000"),
        ("先还3k吧", "3000"),
        ("1.5w", "15000"),
        ("我能还1w2", "12000"),
        ("一万二", "12000"),
        ("一万二千八", "12800"),
        ("3000块", "3000"),
        ("3,000块", "3000"),
        ("３０００块", "3000"),  # full-width digits from ASR
        ("2500元", "2500"),
        ("两千块钱", "2000"),
        ("三千二百五十元六角", "3250.6"),
        ("三千二百五十块六毛五", "3250.65"),
        ("三百五十块零五分", "350.05"),
        ("1500.5元", "1500.5"),
        ("五百", "500"),
        ("一千五", "1500"),
        ("八百来块", "800"),
        ("三千多块吧", "3000"),
        ("1万2", "12000"),
        ("2.5万", "25000"),
        ("三块六", "3.6"),
        ("一千零五", "1005"),
        ("十万零一十元", "100010"),
        ("五角", "0.5"),
        ("一分", "0.01"),
        ("先还500", "500"),
        ("我先还五十", "50"),
        ("15号先还2500元", "2500"),
        ("15號先還2500元", "2500"),  # traditional ASR output
        ("下个月五号还三千", "3000"),
        ("10号还1000", "1000"),
        ("逾期十五天了我下周五还两千", "2000"),
        ("分6期每期500", "500"),
        ("3000块5号还", "3000"),
        ("我这个月先还两千块剩下的一万二下个月", "2000"),
        ("周五还五百", "500"),
        ("九百九十九万九千九百九十九元九角九分", "9999999.99"),
    ],
)
def test_parse_amount_reads_spoken_amounts(said: str, amount: str) -> None:
    assert parse_amount(said) == Decimal(amount)


def test_parse_amount_accepts_normalized_text() -> None:
    assert parse_amount(normalize("15號先還2,500元")) == Decimal("2500")


@pytest.mark.parametrize(
    "said",
    [
        "全部",
        "全额还",
        "一半",
        "还一半",
        "分三期",
        "逾期十五天",
        "下个月五号",
        "十二月四号",
        "我一定还",
        "十分抱歉",
        "千万别打了",
        "一次性还清",
        "我们一块儿想办法",
        "周五",
        "三个人",
        "我的电话是13800138000",
        "大概两三千",
        "",
    ],
)
def test_parse_amount_finds_no_money(said: str) -> None:
    assert parse_amount(said) is None


@pytest.mark.parametrize(
    ("said", "full"),
    [
        ("全部", True),
        ("全额还款", True),
        ("我都还了吧", True),
        ("一次性还清", True),
        ("下周五还清", True),
        ("我全部还", True),
        ("还不清", False),
        ("没还清", False),
        ("全部还不上", False),
        ("先还两千", False),
        ("一半", False),
    ],
)
def test_mentions_full_amount(said: str, full: bool) -> None:
    assert mentions_full_amount(said) is full


@pytest.mark.parametrize(
    ("span", "value"),
    [("两千五", 2500), ("一万二千八", 12800), ("三点五万", 35000), ("二五零零", 2500), ("十", 10)],
)
def test_parse_numeral(span: str, value: int) -> None:
    assert parse_numeral(span) == value


@pytest.mark.parametrize("span", ["三四千", "千万", "万一", "百"])
def test_parse_numeral_rejects_non_numbers(span: str) -> None:
    assert parse_numeral(span) is None


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("一二三四", "1234"),
        ("幺二三四", "1234"),
        ("1234", "1234"),
        ("洞洞幺两", "0012"),
        ("零〇一二", "0012"),
        ("五六七叉", "567X"),
        ("五六七x", "567X"),
        ("五六七X", "567X"),
        ("五六七艾克斯", "567X"),
        ("12三四", "1234"),
        ("尾号是1234", "1234"),
        ("后四位是五六七叉", "567X"),
        ("是 1 2 3 4", "1234"),
        ("一二，三四", "1234"),
        ("１２３４", "1234"),
        ("身份证后4位3456", "3456"),
        ("我的身份证号最后四位是二零一X", "201X"),
        ("拐勾洞幺", "7901"),
        ("我看一下一二三四", "1234"),
        ("三四五六吧", "3456"),
    ],
)
def test_parse_id_digits(said: str, digits: str) -> None:
    assert parse_id_digits(said) == digits


@pytest.mark.parametrize(
    "said", ["一二三", "12345", "X123", "12X4", "一二三四五六", "不记得了", "", "123 4567"]
)
def test_parse_id_digits_rejects_wrong_length_or_misplaced_x(said: str) -> None:
    assert parse_id_digits(said) is None


@pytest.mark.parametrize(
    ("said", "periods"),
    [
        ("分三期", 3),
        ("分6期", 6),
        ("分十二个月", 12),
        ("分成3次", 3),
        ("分两期", 2),
        ("能不能分期12个月", 12),
        ("我想三期还完", 3),
        ("能分个三期吗", 3),
        ("分成二十四期", 24),
    ],
)
def test_parse_periods(said: str, periods: int) -> None:
    assert parse_periods(said) == periods


@pytest.mark.parametrize("said", ["分期", "我想分期", "十五号还", "还三千", "分一期"])
def test_parse_periods_none_when_not_stated(said: str) -> None:
    assert parse_periods(said) is None


@pytest.mark.parametrize(
    ("amount", "spoken"),
    [
        ("3250.60", "三千二百五十元六角"),
        ("12800", "一万二千八百元"),
        ("3250.65", "三千二百五十元六角五分"),
        ("350.05", "三百五十元零五分"),
        ("1005", "一千零五元"),
        ("0.01", "一分"),
        ("0.5", "五角"),
        ("0", "零元"),
        ("100000", "十万元"),
        ("100010", "十万零一十元"),
        ("2", "两元"),
        ("12", "十二元"),
        ("20", "二十元"),
        ("2000", "两千元"),
        ("22000", "两万二千元"),
        ("1200", "一千二百元"),
        ("10", "十元"),
        ("0.22", "两角两分"),
        ("9999999.99", "九百九十九万九千九百九十九元九角九分"),
        ("100000000", "一亿元"),
    ],
)
def test_speak_amount(amount: str, spoken: str) -> None:
    assert speak_amount(Decimal(amount)) == spoken


def test_speak_amount_rejects_negative() -> None:
    with pytest.raises(ValueError):
        speak_amount(Decimal("-1"))


@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        (15, "十五"),
        (2, "两"),
        (0, "零"),
        (10, "十"),
        (110, "一百一十"),
        (2000, "两千"),
        (101, "一百零一"),
    ],
)
def test_speak_number(n: int, spoken: str) -> None:
    assert speak_number(n) == spoken


@given(st.integers(min_value=1, max_value=999_999_999))
def test_spoken_amount_parses_back(cents: int) -> None:
    amount = Decimal(cents) / 100
    assert parse_amount(speak_amount(amount)) == amount


@given(st.integers(min_value=1, max_value=99_999_999))
def test_spoken_number_parses_back(n: int) -> None:
    assert parse_numeral(speak_number(n)) == n


@pytest.mark.parametrize(
    ("said", "length"),
    [("一二三", 3), ("一二三四五", 5), ("12345", 5), ("幺二三四", 4), ("看一下", 0), ("记不得", 0)],
)
def test_an_id_reading_of_the_wrong_length_still_says_how_long_it_was(
    said: str, length: int
) -> None:
    assert id_characters_said(said) == length
