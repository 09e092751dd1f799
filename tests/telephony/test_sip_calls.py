"""Whole calls through the SIP endpoint with Debian's baresip as the borrower's phone.

The borrower's answers are spoken by the offline voice and played as baresip's
microphone; baresip records what it hears. The calls run together once per module, at
real-time pace, through the real pipeline (Silero VAD, Whisper, the engine, the voice).
"""

import asyncio
import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from baresip_peer import Baresip
from borrower import ListeningBorrower, answer_files, speaking
from conftest import needs_baresip, sip_settings
from live_env import stored_summaries

from telephony.sip.endpoint import SipEndpoint
from telephony.sip.service import SipCalls
from voicebot.accounts import parse_account
from voicebot.calls import CallSessions
from voicebot.config import Settings, load_settings
from voicebot.store import Store
from voicebot.voice.pipeline import VoiceModels

pytestmark = needs_baresip

ACCOUNT = {
    "account_id": "A1001", "name": "张伟", "gender": "M", "phone": "13800138000",
    "id_number": "110101199003071234", "product": "个人消费贷款", "overdue_amount": 3250.60,
    "overdue_days": 15, "due_date": "2026-11-10",
}  # fmt: skip
NOW = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
# The ID digits are keyed (RFC 4733 DTMF, `#` ends them), everything else is said.
INBOUND_PROMISE = ["我想查一下还欠多少钱", "1234#", "下周五全部还上", "对的"]
OUTBOUND_PROMISE = ["对，我是", "1234#", "我最近失业了", "这周五发工资，全部还上", "对"]
HANG_UP = ["我想查一下还欠多少钱", "1234#"]  # then hangs up 1 s into the disclosure
TRANSFER = ["我要投诉你们的催收员", "1234#"]

GAP_S = 2.0  # a patient borrower: on a busy machine the bot's next sentence can be late
Results = dict[str, Any]


@pytest.fixture(scope="module")
def sip_env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, VoiceModels, Path]:
    tmp = tmp_path_factory.mktemp("sip_calls")
    settings = load_settings(environ={})
    voice = dataclasses.replace(
        settings.voice, recordings_dir=tmp / "recordings", tts_cache_dir=tmp / "tts"
    )
    settings = dataclasses.replace(settings, voice=voice, store_path=tmp / "calls.sqlite3")
    store = Store(settings.store_path)
    store.upsert_account(parse_account(ACCOUNT))
    store.close()
    models = VoiceModels(settings.voice)
    models.warm_up()
    return settings, models, tmp


@pytest.fixture(scope="module")
def sip_calls(sip_env: tuple[Settings, VoiceModels, Path]) -> Results:
    """Four calls, two at a time: inbound and outbound promises, hang-up, transfer."""
    return asyncio.run(_place_all(*sip_env))


async def _place_all(settings: Settings, models: VoiceModels, tmp: Path) -> Results:
    def speak(lines: list[str]) -> list[np.ndarray | str]:
        return [
            text if text.endswith("#") else np.asarray(models.tts_cache.speak(text)[0], np.int16)
            for text in lines
        ]

    phones: list[Baresip] = []

    async def phone(name: str, user: str = ACCOUNT["phone"]) -> Baresip:
        peer = Baresip(tmp / name, user)
        phones.append(peer)
        return await peer.start()

    agent = await phone("agent", "agent")
    outbound_phone = await phone("outbound")
    runner = CallSessions(settings, models, clock=lambda: NOW)
    sip = sip_settings(agent_uri=agent.uri, proxy=f"127.0.0.1:{outbound_phone.port}")
    bot = SipCalls(runner, SipEndpoint(sip))
    endpoint = bot.endpoint
    await endpoint.start()
    host, port = endpoint.local_addr
    results: Results = {}

    async def inbound(name: str, lines: list[str], **hang_up: Any) -> None:
        peer = await phone(name)
        talker = ListeningBorrower(
            peer, answer_files(tmp / f"{name}-answers", speak(lines)), gap_s=GAP_S
        )
        await peer.command("dial", f"sip:voicebot@{host}:{port}")
        await peer.wait_event("CALL_ESTABLISHED", 10)
        await asyncio.wait_for(talker.run(**hang_up), 240)
        await peer.wait_event("CALL_CLOSED", 120)
        results[name] = {"heard": peer.heard(), "said": talker.said}

    async def outbound() -> None:
        talker = ListeningBorrower(
            outbound_phone, answer_files(tmp / "out-answers", speak(OUTBOUND_PROMISE)), gap_s=GAP_S
        )
        placing = asyncio.create_task(bot.dial(parse_account(ACCOUNT)))
        await outbound_phone.wait_event("CALL_ESTABLISHED", 20)
        await asyncio.wait_for(talker.run(), 240)
        results["outbound"] = {"summary": await asyncio.wait_for(placing, 120)}

    try:  # two at a time: the test machines have two cores
        await asyncio.gather(inbound("inbound", INBOUND_PROMISE), outbound())
        await asyncio.gather(
            inbound("hangup", HANG_UP, hang_up_after=2, hang_up_into_s=1.0),
            inbound("transfer", TRANSFER),
        )
        results["agent_events"] = list(agent.events)
        async with asyncio.timeout(30):  # each call's summary, then its release
            while endpoint.calls or len(stored_summaries(settings)) < 4:
                await asyncio.sleep(0.1)
        results["after"] = len(endpoint.calls)
        results["summaries"] = stored_summaries(settings)
    finally:
        await endpoint.stop()
        for peer in phones:
            await peer.stop()
    return results


def _find(results: Results, **match: Any) -> dict[str, Any]:
    for summary in results["summaries"]:
        if all(summary.get(key) == value for key, value in match.items()):
            return summary
    raise AssertionError(f"no summary with {match}: {results['summaries']}")


def _dialogue(summary: dict[str, Any]) -> str:
    return "\n".join(f"{x['t']:6.1f} {x['speaker']}: {x['text']}" for x in summary["transcript"])


def test_inbound_call_stores_the_promise_and_the_bot_audio_is_the_disclosure(
    sip_calls: Results, sip_env: tuple[Settings, VoiceModels, Path]
) -> None:
    settings, models, _ = sip_env
    summary = _find(sip_calls, direction="inbound", outcome="right_party_contact")
    assert summary["account_id"] == "A1001"  # found by the caller's number (From:)
    assert summary["identity_verified"]
    assert summary["promise_to_pay"] == {
        "amount": 3250.6,
        "date": "2026-12-04",
        "confirmed": True,
    }, _dialogue(summary)
    assert summary["compliance"]["ai_disclosed"] and summary["compliance"]["recording_notice"]
    store = Store(settings.store_path)
    try:
        stored = store.get_call(summary["call_id"])
    finally:
        store.close()
    assert stored is not None and stored["promise_to_pay"] == summary["promise_to_pay"]

    heard = sip_calls["inbound"]["heard"]
    talk = speaking(heard)
    first = int(np.flatnonzero(talk)[0])
    end = first + int(np.flatnonzero(~talk[first:])[0]) if (~talk[first:]).any() else len(talk)
    while end < len(talk) and talk[end : end + 40].any():  # up to a 0.8 s pause
        end += int(np.flatnonzero(~talk[end:])[0]) + 1 if (~talk[end:]).any() else len(talk)
    opening = models.transcriber.transcribe(heard[first * 160 : end * 160], 8000)
    assert "语音助手" in opening and "录音" in opening, opening  # the phrase list undoes 只能与音


def test_the_bot_calls_a_baresip_phone_and_the_call_ends_with_a_summary(
    sip_calls: Results,
) -> None:
    summary = sip_calls["outbound"]["summary"]
    assert summary["direction"] == "outbound"
    assert summary["outcome"] == "right_party_contact", _dialogue(summary)
    assert summary["promise_to_pay"] == {"amount": 3250.6, "date": "2026-11-27", "confirmed": True}
    assert summary["metrics"]["sip"]["codec"] == "PCMU"
    assert summary["metrics"]["sip"]["digits"] == "1234#"  # keyed, heard as the ID digits


def test_a_borrower_hanging_up_mid_sentence_still_leaves_a_summary(sip_calls: Results) -> None:
    summary = _find(sip_calls, direction="inbound", outcome="borrower_hung_up")
    assert summary["metrics"]["hung_up_by"] == "borrower"
    assert Path(summary["recording"]).exists()
    assert sip_calls["after"] == 0  # every call was released


def test_a_call_needing_a_human_is_transferred_to_the_agent(sip_calls: Results) -> None:
    summary = next(s for s in sip_calls["summaries"] if s.get("transfer"))
    assert summary["escalation"]["required"]
    assert summary["transfer"]["ok"] and summary["transfer"]["status"] == 200
    bot_lines = [x["text"] for x in summary["transcript"] if x["speaker"] == "bot"]
    assert any("转接" in text for text in bot_lines)
    assert any(e.get("type") == "CALL_ESTABLISHED" for e in sip_calls["agent_events"])
