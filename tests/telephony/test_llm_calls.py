"""LLM mode on live lines: an outbound SIP call (baresip as the borrower's phone) and an
outbound Twilio call (the media-streams peer), each in LLM mode against the loopback fake
OpenAI endpoint, and a simulated audio call. The borrower asks a question the script does
not cover; the answer must be spoken on the call.

The calls run at real-time pace through the real pipeline, once for the module: SIP and
Twilio together (two cores), then the simulated one.
"""

import asyncio
import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer
from baresip_peer import Baresip, free_port
from borrower import ListeningBorrower, answer_files
from conftest import needs_baresip, sip_settings
from fakes.openai_server import FakeOpenAIServer
from live_env import ACCOUNT, live_settings, stored_summaries
from twilio_peer import FakeTwilioApi, TwilioStream, stream_parameters, twilio_section

from telephony.server import create_server
from telephony.settings import telephony_settings, twilio_settings
from telephony.sip.endpoint import SipEndpoint
from telephony.sip.service import SipCalls
from telephony.twilio.outbound import place_call
from voicebot.accounts import parse_account
from voicebot.calls import CallSessions
from voicebot.config import LLMSettings, Settings
from voicebot.conversation.script import load_script
from voicebot.scenario import parse_scenario
from voicebot.simulate import CallOptions, run_audio_call
from voicebot.voice.pipeline import VoiceModels

pytestmark = needs_baresip

NOW = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
OFF_SCRIPT = "你们几点下班"  # asked at the reason question: the script has no answer
ANSWER = "具体安排以App上显示的为准。有疑问可以拨打我们的客服热线。"
ANSWERS = ["对，我是", "1234#", OFF_SCRIPT, "忘了"]  # then the borrower hangs up
QUESTION_WORDS = ("几点", "下班")  # what the recogniser keeps of the question
GAP_S = 2.0
Results = dict[str, Any]


def _reading(body: dict[str, Any]) -> dict[str, Any]:
    """The fake model's reading: the question (however it was recognised) is off-script."""
    said = json.loads(body["messages"][-1]["content"])["对方说"]
    return {
        "answer": None,
        "reason": None,
        "requests": [],
        "intent": None,
        "sentiment": "calm",
        "amount": None,
        "date": None,
        "off_script_question": any(word in said for word in QUESTION_WORDS),
    }


@pytest.fixture(scope="module")
def llm_calls(tmp_path_factory: pytest.TempPathFactory) -> Results:
    tmp = tmp_path_factory.mktemp("llm_calls")
    settings = live_settings(tmp)
    models = VoiceModels(settings.voice)
    models.warm_up()
    return asyncio.run(_place_all(settings, models, tmp))


async def _place_all(settings: Settings, models: VoiceModels, tmp: Path) -> Results:
    fake = FakeOpenAIServer()
    await fake.start()
    fake.tool_arguments = _reading
    fake.reply_text = ANSWER
    llm = LLMSettings(base_url=fake.base_url, model="fake-model", api_key="sk-test")
    settings = dataclasses.replace(settings, llm=llm)
    sessions = CallSessions(settings, models, clock=lambda: NOW)
    answers: list[np.ndarray | str] = [
        text if text.endswith("#") else np.asarray(models.tts_cache.speak(text)[0], np.int16)
        for text in ANSWERS
    ]
    results: Results = {}
    try:
        sip, twilio = await asyncio.gather(
            _sip_call(sessions, answers, tmp), _twilio_call(sessions, answers)
        )
        results["sip"], results["twilio"] = sip, twilio
        results["simulated"] = await _simulated_call(settings, models)
        results["stored"] = stored_summaries(settings)
    finally:
        await fake.stop()
    return results


async def _sip_call(
    sessions: CallSessions, answers: list[np.ndarray | str], tmp: Path
) -> dict[str, Any]:
    phone = await Baresip(tmp / "sip-phone", ACCOUNT["phone"]).start()
    bot = SipCalls(sessions, SipEndpoint(sip_settings(proxy=f"127.0.0.1:{phone.port}")))
    await bot.endpoint.start()
    try:
        talker = ListeningBorrower(phone, answer_files(tmp / "sip-answers", answers), gap_s=GAP_S)
        placing = asyncio.create_task(bot.dial(parse_account(ACCOUNT)))
        await phone.wait_event("CALL_ESTABLISHED", 20)
        await asyncio.wait_for(talker.run(hang_up_after=len(answers)), 240)
        return await asyncio.wait_for(placing, 120)
    finally:
        await bot.endpoint.stop()
        await phone.stop()


async def _twilio_call(sessions: CallSessions, answers: list[np.ndarray | str]) -> dict[str, Any]:
    api = await FakeTwilioApi().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sections = {"telephony": {"public_url": base}, "twilio": twilio_section(api.url)}
    app = create_server(sessions.settings, sections=sections, runner=sessions, clock=lambda: NOW)
    try:
        async with TestClient(TestServer(app, host="127.0.0.1", port=port)):
            telephony = telephony_settings(sections["telephony"])
            twilio = twilio_settings(sections["twilio"])
            placed = await place_call(sessions.settings, telephony, twilio, "A1001", NOW)
            created = await asyncio.wait_for(api.created.get(), 10)
            stream = TwilioStream(call_sid=created["sid"], gap_s=GAP_S)
            await stream.connect(*stream_parameters(created["Twiml"]))
            await asyncio.wait_for(stream.converse(answers), 240)
            await stream.bot_turn_ended()
            await stream.stop()  # the borrower hangs up
            await stream.wait_closed(60)
            await stream.close()
            return await _stored(sessions.settings, placed["call_id"])
    finally:
        await api.stop()


async def _simulated_call(settings: Settings, models: VoiceModels) -> dict[str, Any]:
    borrower = ["对，我是", "幺二三四", OFF_SCRIPT, "忘了", "<hangup>"]
    raw = {"now": NOW.isoformat(), "account": ACCOUNT, "borrower": borrower}
    scenario = parse_scenario(raw, Path("tests/telephony/llm_simulated.yaml"))
    script = load_script(settings.prompts_dir)
    options = CallOptions(reply_gap_s=1.2)
    return await run_audio_call(scenario, settings, script, NOW, models, options=options)


async def _stored(settings: Settings, call_id: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            found = [s for s in stored_summaries(settings) if s["call_id"] == call_id]
            if found:
                return found[0]
            await asyncio.sleep(0.1)


def _dialogue(summary: dict[str, Any]) -> str:
    return "\n".join(f"{x['t']:6.1f} {x['speaker']}: {x['text']}" for x in summary["transcript"])


def _check_answered(summary: dict[str, Any]) -> None:
    bot_lines = [x["text"] for x in summary["transcript"] if x["speaker"] == "bot"]
    first, second = ANSWER.split("。", 1)
    assert f"{first}。" in bot_lines and second in bot_lines, _dialogue(summary)
    llm = summary["metrics"]["llm"]
    assert llm["off_script_answers"] == 1 and llm["turns_consulted"] >= 1, llm
    assert summary["identity_verified"], _dialogue(summary)


def test_a_live_sip_call_answers_an_off_script_question_in_llm_mode(llm_calls: Results) -> None:
    summary = llm_calls["sip"]
    _check_answered(summary)
    assert summary["metrics"]["line"] == "sip"
    assert summary["call_id"] in {s["call_id"] for s in llm_calls["stored"]}


def test_a_live_twilio_call_answers_an_off_script_question_in_llm_mode(
    llm_calls: Results,
) -> None:
    summary = llm_calls["twilio"]
    _check_answered(summary)
    assert summary["metrics"]["line"] == "twilio"
    assert summary["outcome"] == "borrower_hung_up"


def test_a_simulated_audio_call_answers_an_off_script_question_in_llm_mode(
    llm_calls: Results,
) -> None:
    summary = llm_calls["simulated"]
    _check_answered(summary)
    assert Path(summary["recording"]).exists()
