"""What one borrower utterance means: yes/no, reason, requests, feelings, who is speaking.

Rule-based and deterministic. Numbers, amounts, dates and ID digits are read by numbers.py
and dates.py; this module only decides meanings, with the lexicons of vocabulary.py.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from voicebot.understanding.categories import Intent, Question, ReasonCategory, Request, Sentiment
from voicebot.understanding.normalize import normalize
from voicebot.understanding.vocabulary import (
    ANGRY,
    ANXIOUS,
    ASKS_BACK,
    BALANCE_INQUIRY,
    COMPLAINT,
    DISTRESSED,
    FILLER,
    GOODBYE,
    HOSTILE,
    NO_ANYWHERE,
    OTHER_INTENT,
    QUESTIONS,
    REASONS,
    REFUSE_VERIFY,
    REPAYMENT,
    REQUESTS,
    SELF_HARM,
    THIRD_PARTY,
    UNREACHABLE,
    VOICEMAIL,
    WRONG_NUMBER,
    Lexicon,
)

__all__ = [
    "Intent",
    "Meaning",
    "Question",
    "ReasonCategory",
    "Request",
    "Sentiment",
    "says_something",
    "understand",
]


@dataclass(frozen=True)
class Meaning:
    """Everything the rules found in one utterance; unmentioned fields keep their defaults.

    text: the normalised utterance. yes / no: an answer to a yes/no question; a negation
    anywhere wins, and neither is set for third parties, wrong numbers or announcements.
    reason: why they have not paid, first match in REASONS order. requests: every request
    heard. intent: an inbound caller's purpose. sentiment: the most serious state heard.
    self_harm: signs of self-harm, always escalated with high priority. third_party: someone
    who knows the borrower. wrong_number: someone who does not. voicemail / unreachable: a
    voicemail greeting / a carrier announcement. question: what they asked, first match in
    QUESTIONS order. hostile: insults or threats toward the bot. refuse_to_pay: a refusal.
    refuse_verify: declines to prove identity to an unknown caller (fears fraud).
    complaint: a complaint or a threat to complain, wherever it is said. reader: who made
    this reading: "rules" (here), "embedding" or "llm".
    """

    text: str
    yes: bool = False
    no: bool = False
    reason: ReasonCategory | None = None
    requests: frozenset[Request] = frozenset()
    intent: Intent | None = None
    sentiment: Sentiment = Sentiment.CALM
    self_harm: bool = False
    third_party: bool = False
    wrong_number: bool = False
    voicemail: bool = False
    unreachable: bool = False
    question: Question | None = None
    hostile: bool = False
    refuse_to_pay: bool = False
    goodbye: bool = False  # 再见 / 拜拜 / 先这样: the other party is closing the call
    # Signs of self-harm or despair only the embedding reader heard: escalated with high
    # priority while the call goes on (the rules' self_harm ends it with the safety line).
    vulnerable: bool = False
    refuse_verify: bool = False
    complaint: bool = False
    # Slots read by an outside understanding (the LLM mode), already checked against the
    # utterance; the rules leave them None because numbers.py and dates.py read the text.
    amount: Decimal | None = None
    pay_date: date | None = None
    reader: str = "rules"


_K = TypeVar("_K")
_FILLER = re.compile(r"^(喂|啊|哦|噢|呃|额|唉|哎|诶|欸|那个|这个)+")
_YES_ONLY_HUM = re.compile(r"^[嗯恩]+[啊呢]?$")
_YES_LEADING = re.compile(
    r"^[嗯恩]*(对|是的|是我|是本人|是|好的|好|行|可以|没错|没问题|OK|本人|我是|确认|知道了|明白)"
    r"(?=$|了$|[的吧啊呀啦哒滴嘞咧对是嗯恩好行我那就没可知明谢])",
    re.IGNORECASE,
)
_YES_TRAILING = re.compile(
    r"(是的|是我|我是|本人|对的|没错|没问题|好的|好吧|好嘞|行吧|知道了|明白了|嗯嗯|对啊|是啊|对呀|"
    r"是呀|可以的|(?<![不绝反相面针])对|(?<![不银执进运发流步旅])行|(?<![不还])可以|"
    r"(?<![不你您很还最刚正友美良问早大晚])好)[啊呀啦的]?$"
)
# "我是张伟" / "我就是张伟": a short tail that looks like a name, not a clause.
_YES_NAME = re.compile(r"^我就?是([\u4e00-\u9fff]{0,3}?)(?=$|你|您|有什么|什么|啥|怎么|哪)")
_NOT_IN_NAME = frozenset("他她谁哪说在要想没不那这个了吗呢么们你是")


def _yes(text: str) -> bool:
    text = _FILLER.sub("", text)
    if not text:
        return False
    if _YES_ONLY_HUM.match(text) or _YES_LEADING.match(text) or _YES_TRAILING.search(text):
        return True
    name = _YES_NAME.match(text)
    return name is not None and not _NOT_IN_NAME & set(name.group(1))


def _first(table: Mapping[_K, Lexicon], text: str) -> _K | None:
    return next((key for key, lexicon in table.items() if lexicon.found(text)), None)


def says_something(text: str) -> bool:
    """Whether `text` holds words of the speaker's own: not just hums, fillers, a bare yes
    or no, and not a question back."""
    text = normalize(text)
    return not FILLER.match(text) and not ASKS_BACK.search(text)


def _intent(
    text: str, reason: ReasonCategory | None, requests: frozenset[Request], complaint: bool
) -> Intent | None:
    if complaint:
        return Intent.COMPLAINT
    if reason is ReasonCategory.DISPUTE:
        return Intent.DISPUTE
    if Request.HUMAN_AGENT in requests:
        return Intent.HUMAN_AGENT
    if Request.INSTALLMENT in requests:
        return Intent.INSTALLMENT
    if REPAYMENT.found(text):
        return Intent.REPAYMENT
    if BALANCE_INQUIRY.found(text):
        return Intent.BALANCE_INQUIRY
    return Intent.OTHER if OTHER_INTENT.found(text) else None


def _sentiment(text: str, self_harm: bool, hostile: bool) -> Sentiment:
    if self_harm or DISTRESSED.found(text):
        return Sentiment.DISTRESSED
    if hostile or ANGRY.found(text):
        return Sentiment.ANGRY
    return Sentiment.ANXIOUS if ANXIOUS.found(text) else Sentiment.CALM


def understand(text: str) -> Meaning:
    """Classify one utterance of the other party by keyword rules.

    The text is normalised first (idempotent), so raw ASR output is accepted too. Fields
    that the utterance says nothing about keep their defaults; `reason` and `question`
    take the first match in table order, `requests` collects every match.
    """
    text = normalize(text)
    voicemail = VOICEMAIL.found(text)
    unreachable = UNREACHABLE.found(text)
    third_party = THIRD_PARTY.found(text)
    wrong_number = WRONG_NUMBER.found(text)
    announcement = voicemail or unreachable
    no = not announcement and NO_ANYWHERE.found(text)
    yes = not (no or announcement or third_party or wrong_number) and _yes(text)
    reason = _first(REASONS, text)
    requests = frozenset(request for request, lexicon in REQUESTS.items() if lexicon.found(text))
    self_harm = SELF_HARM.found(text)
    hostile = HOSTILE.found(text)
    complaint = COMPLAINT.found(text)
    return Meaning(
        text=text,
        yes=yes,
        no=no,
        reason=reason,
        requests=requests,
        intent=_intent(text, reason, requests, complaint),
        sentiment=_sentiment(text, self_harm, hostile or complaint),  # a complaint is angry
        self_harm=self_harm,
        third_party=third_party,
        wrong_number=wrong_number,
        voicemail=voicemail,
        unreachable=unreachable,
        question=_first(QUESTIONS, text),
        hostile=hostile,
        refuse_to_pay=REASONS[ReasonCategory.REFUSE].found(text),
        goodbye=GOODBYE.search(text) is not None,
        refuse_verify=not announcement and REFUSE_VERIFY.found(text),
        complaint=complaint,
    )
