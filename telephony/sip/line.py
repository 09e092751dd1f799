"""`SipLine`: one SIP call's audio as a `PhoneLine`, on the line's 20 ms clock.

It is the phone line's clock and record with RTP at both ends: each tick sends the bot's
next 20 ms (or silence: the stream never pauses, so the far end's jitter buffer and any
NAT binding stay warm) as one RTP packet, and the caller's audio from aiortp's jitter
buffer is fed to the line. DTMF digits (RFC 4733) are pressed on the line.
"""

import logging
import time
from collections.abc import Callable

import aiortp
import numpy as np

from telephony.sip.media import MediaPlan
from voicebot.voice.line import KEYPAD, PhoneLine

logger = logging.getLogger(__name__)

MAX_INBOUND_FRAMES = 10  # caller audio queued beyond this (200 ms) is dropped, oldest first


class SipLine(PhoneLine):
    """A PhoneLine over one RTP session; ending it from our side asks the endpoint for BYE."""

    def __init__(
        self,
        rtp: aiortp.RTPSession,
        plan: MediaPlan,
        *,
        on_bot_hang_up: Callable[[], None],
        rtp_timeout_s: float = 20.0,
        bot_buffer_frames: int = 3,
    ) -> None:
        super().__init__(
            bot_buffer_frames=bot_buffer_frames,
            max_inbound_frames=MAX_INBOUND_FRAMES,
            media_timeout_s=rtp_timeout_s,
        )
        self.rtp = rtp
        self.plan = plan
        self.max_send_gap_s = 0.0  # wall clock between two packets sent: 0.02 is perfect
        self._last_sent: float | None = None
        self._on_bot_hang_up = on_bot_hang_up
        rtp.on_audio = self._on_rtp_audio
        rtp.on_dtmf = self._on_rtp_digit

    def _on_rtp_audio(self, pcm: bytes, _timestamp: int) -> None:
        self.send_from_borrower(np.frombuffer(pcm, dtype="<i2"))

    def _on_rtp_digit(self, digit: str, _duration: int) -> None:
        self.heard_from_far_end()
        if digit and digit in KEYPAD:  # aiortp reads an event beyond the keypad as "?"
            self.press(digit)

    async def _send_to_carrier(self, pcm16: np.ndarray, bot_spoke: bool) -> None:
        try:
            self.rtp.send_audio_pcm_auto(pcm16.astype("<i2").tobytes())
        except (OSError, OverflowError, ValueError) as error:  # nowhere to send: the line broke
            logger.warning("sip: RTP cannot be sent to %s:%d: %s", *self.plan.remote, error)
            self.hang_up("line")
            return
        sent = time.perf_counter()
        if self._last_sent is not None:
            self.max_send_gap_s = max(self.max_send_gap_s, sent - self._last_sent)
        self._last_sent = sent

    def _end_carrier_call(self, by: str) -> None:
        if by != "borrower":  # the far end's BYE needs no answer from the line
            self._on_bot_hang_up()

    async def close_media(self) -> None:
        """Release the RTP sockets (after the call has ended)."""
        self.hang_up("bot")
        await self.rtp.close()
