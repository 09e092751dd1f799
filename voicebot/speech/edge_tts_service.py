"""Production voice: Microsoft Edge's online neural voices through the `edge-tts` package.

The service returns 24 kHz mono MP3 (decode with PyAV). Failures of the vendor are
translated here, at the boundary, into `SpeechServiceUnavailable` so the pipeline can
retry or fall back to the offline voice without knowing edge-tts's exception types.
"""

import aiohttp
import edge_tts
from edge_tts import exceptions as edge_errors

DEFAULT_VOICE = "zh-CN-XiaoxiaoNeural"


class SpeechServiceUnavailable(RuntimeError):
    """The online speech service could not produce audio.

    `retryable` is True for network and server trouble that may pass (timeouts, refused
    connections, 5xx, dropped sockets, no audio) and False for requests the service
    refuses (other 4xx answers), which a retry cannot fix.
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


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
