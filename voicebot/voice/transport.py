"""The pipecat transport of a phone call: 8 kHz mu-law frames in, paced audio out.

`voicebot.voice.line.PhoneLine` is the seam between the pipeline and a carrier; this
transport is the pipeline's side of it, the same for every line: the caller's audio and
keyed digits in, the bot's audio out at real time.
"""

from collections.abc import Callable

import numpy as np
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    StartFrame,
    TranscriptionFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport, TransportParams
from pipecat.utils.time import time_now_iso8601

from voicebot.speech.audio import mulaw_decode, mulaw_encode
from voicebot.voice.engine_processor import KEYED_DIGITS
from voicebot.voice.line import SAMPLE_RATE, PhoneLine


def keyed_words(keys: str) -> str:
    """A keyed group as the borrower's words: `*` keys the X that ends some ID numbers."""
    return keys.replace("*", "X")


def line_params() -> TransportParams:
    """Transport parameters of a phone leg: mono 8 kHz both ways, 40 ms output chunks."""
    return TransportParams(
        audio_in_enabled=True,
        audio_in_sample_rate=SAMPLE_RATE,
        audio_in_passthrough=True,
        audio_out_enabled=True,
        audio_out_sample_rate=SAMPLE_RATE,
        audio_out_10ms_chunks=4,
        audio_out_end_silence_secs=0,
    )


class LineInputTransport(BaseInputTransport):
    """Decodes the caller's mu-law frames into `InputAudioRawFrame`s; each keyed group
    enters as a transcription from `KEYED_DIGITS`, as if the borrower had said it."""

    def __init__(self, line: PhoneLine, params: TransportParams, **kwargs) -> None:
        super().__init__(params, **kwargs)
        self._line = line

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)
        self._line.attach_bot(self._on_line_audio)
        self._line.attach_keyed_digits(self._on_keyed_digits)

    async def _on_line_audio(self, mulaw: bytes) -> None:
        pcm = mulaw_decode(mulaw).tobytes()
        await self.push_audio_frame(
            InputAudioRawFrame(audio=pcm, sample_rate=SAMPLE_RATE, num_channels=1)
        )

    async def _on_keyed_digits(self, keys: str) -> None:
        words = keyed_words(keys)
        await self.push_frame(TranscriptionFrame(words, KEYED_DIGITS, time_now_iso8601()))


class LineOutputTransport(BaseOutputTransport):
    """Encodes bot audio to mu-law and plays it on the line at real time.

    Frames that reach the transport after the audio before them has been played (such as
    the conversation's line markers) are handed to `on_played`.
    """

    def __init__(
        self,
        line: PhoneLine,
        params: TransportParams,
        on_played: Callable[[Frame], None] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(params, **kwargs)
        self._line = line
        self._on_played = on_played

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InterruptionFrame):
            # Like a carrier's `clear`: audio already handed to the line stops too. Only
            # interruptible speech is ever interrupted (the opening never is).
            self._line.clear_bot_audio()

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        samples = np.frombuffer(frame.audio, dtype="<i2")
        try:
            await self._line.send_from_bot(mulaw_encode(samples))
        except Exception:  # the line was hung up: nothing more to play
            return False
        return True

    async def write_transport_frame(self, frame: Frame) -> None:
        if self._on_played is not None:
            self._on_played(frame)


class LineTransport(BaseTransport):
    """Input and output processors of one phone leg."""

    def __init__(self, line: PhoneLine, on_played: Callable[[Frame], None] | None = None) -> None:
        super().__init__()
        params = line_params()
        self._input = LineInputTransport(line, params, name="line-in")
        self._output = LineOutputTransport(line, params, on_played, name="line-out")

    def input(self) -> LineInputTransport:
        return self._input

    def output(self) -> LineOutputTransport:
        return self._output
