"""`TwilioLine`: one Twilio media stream as a `PhoneLine`, on the line's 20 ms clock.

pipecat's `TwilioFrameSerializer` reads and writes the stream's messages (base64 mu-law
`media`, `dtmf`, `clear` on barge-in); the `PhoneLine` base gives what a live call needs
around it: the 20 ms clock and the two-channel record (so recordings and timing figures
read a Twilio call like any other), a bound on queued caller audio, keyed digits, the
media watchdog and the end of the call. Anything the serializer cannot read (bad JSON,
truncated base64) ends the call as a broken line; unknown events are counted and ignored
(Twilio adds new ones).
"""

import binascii
import json
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

from voicebot.voice.line import KEYPAD, SAMPLE_RATE, PhoneLine

MAX_INBOUND_FRAMES = 50  # caller audio queued beyond 1 s (a TCP burst) is dropped, oldest first
KNOWN_EVENTS = frozenset({"connected", "start", "media", "dtmf", "mark", "stop"})


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


class TwilioLine(PhoneLine):
    """A PhoneLine over one media-stream websocket; the bot's hang-up ends the Twilio call."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        stream_sid: str,
        *,
        on_bot_hang_up: Callable[[], None],
        media_timeout_s: float = 20.0,
        bot_buffer_frames: int = 3,
    ) -> None:
        super().__init__(
            bot_buffer_frames=bot_buffer_frames,
            max_inbound_frames=MAX_INBOUND_FRAMES,
            media_timeout_s=media_timeout_s,
        )
        self.ws = ws
        self.stream_sid = stream_sid
        self.serializer = LineSerializer(stream_sid)
        self.media_messages = 0
        self.unknown_events: list[str] = []
        self.transferring = False  # a `stop` now means the caller went to an agent
        self._clear = False
        self._on_bot_hang_up = on_bot_hang_up

    # --- stream in -------------------------------------------------------------------

    async def receive(self, data: str) -> bool:
        """Handle one message from Twilio; False once the stream has ended (`stop`)."""
        self.heard_from_far_end()
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
            self.send_from_borrower(np.frombuffer(frame.audio, dtype="<i2"))
        elif isinstance(frame, InputDTMFFrame) and frame.button.value in KEYPAD:
            self.press(frame.button.value)

    # --- stream out ------------------------------------------------------------------

    def clear_bot_audio(self) -> None:
        super().clear_bot_audio()
        self._clear = True  # Twilio drops what it buffered too; sent on the next tick

    async def _send_to_carrier(self, pcm16: np.ndarray, bot_spoke: bool) -> None:
        if self.ws.closed:
            return
        if self._clear:
            self._clear = False
            await self._send(await self.serializer.serialize(InterruptionFrame()))
        if bot_spoke:
            pcm = pcm16.astype("<i2").tobytes()
            frame = OutputAudioRawFrame(audio=pcm, sample_rate=SAMPLE_RATE, num_channels=1)
            await self._send(await self.serializer.serialize(frame))

    async def _send(self, message: str | bytes | None) -> None:
        if message is None:
            return
        try:
            await self.ws.send_str(message if isinstance(message, str) else message.decode())
        except (ConnectionError, RuntimeError):
            self.hang_up("line")

    def _end_carrier_call(self, by: str) -> None:
        if by == "bot":  # Twilio is told to hang up (REST); other ends need nothing
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
