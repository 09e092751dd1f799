"""The voice pipeline of one call, and the speech models every call on a machine shares.

line in -> Silero VAD -> ASR (segmented) -> conversation engine -> TTS -> line out

ASR is Whisper here or a server (`voice.asr`), TTS the offline voice, edge-tts or a server
(`voice.tts`); a remote engine always has the offline one as its fallback.

`Profile` holds the settings that decide latency; `tuned_profile` is ours, `stock_profile`
is pipecat's out-of-the-box configuration (the benchmark's baseline).
"""

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import Frame, TranscriptionFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.stt_latency import DEFAULT_TTFS_P99
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transcriptions.language import Language
from pipecat.utils.time import time_now_iso8601

from voicebot.config import VoiceSettings
from voicebot.speech.asr import WHISPER_SAMPLE_RATE, Transcriber
from voicebot.speech.asr_model import resolve_model_dir
from voicebot.speech.audio import float_to_pcm16, pcm16_to_float, resample
from voicebot.speech.homophones import PhoneticCorrector
from voicebot.speech.offline_tts import OfflineVoice
from voicebot.voice.engine_processor import ConversationProcessor
from voicebot.voice.line import SAMPLE_RATE, PhoneLine
from voicebot.voice.stt_service import (
    HintProvider,
    NamesProvider,
    RecognizerSTTService,
    TranscriptionListener,
    recognizer_for,
)
from voicebot.voice.transport import LineTransport
from voicebot.voice.tts_service import (
    ClauseTTSService,
    SpeechCache,
    SynthesisListener,
    remote_speaker_for,
)


@dataclass(frozen=True)
class Profile:
    """The latency-relevant choices of a pipeline."""

    name: str
    vad: VADParams
    stock_stt: bool = False  # pipecat's WhisperSTTService with its default decoding
    early_stop_secs: float | None = None  # start decoding after this much quiet (see stt)
    tts_cache: bool = True
    per_clause_tts: bool = True


def tuned_profile(voice: VoiceSettings) -> Profile:
    """Our settings: Mandarin-safe VAD stop, bounded hinted ASR, cached clause TTS."""
    return Profile(
        "tuned",
        VADParams(
            confidence=voice.vad_confidence,
            start_secs=voice.vad_start_secs,
            stop_secs=voice.vad_stop_secs,
            min_volume=voice.vad_min_volume,
        ),
        # Longer than the voice's 0.2 s pause between clauses: few decodes are discarded.
        early_stop_secs=voice.vad_early_stop_secs or None,
    )


def stock_profile() -> Profile:
    """pipecat's defaults a first integration would use (its VAD stops after 0.8 s)."""
    return Profile(
        "stock",
        VADParams(stop_secs=0.8),
        stock_stt=True,
        tts_cache=False,
        per_clause_tts=False,
    )


class VoiceModels:
    """Whisper, the offline voice and the sentence cache: loaded once per process."""

    def __init__(self, voice: VoiceSettings) -> None:
        self.settings = voice
        model_dir = resolve_model_dir(voice.asr_model_dir or None, voice.cache_dir)
        # One core per decode, `asr_threads` decodes at once: simultaneous calls do not
        # queue behind each other's decode (see `Transcriber`).
        corrector = PhoneticCorrector.from_file(voice.asr_phrases) if voice.asr_phrases else None
        self.transcriber = Transcriber(
            model_dir, cpu_threads=1, workers=voice.asr_threads, corrector=corrector
        )
        self.voice = OfflineVoice(voice.cache_dir)
        self.tts_cache = SpeechCache(self.voice, voice.tts_cache_dir, sample_rate=SAMPLE_RATE)
        self.uncached = SpeechCache(self.voice, None, sample_rate=SAMPLE_RATE)
        # voice.asr / voice.tts: a remote engine first, the offline one as its fallback.
        self.recognizer = recognizer_for(voice, self.transcriber, corrector)
        self.speaker = remote_speaker_for(voice, SAMPLE_RATE)

    async def speak(self, text: str) -> np.ndarray:
        """The bot saying `text` outside a pipeline (a notice before a transfer): int16 at
        the line's rate, in the configured voice with the offline one as its fallback."""
        if self.speaker is not None:
            said, _, _ = await self.speaker.speak(text)
            if said is not None:
                return said
        pcm, _ = await asyncio.to_thread(self.tts_cache.speak, text)
        return pcm

    def warm_up(self) -> None:
        """Run each model once, so the first call does not pay for initialisation."""
        import numpy as np

        self.transcriber.transcribe(np.zeros(SAMPLE_RATE, dtype=np.int16), SAMPLE_RATE)
        self.uncached.speak("您好。")


class _PreloadedWhisperSTTService(WhisperSTTService):
    """pipecat's stock Whisper service, given the already loaded model instead of a name.

    The stock service hands its audio to Whisper as 16 kHz, whatever the pipeline's rate;
    a stock phone integration (pipecat's Twilio serializer at a 16 kHz pipeline) delivers
    it so. Here the line's 8 kHz segment is resampled first, or Whisper hears it at half
    speed and recognises almost nothing. A segment it hears nothing in still ends with an
    empty transcript, as ours does: the engine waits for one before its no-input timer.
    """

    def __init__(self, model: Any, **kwargs: Any) -> None:
        self._preloaded = model
        super().__init__(**kwargs)

    def _load(self) -> None:
        self._model = self._preloaded

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        pcm = pcm16_to_float(np.frombuffer(audio, dtype="<i2"))
        wideband = float_to_pcm16(resample(pcm, self.sample_rate, WHISPER_SAMPLE_RATE))
        heard = False
        async for frame in super().run_stt(wideband.tobytes()):
            heard = heard or isinstance(frame, TranscriptionFrame)
            yield frame
        if not heard:
            yield TranscriptionFrame("", "", time_now_iso8601())


@dataclass
class CallHooks:
    """Where the pipeline reports what happens in a call."""

    hint: HintProvider
    on_transcription: TranscriptionListener
    on_synthesis: SynthesisListener
    names: NamesProvider = tuple  # people the caller may name (the borrower, once known)


def build_stt(models: VoiceModels, profile: Profile, hooks: CallHooks) -> FrameProcessor:
    if profile.stock_stt:
        return _PreloadedWhisperSTTService(
            models.transcriber.model,
            settings=WhisperSTTService.Settings(model="preloaded", language=Language.ZH),
            ttfs_p99_latency=DEFAULT_TTFS_P99,  # pipecat's default, stated so it does not warn
        )
    early_vad = None
    if profile.early_stop_secs is not None:
        params = profile.vad.model_copy(update={"stop_secs": profile.early_stop_secs})
        early_vad = SileroVADAnalyzer(sample_rate=SAMPLE_RATE, params=params)
    return RecognizerSTTService(
        models.recognizer,
        hint_provider=hooks.hint,
        names_provider=hooks.names,
        on_transcription=hooks.on_transcription,
        early_vad=early_vad,
    )


def build_pipeline(
    line: PhoneLine,
    conversation: ConversationProcessor,
    models: VoiceModels,
    profile: Profile,
    hooks: CallHooks,
    on_played: Callable[[Any], None],
) -> Pipeline:
    """One call's pipeline, from the line back to the line."""
    transport = LineTransport(line, on_played=on_played)
    vad = VADProcessor(vad_analyzer=SileroVADAnalyzer(sample_rate=SAMPLE_RATE, params=profile.vad))
    cache = models.tts_cache if profile.tts_cache else models.uncached
    tts = ClauseTTSService(
        cache,
        on_synthesis=hooks.on_synthesis,
        per_clause=profile.per_clause_tts,
        remote=models.speaker,
    )
    stt = build_stt(models, profile, hooks)
    return Pipeline([transport.input(), vad, stt, conversation, tts, transport.output()])
