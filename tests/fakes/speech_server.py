"""A loopback fake of an OpenAI-compatible speech server (ASR and TTS).

Speaks the wire format the openai SDK (and FunASR/vLLM/CosyVoice-style servers) use:

- `POST /v1/audio/transcriptions`: multipart form with `file` (a WAV), `model`,
  `language`, `prompt`, `response_format`; answers `{"text": ...}`.
- `POST /v1/audio/speech`: JSON `model`, `input`, `voice`, `response_format` (`wav`, or
  `pcm`: raw 16-bit mono 24 kHz); answers the audio bytes.

Scripted per test: `transcript` (a string, or a function of the upload, possibly async: a
real recogniser, or the reference text of the clip being sent), `speak` (text -> int16
samples and rate), `delay_s` before answering, `stall` (never answer), `error_status`.
Requests are kept in `uploads` and `speech_requests`.
"""

import asyncio
import inspect
import io
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import web

from voicebot.speech.openai_speech import wav_bytes

PCM_RATE = 24_000


@dataclass(frozen=True)
class Upload:
    """One transcription request as the server read it."""

    model: str
    language: str
    prompt: str
    response_format: str
    audio: np.ndarray  # int16
    sample_rate: int


def tone(text: str) -> tuple[np.ndarray, int]:
    """A stand-in voice: 0.12 s of a 220 Hz tone per character, at 24 kHz."""
    t = np.arange(int(0.12 * len(text) * PCM_RATE)) / PCM_RATE
    return (0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype(np.int16), PCM_RATE


def _read_wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data), "rb") as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2"), wav.getframerate()


@dataclass
class FakeSpeechServer:
    transcript: str | Callable[[Upload], str | Awaitable[str]] = "对，我是"
    speak: Callable[[str], tuple[np.ndarray, int]] = tone
    delay_s: float = 0.0
    stall: bool = False
    error_status: int | None = None
    uploads: list[Upload] = field(default_factory=list)
    speech_requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)
        app.router.add_post("/v1/audio/speech", self._speech)
        # A client that gave up (its turn went on) cancels the handler's wait.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _wait(self) -> web.Response | None:
        if self.stall:
            await asyncio.Event().wait()  # until the client hangs up
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.error_status is not None:
            error = {"message": "scripted failure", "type": "server_error", "code": None}
            return web.json_response({"error": error}, status=self.error_status)
        return None

    async def _transcriptions(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField), "file must be a multipart file part"
        audio, rate = _read_wav(upload.file.read())
        received = Upload(
            model=str(form.get("model", "")),
            language=str(form.get("language", "")),
            prompt=str(form.get("prompt", "")),
            response_format=str(form.get("response_format", "json")),
            audio=audio,
            sample_rate=rate,
        )
        self.uploads.append(received)
        if failed := await self._wait():
            return failed
        text = self.transcript(received) if callable(self.transcript) else self.transcript
        if inspect.isawaitable(text):
            text = await text
        return web.json_response({"text": text})

    async def _speech(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.speech_requests.append(body)
        if failed := await self._wait():
            return failed
        samples, rate = self.speak(body["input"])
        if body.get("response_format") == "pcm":
            assert rate == PCM_RATE, "the pcm format is 24 kHz"
            return web.Response(body=samples.astype("<i2").tobytes(), content_type="audio/pcm")
        return web.Response(body=wav_bytes(samples, rate), content_type="audio/wav")
