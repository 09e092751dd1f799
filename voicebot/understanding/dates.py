"""Dates as borrowers say them, relative to the day of the call, and as the bot says them.

The clock is never read here: every function takes `today`, so the engine stays pure and
tests are fixed in time. Weeks start on Monday (周一), as on Chinese calendars.
"""

import calendar
import datetime
import re
import unicodedata
from collections.abc import Callable

from voicebot.understanding.normalize import normalize
from voicebot.understanding.numbers import parse_numeral, speak_number

_NUM = r"([0-9零〇一二两三四五六七八九十]+)"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_WEEK = r"(?:周|星期|礼拜)"
_RELATIVE_DAYS = {"大后天": 3, "后天": 2, "明天": 1, "明日": 1, "明儿": 1, "明早": 1, "明晚": 1}
_TODAY = ("今天", "今日", "今儿", "今晚", "当天")

_VAGUE = re.compile(
    r"发工资|发了工资|工资发|开工资|过几天|过两天|过些天|过段时间|过一段时间|过阵子|过一阵|"
    r"等有钱|有钱了|有钱再|尽快|这几天|最近|改天|回头|到时候|缓几天|晚点|晚些"
)


def _number(span: str) -> int | None:
    value = parse_numeral(span)
    return int(value) if value is not None and value == int(value) else None


def _add_months(day: datetime.date, months: int, day_of_month: int) -> datetime.date:
    """The given day of the month `months` after `day`'s, clamped to that month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day_of_month, last))


def _day_of_month(today: datetime.date, day: int) -> datetime.date | None:
    """十号: this month if not yet passed, otherwise next month."""
    if not 1 <= day <= 31:
        return None
    this_month = _add_months(today, 0, day)
    return this_month if this_month >= today else _add_months(today, 1, day)


def _month_day(
    today: datetime.date, month: int, day: int, year: int | None
) -> datetime.date | None:
    """十二月四号: this year if not yet passed, otherwise next year; a stated year wins."""
    if year is not None and year < 100:
        year += 2000
    try:
        date = datetime.date(year or today.year, month, day)
    except ValueError:
        return None
    if year is None and date < today:
        date = date.replace(year=date.year + 1) if (month, day) != (2, 29) else date
    return date


def _weekday(today: datetime.date, name: str, weeks_ahead: int) -> datetime.date:
    """周五: the coming one (today if it is Friday); 下周五: Friday of next week."""
    target = _WEEKDAYS[name]
    if weeks_ahead == 0:
        return today + datetime.timedelta(days=(target - today.weekday()) % 7)
    monday = today - datetime.timedelta(days=today.weekday())
    return monday + datetime.timedelta(days=7 * weeks_ahead + target)


def _after(today: datetime.date, days: int | None) -> datetime.date | None:
    return None if days is None else today + datetime.timedelta(days=days)


def _months_ahead(prefix: str | None) -> int:
    """下个月 -> 1, 下下个月 -> 2, 这个月/本月/nothing -> 0."""
    return 0 if not prefix or prefix[0] != "下" else 2 if prefix.startswith("下下") else 1


_Resolver = Callable[[re.Match[str], datetime.date], datetime.date | None]


def _ymd(m: re.Match[str], t: datetime.date) -> datetime.date | None:
    year, month, day = (_number(g) for g in m.groups())
    if year is None or month is None or day is None:
        return None
    return _month_day(t, month, day, year)


def _md(m: re.Match[str], t: datetime.date) -> datetime.date | None:
    month, day = _number(m[1]), _number(m[2])
    return None if month is None or day is None else _month_day(t, month, day, None)


def _month_end_or_start(m: re.Match[str], t: datetime.date) -> datetime.date:
    months = _months_ahead(m[1])
    if m[2] in "底末":
        return _add_months(t, months, 31)
    return t if t.day == 1 and months == 0 else _add_months(t, max(months, 1), 1)


def _named_month_day(m: re.Match[str], t: datetime.date) -> datetime.date | None:
    day = _number(m[2])
    return None if day is None or not 1 <= day <= 31 else _add_months(t, _months_ahead(m[1]), day)


def _weekday_of(m: re.Match[str], t: datetime.date) -> datetime.date:
    prefix = m[1] or ""
    weeks = 2 if prefix.startswith("下下") else 1 if prefix.startswith("下") else 0
    return _weekday(t, m[2], weeks)


def _end_of_week(m: re.Match[str], t: datetime.date) -> datetime.date:
    return _weekday(t, "日", 0)


def _year_end(m: re.Match[str], t: datetime.date) -> datetime.date:
    return datetime.date(t.year + (1 if m[1] else 0), 12, 31)


def _in_days(m: re.Match[str], t: datetime.date) -> datetime.date | None:
    if m[0] in ("过两天", "过几天"):
        return None  # idiom for "in a few days": vague, see mentions_vague_time
    return _after(t, _number(m[1]))


def _in_weeks(m: re.Match[str], t: datetime.date) -> datetime.date | None:
    weeks = _number(m[1])
    return _after(t, None if weeks is None else 7 * weeks)


def _in_months(m: re.Match[str], t: datetime.date) -> datetime.date | None:
    months = _number(m[1])
    return None if months is None else _add_months(t, months, t.day)


def _day(m: re.Match[str], t: datetime.date) -> datetime.date | None:
    day = _number(m[1])
    return None if day is None else _day_of_month(t, day)


_AFTER = r"(?:以后|之后|后|以内|之内|内)"
_NOT_MORE_NUMBER = r"(?![0-9零〇一二两三四五六七八九十百千万块元])"
_NEXT = r"(下下个?|下个?|这个?|本)"

# Tried in order at each position: longer, more specific forms come first, so 下个月五号
# is never read as 五号, nor 大后天 as 后天.
_PATTERNS: tuple[tuple[re.Pattern[str], _Resolver], ...] = (
    (re.compile(rf"{_NUM}[年\-/]{_NUM}[月\-/]{_NUM}[日号]?"), _ymd),
    (re.compile(rf"{_NEXT}?月?月([底末初])"), _month_end_or_start),
    (re.compile(r"(明)?年[底末]"), _year_end),
    (re.compile(rf"{_NEXT}月{_NUM}[号日]"), _named_month_day),
    (re.compile(rf"{_NUM}(?:月份?|/){_NUM}[号日]?{_NOT_MORE_NUMBER}"), _md),
    (re.compile(rf"{_NEXT}?{_WEEK}([一二三四五六日天末])"), _weekday_of),
    (re.compile(rf"[这本]个?{_WEEK}(?:以?内|之内)"), _end_of_week),
    (re.compile("|".join(_RELATIVE_DAYS)), lambda m, t: _after(t, _RELATIVE_DAYS[m[0]])),
    (re.compile("|".join(_TODAY)), lambda m, t: t),
    (re.compile(rf"过{_NUM}[天日](?:以后|之后|后)?"), _in_days),
    (re.compile(rf"{_NUM}[天日]{_AFTER}"), _in_days),
    (re.compile(rf"过?{_NUM}个?{_WEEK}{_AFTER}"), _in_weeks),
    (re.compile(rf"过{_NUM}个?{_WEEK}"), _in_weeks),
    (re.compile(rf"过?{_NUM}个月{_AFTER}"), _in_months),
    (re.compile(rf"半个月{_AFTER}"), lambda m, t: _after(t, 15)),
    (re.compile(rf"{_NUM}[号日]"), _day),
)

# A date the borrower rules out ("今天没钱", "明天还不上") is not the date offered.
_RULED_OUT = re.compile(
    r".{0,4}?(?:不行|不了|不上|不能|不可以|不方便|不一定|不太|没钱|没有|没办法)"
)


def _prepare(text: str) -> str:
    """Normalise, first turning a dotted 12.4 into 12月4日 (normalize drops the dot)."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<![\d.])(\d{1,2})\.(\d{1,2})(?![\d.]|[元块万千百])", r"\1月\2日", text)
    return normalize(text)


def _mentions(text: str, today: datetime.date) -> list[tuple[datetime.date, int]]:
    """Every date said, with where it ends, scanning left to right."""
    found: list[tuple[datetime.date, int]] = []
    pos = 0
    while pos < len(text):
        for pattern, resolve in _PATTERNS:
            match = pattern.match(text, pos)
            date = resolve(match, today) if match else None
            if match and date is not None:
                found.append((date, match.end()))
                pos = match.end()
                break
        else:
            pos += 1
    return found


def parse_date(text: str, today: datetime.date) -> datetime.date | None:
    """The date a borrower names, relative to `today` (the day of the call), or None.

    Reads 今天/明天/后天/大后天, 周五 (the coming one, today if it is Friday), 下周五
    (Friday of next week), 月底, 下个月五号, 十号 (this month, or next month once passed),
    十二月四号, 三天后/过三天, 一周后, 两周内 (today + 14), 2026-12-04 and 12.4. The first
    date not ruled out ("今天没钱，明天还" -> 明天) wins. Amounts are never dates.
    """
    text = _prepare(text)
    for date, end in _mentions(text, today):
        if not _RULED_OUT.match(text, end):
            return date
    return None


def mentions_vague_time(text: str) -> bool:
    """True for a time that needs a follow-up question: 发工资以后, 过几天, 等有钱了, 尽快…"""
    return _VAGUE.search(_prepare(text)) is not None


def speak_date(d: datetime.date) -> str:
    """A date as said aloud, month and day only: 2026-12-04 -> 十二月四日."""
    return f"{_speak_ordinal(d.month)}月{_speak_ordinal(d.day)}日"


def _speak_ordinal(n: int) -> str:
    # Dates say 二 (二月二日, 十二日), never the counting 两 that speak_number uses.
    spoken = speak_number(n)
    return "二" + spoken[1:] if spoken.startswith("两") else spoken
