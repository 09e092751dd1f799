"""The LLM as a second reader of an utterance the rules could not place.

It answers through a forced tool call whose schema is built from the enums of meaning.py,
so it can only choose values the summary allows; the answer is validated again here, its
amount and date are kept only when the borrower actually said them (guard.py), and the
result is merged into the rules' meaning without overriding anything the rules found.
"""

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import jsonschema

from voicebot.llm.client import LLMClient, LLMError, LLMMetrics
from voicebot.llm.guard import amount_said, date_said
from voicebot.understanding.meaning import (
    Intent,
    Meaning,
    ReasonCategory,
    Request,
    Sentiment,
)

TOOL_NAME = "record_meaning"
_SEVERITY = (Sentiment.CALM, Sentiment.ANXIOUS, Sentiment.ANGRY, Sentiment.DISTRESSED)


def _choice(values: list[str], nullable: bool = True) -> dict[str, Any]:
    return {"enum": [*values, None] if nullable else values}


MEANING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": _choice(["yes", "no"]),
        "reason": _choice([r.value for r in ReasonCategory]),
        "requests": {
            "type": "array",
            "items": _choice([r.value for r in Request], nullable=False),
            "uniqueItems": True,
        },
        "intent": _choice([i.value for i in Intent]),
        "sentiment": _choice([s.value for s in Sentiment], nullable=False),
        "amount": {"type": ["number", "null"], "minimum": 0},
        "date": {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "off_script_question": {"type": "boolean"},
    },
    "additionalProperties": False,
}
MEANING_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "记录对方这句话的含义（只能使用给定的取值）",
        "parameters": MEANING_SCHEMA,
    },
}


@dataclass(frozen=True)
class LLMReading:
    """The LLM's validated reading of one utterance; `rejected` names dropped slots."""

    yes: bool = False
    no: bool = False
    reason: ReasonCategory | None = None
    requests: frozenset[Request] = frozenset()
    intent: Intent | None = None
    sentiment: Sentiment = Sentiment.CALM
    amount: Decimal | None = None
    pay_date: date | None = None
    off_script_question: bool = False
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class TurnContext:
    """What the reader needs besides the words: the question asked and the day."""

    bot_question: str
    today: date
    inbound: bool = False


async def read_with_llm(
    client: LLMClient,
    metrics: LLMMetrics,
    instructions: str,
    text: str,
    context: TurnContext,
) -> LLMReading:
    """Ask the endpoint to read `text`; raises LLMError when it fails or answers badly."""
    situation = {
        "今天": f"{context.today.isoformat()}（星期{'一二三四五六日'[context.today.weekday()]}）",
        "通话方向": "客户来电" if context.inbound else "我方外呼",
        "机器人刚才说": context.bot_question,
        "对方说": text,
    }
    messages = [
        {"role": "system", "content": instructions},
        {"role": "user", "content": json.dumps(situation, ensure_ascii=False)},
    ]
    arguments = await client.call_tool(metrics, "understanding", messages, MEANING_TOOL)
    return validate_reading(arguments, text, context.today)


def validate_reading(arguments: dict[str, Any], text: str, today: date) -> LLMReading:
    """Check the tool arguments against the schema and the utterance.

    A value outside the schema rejects the whole reading (LLMError "invalid"); an amount
    or a date the borrower did not say is only dropped, and named in `rejected`.
    """
    try:
        jsonschema.validate(arguments, MEANING_SCHEMA)
    except jsonschema.ValidationError as error:
        raise LLMError("invalid", error.message, retryable=False) from None
    rejected = []
    amount = _amount(arguments.get("amount"))
    if amount is not None and not amount_said(amount, text):
        rejected.append(f"amount {amount}")
        amount = None
    pay_date = _date(arguments.get("date"))
    if arguments.get("date") and (pay_date is None or not date_said(pay_date, text, today)):
        rejected.append(f"date {arguments['date']}")
        pay_date = None
    reason, intent = arguments.get("reason"), arguments.get("intent")
    return LLMReading(
        yes=arguments.get("answer") == "yes",
        no=arguments.get("answer") == "no",
        reason=ReasonCategory(reason) if reason else None,
        requests=frozenset(Request(r) for r in arguments.get("requests") or []),
        intent=Intent(intent) if intent else None,
        sentiment=Sentiment(arguments.get("sentiment") or Sentiment.CALM),
        amount=amount,
        pay_date=pay_date,
        off_script_question=bool(arguments.get("off_script_question")),
        rejected=tuple(rejected),
    )


def merge(rules: Meaning, reading: LLMReading) -> Meaning:
    """The rules' meaning with the gaps filled from the LLM's reading.

    What the rules found stands; the LLM adds a reason, requests, an intent, slots, a yes
    or a no the rules missed, and can only raise the sentiment. Who is speaking (third
    party, wrong number, voicemail), self-harm and hostility stay the rules' alone.
    `reader` becomes "llm" when the LLM added anything.
    """
    answered = rules.yes or rules.no
    sentiment = max(rules.sentiment, reading.sentiment, key=_SEVERITY.index)
    merged = dataclasses.replace(
        rules,
        yes=rules.yes or (reading.yes and not answered),
        no=rules.no or (reading.no and not answered),
        reason=rules.reason or reading.reason,
        requests=rules.requests | reading.requests,
        intent=rules.intent or reading.intent,
        sentiment=sentiment,
        amount=rules.amount if rules.amount is not None else reading.amount,
        pay_date=rules.pay_date or reading.pay_date,
    )
    # The turn is the LLM's when it added anything, an off-script question included.
    filled = merged != rules or reading.off_script_question
    return dataclasses.replace(merged, reader="llm") if filled else merged


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
