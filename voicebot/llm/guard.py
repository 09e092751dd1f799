"""Checks on everything the LLM produces, against what is actually known.

Two directions: slots it reads from the borrower must be in the borrower's words
(`amount_said`, `date_said`), and words it wants the bot to say must pass the same
banned-claims filter as the scripts and mention no figure the account does not hold
(`ReplyGuard`). A failed check never reaches the borrower: the rules' answer is used.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from voicebot.accounts import Account
from voicebot.conversation.script import Script
from voicebot.understanding.dates import parse_date, speak_date
from voicebot.understanding.normalize import normalize
from voicebot.understanding.numbers import NUMERAL_PATTERN, parse_amount, parse_numeral

_CENT = Decimal("0.01")
# "3k", "1.5w": shorthand some borrowers (and ASR) write that numbers.py does not read.
_SHORTHAND = {"K": Decimal(1000), "千": Decimal(1000), "W": Decimal(10000), "万": Decimal(10000)}
_NUMERAL_WITH_SHORTHAND = re.compile(rf"({NUMERAL_PATTERN})([KW]?)", re.IGNORECASE)

# Words that speak about a debt: never in an off-script answer before identity is verified.
DEBT_WORDS = ("逾期", "欠", "还款", "借款", "贷款", "催收", "账单", "罚息", "利息")

# Chinese numerals inside ordinary words are not figures ("一下", "十分感谢", "万一").
_NOT_FIGURES = re.compile(
    r"(?<![0-9零〇一二两三四五六七八九十百千万])(?:万一|十分|一一|之一|唯一|统一|第一|一下|一些|一直|一定|一起|一般|一样|一旦|一切|一致|"
    r"一会儿?|一方面|一时|一次性|一点(?![0-9零一二两三四五六七八九]))"
)
_FIGURE = re.compile(
    r"(?P<percent>百分之)?(?P<number>[0-9零〇一二两三四五六七八九十百千万亿]+"
    r"(?:[.点][0-9零〇一二三四五六七八九]+)?)"
    r"(?P<unit>元|块|角|毛|%|％|个月|天|日|号|月|年|期)?"
)
_JIAO_FEN = re.compile(r"零?([1-9一二三四五六七八九])[角毛](?:零?([1-9一二三四五六七八九])分?)?")
_MONEY_UNITS = ("元", "块", "角", "毛")


def amount_said(amount: Decimal, utterance: str) -> bool:
    """Whether `amount` (yuan) is what the borrower said: parsed, or literally there."""
    amount = amount.quantize(_CENT)
    if parse_amount(utterance) == amount:
        return True
    text = normalize(utterance)
    for match in _NUMERAL_WITH_SHORTHAND.finditer(text):
        value = parse_numeral(match.group(1))
        if value is None:
            continue
        if value.quantize(_CENT) == amount:
            return True
        suffix = match.group(2).upper()
        if suffix and (value * _SHORTHAND[suffix]).quantize(_CENT) == amount:
            return True
    return False


def date_said(day: date, utterance: str, today: date) -> bool:
    """Whether `day` is the date the borrower said: derived by parse_date or written out."""
    if parse_date(utterance, today) == day:
        return True
    text = normalize(unicodedata.normalize("NFKC", utterance))
    spoken = speak_date(day)  # 十二月五日
    literal = {
        day.isoformat(),
        f"{day.year}年{day.month}月{day.day}",
        f"{day.month}月{day.day}",
        f"{day.month}/{day.day}",
        f"{day.month:02d}/{day.day:02d}",
        spoken.removesuffix("日"),
    }
    return any(form in text for form in literal)


@dataclass(frozen=True)
class Figure:
    """A number in a reply, with how it is used."""

    value: Decimal
    kind: str  # money / percent / days / other
    text: str


def figures_in(text: str) -> list[Figure]:
    """Every number a reply states, with its unit's kind."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = _NOT_FIGURES.sub("|", text)
    found: list[Figure] = []
    pos = 0
    while (match := _FIGURE.search(text, pos)) is not None:
        pos = match.end()
        number, unit = match.group("number"), match.group("unit") or ""
        value = _numeral(number)
        if value is None:
            continue
        if number in ("一", "两") and not unit and not match.group("percent"):
            continue  # 一个专员, 两种方式: a count in a sentence, not a figure
        if match.group("percent") or unit in ("%", "％"):
            found.append(Figure(value, "percent", match.group(0)))
            continue
        if unit in _MONEY_UNITS:
            if unit in ("角", "毛"):
                value = value / 10
            elif jiao := _JIAO_FEN.match(text, pos):  # 三千二百五十元六角
                value += (_numeral(jiao.group(1)) or Decimal(0)) / 10
                value += (_numeral(jiao.group(2) or "0") or Decimal(0)) / 100
                pos = jiao.end()
            found.append(Figure(value.quantize(_CENT), "money", text[match.start() : pos]))
            continue
        found.append(Figure(value, "days" if unit == "天" else "other", match.group(0)))
    return found


def _numeral(span: str) -> Decimal | None:
    try:
        return parse_numeral(span.replace(".", "点"))
    except (ValueError, InvalidOperation):
        return None


class ReplyGuard:
    """Decides whether a sentence the LLM wrote may be spoken in this call."""

    def __init__(
        self,
        script: Script,
        account: Account | None,
        verified: bool,
        grounding_texts: Iterable[str] = (),
    ) -> None:
        """`account` figures are allowed only once `verified`; `grounding_texts` (the FAQ and
        the lender's settings, all reviewed) add the numbers they contain (a hotline)."""
        self.script = script
        self.verified = verified
        self.money: set[Decimal] = set()
        self.days: set[Decimal] = set()
        self.other: set[Decimal] = set()
        for grounded in grounding_texts:
            self.other |= {f.value for f in figures_in(grounded)}
            self.other |= {Decimal(digits) for digits in re.findall(r"\d+", grounded)}
        self.days |= self.other
        if account is not None and verified:
            due = account.due_date
            self.money.add(account.overdue_amount.quantize(_CENT))
            self.days.add(Decimal(account.overdue_days))
            self.other |= {account.overdue_amount, Decimal(account.overdue_days)}
            self.other |= {Decimal(due.year), Decimal(due.month), Decimal(due.day)}
        self.product = account.product if account is not None else ""

    def problems(self, sentence: str) -> list[str]:
        """Why `sentence` must not be spoken; empty when it may."""
        problems = [f"banned: {phrase}" for phrase in self.script.banned_phrases_in(sentence)]
        if not self.verified:
            debt = [w for w in (*DEBT_WORDS, self.product) if w and w in sentence]
            problems += [f"unverified: {word}" for word in debt]
        for figure in figures_in(sentence):
            if not self._allowed(figure):
                problems.append(f"figure: {figure.text}")
        return problems

    def _allowed(self, figure: Figure) -> bool:
        if figure.kind == "percent":
            return False  # no rate is on the account: any percentage is invented
        if figure.kind == "money":
            return figure.value in self.money
        if figure.kind == "days":
            return figure.value in self.days
        return figure.value in self.other or figure.value in self.money
