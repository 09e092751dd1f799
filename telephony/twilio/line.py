"""`TwilioLine`: one Twilio media stream as the bot's `PhoneLine`, on the line's 20 ms clock.

pipecat's `TwilioFrameSerializer` reads and writes the stream's messages (base64 mu-law
`media`, `dtmf`, `clear` on barge-in); the line adds what a live call needs around it:
the 20 ms clock and the two-channel record of `SimulatedLine` (so recordings and timing
figures read a Twilio call like any other), a bound on queued caller audio, and the end
of the call. Anything the serializer cannot read (bad JSON, truncated base64) ends the
call as a broken line; unknown events are counted and ignored (Twilio adds new ones).
"""

import binascii
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from aiohttp import web
from pipecat.frames.frames import (
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
)
from pipecat.serializers.twilio import TwilioFrameSerializer

from voicebot.voice.line import FRAME_SAMPLES, SAMPLE_RATE, SimulatedLine

logger = logging.getLogger(__name__)

MAX_INBOUND_FRAMES = 50  # caller audio queued beyond 1 s (a TCP burst) is dropped, oldest first
KNOWN_EVENTS = frozenset({"connected", "start", "media", "dtmf", "mark", "stop"})

DigitListener = Callable[[str], None]


class StreamError(ValueError):
    """A media-stream message that cannot be read; the message says what is wrong."""


class LineSerializer(TwilioFrameSerializer):
    """pipecat's Twilio serializer used by the line, outside a pipeline: at the line's
    8 kHz (which pipecat would otherwise learn at pipeline set-up); the hang-up is ours
    (REST, when the bot hangs up)."""

    def __init__(self, stream_sid: str) -> None:
        params = TwilioFrameSerializer.InputParams(sample_rate=SAMPLE_RATE, auto_hang_up=False)
        super().__init__(stream_sid, params=params)
        self._sample_rate = SAMPLE_RATE


def parse_message(data: str) -> dict[str, Any]:
    try:
        message = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise StreamError(f"not JSON: {data[:60]!r}") from None
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        raise StreamError(f"no event name: {data[:60]!r}")
    return message


class TwilioLine(SimulatedLine):
    """A PhoneLine over one media-stream websocket; `hang_up("bot")` ends the Twilio call."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        stream_sid: str,
        *,
        on_bot_hang_up: Callable[[], None],
        media_timeout_s: float = 20.0,
        bot_buffer_frames: int = 3,
    ) -> None:
        super().__init__(speed=1.0, bot_buffer_frames=bot_buffer_frames)
        self.ws = ws
        self.stream_sid = stream_sid
        self.serializer = LineSerializer(stream_sid)
        self.digits: list[str] = []
        self.media_messages = 0
        self.dropped_inbound_frames = 0
        self.unknown_events: list[str] = []
        self.end_reason = ""
        self.transferring = False  # a `stop` now means the caller went to an agent
        self._clear = False
        self._on_bot_hang_up = on_bot_hang_up
        self._digit_listener: DigitListener | None = None
        self.media_timeout_s = media_timeout_s
        self._last_heard = time.monotonic()

    # --- stream in -------------------------------------------------------------------

    async def receive(self, data: str) -> bool:
        """Handle one message from Twilio; False once the stream has ended (`stop`)."""
        self._last_heard = time.monotonic()
        message = parse_message(data)
        event = message["event"]
        if event == "stop":
            return False
        if event not in KNOWN_EVENTS:
            if len(self.unknown_events) < 20:
                self.unknown_events.append(event[:40])
            return True
        if event in ("media", "dtmf"):
            await self._media_or_digit(data)
        return True

    async def _media_or_digit(self, data: str) -> None:
        try:
            frame = await self.serializer.deserialize(data)
        except (binascii.Error, ValueError, TypeError, AttributeError, KeyError) as error:
            # pipecat reads the fields as it expects them: `"media": null` is an
            # AttributeError there, a numeric payload a TypeError
            raise StreamError(f"unreadable {type(error).__name__}: {error}") from None
        if isinstance(frame, InputAudioRawFrame):
            if len(frame.audio) % 2:
                raise StreamError("media payload of an odd length")
            self.media_messages += 1
            self._from_caller(np.frombuffer(frame.audio, dtype="<i2"))
        elif isinstance(frame, InputDTMFFrame):
            digit = frame.button.value
            self.digits.append(digit)
            if self._digit_listener is not None and not self.closed:
                self._digit_listener(digit)

    def _from_caller(self, pcm: np.ndarray) -> None:
        if self.closed:
            return
        self.send_from_borrower(pcm)
        excess = len(self._to_bot) - MAX_INBOUND_FRAMES * FRAME_SAMPLES
        if excess > 0:
            del self._to_bot[:excess]
            self.dropped_inbound_frames += excess // FRAME_SAMPLES

    def attach_digits(self, listener: DigitListener) -> None:
        """Deliver each DTMF digit the caller keys to `listener`."""
        self._digit_listener = listener

    # --- stream out ------------------------------------------------------------------

    def clear_bot_audio(self) -> None:
        super().clear_bot_audio()
        self._clear = True  # Twilio drops what it buffered too; sent on the next tick

    async def _tick(self) -> None:
        await super()._tick()
        if self.closed or self.ws.closed:
            return
        if time.monotonic() - self._last_heard > self.media_timeout_s:
            logger.warning(
                "twilio: stream %r silent for %.0f s: ended", self.stream_sid, self.media_timeout_s
            )
            self.end_reason = "no media"
            self.hang_up("line")
            return
        if self._clear:
            self._clear = False
            await self._send(await self.serializer.serialize(InterruptionFrame()))
        if self.bot_had_audio[-1]:
            pcm = self.bot_frames[-1].astype("<i2").tobytes()
            frame = OutputAudioRawFrame(audio=pcm, sample_rate=SAMPLE_RATE, num_channels=1)
            await self._send(await self.serializer.serialize(frame))

    async def _send(self, message: str | bytes | None) -> None:
        if message is None:
            return
        try:
            await self.ws.send_str(message if isinstance(message, str) else message.decode())
        except (ConnectionError, RuntimeError):
            self.hang_up("line")

    # --- ending ----------------------------------------------------------------------

    def hang_up(self, by: str) -> None:
        """End the call; when the bot ends it, Twilio is told to hang up (REST)."""
        if self.closed:
            return
        super().hang_up(by)
        if by == "bot":
            self.end_reason = self.end_reason or "bot hung up"
            self._on_bot_hang_up()

    def figures(self) -> dict[str, Any]:
        """The stream's health, for the summary's metrics."""
        return {
            "stream_sid": self.stream_sid,
            "media_messages": self.media_messages,
            "dropped_inbound_frames": self.dropped_inbound_frames,
            "unknown_events": self.unknown_events,
            "digits": "".join(self.digits),
            "end": self.end_reason,
        }
