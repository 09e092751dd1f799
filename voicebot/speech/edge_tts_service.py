"""Production voice: Microsoft Edge's online neural voices through the `edge-tts` package.

The service returns 24 kHz mono MP3 (decode with PyAV). Failures of the vendor are
translated here, at the boundary, into `SpeechServiceUnavailable` so the pipeline can
retry or fall back to the offline voice without knowing edge-tts's exception types.
"""

import io

import aiohttp
import av
import edge_tts
import numpy as np
from edge_tts import exceptions as edge_errors

from voicebot.speech.fallback import SpeechServiceUnavailable

__all__ = ["DEFAULT_VOICE", "EdgeVoice", "SpeechServiceUnavailable", "synthesize_edge"]

DEFAULT_VOICE = "zh-CN-XiaoxiaoNeural"


def _translate(error: BaseException) -> SpeechServiceUnavailable:
    if isinstance(error, aiohttp.ClientResponseError):
        retryable = error.status >= 500 or error.status in (403, 408, 429)
        return SpeechServiceUnavailable(f"edge-tts HTTP {error.status}", retryable=retryable)
    if isinstance(error, TimeoutError | aiohttp.ClientError | OSError):
        return SpeechServiceUnavailable(f"edge-tts unreachable: {error!r}", retryable=True)
    if isinstance(error, edge_errors.NoAudioReceived):
        # edge-tts also reports a socket closed mid-request this way, so it may pass.
        return SpeechServiceUnavailable("edge-tts returned no audio", retryable=True)
    if isinstance(error, edge_errors.WebSocketError):
        return SpeechServiceUnavailable(f"edge-tts socket error: {error}", retryable=True)
    return SpeechServiceUnavailable(f"edge-tts protocol error: {error!r}", retryable=True)


async def synthesize_edge(
    text: str,
    voice: str = DEFAULT_VOICE,
    *,
    rate: str = "+0%",
    pitch: str = "+0Hz",
    connect_timeout_s: int = 5,
    receive_timeout_s: int = 15,
    connector: aiohttp.BaseConnector | None = None,
) -> bytes:
    """Synthesise `text` with an Edge neural voice; return the MP3 bytes (24 kHz mono).

    Raises `SpeechServiceUnavailable` (with `retryable`) when the service cannot be
    reached or answers with something other than audio. Timeouts are short because a
    caller on the phone is waiting.
    """
    communicate = edge_tts.Communicate(
        text,
        voice,
        rate=rate,
        pitch=pitch,
        connector=connector,
        connect_timeout=connect_timeout_s,
        receive_timeout=receive_timeout_s,
    )
    audio = bytearray()
    try:
        async for chunk in communicate.stream():
            if chunk["type"] == "audio":
                audio += chunk["data"]
    except (TimeoutError, aiohttp.ClientError, OSError, edge_errors.EdgeTTSException) as error:
        raise _translate(error) from error
    return bytes(audio)


def decode_mp3(data: bytes) -> tuple[np.ndarray, int]:
    """Mono int16 samples and the sample rate of an MP3 (edge-tts's 24 kHz audio)."""
    try:
        with av.open(io.BytesIO(data), mode="r", format="mp3") as container:
            resampler = av.AudioResampler(format="s16", layout="mono")
            rate, chunks = 0, []
            for frame in container.decode(audio=0):
                rate = frame.sample_rate
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
    except (av.FFmpegError, ValueError) as error:
        message = f"edge-tts audio unreadable: {error}"
        raise SpeechServiceUnavailable(message, retryable=True) from error
    if not chunks:
        raise SpeechServiceUnavailable("edge-tts audio held no samples", retryable=True)
    return np.concatenate(chunks).astype(np.int16), rate


class EdgeVoice:
    """An Edge neural voice as a remote voice: text in, int16 samples and rate out."""

    def __init__(self, voice: str = DEFAULT_VOICE) -> None:
        self.voice = voice
        self.voice_id = f"edge-{voice}"  # what the sentence cache keys its audio by

    def __repr__(self) -> str:
        return f"edge-tts {self.voice}"

    async def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Raises `SpeechServiceUnavailable`; the caller bounds the time it waits."""
        return decode_mp3(await synthesize_edge(text, self.voice))
