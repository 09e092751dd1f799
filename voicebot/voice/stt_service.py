"""Our `Transcriber` as a pipecat segmented STT service (one VAD segment, one decode).

The transcriber is shared by every call on the machine (one model in memory); decodes
run in a worker thread so the line keeps its pace. Before each decode the service asks
what the bot just asked (`hint_provider`), which biases recognition of short answers.
Transcripts that echo the prompt or loop are already dropped by the transcriber; a
dropped or empty result yields an empty `TranscriptionFrame` so the conversation knows
the borrower's turn produced nothing usable.
"""

import asyncio
from collections.abc import AsyncGenerator, Callable

import numpy as np
from pipecat.frames.frames import Frame, TranscriptionFrame
from pipecat.services.settings import STTSettings
from pipecat.services.stt_service import SegmentedSTTService
from pipecat.utils.time import time_now_iso8601

from voicebot.speech.asr import Transcriber, Transcription

HintProvider = Callable[[], str | None]
#: Called with each transcription (text, raw text, drop reason, decode seconds).
TranscriptionListener = Callable[[Transcription], None]


class LocalWhisperSTTService(SegmentedSTTService):
    """Transcribes each VAD-delimited utterance with the shared local Whisper model."""

    def __init__(
        self,
        transcriber: Transcriber,
        *,
        hint_provider: HintProvider | None = None,
        on_transcription: TranscriptionListener | None = None,
        trailing_silence_secs: float = 0.2,
        **kwargs,
    ) -> None:
        super().__init__(
            trailing_silence_secs=trailing_silence_secs,
            settings=STTSettings(model=None, language=None),
            **kwargs,
        )
        self._transcriber = transcriber
        self._hint_provider = hint_provider
        self._on_transcription = on_transcription

    @property
    def wants_wav_segments(self) -> bool:
        return False  # the transcriber reads raw 16-bit PCM

    def can_generate_metrics(self) -> bool:
        return True

    async def run_stt(self, audio: bytes) -> AsyncGenerator[Frame, None]:
        """Transcribe one utterance (16-bit mono PCM at the pipeline's input rate)."""
        hint = self._hint_provider() if self._hint_provider else None
        pcm = np.frombuffer(audio, dtype="<i2")
        await self.start_processing_metrics()
        result = await asyncio.to_thread(
            self._transcriber.transcribe_detailed, pcm, self.sample_rate, hint
        )
        await self.stop_processing_metrics()
        if self._on_transcription is not None:
            self._on_transcription(result)
        yield TranscriptionFrame(result.text, "", time_now_iso8601())
