"""Remote ASR through an OpenAI-compatible `/v1/audio/transcriptions`, Whisper as fallback.

The server is a loopback fake speaking the real protocol (tests/fakes/speech_server.py);
the client is the openai SDK. The offline fallback is the real Whisper base.
"""

import socket
import time
from collections.abc import AsyncIterator

import numpy as np
import pytest
from fakes.speech_server import FakeSpeechServer
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import InputAudioRawFrame, TranscriptionFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.tests.utils import run_test

from voicebot.config import SpeechServerSettings
from voicebot.speech.asr import HINT_DIGITS, HINT_YES_NO, Transcriber, Transcription
from voicebot.speech.audio import phone_line
from voicebot.speech.fallback import RemoteFirstRecognizer, RemoteHealth
from voicebot.speech.offline_tts import OfflineVoice
from voicebot.speech.openai_speech import RemoteTranscriber
from voicebot.voice.stt_service import RecognizerSTTService

_QUESTION = "请问是什么原因没有按时还款呢？"
_RATE = 8000


@pytest.fixture
async def asr_server() -> AsyncIterator[FakeSpeechServer]:
    server = FakeSpeechServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
def utterance(offline_voice: OfflineVoice) -> np.ndarray:
    """The borrower's reason, as the 8 kHz phone line carries it."""
    audio, rate = offline_voice.synthesize("我最近失业了")
    narrow, _ = phone_line(audio, rate)
    return narrow


@pytest.fixture(scope="module")
def offline_text(transcriber: Transcriber, utterance: np.ndarray) -> str:
    """What Whisper base alone hears in it (the fallback must give the same)."""
    return transcriber.transcribe(utterance, _RATE, _QUESTION)


def _recognizer(
    base_url: str, transcriber: Transcriber, timeout_s: float = 5.0
) -> RemoteFirstRecognizer:
    server = SpeechServerSettings(base_url=base_url, model="sensevoice-small", timeout_s=timeout_s)
    return RemoteFirstRecognizer(RemoteTranscriber(server), transcriber, server.timeout_s)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_an_utterance_is_heard_by_the_server_through_the_pipeline(
    asr_server: FakeSpeechServer, transcriber: Transcriber, utterance: np.ndarray
) -> None:
    asr_server.transcript = "我最近失业了。"
    heard: list[Transcription] = []
    stt = RecognizerSTTService(
        _recognizer(asr_server.base_url, transcriber),
        hint_provider=lambda: _QUESTION,
        on_transcription=heard.append,
    )
    vad = VADProcessor(
        vad_analyzer=SileroVADAnalyzer(sample_rate=_RATE, params=VADParams(stop_secs=0.55))
    )
    audio = np.concatenate([np.zeros(_RATE // 2, np.int16), utterance, np.zeros(_RATE, np.int16)])
    frames = [
        InputAudioRawFrame(audio[i : i + 160].tobytes(), _RATE, 1)
        for i in range(0, audio.size, 160)
    ]
    down, _ = await run_test(
        Pipeline([vad, stt]),
        frames_to_send=frames,
        pipeline_params=PipelineParams(audio_in_sample_rate=_RATE),
    )
    assert [f.text for f in down if isinstance(f, TranscriptionFrame)] == ["我最近失业了。"]
    assert [(h.engine, h.fallback) for h in heard] == [("remote", None)]
    (upload,) = asr_server.uploads
    assert (upload.model, upload.language, upload.sample_rate) == ("sensevoice-small", "zh", 16000)
    assert _QUESTION in upload.prompt  # the bot's question biases the server too
    # The whole turn went: the utterance, with pipecat's lead-in and trailing silence.
    assert 0 < upload.audio.size / 16000 - utterance.size / _RATE < 1.5


async def test_the_servers_text_is_cleaned_like_whispers(asr_server: FakeSpeechServer) -> None:
    remote = RemoteTranscriber(SpeechServerSettings(base_url=asr_server.base_url, model="m"))
    clip = np.full(_RATE, 3000, np.int16)
    asr_server.transcript = "幺二三四"
    digits = await remote.transcribe(clip, _RATE, HINT_DIGITS)
    asr_server.transcript = "對，我是"
    yes = await remote.transcribe(clip, _RATE, HINT_YES_NO)
    asr_server.transcript = "以下是普通话的电话录音。"  # the prompt, read back
    echo = await remote.transcribe(clip, _RATE, HINT_YES_NO)
    assert (digits.text, yes.text, echo.text, echo.dropped) == ("1234", "对，我是", "", "echo")
    assert {digits.engine, yes.engine} == {"remote"}


async def test_a_stalled_server_falls_back_to_whisper_within_the_budget(
    asr_server: FakeSpeechServer,
    transcriber: Transcriber,
    utterance: np.ndarray,
    offline_text: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    asr_server.stall = True
    recognizer = _recognizer(asr_server.base_url, transcriber, timeout_s=0.5)
    offline_started = time.perf_counter()
    await transcriber.recognize(utterance, _RATE, _QUESTION, ())
    offline_s = time.perf_counter() - offline_started

    started = time.perf_counter()
    first = await recognizer.recognize(utterance, _RATE, _QUESTION, ())
    elapsed = time.perf_counter() - started

    assert first.text == offline_text
    assert (first.engine, first.fallback) == ("offline", "timeout")
    # The remote's 0.5 s, then one offline decode (slack for two loaded cores).
    assert 0.5 <= elapsed < 0.5 + offline_s + 1.5
    assert abs(first.seconds - elapsed) < 0.05  # the metric counts the whole wait
    # The next turn does not wait for a server that just stalled.
    second = await recognizer.recognize(utterance, _RATE, _QUESTION, ())
    assert (second.engine, second.fallback) == ("offline", "down")
    assert len(asr_server.uploads) == 1
    warnings = [r for r in caplog.records if r.name == "voicebot.speech"]
    assert len(warnings) == 1 and asr_server.base_url in warnings[0].getMessage()


async def test_an_unreachable_server_degrades_with_one_log_line_and_recovers(
    transcriber: Transcriber,
    utterance: np.ndarray,
    offline_text: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = _closed_port()
    now = [0.0]
    recognizer = _recognizer(f"http://127.0.0.1:{port}/v1", transcriber)
    recognizer.health = RemoteHealth(repr(recognizer.remote), clock=lambda: now[0])
    results = [await recognizer.recognize(utterance, _RATE, _QUESTION, ()) for _ in range(2)]
    assert [(r.engine, r.fallback) for r in results] == [("offline", "error"), ("offline", "down")]
    assert [r.text for r in results] == [offline_text] * 2
    down = [r.getMessage() for r in caplog.records if r.name == "voicebot.speech"]
    assert len(down) == 1 and "unreachable" in down[0] and str(port) in down[0]

    server = FakeSpeechServer(transcript="我最近失业了")
    await server.start(port)  # the server comes up where it was configured
    try:
        assert (await recognizer.recognize(utterance, _RATE, _QUESTION, ())).fallback == "down"
        now[0] += 60  # past the retry delay: asked again
        back = await recognizer.recognize(utterance, _RATE, _QUESTION, ())
    finally:
        await server.stop()
    assert (back.engine, back.fallback, back.text) == ("remote", None, "我最近失业了")
    messages = [r.getMessage() for r in caplog.records if r.name == "voicebot.speech"]
    assert len(messages) == 2 and "answers again" in messages[1]


async def test_a_server_error_falls_back(
    asr_server: FakeSpeechServer, transcriber: Transcriber, utterance: np.ndarray, offline_text: str
) -> None:
    asr_server.error_status = 503
    result = await _recognizer(asr_server.base_url, transcriber).recognize(
        utterance, _RATE, _QUESTION, ()
    )
    assert (result.engine, result.fallback, result.text) == ("offline", "error", offline_text)


async def test_silence_is_not_sent(asr_server: FakeSpeechServer, transcriber: Transcriber) -> None:
    recognizer = _recognizer(asr_server.base_url, transcriber)
    result = await recognizer.recognize(np.zeros(_RATE, np.int16), _RATE, HINT_YES_NO, ())
    assert (result.text, result.dropped) == ("", "silence") and not asr_server.uploads
