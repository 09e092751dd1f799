"""The call session on a text line: the gate, one stored summary, the completion callback,
an inbound caller found in the store, and one max call length for every line."""

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from voicebot.accounts import parse_account
from voicebot.calls import CallSessions, CallSpec, TextLine
from voicebot.config import Settings, load_settings
from voicebot.conversation.state import Direction
from voicebot.store import Store

ACCOUNT = {
    "account_id": "A1001", "name": "张伟", "gender": "M", "phone": "13800138000",
    "id_number": "110101199003071234", "product": "个人消费贷款", "overdue_amount": 3250.60,
    "overdue_days": 15, "due_date": "2026-11-10",
}  # fmt: skip
MORNING = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
NIGHT = datetime.fromisoformat("2026-11-25T22:30:00+08:00")
PROMISE = ["对，我是", "1234", "我最近失业了", "这周五发工资，全部还上", "对"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = dataclasses.replace(load_settings(environ={}), store_path=tmp_path / "c.sqlite3")
    store = Store(settings.store_path)
    store.upsert_account(parse_account(ACCOUNT))
    store.close()
    return settings


def stored(settings: Settings) -> list[dict[str, Any]]:
    store = Store(settings.store_path)
    try:
        return list(store.calls())
    finally:
        store.close()


async def test_a_call_is_stored_once_and_reported_complete(settings: Settings) -> None:
    completed: list[dict[str, Any]] = []
    sessions = CallSessions(settings)
    account = parse_account(ACCOUNT)
    spec = CallSpec("simulated", Direction.OUTBOUND, account.phone, account)
    spec.on_complete = completed.append
    first = await sessions.run(TextLine(PROMISE), spec, now=MORNING)
    again = await sessions.run(TextLine(["<hangup>"]), spec, now=MORNING)  # same call id

    assert first["promise_to_pay"] == {"amount": 3250.6, "date": "2026-11-27", "confirmed": True}
    assert again["outcome"] == "borrower_hung_up"
    [kept] = stored(settings)
    assert kept["call_id"] == spec.call_id and kept["promise_to_pay"] == first["promise_to_pay"]
    assert [s["call_id"] for s in completed] == [spec.call_id, spec.call_id]
    assert sessions.calls.active() == []


async def test_outside_the_calling_window_nothing_is_said_and_the_refusal_is_stored(
    settings: Settings,
) -> None:
    sessions = CallSessions(settings, clock=lambda: NIGHT)
    account = parse_account(ACCOUNT)
    line = TextLine(PROMISE)
    spec = CallSpec("simulated", Direction.OUTBOUND, account.phone, account)
    summary = await sessions.run(line, spec)
    before_dialling = sessions.outside_hours(account, "sip")  # a carrier's gate: the same

    assert summary["outcome"] == "outside_calling_hours" and line.closed
    assert summary["transcript"] == [] and summary["duration_s"] == 0
    assert summary["compliance"]["within_calling_hours"] is False
    assert before_dialling is not None
    assert before_dialling | {"call_id": spec.call_id} == summary
    assert [s["outcome"] for s in stored(settings)] == ["outside_calling_hours"] * 2


async def test_an_inbound_caller_is_found_in_the_store_by_a_carrier_number(
    settings: Settings,
) -> None:
    sessions = CallSessions(settings, clock=lambda: MORNING)
    spec = CallSpec("sip", Direction.INBOUND, "+8613800138000")
    summary = await sessions.run(TextLine(["我想查一下还欠多少钱", "1234", "<hangup>"]), spec)

    assert summary["account_id"] == "A1001" and summary["identity_verified"]
    assert (summary["metrics"]["line"], summary["metrics"]["hung_up_by"]) == ("sip", "borrower")


def test_one_max_call_length_for_every_line_from_the_settings() -> None:
    assert load_settings(environ={}).voice.max_call_s == 600
    changed = load_settings(environ={"VOICEBOT_VOICE__MAX_CALL_S": "90"})
    assert changed.voice.max_call_s == 90
