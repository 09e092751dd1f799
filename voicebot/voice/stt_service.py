"""Our `Recognizer` as a pipecat segmented STT service (one VAD segment, one decode).

The recognizer is the offline `Transcriber` (shared by every call on the machine, one model
in memory, decoding in a worker thread so the line keeps its pace) or a remote server with
the offline engine as its fallback (`voicebot.speech.fallback`). Before each decode the
service asks what the bot just asked (`hint_provider`), which biases recognition of short
answers.
Transcripts that echo the prompt or loop are already dropped by the transcriber; a
dropped or empty result yields an empty `TranscriptionFrame` so the conversation knows
the borrower's turn produced nothing usable.

Early transcription: the pipeline's VAD waits `stop_secs` of quiet (Mandarin needs about
0.55 s, or sentences split at their commas) before it ends the turn. With `early_vad`, a
second VAD with a short stop time watches the same audio; when it hears the speaker stop,
decoding starts at once on what was said so far. If the turn then ends without more
speech, that result is used and the decode has had a head start of the difference; if the
speaker goes on, it is discarded and the whole turn is decoded as usual.
"""

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import replace

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADState
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    StartFrame,
    TranscriptionFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.settings import STTSettings
from pipecat.services.stt_latency import DEFAULT_TTFS_P99
from pipecat.services.stt_service import SegmentedSTTService
from pipecat.utils.time import time_now_iso8601

from voicebot.config import VoiceSettings
from voicebot.speech.asr import Recognizer, Transcriber, Transcription
from voicebot.speech.fallback import RemoteFirstRecognizer
from voicebot.speech.homophones import PhoneticCorrector
from voicebot.speech.openai_speech import RemoteTranscriber

HintProvider = Callable[[], str | None]
NamesProvider = Callable[[], Sequence[str]]
#: Called with each transcription (text, raw text, drop reason, and the seconds the turn
#: waited for it after the VAD ended it: less than the decode when it started early).
TranscriptionListener = Callable[[Transcription], None]


class RecognizerSTTService(SegmentedSTTService):
    """Transcribes each VAD-delimited utterance with the call's recognizer."""

    def __init__(
        self,
        recognizer: Recognizer,
        *,
        hint_provider: HintProvider | None = None,
        names_provider: NamesProvider = tuple,
        on_transcription: TranscriptionListener | None = None,
        early_vad: VADAnalyzer | None = None,
        trailing_silence_secs: float = 0.2,
        **kwargs,
    ) -> None:
        # pipecat's own default, stated so that it does not warn about it on every call.
        kwargs.setdefault("ttfs_p99_latency", DEFAULT_TTFS_P99)
        super().__init__(
            trailing_silence_secs=trailing_silence_secs,
            settings=STTSettings(model=None, language=None),
            **kwargs,
        )
        self._recognizer = recognizer
        self._hint_provider = hint_provider
        self._names_provider = names_provider
        self._on_transcription = on_transcription
        self._early_vad = early_vad
        self._early_heard_speech = False
        self._early: asyncio.Task | None = None  # decode of the turn so far, still valid
        self._ready: deque[asyncio.Task | None] = deque()  # per queued segment
        self.early_used = 0
        self.early_discarded = 0

    @property
    def wants_wav_segments(self) -> bool:
        return False  # the transcriber reads raw 16-bit PCM

    def can_generate_metrics(self) -> bool:
        return True

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        if self._early_vad is not None:
            self._early_vad.set_sample_rate(self.sample_rate)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            # The segment queued by this stop can use the early decode, if still valid.
            self._ready.append(self._early if self.is_usable else None)
            self._early, self._early_heard_speech = None, False
        await super().process_frame(frame, direction)

    async def process_audio_frame(self, frame: InputAudioRawFrame, direction: FrameDirection):
        await super().process_audio_frame(frame, direction)
        if self._early_vad is None:
            return
        state = await self._early_vad.analyze_audio(frame.audio)
        if state is VADState.SPEAKING:
            self._early_heard_speech = True
            if self._early is not None:  # the speaker went on: that decode is stale
                self._early, self.early_discarded = None, self.early_discarded + 1
        elif state is VADState.QUIET and self._user_speaking and self._early_heard_speech:
            self._start_early_decode()

    def _start_early_decode(self) -> None:
        if self._early is None:  # at most one per pause
            pcm = bytes(self._audio_buffer) + self._trailing_silence()
            self._early = self.create_task(self._decode(pcm), "early-transcription")

    async def _decode(self, audio: bytes) -> Transcription:
        hint = self._hint_provider() if self._hint_provider else None
        pcm = np.frombuffer(audio, dtype="<i2")
        return await self._recognizer.recognize(pcm, self.sample_rate, hint, self._names_provider())

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        """Transcribe one utterance (16-bit mono PCM at the pipeline's input rate)."""
        early = self._ready.popleft() if self._ready else None
        await self.start_processing_metrics()
        started = time.perf_counter()
        if early is not None:
            self.early_used += 1
            # What the turn waited for, not the whole decode (it began before the turn end).
            result = replace(await early, seconds=time.perf_counter() - started, early=True)
        else:
            result = await self._decode(audio)
        await self.stop_processing_metrics()
        if self._on_transcription is not None:
            self._on_transcription(result)
        # The result travels along: a reading the recogniser doubts is asked again.
        yield TranscriptionFrame(result.text, "", time_now_iso8601(), result=result)


def recognizer_for(
    voice: VoiceSettings, transcriber: Transcriber, corrector: PhoneticCorrector | None = None
) -> Recognizer:
    """The configured recognizer: the offline transcriber, or a server with it as fallback."""
    if voice.asr != "remote":
        return transcriber
    remote = RemoteTranscriber(voice.asr_server, corrector=corrector)
    return RemoteFirstRecognizer(remote, transcriber, voice.asr_server.timeout_s)
