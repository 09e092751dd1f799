"""Dates as borrowers say them, relative to a fixed call date, and spoken dates."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicebot.understanding.dates import mentions_vague_time, parse_date, speak_date

# The call happens on Wednesday 2026-11-25.
TODAY = datetime.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("said", "date"),
    [
        ("今天", "2026-11-25"),
        ("今天晚上就还", "2026-11-25"),
        ("明天", "2026-11-26"),
        ("明天下午三点", "2026-11-26"),
        ("後天", "2026-11-27"),  # traditional ASR output
        ("后天", "2026-11-27"),
        ("大后天", "2026-11-28"),
        ("这周五", "2026-11-27"),
        ("本周五", "2026-11-27"),
        ("这个星期五", "2026-11-27"),
        ("周五", "2026-11-27"),
        ("礼拜五", "2026-11-27"),
        ("周三", "2026-11-25"),  # today is Wednesday
        ("周一", "2026-11-30"),  # the coming Monday
        ("星期天", "2026-11-29"),
        ("周末", "2026-11-28"),
        ("下周五", "2026-12-04"),
        ("下星期五", "2026-12-04"),
        ("下礼拜五", "2026-12-04"),
        ("下周一", "2026-11-30"),
        ("下下周一", "2026-12-07"),
        ("月底", "2026-11-30"),
        ("这个月底", "2026-11-30"),
        ("下个月底", "2026-12-31"),
        ("月初", "2026-12-01"),
        ("下个月五号", "2026-12-05"),
        ("下月5号", "2026-12-05"),
        ("这个月28号", "2026-11-28"),
        ("十号", "2026-12-10"),  # the 10th has passed this month
        ("10号", "2026-12-10"),
        ("10日", "2026-12-10"),
        ("15號", "2026-12-15"),
        ("二十八号", "2026-11-28"),
        ("二十五号", "2026-11-25"),  # today
        ("三十一号", "2026-11-30"),  # November has 30 days
        ("12月4日", "2026-12-04"),
        ("十二月四号", "2026-12-04"),
        ("一月三号", "2027-01-03"),  # passed this year
        ("三天以后", "2026-11-28"),
        ("三天后", "2026-11-28"),
        ("过三天", "2026-11-28"),
        ("十天之内", "2026-12-05"),
        ("一周后", "2026-12-02"),
        ("一个星期后", "2026-12-02"),
        ("两周内", "2026-12-09"),
        ("半个月后", "2026-12-10"),
        ("两个月后", "2027-01-25"),
        ("年底", "2026-12-31"),
        ("2026-12-04", "2026-12-04"),
        ("2027年1月3日", "2027-01-03"),
        ("12.4", "2026-12-04"),
        ("12/4", "2026-12-04"),
        ("15号先还2500元", "2026-12-15"),
        ("我下周五还两千", "2026-12-04"),
        ("今天没钱明天还", "2026-11-26"),
    ],
)
def test_parse_date(said: str, date: str) -> None:
    assert parse_date(said, TODAY) == datetime.date.fromisoformat(date)


@pytest.mark.parametrize(
    "said",
    [
        "还两千",
        "一万二",
        "逾期十五天",
        "分三期",
        "下个月还两千",
        "一月还两千",
        "发工资以后",
        "过两天",
        "明天还不上",
        "今天不行",
        "下周",
        "尾号1234",
        "还12.5元",
        "",
    ],
)
def test_parse_date_none_without_a_date(said: str) -> None:
    assert parse_date(said, TODAY) is None


def test_parse_date_on_the_last_day_of_a_month() -> None:
    new_years_eve = datetime.date(2026, 12, 31)
    assert parse_date("明天", new_years_eve) == datetime.date(2027, 1, 1)
    assert parse_date("下个月五号", new_years_eve) == datetime.date(2027, 1, 5)
    assert parse_date("五号", new_years_eve) == datetime.date(2027, 1, 5)
    assert parse_date("月底", new_years_eve) == new_years_eve


def test_parse_date_this_weekday_is_today() -> None:
    friday = datetime.date(2026, 11, 27)
    assert parse_date("周五", friday) == friday
    assert parse_date("下周五", friday) == datetime.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("said", "vague"),
    [
        ("发工资以后", True),
        ("等发了工资再说", True),
        ("过几天", True),
        ("过两天吧", True),
        ("等有钱了就还", True),
        ("过段时间", True),
        ("尽快", True),
        ("这几天", True),
        ("最近手头紧", True),
        ("明天", False),
        ("下周五还两千", False),
        ("好的", False),
    ],
)
def test_mentions_vague_time(said: str, vague: bool) -> None:
    assert mentions_vague_time(said) is vague


@pytest.mark.parametrize(
    ("date", "spoken"),
    [
        ("2026-12-04", "十二月四日"),
        ("2026-02-22", "二月二十二日"),
        ("2026-12-20", "十二月二十日"),
        ("2026-10-10", "十月十日"),
        ("2026-01-31", "一月三十一日"),
    ],
)
def test_speak_date(date: str, spoken: str) -> None:
    assert speak_date(datetime.date.fromisoformat(date)) == spoken


@given(st.dates(min_value=TODAY, max_value=datetime.date(2027, 11, 24)))
def test_spoken_date_parses_back(date: datetime.date) -> None:
    assert parse_date(speak_date(date), TODAY) == date
