"""Speech servers that speak OpenAI's audio API, through the openai SDK.

`POST {base_url}/audio/transcriptions` (multipart: file, model, language, prompt; answers
{"text": ...}) is what FunASR/SenseVoice, vLLM-served Whisper and many on-prem servers
offer; `POST {base_url}/audio/speech` (JSON: model, input, voice, response_format) is what
CosyVoice-style servers offer. The SDK's errors are translated here into
`SpeechServiceUnavailable`; retries are off because a retry never fits in a turn. How long
a turn waits is bounded by the caller (`voicebot.speech.fallback`), not by the SDK.
"""

import asyncio
import io
import time
import wave
from collections.abc import Sequence

import httpx2
import numpy as np
import openai

from voicebot.config import SpeechServerSettings
from voicebot.speech.asr import (
    DOMAIN_PROMPT,
    WHISPER_SAMPLE_RATE,
    Transcription,
    bias_for,
    clean_transcript,
)
from voicebot.speech.audio import float_to_pcm16, pcm16_to_float, resample
from voicebot.speech.fallback import SpeechServiceUnavailable
from voicebot.speech.homophones import PhoneticCorrector

#: OpenAI's `pcm` response format: 16-bit little-endian mono at 24 kHz.
PCM_SAMPLE_RATE = 24_000


class _Client:
    """The SDK client of the running event loop.

    The models (and so these clients) outlive an event loop: `voicebot demo` runs each call
    in its own `asyncio.run`, and a pooled connection cannot move to another loop. The
    first client is made with the models, so no turn pays for its set-up (about 0.6 s).
    """

    def __init__(self, server: SpeechServerSettings, http_client: httpx2.AsyncClient | None):
        self._server = server
        self._http_client = http_client
        self._sdk = self._new()
        self._loop: asyncio.AbstractEventLoop | None = None  # None: not used yet

    def _new(self) -> openai.AsyncOpenAI:
        sdk = openai.AsyncOpenAI(
            base_url=self._server.base_url,
            api_key=self._server.api_key or "not-needed",  # local servers take any key
            max_retries=0,
            # A backstop: the caller's deadline (`ask_remote`) is the real bound.
            timeout=max(self._server.timeout_s * 2, 5.0),
            # Not the SDK's own wrapper: left behind by a finished event loop, that one
            # schedules its close on the next loop and logs "Event loop is closed".
            http_client=self._http_client or openai.DefaultAsyncHttpxClient(),
        )
        _ = sdk.audio.transcriptions, sdk.audio.speech  # built lazily otherwise: 0.1 s
        return sdk

    def get(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop and self._http_client is None:
            self._sdk = self._new()
        self._loop = loop
        return self._sdk

    async def aclose(self) -> None:
        await self._sdk.close()


def _translate(error: openai.OpenAIError, what: str) -> SpeechServiceUnavailable:
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        retryable = status >= 500 or status in (408, 409, 429)
        return SpeechServiceUnavailable(f"{what} HTTP {status}", retryable=retryable)
    if isinstance(error, openai.APIConnectionError):  # also the SDK's own timeouts
        return SpeechServiceUnavailable(f"{what} unreachable: {error}", retryable=True)
    return SpeechServiceUnavailable(f"{what} answered unusably: {error!r}", retryable=True)


def wav_bytes(pcm16: np.ndarray, sample_rate: int) -> bytes:
    """A mono 16-bit WAV file of the samples."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm16.astype("<i2").tobytes())
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono int16 samples and rate of a 16-bit WAV (the first channel of a stereo one)."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            if wav.getsampwidth() != 2:
                raise SpeechServiceUnavailable("TTS server WAV is not 16-bit", retryable=False)
            channels, rate = wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as error:
        message = f"TTS server WAV unreadable: {error}"
        raise SpeechServiceUnavailable(message, retryable=True) from error
    samples = np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2")
    return samples[::channels].astype(np.int16), rate


class RemoteTranscriber:
    """One utterance to an ASR server and back, cleaned like the offline engine's text."""

    def __init__(
        self,
        server: SpeechServerSettings,
        *,
        corrector: PhoneticCorrector | None = None,
        domain_prompt: str = DOMAIN_PROMPT,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.server = server
        self._client = _Client(server, http_client)
        self._corrector = corrector
        self._domain_prompt = domain_prompt

    def __repr__(self) -> str:
        return f"remote ASR at {self.server.base_url}"

    async def transcribe(
        self,
        pcm16: np.ndarray,
        sample_rate: int,
        hint: str | None = None,
        names: Sequence[str] = (),
    ) -> Transcription:
        """Send the utterance as a 16 kHz WAV with the hint's prompt; raises
        `SpeechServiceUnavailable`."""
        started = time.perf_counter()
        wideband = float_to_pcm16(resample(pcm16_to_float(pcm16), sample_rate, WHISPER_SAMPLE_RATE))
        bias = bias_for(hint, self._domain_prompt, 0)
        try:
            response = await self._client.get().audio.transcriptions.create(
                file=("turn.wav", wav_bytes(wideband, WHISPER_SAMPLE_RATE), "audio/wav"),
                model=self.server.model,
                language="zh",
                prompt=bias.prompt,
                response_format="json",
            )
        except openai.OpenAIError as error:
            raise _translate(error, repr(self)) from error
        raw = (getattr(response, "text", None) or "").strip()
        text, heard, dropped = clean_transcript(raw, bias, hint, names, self._corrector)
        seconds = time.perf_counter() - started
        return Transcription(text, raw, dropped, seconds, uncorrected=heard, engine="remote")

    async def aclose(self) -> None:
        await self._client.aclose()


class SpeechServerVoice:
    """A TTS server's voice: text in, int16 samples and their rate out."""

    def __init__(
        self, server: SpeechServerSettings, *, http_client: httpx2.AsyncClient | None = None
    ) -> None:
        self.server = server
        self.voice_id = f"remote-{server.base_url}-{server.model}-{server.voice}"  # cache key
        self._client = _Client(server, http_client)

    def __repr__(self) -> str:
        return f"remote TTS at {self.server.base_url}"

    async def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Raises `SpeechServiceUnavailable`; the caller bounds the time it waits."""
        try:
            response = await self._client.get().audio.speech.create(
                model=self.server.model,
                input=text,
                voice=self.server.voice,
                response_format=self.server.response_format,  # type: ignore[arg-type]
            )
        except openai.OpenAIError as error:
            raise _translate(error, repr(self)) from error
        data = response.content
        if self.server.response_format == "pcm":
            samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)
            audio, rate = samples, PCM_SAMPLE_RATE
        else:
            audio, rate = read_wav(data)
        if audio.size == 0:
            raise SpeechServiceUnavailable(f"{self!r} returned no audio", retryable=True)
        return audio, rate

    async def aclose(self) -> None:
        await self._client.aclose()
