"""The telephony core: a live call on a real-time line, found by the caller's number,
listed while live, and always summarised - even when the call itself fails."""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from live_env import live_settings

from voicebot.calls import CallSessions, CallSpec, national_number
from voicebot.config import Settings
from voicebot.conversation.state import Direction
from voicebot.store import Store
from voicebot.voice.counterpart import ScriptedCounterpart
from voicebot.voice.line import InProcessLine
from voicebot.voice.pipeline import VoiceModels


@pytest.fixture(scope="module")
def core_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, VoiceModels]:
    settings = live_settings(tmp_path_factory.mktemp("core"))
    models = VoiceModels(settings.voice)
    models.warm_up()
    return settings, models


def stored(settings: Settings, call_id: str) -> dict:
    store = Store(settings.store_path)
    try:
        row = store.db.execute(
            "SELECT summary_json FROM calls WHERE call_id = ?", (call_id,)
        ).fetchone()
    finally:
        store.close()
    assert row is not None, f"call {call_id} was not stored"
    return json.loads(row[0])


async def until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout_s)


def test_numbers_from_a_carrier_find_the_stored_account() -> None:
    assert national_number("+8613800138000") == "13800138000"
    assert national_number("008613800138000") == "13800138000"
    assert national_number("13800138000") == "13800138000"


async def test_an_inbound_caller_is_found_by_number_listed_masked_and_summarised(
    core_env: tuple[Settings, VoiceModels],
) -> None:
    settings, models = core_env
    runner = CallSessions(settings, models)
    line = InProcessLine()

    async def speak(text: str) -> np.ndarray:
        pcm, _ = await asyncio.to_thread(models.tts_cache.speak, text)
        return pcm

    borrower = ScriptedCounterpart(line, ["我想查一下还欠多少钱", "幺二三四", "<hangup>"], speak)
    clock = asyncio.create_task(line.run())
    talking = asyncio.create_task(borrower.run())
    spec = CallSpec("test", Direction.INBOUND, "+8613800138000")
    call = asyncio.create_task(runner.run(line, spec))
    await until(lambda: bool(runner.calls.active()))
    [live] = runner.calls.active()
    assert live["number"] == "+86****8000" and live["direction"] == "inbound"
    assert "13800138000" not in json.dumps(live)
    summary = await asyncio.wait_for(call, 120)
    clock.cancel()
    talking.cancel()
    await asyncio.gather(clock, talking, return_exceptions=True)

    assert runner.calls.active() == []
    assert summary["account_id"] == "A1001"
    assert summary["identity_verified"] is True
    assert summary["disclosed"] == {"amount": 3250.6, "overdue_days": 15}
    assert summary["outcome"] == "borrower_hung_up"
    assert summary["metrics"]["line"] == "test"
    assert Path(summary["recording"]).exists()
    assert stored(settings, spec.call_id)["outcome"] == "borrower_hung_up"


async def test_a_call_whose_pipeline_fails_still_stores_a_summary(
    core_env: tuple[Settings, VoiceModels],
) -> None:
    settings, _ = core_env
    runner = CallSessions(settings, models=object())  # type: ignore[arg-type]
    line = InProcessLine()
    spec = CallSpec("test", Direction.INBOUND, "13900000000")
    summary = await asyncio.wait_for(runner.run(line, spec), 30)

    assert "AttributeError" in summary["metrics"]["failure"]
    assert line.closed and line.hung_up_by == "bot"
    assert stored(settings, spec.call_id)["call_id"] == spec.call_id
    assert runner.calls.active() == []
