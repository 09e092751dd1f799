"""Helpers for the LLM-mode tests: scenarios and scripted readings for the fake endpoint."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicebot.scenario import Scenario, parse_scenario

NOW = "2026-11-25T10:00:00+08:00"  # a Wednesday
ACCOUNT = {
    "account_id": "A1001",
    "name": "张伟",
    "gender": "M",
    "phone": "13800138000",
    "id_number": "110101199003071234",
    "product": "个人消费贷款",
    "overdue_amount": 3250.60,
    "overdue_days": 15,
    "due_date": "2026-11-10",
}
VERIFIED = ["对，我是", "1234"]  # the borrower's first two turns: yes, then the ID digits


def said_in(body: dict[str, Any]) -> str:
    """The borrower's words in an understanding request."""
    return json.loads(body["messages"][-1]["content"])["对方说"]


def reading(**fields: Any) -> dict[str, Any]:
    """Tool arguments as a model returns them: everything present, most of it empty."""
    empty = {
        "answer": None,
        "reason": None,
        "requests": [],
        "intent": None,
        "sentiment": "calm",
        "amount": None,
        "date": None,
        "off_script_question": False,
    }
    return empty | fields


def by_utterance(readings: dict[str, dict[str, Any]]) -> Callable[[dict[str, Any]], Any]:
    """Tool arguments chosen by what the borrower said; anything else reads as nothing."""
    return lambda body: readings.get(said_in(body), reading())


def make_scenario(borrower: list[str], **raw: Any) -> Scenario:
    data = {"now": NOW, "account": ACCOUNT, "borrower": borrower} | raw
    return parse_scenario(data, Path("tests/llm/scenario.yaml"))
