"""The summary's `metrics` of a call on an audio line: latency, ASR, TTS, barge-in, gaps."""

import statistics
from dataclasses import dataclass, field
from typing import Any

from voicebot.speech.asr import Transcription
from voicebot.voice.engine_processor import ConversationProcessor
from voicebot.voice.line import PhoneLine
from voicebot.voice.pipeline import Profile
from voicebot.voice.recording import measure_line
from voicebot.voice.tts_service import Synthesis


@dataclass
class CallFigures:
    """ASR and TTS figures of one call, gathered from the pipeline's hooks."""

    asr_s: list[float] = field(default_factory=list)
    asr_dropped: list[str] = field(default_factory=list)
    asr_early: int = 0  # turns whose decode started at the speaker's first pause
    tts_s: list[float] = field(default_factory=list)
    tts_cached: list[bool] = field(default_factory=list)
    asr_engine: list[str] = field(default_factory=list)  # who heard each turn: offline/remote
    tts_engine: list[str] = field(default_factory=list)  # who said each line: offline/edge/remote
    speech_fallbacks: list[str] = field(default_factory=list)  # "asr:timeout", "tts:down"...

    def on_transcription(self, result: Transcription) -> None:
        self.asr_s.append(round(result.seconds, 3))
        self.asr_engine.append(result.engine)
        if result.fallback:
            self.speech_fallbacks.append(f"asr:{result.fallback}")
        self.asr_early += result.early
        if result.dropped:
            self.asr_dropped.append(result.dropped)

    def on_synthesis(self, said: Synthesis) -> None:
        self.tts_s.append(round(said.seconds, 3))
        self.tts_cached.append(said.cached)
        self.tts_engine.append(said.engine)
        if said.fallback:
            self.speech_fallbacks.append(f"tts:{said.fallback}")


def call_metrics(
    line: PhoneLine, processor: ConversationProcessor, figures: CallFigures, profile: Profile
) -> dict[str, Any]:
    """Every figure of a call measured on its line and gathered from its pipeline."""
    timing = measure_line(line, processor.interruptions)
    v2v = [round(x, 3) for x in timing.voice_to_voice]
    return {
        "profile": profile.name,
        "voice_to_voice_s": v2v,
        "voice_to_voice_p50_s": round(statistics.median(v2v), 3) if v2v else None,
        "asr_s": figures.asr_s,
        "asr_dropped": figures.asr_dropped,
        "asr_early": figures.asr_early,
        "tts_s": figures.tts_s,
        "tts_cached": figures.tts_cached,
        "asr_engine": figures.asr_engine,
        "tts_engine": figures.tts_engine,
        "speech_fallbacks": figures.speech_fallbacks,
        "barge_in_stop_s": [round(x, 3) for x in timing.barge_in_stop],
        "max_output_gap_s": round(max(timing.output_gaps, default=0.0), 3),
        "hung_up_by": line.hung_up_by,
    }
