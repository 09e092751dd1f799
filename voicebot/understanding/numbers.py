"""Numbers as borrowers say them (amounts, ID digits, installments) and as the bot says them.

Spoken Mandarin mixes Chinese numerals and digits ("3千", "1万2"), drops the last unit
("两千五" = 2500, "一万二" = 12000) and mentions dates and periods next to money
("15号先还2500元"). cn2an reads a single numeral well but raises on forms such as
三点五万 and on whole sentences, and cannot tell which number in a sentence is the money;
so numerals are read here with a small grammar of our own, and context picks the amount.

Speaking conventions (see `speak_amount`): 两 for a leading 2 before 百/千/万/亿 and for a
lone 2 ("两千元", "两元", "两角"), 二 everywhere else ("十二元", "一千二百元"); amounts under
one yuan drop the yuan ("一分", "五角"), as a person would say them.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from voicebot.understanding.normalize import normalize

_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10**4, "亿": 10**8}
_DIGIT_CHARS = "0-9零〇一二两三四五六七八九"
_SINGLE_DIGIT = "[1-9一二两三四五六七八九]"

#: One spoken numeral: Chinese, Arabic or mixed, with an optional decimal part
#: ("三点五万", "1500点5"; `_prepare` turns a decimal point into 点).
NUMERAL_PATTERN = rf"[{_DIGIT_CHARS}十百千万亿]+(?:点[{_DIGIT_CHARS}]+[万亿]?)?"

_NUMERAL = re.compile(NUMERAL_PATTERN)
_TOKEN = re.compile(rf"\d+|[{''.join(_DIGITS)}]|[十百千万亿]")
_CENT = Decimal("0.01")

# A number followed by one of these counts days, dates, periods, people… never yuan.
_NOT_MONEY_AFTER = re.compile(
    r"[号日天月期个周点岁年次位折倍秒楼层口条张笔遍下些样起声成半%]|分钟|小时|块儿|星期|礼拜"
)
# A number after these is a weekday, an ordinal or part of a reference number.
_NOT_MONEY_BEFORE = re.compile(r"(?:周|星期|礼拜|第|尾号|号码)$")
_PAY_VERB_BEFORE = re.compile(r"[还付交给转打存凑]$")
_YUAN = re.compile(r"(?:来|多|左右|出头)?(?:元|块(?!儿)|人民币)钱?")
_JIAO_FEN = re.compile(rf"零?(?P<jiao>{_SINGLE_DIGIT})[角毛](?:零?(?P<fen>{_SINGLE_DIGIT})分?)?")
_FEN = re.compile(rf"零?(?P<fen>{_SINGLE_DIGIT})分(?!钟)")
_BARE_JIAO = re.compile(rf"(?P<jiao>{_SINGLE_DIGIT})(?![{_DIGIT_CHARS}十百千万亿])")

_FULL_AMOUNT = re.compile(r"全部|全额|[全都][都部给数]?还|一次性还|还清|结清|付清|还完")
_NEGATION_BEFORE = re.compile(r"(?:不|没|没有|未|无法|不能|不了)$")
_NEGATION_AFTER = re.compile(r"^.{0,2}?(?:不|没)")


def _prepare(text: str) -> str:
    """Normalise, keeping a decimal point between digits as 点 ("1500.5" stays 1500.5),
    and reading the chat shorthand 3k / 1.5w as 3千 / 1点5万."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d)[kK](?![a-zA-Z])", "千", text)
    text = re.sub(r"(?<=\d)[wW](?![a-zA-Z])", "万", text)
    return normalize(re.sub(r"(?<=\d)\.(?=\d)", "点", text))


def _digit_value(token: str) -> int:
    return int(token) if token.isdigit() and token.isascii() else _DIGITS[token]


def _parse_integer(span: str) -> int | None:
    """Value of an integer numeral such as 三千二百五十, 两千五, 1万2, 一千零五, 2500."""
    tokens = _TOKEN.findall(span)
    if not tokens or "".join(tokens) != span:
        return None
    if not any(t in _SMALL_UNITS or t in _BIG_UNITS for t in tokens):
        # Digits said one by one ("二五零零") or plain Arabic ("2500").
        return int("".join(str(_digit_value(t)) for t in tokens))
    if tokens[0] in "百千万亿":
        return None  # 千万 ("by all means") and 万一 ("in case") are words, not numbers
    total = section = last_unit = 0
    digit: int | None = None
    after_unit = after_zero = digit_follows_unit = False
    for token in tokens:
        if token in _SMALL_UNITS or token in _BIG_UNITS:
            unit = _SMALL_UNITS.get(token) or _BIG_UNITS[token]
            if token in _SMALL_UNITS:
                if digit is None and unit != 10:
                    return None
                section += (1 if digit is None else digit) * unit
            elif unit > 10**4:
                total = (total + section + (digit or 0)) * unit  # 亿 scales all before it
                section = 0
            else:
                total += (section + (digit or 0)) * unit
                section = 0
            digit, last_unit, after_unit, after_zero = None, unit, True, False
        elif _digit_value(token) == 0:
            after_zero, after_unit = True, False
        elif digit is not None:
            return None  # "三四千" is a range, not one number
        else:
            digit = _digit_value(token)
            digit_follows_unit = after_unit and not after_zero
            after_unit = False
    if digit is not None and digit_follows_unit and digit < 10 and last_unit >= 100:
        # 两千五 = 2500, 一万二 = 12000: the dropped unit is one below the last one said.
        return total + section + digit * last_unit // 10
    return total + section + (digit or 0)


def parse_numeral(span: str) -> Decimal | None:
    """Value of one numeral (两千五, 3千, 1万2, 三点五万, 1500点5), or None if it is none."""
    match = re.fullmatch(rf"([^点]+)(?:点([{_DIGIT_CHARS}]+)([万亿])?)?", span)
    if match is None:
        return None
    whole = _parse_integer(match.group(1))
    if whole is None:
        return None
    value = Decimal(whole)
    if match.group(2):
        value += Decimal("0." + "".join(str(_digit_value(c)) for c in match.group(2)))
    if match.group(3):
        value *= _BIG_UNITS[match.group(3)]
    return value


@dataclass(frozen=True)
class _Candidate:
    value: Decimal
    tier: int  # 1: yuan/角/分 said; 2: 百/千/万 in the numeral; 3: bare number
    end: int


def _sub_yuan(text: str, pos: int) -> tuple[Decimal, int]:
    """角 and 分 after a yuan amount: 元六角, 块六毛五, 块零五分, 块六 (colloquial 角)."""
    for pattern in (_JIAO_FEN, _FEN, _BARE_JIAO):
        match = pattern.match(text, pos)
        if match is None or _NOT_MONEY_AFTER.match(text, match.end()):
            continue
        groups = match.groupdict()
        jiao = _digit_value(groups["jiao"]) if groups.get("jiao") else 0
        fen = _digit_value(groups["fen"]) if groups.get("fen") else 0
        return Decimal(jiao) / 10 + Decimal(fen) / 100, match.end()
    return Decimal(0), pos


def _candidate_at(text: str, match: re.Match[str]) -> _Candidate | None:
    """Classify one numeral in context, or None when it is not money."""
    span, end = match.group(), match.end()
    value = parse_numeral(span)
    if value is None or _NOT_MONEY_BEFORE.search(text, 0, match.start()):
        return None
    yuan = _YUAN.match(text, end)
    if yuan:
        cents, end = _sub_yuan(text, yuan.end())
        return _Candidate(value + cents, 1, end)
    if len(span) == 1 and value > 0:  # 五角, 一分: amounts under one yuan
        jiao_fen = _JIAO_FEN.match(text, match.start()) or _FEN.match(text, match.start())
        if jiao_fen:
            cents, end = _sub_yuan(text, match.start())
            return _Candidate(cents, 1, end)
    after = text[end:]
    after = re.sub(r"^(?:来|多|左右|出头)", "", after)
    if _NOT_MONEY_AFTER.match(after):
        return None
    if re.search("[百千万亿]", span):
        return _Candidate(value, 2, end)
    if len(span) >= 11:
        return None  # a bare run this long is a phone or ID number, not an amount
    said_as_digits = re.search(r"\d", span) is not None
    if said_as_digits or _PAY_VERB_BEFORE.search(text, 0, match.start()):
        return _Candidate(value, 3, end)
    return None  # a lone Chinese digit in 一起, 一定, 十分 is not money


def parse_amount(text: str) -> Decimal | None:
    """The money amount in a borrower's sentence, in yuan with two decimals, or None.

    Numbers with a money unit (元/块/角/毛/分) win over numbers with 百/千/万, which win
    over bare numbers ("先还500"); among equals the first one said wins. Numbers that
    count days, dates or periods (15号, 十五天, 三期) are never money. 全部 and 一半 give
    None: see `mentions_full_amount`.
    """
    text = _prepare(text)
    best: tuple[int, int, Decimal] | None = None
    pos = 0
    while (match := _NUMERAL.search(text, pos)) is not None:
        candidate = _candidate_at(text, match)
        pos = match.end()
        if candidate is None:
            continue
        pos = max(pos, candidate.end)  # the 角/分 after 元 are part of this amount
        key = (candidate.tier, match.start(), candidate.value)
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        return None
    return best[2].quantize(_CENT, rounding=ROUND_HALF_UP)


def mentions_full_amount(text: str) -> bool:
    """True when the borrower offers to pay everything (全部, 全额, 都还, 一次性还清, 还清)."""
    text = _prepare(text)
    for match in _FULL_AMOUNT.finditer(text):
        negated_before = _NEGATION_BEFORE.search(text, 0, match.start())
        negated_after = _NEGATION_AFTER.match(text[match.end() :])
        if not negated_before and not negated_after:
            return True
    return False


_RADIO_DIGITS = {"幺": 1, "洞": 0, "拐": 7, "勾": 9, "O": 0}  # said to avoid mishearing
_ID_DIGITS = {**_DIGITS, **{str(d): d for d in range(10)}, **_RADIO_DIGITS, "X": 10}
_ID_PREAMBLE = re.compile(r"身份证(?:号码?)?|(?:最?后|末)[四4]位(?:数字?|号码?)?|尾[号数]")
_ID_RUN = re.compile(r"[0-9零〇一二两三四五六七八九幺洞拐勾OX]+")


def parse_id_digits(text: str) -> str | None:
    """The last four ID-number characters as spoken ("幺二三四", "五六七叉"): [0-9X]{4} or None.

    幺 = 1, 洞/零/〇 = 0, 两 = 2, 拐 = 7, 勾 = 9 (the radio forms); 叉/X/艾克斯 = X, which is
    only accepted as the last character. Fewer or more than four characters give None.
    """
    text = _prepare(text).upper()
    text = re.sub(r"[艾爱埃]克斯|叉", "X", text)
    text = _ID_PREAMBLE.sub("", text)  # "后四位" must not contribute a 4
    runs = _ID_RUN.findall(text)
    if any(len(run) > 4 for run in runs):
        return None
    exact = [run for run in runs if len(run) == 4]
    # A filler word with a digit in it ("看一下") leaves a one-char run; the four digits
    # said together still win. Otherwise the digits may come in pieces ("一二，三四").
    digits = exact[-1] if len(exact) == 1 else "".join(runs)
    if len(digits) != 4:
        return None
    chars = ["X" if _ID_DIGITS[c] == 10 else str(_ID_DIGITS[c]) for c in digits]
    if "X" in chars[:3]:
        return None
    return "".join(chars)


def id_characters_said(text: str) -> int:
    """How many ID-number characters `text` reads out (0 for none, or for one that is only
    part of a word such as 看一下): a reading that `parse_id_digits` refuses for its length
    (一二三, 一二三四五) still says how long it was."""
    text = _prepare(text).upper()
    text = re.sub(r"[艾爱埃]克斯|叉", "X", text)
    text = _ID_PREAMBLE.sub("", text)
    said = sum(len(run) for run in _ID_RUN.findall(text))
    return said if said >= 2 else 0


_PERIOD_NUMERAL = r"([0-9零一二两三四五六七八九十百]+)"
_PERIODS = (
    re.compile(
        rf"分(?:期|成|为|作)?(?:还款|付款|还|付)?(?:个|成)?{_PERIOD_NUMERAL}个?(?:期|次|月)"
    ),
    re.compile(rf"{_PERIOD_NUMERAL}(?:期|次|个月)(?:还完|还清|付清)"),
)


def parse_periods(text: str) -> int | None:
    """Installment periods asked for (分三期, 分6期, 分十二个月, 分成3次) or None if not said."""
    text = _prepare(text)
    for pattern in _PERIODS:
        match = pattern.search(text)
        if match:
            periods = _parse_integer(match.group(1))
            if periods is not None and periods >= 2:  # one period is no installment plan
                return periods
    return None


_SPOKEN_DIGITS = "零一二三四五六七八九"


def _speak_section(section: int, leading: bool) -> str:
    """One group of four digits (below 10,000), with 零 for inner gaps."""
    out: list[str] = []
    gap = False
    for unit_value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = section // unit_value % 10
        if digit == 0:
            gap = bool(out)
            continue
        if gap:
            out.append("零")
            gap = False
        if unit == "十" and digit == 1 and leading and not out:
            out.append("十")  # 十五, not 一十五; but 一百一十 keeps its 一
        else:
            out.append(_SPOKEN_DIGITS[digit] + unit)
    return "".join(out)


def _speak_integer(n: int, counting: bool) -> str:
    """Chinese numeral for n >= 0; `counting` uses 两 for a lone or leading 2 (两千, 两天)."""
    if n < 0:
        raise ValueError(f"cannot speak a negative number: {n}")
    if n == 0:
        return "零"
    sections: list[int] = []
    while n:
        sections.append(n % 10**4)
        n //= 10**4
    if len(sections) > 3:
        raise ValueError("numbers from 万亿 upwards are not spoken")
    parts: list[str] = []
    gap = False
    for index in reversed(range(len(sections))):
        section = sections[index]
        if section == 0:
            gap = bool(parts)
            continue
        if parts and (gap or section < 1000):
            parts.append("零")
        parts.append(_speak_section(section, leading=not parts) + ("", "万", "亿")[index])
        gap = False
    text = "".join(parts)
    if counting and text[0] == "二" and (len(text) == 1 or text[1] in "百千万亿"):
        text = "两" + text[1:]
    return text


def speak_number(n: int) -> str:
    """A count as said aloud: 15 -> 十五 (逾期十五天), 2 -> 两, 2000 -> 两千, 0 -> 零."""
    return _speak_integer(n, counting=True)


def speak_amount(amount: Decimal) -> str:
    """Yuan as said aloud: 3250.6 -> 三千二百五十元六角, 1005 -> 一千零五元.

    Rounded to the fen. Under one yuan the yuan is not said (0.01 -> 一分, 0.5 -> 五角);
    a gap before the fen is a 零 (350.05 -> 三百五十元零五分); zero is 零元.
    """
    cents = int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))
    if cents < 0:
        raise ValueError(f"cannot speak a negative amount: {amount}")
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元"
    out = _speak_integer(yuan, counting=True) + "元" if yuan else ""
    if jiao:
        out += _speak_integer(jiao, counting=True) + "角"
    if fen:
        out += ("零" if yuan and not jiao else "") + _speak_integer(fen, counting=True) + "分"
    return out
