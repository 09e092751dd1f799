"""The pipecat transport of a phone call: 8 kHz mu-law frames in, paced audio out.

`PhoneLine` is the seam between the pipeline and a carrier. `SimulatedLine` implements
it for tests, the simulator and the benchmark; a SIP/RTP or carrier-websocket leg
implements the same four members.
"""

from collections.abc import Awaitable, Callable
from typing import Protocol

import numpy as np
from pipecat.frames.frames import (
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    StartFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.transports.base_input import BaseInputTransport
from pipecat.transports.base_output import BaseOutputTransport
from pipecat.transports.base_transport import BaseTransport, TransportParams

from voicebot.speech.audio import mulaw_decode, mulaw_encode

LINE_SAMPLE_RATE = 8000


class PhoneLine(Protocol):
    """One call leg as the bot sees it: mu-law audio both ways at 8 kHz."""

    def attach_bot(self, listener: Callable[[bytes], Awaitable[None]]) -> None:
        """Deliver the caller's audio (mu-law, in frames) to `listener`."""

    async def send_from_bot(self, mulaw: bytes) -> None:
        """Play bot audio; returns when the line can take more (real-time pacing)."""

    def clear_bot_audio(self) -> None:
        """Drop bot audio queued but not yet played."""

    def hang_up(self, by: str) -> None:
        """End the call."""


def line_params() -> TransportParams:
    """Transport parameters of a phone leg: mono 8 kHz both ways, 40 ms output chunks."""
    return TransportParams(
        audio_in_enabled=True,
        audio_in_sample_rate=LINE_SAMPLE_RATE,
        audio_in_passthrough=True,
        audio_out_enabled=True,
        audio_out_sample_rate=LINE_SAMPLE_RATE,
        audio_out_10ms_chunks=4,
        audio_out_end_silence_secs=0,
    )


class LineInputTransport(BaseInputTransport):
    """Decodes the caller's mu-law frames into `InputAudioRawFrame`s."""

    def __init__(self, line: PhoneLine, params: TransportParams, **kwargs) -> None:
        super().__init__(params, **kwargs)
        self._line = line

    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        await self.set_transport_ready(frame)
        self._line.attach_bot(self._on_line_audio)

    async def _on_line_audio(self, mulaw: bytes) -> None:
        pcm = mulaw_decode(mulaw).tobytes()
        await self.push_audio_frame(
            InputAudioRawFrame(audio=pcm, sample_rate=LINE_SAMPLE_RATE, num_channels=1)
        )


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
