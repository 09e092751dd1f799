"""`SipLine`: one SIP call's audio as the bot's `PhoneLine`, on the line's 20 ms clock.

It is the simulated line's clock and record with RTP at both ends: each tick sends the
bot's next 20 ms (or silence: the stream never pauses, so the far end's jitter buffer and
any NAT binding stay warm) as one RTP packet, and hands the bot the caller's next frame
from aiortp's jitter buffer. Both frames are recorded per tick, so the recording and
the timing figures of `voicebot.voice.recording` read a SIP call as they read any other.
DTMF digits (RFC 4733) go to an attached listener and into `digits`.
"""

import logging
import time
from collections.abc import Callable

import aiortp
import numpy as np

from telephony.sip.media import MediaPlan
from voicebot.voice.line import FRAME_SAMPLES, SimulatedLine

logger = logging.getLogger(__name__)

MAX_INBOUND_FRAMES = 10  # caller audio queued beyond this (200 ms) is dropped, oldest first

DigitListener = Callable[[str], None]


class SipLine(SimulatedLine):
    """A PhoneLine over one RTP session; `hang_up("bot")` asks the endpoint to send BYE."""

    def __init__(
        self,
        rtp: aiortp.RTPSession,
        plan: MediaPlan,
        *,
        on_bot_hang_up: Callable[[], None],
        rtp_timeout_s: float = 20.0,
        bot_buffer_frames: int = 3,
    ) -> None:
        super().__init__(speed=1.0, bot_buffer_frames=bot_buffer_frames)
        self.rtp = rtp
        self.plan = plan
        self.digits: list[str] = []
        self.dropped_inbound_frames = 0
        self.max_send_gap_s = 0.0  # wall clock between two packets sent: 0.02 is perfect
        self._last_sent: float | None = None
        self.rtp_timeout_s = rtp_timeout_s
        self._last_heard = time.monotonic()  # RTP in (audio or digits), or the answer
        self._on_bot_hang_up = on_bot_hang_up
        self._digit_listener: DigitListener | None = None
        rtp.on_audio = self._on_rtp_audio
        rtp.on_dtmf = self._on_rtp_digit

    # --- RTP in ----------------------------------------------------------------------

    def _on_rtp_audio(self, pcm: bytes, _timestamp: int) -> None:
        if self.closed:
            return
        self._last_heard = time.monotonic()
        self.send_from_borrower(np.frombuffer(pcm, dtype="<i2"))
        excess = len(self._to_bot) - MAX_INBOUND_FRAMES * FRAME_SAMPLES
        if excess > 0:
            del self._to_bot[:excess]
            self.dropped_inbound_frames += excess // FRAME_SAMPLES

    def _on_rtp_digit(self, digit: str, _duration: int) -> None:
        if self.closed:
            return
        self._last_heard = time.monotonic()
        self.digits.append(digit)
        if self._digit_listener is not None:
            self._digit_listener(digit)

    def attach_digits(self, listener: DigitListener) -> None:
        """Deliver each DTMF digit the caller keys to `listener`."""
        self._digit_listener = listener

    # --- RTP out ---------------------------------------------------------------------

    async def _tick(self) -> None:
        await super()._tick()
        if self.closed:
            return
        if time.monotonic() - self._last_heard > self.rtp_timeout_s:
            logger.warning("sip: no RTP for %.0f s: the call is ended", self.rtp_timeout_s)
            self.hang_up("line")
            return
        try:
            self.rtp.send_audio_pcm_auto(self.bot_frames[-1].astype("<i2").tobytes())
        except (OSError, OverflowError, ValueError) as error:  # nowhere to send: the line broke
            logger.warning("sip: RTP cannot be sent to %s:%d: %s", *self.plan.remote, error)
            self.hang_up("line")
            return
        sent = time.perf_counter()
        if self._last_sent is not None:
            self.max_send_gap_s = max(self.max_send_gap_s, sent - self._last_sent)
        self._last_sent = sent

    # --- ending ----------------------------------------------------------------------

    def hang_up(self, by: str) -> None:
        """End the call; when the bot ends it, the endpoint sends BYE."""
        if self.closed:
            return
        super().hang_up(by)
        if by != "borrower":
            self._on_bot_hang_up()

    async def close_media(self) -> None:
        """Release the RTP sockets (after the call has ended)."""
        self.hang_up("bot")
        await self.rtp.close()
