"""Early transcription: decoding starts at the speaker's first pause and is reused only
when the turn really ended there. Real Silero VAD and Whisper, audio pushed frame by frame.
"""

import numpy as np
import pytest
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.frames.frames import (
    InputAudioRawFrame,
    TranscriptionFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.tests.utils import run_test

from voicebot.config import ConfigError, VoiceSettings, load_settings
from voicebot.voice.line import FRAME_SAMPLES, SAMPLE_RATE
from voicebot.voice.pipeline import CallHooks, VoiceModels, build_stt, stock_profile
from voicebot.voice.stt_service import RecognizerSTTService

_PARAMS = VADParams(confidence=0.5, start_secs=0.15, stop_secs=0.55, min_volume=0.3)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


async def _transcribe(models: VoiceModels, audio: np.ndarray) -> tuple[str, RecognizerSTTService]:
    early_params = _PARAMS.model_copy(update={"stop_secs": VoiceSettings().vad_early_stop_secs})
    early = SileroVADAnalyzer(sample_rate=SAMPLE_RATE, params=early_params)
    stt = RecognizerSTTService(models.transcriber, early_vad=early)
    vad = VADProcessor(vad_analyzer=SileroVADAnalyzer(sample_rate=SAMPLE_RATE, params=_PARAMS))
    frames = [
        InputAudioRawFrame(audio[i : i + FRAME_SAMPLES].tobytes(), SAMPLE_RATE, 1)
        for i in range(0, audio.size, FRAME_SAMPLES)
    ]
    down, _ = await run_test(
        Pipeline([vad, stt]),
        frames_to_send=frames,
        pipeline_params=PipelineParams(audio_in_sample_rate=SAMPLE_RATE),
    )
    texts = [f.text for f in down if isinstance(f, TranscriptionFrame)]
    assert len(texts) == 1, texts
    return texts[0], stt


async def test_a_turn_that_ended_at_the_pause_reuses_the_early_decode(
    voice_models: VoiceModels,
) -> None:
    speech, _ = voice_models.uncached.speak("我最近失业了")
    text, stt = await _transcribe(
        voice_models, np.concatenate([_silence(0.5), speech, _silence(1.2)])
    )
    assert "失业" in text
    assert (stt.early_used, stt.early_discarded) == (1, 0)


async def test_a_speaker_who_goes_on_after_a_pause_is_heard_in_full(
    voice_models: VoiceModels,
) -> None:
    first, _ = voice_models.uncached.speak("我最近失业了")
    second, _ = voice_models.uncached.speak("下个月还一千")
    # A 0.4 s pause: past the early stop (a decode starts) but short of the turn's end.
    audio = np.concatenate([_silence(0.5), first, _silence(0.4), second, _silence(1.2)])
    text, stt = await _transcribe(voice_models, audio)
    assert "失业" in text and "一千" in text.replace("1000", "一千"), text
    assert stt.early_discarded >= 1 and stt.early_used == 1


def test_early_stop_must_come_before_the_turn_end() -> None:
    off = load_settings(environ={"VOICEBOT_VOICE__VAD_EARLY_STOP_SECS": "0"})
    assert off.voice.vad_early_stop_secs == 0
    with pytest.raises(ConfigError, match="vad_early_stop_secs"):
        load_settings(environ={"VOICEBOT_VOICE__VAD_EARLY_STOP_SECS": "0.6"})


async def test_the_stock_baseline_ends_a_turn_it_heard_nothing_in(
    voice_models: VoiceModels,
) -> None:
    # Without an empty transcript the engine never starts its no-input timer: the baseline's
    # calls hung until the call's time limit.
    hooks = CallHooks(lambda: None, lambda _: None, lambda *_: None)
    stt = build_stt(voice_models, stock_profile(), hooks)
    silence = _silence(1.0)
    frames = [
        VADUserStartedSpeakingFrame(),
        *(
            InputAudioRawFrame(silence[i : i + FRAME_SAMPLES].tobytes(), SAMPLE_RATE, 1)
            for i in range(0, silence.size, FRAME_SAMPLES)
        ),
        VADUserStoppedSpeakingFrame(),
    ]
    down, _ = await run_test(
        Pipeline([stt]),
        frames_to_send=frames,
        pipeline_params=PipelineParams(audio_in_sample_rate=SAMPLE_RATE),
    )
    assert [f.text for f in down if isinstance(f, TranscriptionFrame)] == [""]
