"""Whole calls with remote speech engines: through the servers, and through stalled ones.

Three calls over the simulated 8 kHz line at real-time pace, placed together: one whose
ASR and TTS are local fake OpenAI-compatible servers (the ASR fake decodes the upload
with Whisper base, as a server on this box would), one whose servers never answer, and
one spoken by the edge-tts voice through the fake of its websocket. All must verify the
borrower; the metrics say which engine heard and spoke each turn.
"""

import asyncio
import copy
import dataclasses
from pathlib import Path
from typing import Any

import edge_tts.communicate
import pytest
from fakes.edge_tts_server import FakeEdgeTTSServer
from fakes.speech_server import FakeSpeechServer, Upload

from voicebot.config import Settings, SpeechServerSettings, load_settings
from voicebot.conversation.script import load_script
from voicebot.scenario import parse_scenario
from voicebot.simulate import CallOptions, run_audio_call
from voicebot.speech.asr import DOMAIN_PROMPT, HINT_DIGITS, HINT_YES_NO, bias_for
from voicebot.voice.pipeline import VoiceModels
from voicebot.voice.stt_service import recognizer_for
from voicebot.voice.tts_service import remote_speaker_for

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
BORROWER = ["对，我是", "幺二三四", "<hangup>"]
NOTICE = "请稍等，正在为您转接人工客服。"
PROMPTED = {bias_for(h, DOMAIN_PROMPT, 0).prompt: h for h in (HINT_YES_NO, HINT_DIGITS)}
TIMEOUT_S = 1.0


def _settings(tmp: Path, url: str, timeout_s: float) -> Settings:
    settings = load_settings(environ={})
    asr = SpeechServerSettings(base_url=url, model="whisper-base", timeout_s=timeout_s)
    tts = SpeechServerSettings(base_url=url, model="cosyvoice", voice="中文女", timeout_s=timeout_s)
    voice = dataclasses.replace(
        settings.voice,
        recordings_dir=tmp / "recordings",
        tts_cache_dir=tmp / "tts",
        asr="remote",
        tts="remote",
        asr_server=asr,
        tts_server=tts,
    )
    return dataclasses.replace(settings, voice=voice)


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory, edge_mp3: bytes) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("remote-calls")
    edge = FakeEdgeTTSServer(audio=edge_mp3)

    async def place_all() -> dict[str, dict[str, Any]]:
        served, stalled = FakeSpeechServer(), FakeSpeechServer(stall=True)
        for server in (served, stalled, edge):
            await server.start()
        # edge-tts reads its endpoint from this module constant; point it at the fake.
        patch.setattr(edge_tts.communicate, "WSS_URL", edge.wss_url)
        # The served server's decode shares two loaded cores with three calls: its timeout
        # is not what is tested there.
        live = _settings(tmp / "live", served.base_url, 5.0)
        dead = _settings(tmp / "dead", stalled.base_url, TIMEOUT_S)
        edge_voice = dataclasses.replace(live.voice, asr="offline", tts="edge")
        edged = dataclasses.replace(live, voice=edge_voice)
        models = VoiceModels(live.voice)
        models.warm_up()

        async def whisper_server(upload: Upload) -> str:
            # A Whisper server decodes with the prompt it is sent: ours for the question.
            hint = PROMPTED.get(upload.prompt)
            heard = await asyncio.to_thread(
                models.transcriber.transcribe_detailed, upload.audio, upload.sample_rate, hint
            )
            return heard.raw_text

        served.transcript = whisper_server
        dead_models, edge_models = _with_engines(models, dead), _with_engines(models, edged)
        script = load_script(live.prompts_dir)

        async def place(settings: Settings, voice_models: VoiceModels) -> dict[str, Any]:
            raw = {"now": "2026-11-25T10:00:00+08:00", "account": ACCOUNT, "borrower": BORROWER}
            scenario = parse_scenario(raw, Path("tests/speech/remote.yaml"))
            assert scenario.now is not None
            options = CallOptions(no_input_timeout_s=4.0, reply_gap_s=1.2, max_call_s=120)
            return await run_audio_call(
                scenario, settings, script, scenario.now, voice_models, options=options
            )

        try:
            live_call, dead_call, edge_call = await asyncio.gather(
                place(live, models), place(dead, dead_models), place(edged, edge_models)
            )
            # A notice said outside the pipeline (before a transfer) is in the call's voice.
            for call, voice_models in ((edge_call, edge_models), (dead_call, dead_models)):
                call["notice_s"] = (await voice_models.speak(NOTICE)).size / 8000
        finally:
            for server in (served, stalled, edge):
                await server.stop()
        live_call["uploads"] = len(served.uploads)
        edge_call["ssml"] = len(edge.received_ssml)
        return {"served": live_call, "stalled": dead_call, "edge": edge_call}

    with pytest.MonkeyPatch.context() as patch:
        return asyncio.run(place_all())


def _with_engines(models: VoiceModels, settings: Settings) -> VoiceModels:
    """`models` with the remote engines of `settings` (no second Whisper in memory)."""
    other = copy.copy(models)
    other.settings = settings.voice
    other.recognizer = recognizer_for(settings.voice, models.transcriber)
    other.speaker = remote_speaker_for(settings.voice, models.tts_cache.sample_rate)
    return other


def _borrower(summary: dict[str, Any]) -> list[str]:
    return [line["text"] for line in summary["transcript"] if line["speaker"] == "borrower"]


def test_a_call_runs_through_the_speech_servers(calls: dict[str, dict[str, Any]]) -> None:
    summary = calls["served"]
    assert summary["identity_verified"], summary["transcript"]
    metrics = summary["metrics"]
    assert metrics["asr_engine"] and set(metrics["asr_engine"]) == {"remote"}, metrics
    assert metrics["tts_engine"] and set(metrics["tts_engine"]) == {"remote"}
    assert metrics["speech_fallbacks"] == []
    assert summary["uploads"] >= 2  # the borrower's turns went to the server


def test_a_call_with_stalled_servers_falls_back_in_time(calls: dict[str, dict[str, Any]]) -> None:
    summary = calls["stalled"]
    assert summary["identity_verified"], summary["transcript"]
    metrics = summary["metrics"]
    assert set(metrics["asr_engine"]) == {"offline"} and set(metrics["tts_engine"]) == {"offline"}
    # Each engine first waited for its server, then left it alone until its retry delay.
    fallbacks = metrics["speech_fallbacks"]
    for engine in ("asr", "tts"):
        said = [f.split(":")[1] for f in fallbacks if f.startswith(engine)]
        assert said[0] == "timeout" and set(said) <= {"timeout", "down"}, fallbacks
    # The turn that waited for the stalled ASR server still answered within its budget:
    # the server's timeout, then an offline decode.
    assert max(metrics["asr_s"]) < TIMEOUT_S + 2.5
    assert max(metrics["voice_to_voice_s"]) < TIMEOUT_S + 4.0


def test_a_call_is_spoken_by_the_edge_voice(calls: dict[str, dict[str, Any]]) -> None:
    summary = calls["edge"]
    assert summary["identity_verified"], summary["transcript"]
    metrics = summary["metrics"]
    assert metrics["tts_engine"] and set(metrics["tts_engine"]) == {"edge"}
    assert set(metrics["asr_engine"]) == {"offline"} and metrics["speech_fallbacks"] == []
    assert summary["ssml"] >= len(metrics["tts_engine"])  # a request per clause


def test_a_notice_outside_the_pipeline_is_in_the_calls_voice(
    calls: dict[str, dict[str, Any]],
) -> None:
    assert 0.55 < calls["edge"]["notice_s"] < 0.7  # the fake's 0.6 s MP3: edge said it
    assert calls["stalled"]["notice_s"] > 1.5  # the offline voice said the whole sentence
