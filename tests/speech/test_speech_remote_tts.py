"""Remote voices (edge-tts, an OpenAI-compatible `/v1/audio/speech`), the offline as fallback.

The servers are loopback fakes speaking the real protocols; the line's TTS service runs in
a pipecat pipeline and what it yields is what the line would play.
"""

import time
from collections.abc import AsyncIterator
from pathlib import Path

import edge_tts.communicate
import numpy as np
import pytest
from fakes.edge_tts_server import FakeEdgeTTSServer
from fakes.speech_server import FakeSpeechServer, tone
from pipecat.frames.frames import TTSAudioRawFrame, TTSSpeakFrame
from pipecat.tests.utils import run_test

from voicebot.config import SpeechServerSettings, VoiceSettings
from voicebot.speech.edge_tts_service import EdgeVoice
from voicebot.speech.fallback import RemoteHealth
from voicebot.speech.offline_tts import OfflineVoice
from voicebot.speech.openai_speech import SpeechServerVoice
from voicebot.voice.tts_service import (
    ClauseTTSService,
    RemoteSpeaker,
    SpeechCache,
    Synthesis,
    remote_speaker_for,
)

_RATE = 8000
_LINE = "您好，我是智能语音助手。"  # two clauses
_CLAUSES = ["您好", "我是智能语音助手"]  # as the line is spoken: clause by clause


@pytest.fixture
async def tts_server() -> AsyncIterator[FakeSpeechServer]:
    server = FakeSpeechServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def edge_server(
    monkeypatch: pytest.MonkeyPatch, edge_mp3: bytes
) -> AsyncIterator[FakeEdgeTTSServer]:
    server = FakeEdgeTTSServer(audio=edge_mp3)
    await server.start()
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", server.wss_url)
    yield server
    await server.stop()


@pytest.fixture
def offline(offline_voice: OfflineVoice) -> SpeechCache:
    return SpeechCache(offline_voice, None, sample_rate=_RATE)


def _server_voice(server: FakeSpeechServer, response_format: str = "wav") -> SpeechServerVoice:
    settings = SpeechServerSettings(
        base_url=server.base_url, model="cosyvoice", voice="中文女", response_format=response_format
    )
    return SpeechServerVoice(settings)


def _speaker(engine: str, voice, tmp_path: Path | None, timeout_s: float = 5.0) -> RemoteSpeaker:
    cache = SpeechCache(None, tmp_path, voice_id=voice.voice_id, sample_rate=_RATE)
    return RemoteSpeaker(engine, voice, cache, timeout_s)


async def _say(
    offline: SpeechCache, speaker: RemoteSpeaker | None, text: str = _LINE
) -> tuple[list[np.ndarray], Synthesis]:
    """The clauses' audio the line would play, and the line's synthesis report."""
    reports: list[Synthesis] = []
    tts = ClauseTTSService(offline, on_synthesis=reports.append, remote=speaker)
    down, _ = await run_test(tts, frames_to_send=[TTSSpeakFrame(text)])
    audio = [f for f in down if isinstance(f, TTSAudioRawFrame)]
    assert audio and {f.sample_rate for f in audio} == {_RATE}
    (report,) = reports
    return [np.frombuffer(f.audio, "<i2") for f in audio], report


def _seconds(clauses: list[np.ndarray]) -> float:
    return sum(c.size for c in clauses) / _RATE


async def test_a_line_is_spoken_by_the_speech_server(
    tts_server: FakeSpeechServer, offline: SpeechCache, tmp_path: Path
) -> None:
    clauses, report = await _say(offline, _speaker("remote", _server_voice(tts_server), tmp_path))
    assert (report.engine, report.fallback, report.cached) == ("remote", None, False)
    assert [r["input"] for r in tts_server.speech_requests] == _CLAUSES
    assert tts_server.speech_requests[0] | {"input": ""} == {
        "model": "cosyvoice",
        "voice": "中文女",
        "response_format": "wav",
        "input": "",
    }
    # The fake's 24 kHz tone, resampled for the 8 kHz line, plus the 0.2 s clause pause.
    expected = sum(tone(c)[0].size / 24000 for c in _CLAUSES) + 0.2
    assert abs(_seconds(clauses) - expected) < 0.01

    # Said again (the script's fixed lines are): from the cache, no request.
    _, again = await _say(offline, _speaker("remote", _server_voice(tts_server), tmp_path))
    assert (again.engine, again.cached, len(tts_server.speech_requests)) == ("remote", True, 2)


async def test_the_raw_pcm_format_is_read_as_24_khz(
    tts_server: FakeSpeechServer, offline: SpeechCache
) -> None:
    voice = _server_voice(tts_server, response_format="pcm")
    clauses, report = await _say(offline, _speaker("remote", voice, None), "您好。")
    assert report.engine == "remote"
    assert abs(_seconds(clauses) - tone("您好")[0].size / 24000) < 0.01


async def test_a_stalled_speech_server_gives_way_to_the_offline_voice_in_time(
    tts_server: FakeSpeechServer, offline: SpeechCache, caplog: pytest.LogCaptureFixture
) -> None:
    tts_server.stall = True
    started = time.perf_counter()
    offline_alone, _ = await _say(offline, None)
    offline_s = time.perf_counter() - started

    speaker = _speaker("remote", _server_voice(tts_server), None, timeout_s=0.5)
    started = time.perf_counter()
    clauses, report = await _say(offline, speaker)
    elapsed = time.perf_counter() - started
    assert (report.engine, report.fallback) == ("offline", "timeout")
    assert all(np.array_equal(a, b) for a, b in zip(clauses, offline_alone, strict=True))
    # Only the first clause waited for the server; the rest of the line went offline.
    assert len(tts_server.speech_requests) == 1
    assert 0.5 <= elapsed < 0.5 + offline_s + 1.5
    # The next line does not wait for it at all, and the log said so once.
    _, next_line = await _say(offline, speaker)
    assert (next_line.engine, next_line.fallback) == ("offline", "down")
    down = [r.getMessage() for r in caplog.records if r.name == "voicebot.speech"]
    assert len(down) == 1 and tts_server.base_url in down[0]


async def test_the_edge_voice_speaks_through_its_websocket(
    edge_server: FakeEdgeTTSServer, offline: SpeechCache
) -> None:
    clauses, report = await _say(offline, _speaker("edge", EdgeVoice(), None))
    assert (report.engine, report.fallback) == ("edge", None)
    first, second = edge_server.received_ssml  # one request per clause, in the voice
    assert _CLAUSES[0] in first and _CLAUSES[1] in second and "XiaoxiaoNeural" in first
    # Two decoded 0.6 s MP3s (the encoder pads a little) and the clause pause.
    assert 1.4 <= _seconds(clauses) <= 1.6


@pytest.mark.parametrize("behaviour", ["reject", "drop", "no_audio"])
async def test_edge_trouble_falls_back_to_the_offline_voice(
    edge_server: FakeEdgeTTSServer,
    offline: SpeechCache,
    behaviour: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    edge_server.behaviour = behaviour  # type: ignore[assignment]
    clauses, report = await _say(offline, _speaker("edge", EdgeVoice(), None))
    offline_alone, _ = await _say(offline, None)
    assert (report.engine, report.fallback) == ("offline", "error")
    assert all(np.array_equal(a, b) for a, b in zip(clauses, offline_alone, strict=True))
    (line,) = [r.getMessage() for r in caplog.records if r.name == "voicebot.speech"]
    assert "edge-tts" in line and "unavailable" in line


async def test_edge_answers_again_after_the_retry_delay(
    edge_server: FakeEdgeTTSServer, offline: SpeechCache
) -> None:
    now = [0.0]
    speaker = _speaker("edge", EdgeVoice(), None)
    speaker.health = RemoteHealth("edge-tts", clock=lambda: now[0])
    edge_server.behaviour = "drop"
    assert (await _say(offline, speaker))[1].fallback == "error"
    edge_server.behaviour = "speak"
    assert (await _say(offline, speaker))[1].fallback == "down"
    now[0] += 60
    assert (await _say(offline, speaker))[1].engine == "edge"


def test_the_configured_voice_is_built_from_the_settings(tmp_path: Path) -> None:
    assert remote_speaker_for(VoiceSettings(), _RATE) is None
    edge = remote_speaker_for(VoiceSettings(tts="edge", tts_cache_dir=tmp_path), _RATE)
    assert edge is not None and edge.engine == "edge" and edge.timeout_s == 1.0
    assert isinstance(edge.voice, EdgeVoice) and edge.voice.voice == "zh-CN-XiaoxiaoNeural"
    server = SpeechServerSettings(base_url="http://tts:9000/v1", model="m", voice="v")
    remote = remote_speaker_for(VoiceSettings(tts="remote", tts_server=server), _RATE)
    assert remote is not None and isinstance(remote.voice, SpeechServerVoice)
