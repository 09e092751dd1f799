"""A remote speech engine asked first, the offline engine answering when it cannot.

A remote engine (an ASR or TTS server, edge-tts) gets `timeout_s` of a turn; past that, or
on any error, the offline engine answers and the turn goes on. A remote that failed is not
asked again for `retry_after_s`, so an unreachable server costs one timeout, not one per
turn. The log gets one line when a remote goes down and one when it answers again, never
one per turn.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Protocol, TypeVar

import numpy as np

from voicebot.speech.asr import Recognizer, Transcription, is_silent
from voicebot.speech.audio import pcm16_to_float

logger = logging.getLogger("voicebot.speech")

T = TypeVar("T")

#: How long a failed remote engine is left alone before it is tried again.
RETRY_AFTER_S = 30.0


class SpeechServiceUnavailable(RuntimeError):
    """The online speech service could not produce a result.

    `retryable` is True for network and server trouble that may pass (timeouts, refused
    connections, 5xx, dropped sockets, no audio) and False for requests the service
    refuses (other 4xx answers), which a retry cannot fix.
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class RemoteHealth:
    """Whether a remote engine is worth asking now; logs its changes, one line each."""

    def __init__(
        self,
        name: str,
        *,
        retry_after_s: float = RETRY_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`name` says which engine and where, e.g. "remote ASR at http://asr:8000/v1"."""
        self.name = name
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._down_until: float | None = None  # None: up

    @property
    def available(self) -> bool:
        """Up, or down long enough ago that it is worth one more try."""
        return self._down_until is None or self._clock() >= self._down_until

    def failed(self, why: str) -> None:
        if self._down_until is None:
            logger.warning(
                "%s unavailable (%s): the offline engine answers; retrying every %.0f s",
                self.name,
                why,
                self._retry_after_s,
            )
        self._down_until = self._clock() + self._retry_after_s

    def answered(self) -> None:
        if self._down_until is not None:
            logger.warning("%s answers again", self.name)
        self._down_until = None


async def ask_remote(
    health: RemoteHealth, timeout_s: float, request: Callable[[], Awaitable[T]]
) -> tuple[T | None, str | None]:
    """The remote's answer within `timeout_s`, or None and why not: down, timeout, error.

    Never raises (other than cancellation): whatever goes wrong remotely, the caller falls
    back to its offline engine.
    """
    if not health.available:
        return None, "down"
    try:
        async with asyncio.timeout(timeout_s):
            result = await request()
    except TimeoutError:
        health.failed(f"no answer within {timeout_s:g} s")
        return None, "timeout"
    except SpeechServiceUnavailable as error:
        health.failed(str(error))
        return None, "error"
    except Exception as error:  # a vendor's surprise must not end the call
        health.failed(f"unexpected {error!r}")
        return None, "error"
    health.answered()
    return result, None


class RemoteTranscription(Protocol):
    async def transcribe(
        self, pcm16: np.ndarray, sample_rate: int, hint: str | None, names: Sequence[str]
    ) -> Transcription: ...


class RemoteFirstRecognizer:
    """A `Recognizer`: the remote server within its timeout, else the offline engine.

    Silence is recognised locally (no request); a turn the remote missed is decoded by
    the offline engine and reports `fallback` (why) and the seconds of the whole turn.
    """

    def __init__(
        self,
        remote: RemoteTranscription,
        offline: Recognizer,
        timeout_s: float,
        health: RemoteHealth | None = None,
    ) -> None:
        self.remote = remote
        self.offline = offline
        self.timeout_s = timeout_s
        self.health = health or RemoteHealth(repr(remote))

    async def recognize(
        self, pcm16: np.ndarray, sample_rate: int, hint: str | None, names: Sequence[str]
    ) -> Transcription:
        started = time.perf_counter()
        if is_silent(pcm16_to_float(pcm16)):
            return await self.offline.recognize(pcm16, sample_rate, hint, names)
        heard, why = await ask_remote(
            self.health,
            self.timeout_s,
            lambda: self.remote.transcribe(pcm16, sample_rate, hint, names),
        )
        if heard is not None:
            return heard
        result = await self.offline.recognize(pcm16, sample_rate, hint, names)
        return replace(result, seconds=time.perf_counter() - started, fallback=why)
