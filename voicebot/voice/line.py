"""Phone lines: 8 kHz G.711 mu-law both ways, keyed digits, clocked in 20 ms frames.

`PhoneLine` is one call leg between two ends: the bot (through `LineTransport`, the pipecat
transport of `voicebot.voice.transport`) and the borrower's side, which is a carrier (SIP,
Twilio) or, on an `InProcessLine`, the scripted counterpart of `voicebot.voice.counterpart`.
Each tick moves one 20 ms frame in each direction, or silence when a side has nothing
queued, and records both frames, so the line's own record is the call recording and the
source of its timing figures whatever the carrier.

A carrier subclasses `PhoneLine`, feeds what its far end sends (`send_from_borrower`,
`send_mulaw_from_borrower`, `press`, `hang_up("borrower")`, `hang_up("line")` when its
media breaks) and overrides only what is its own: `_send_to_carrier` (the bot's frame of
each tick onto the wire) and `_end_carrier_call` (BYE, REST), perhaps `clear_bot_audio`.

Pacing is real time. An `InProcessLine` may run faster (`speed`); that exists only for
throughput experiments: latency figures are measured at real time.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import numpy as np

from voicebot.speech.audio import mulaw_decode, mulaw_encode

logger = logging.getLogger(__name__)

SAMPLE_RATE = 8000
FRAME_SECONDS = 0.02
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)  # 160 samples, 160 mu-law bytes
_MULAW_SILENCE = mulaw_encode(np.zeros(FRAME_SAMPLES, dtype=np.int16))

KEYPAD = "0123456789*#ABCD"  # the DTMF keys (RFC 4733 events 0-15)
END_KEY = "#"  # ends a keyed group ("1234#")
KEYED_PAUSE_S = 2.0  # of line time without a key also ends a keyed group

BotAudioListener = Callable[[bytes], Awaitable[None]]
KeyedDigitsListener = Callable[[str], Awaitable[None]]
KeyPressListener = Callable[[str], Awaitable[None]]


class LineClosed(Exception):
    """The line was hung up; nothing more can be sent."""


class PhoneLine:
    """One call leg: 8 kHz mu-law each way, keyed digits, a 20 ms clock and its record.

    `hung_up_by` says who ended the call: "bot", "borrower" (the far end hung up),
    "line" (the media broke or went silent), or a carrier's own word ("transfer").
    """

    speed = 1.0  # line seconds per wall-clock second: real time

    def __init__(
        self,
        *,
        bot_buffer_frames: int = 3,
        max_inbound_frames: int | None = None,
        media_timeout_s: float | None = None,
    ) -> None:
        """`bot_buffer_frames` bounds how far the bot may write ahead of playback: a small
        bound keeps barge-in fast, as audio already on the wire cannot be recalled.
        `max_inbound_frames` bounds queued borrower audio (a burst from the network): the
        oldest is dropped and counted. After `media_timeout_s` with nothing from the far
        end the line is hung up as broken ("line", `end_reason` "no media")."""
        self._bot_ahead = bot_buffer_frames * FRAME_SAMPLES
        self._max_inbound = max_inbound_frames
        self.media_timeout_s = media_timeout_s
        self._to_borrower = bytearray()  # mu-law from the bot, waiting to be played
        self._to_bot = bytearray()  # mu-law from the borrower
        self._bot_listener: BotAudioListener | None = None
        self._keyed_listener: KeyedDigitsListener | None = None
        self._key_listener: KeyPressListener | None = None
        self._tick_event = asyncio.Event()
        self._closed_event = asyncio.Event()
        self._last_heard = time.monotonic()  # anything from the far end, or the start
        self.ticks = 0
        self.closed = False
        self.hung_up_by: str | None = None
        self.end_reason = ""  # why the line ended, in the carrier's words (for figures)
        self.dropped_inbound_frames = 0
        self.digits: list[str] = []  # every key the far end pressed, `#` included
        self._keying = ""  # keys of the group being keyed
        self._keyed_groups: list[str] = []  # complete groups not yet handed to the bot
        self._pressed: list[str] = []  # single keys not yet reported to the key listener
        self._last_key_tick = 0
        # Per tick: decoded audio heard on each side, and whether the bot had audio queued.
        self.bot_frames: list[np.ndarray] = []
        self.borrower_frames: list[np.ndarray] = []
        self.bot_had_audio: list[bool] = []

    # --- time -------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Seconds of line time since the call connected."""
        return self.ticks * FRAME_SECONDS

    async def run(self) -> None:
        """Clock the line until it is hung up."""
        started = time.perf_counter()
        while not self.closed:
            await self._tick()
            deadline = started + self.ticks * FRAME_SECONDS / self.speed
            delay = deadline - time.perf_counter()
            await asyncio.sleep(max(0.0, delay))

    async def _tick(self) -> None:
        bot_frame = self._take(self._to_borrower)
        borrower_frame = self._take(self._to_bot)
        self.bot_had_audio.append(bot_frame is not None)
        self.bot_frames.append(mulaw_decode(bot_frame or _MULAW_SILENCE))
        self.borrower_frames.append(mulaw_decode(borrower_frame or _MULAW_SILENCE))
        self.ticks += 1
        self._tick_event.set()
        self._tick_event = asyncio.Event()
        if self._bot_listener is not None:
            await self._bot_listener(borrower_frame or _MULAW_SILENCE)
        await self._hand_over_keyed_digits()
        if self.closed or self._media_timed_out():
            return
        await self._send_to_carrier(self.bot_frames[-1], bot_frame is not None)

    @staticmethod
    def _take(buffer: bytearray) -> bytes | None:
        if not buffer:
            return None
        frame = bytes(buffer[:FRAME_SAMPLES])
        del buffer[:FRAME_SAMPLES]
        return frame.ljust(FRAME_SAMPLES, _MULAW_SILENCE[:1])

    async def next_tick(self) -> None:
        """Wait for the next 20 ms frame (or return at once if the line is closed)."""
        if not self.closed:
            await self._tick_event.wait()  # hang_up() sets it too

    async def wait(self, seconds: float) -> None:
        """Sleep for `seconds` of line time."""
        until = self.ticks + round(seconds / FRAME_SECONDS)
        while self.ticks < until and not self.closed:
            await self.next_tick()

    # --- the bot's side ----------------------------------------------------------------

    def attach_bot(self, listener: BotAudioListener) -> None:
        """Deliver each 20 ms frame the borrower sends (mu-law) to `listener`."""
        self._bot_listener = listener

    def attach_keyed_digits(self, listener: KeyedDigitsListener) -> None:
        """Deliver each group of keys the borrower presses ("1234") to `listener`.

        A group ends at `#` (not delivered) or after `KEYED_PAUSE_S` of line time with no
        key; it is delivered on the line's clock, as the bot would hear it.
        """
        self._keyed_listener = listener

    def attach_key_presses(self, listener: KeyPressListener) -> None:
        """Report each key as it is pressed, on the next tick, before its group is
        complete: the bot's turn-taking hears that the borrower is keying."""
        self._key_listener = listener

    async def send_from_bot(self, mulaw: bytes) -> None:
        """Queue bot audio for playback; waits while the bot is too far ahead."""
        if self.closed:
            raise LineClosed
        self._to_borrower += mulaw
        while len(self._to_borrower) > self._bot_ahead and not self.closed:
            await self.next_tick()

    def clear_bot_audio(self) -> None:
        """Drop bot audio not yet played (a carrier's `clear` on barge-in)."""
        self._to_borrower.clear()

    @property
    def bot_audio_pending(self) -> bool:
        return bool(self._to_borrower)

    def bot_is_silent_for(self, seconds: float) -> bool:
        """Whether the bot has sent nothing for the last `seconds` of line time."""
        frames = round(seconds / FRAME_SECONDS)
        recent = self.bot_had_audio[-frames:]
        return len(recent) >= frames and not any(recent) and not self._to_borrower

    # --- the borrower's side -----------------------------------------------------------

    def send_from_borrower(self, pcm16_8k: np.ndarray) -> None:
        """Queue borrower speech (8 kHz int16); it is mu-law encoded on the wire."""
        self.send_mulaw_from_borrower(mulaw_encode(pcm16_8k))

    def send_mulaw_from_borrower(self, mulaw: bytes) -> None:
        """Queue borrower audio as the wire carries it (8 kHz mu-law)."""
        if self.closed:
            return
        self.heard_from_far_end()
        self._to_bot += mulaw
        if self._max_inbound is None:
            return
        excess = len(self._to_bot) - self._max_inbound * FRAME_SAMPLES
        if excess > 0:
            del self._to_bot[:excess]
            self.dropped_inbound_frames += excess // FRAME_SAMPLES

    @property
    def borrower_audio_pending(self) -> bool:
        return bool(self._to_bot)

    def press(self, keys: str) -> None:
        """The borrower presses `keys` (DTMF: 0-9, *, #, A-D), in order, now."""
        unknown = sorted(set(keys) - set(KEYPAD))
        if unknown:
            raise ValueError(f"not keypad keys: {''.join(unknown)!r}")
        if self.closed:
            return
        self.heard_from_far_end()
        for key in keys:
            self.digits.append(key)
            self._pressed.append(key)
            if key == END_KEY:
                self._keyed_groups.append(self._keying)
                self._keying = ""
            else:
                self._keying += key
        self._last_key_tick = self.ticks

    def heard_from_far_end(self) -> None:
        """Something came from the far end (audio, a key, a carrier's message): the line
        is alive, whatever `media_timeout_s` says."""
        self._last_heard = time.monotonic()

    async def _hand_over_keyed_digits(self) -> None:
        while self._pressed and self._key_listener is not None and not self.closed:
            await self._key_listener(self._pressed.pop(0))
        pause = round(KEYED_PAUSE_S / FRAME_SECONDS)
        if self._keying and self.ticks - self._last_key_tick >= pause:
            self._keyed_groups.append(self._keying)
            self._keying = ""
        # Kept until the bot listens: keys pressed while its pipeline starts are heard.
        while self._keyed_groups and self._keyed_listener is not None and not self.closed:
            group = self._keyed_groups.pop(0)
            if group:
                await self._keyed_listener(group)

    # --- the carrier: what subclasses override ------------------------------------------

    async def _send_to_carrier(self, pcm16: np.ndarray, bot_spoke: bool) -> None:
        """Put the bot's frame of this tick on the wire (`bot_spoke`: not just silence).

        Nothing here: on an in-process line the far end reads the line's record.
        """

    def _end_carrier_call(self, by: str) -> None:
        """End the carrier's call (BYE, REST); called once, by the first `hang_up`.

        `by` says who ended it: after "borrower" the far end has already hung up.
        """

    def _media_timed_out(self) -> bool:
        if self.media_timeout_s is None:
            return False
        if time.monotonic() - self._last_heard <= self.media_timeout_s:
            return False
        logger.warning(
            "%s: nothing from the far end for %.0f s: the call is ended",
            type(self).__name__,
            self.media_timeout_s,
        )
        self.end_reason = self.end_reason or "no media"
        self.hang_up("line")
        return True

    # --- ending ------------------------------------------------------------------------

    def hang_up(self, by: str) -> None:
        """End the call (see `hung_up_by` for `by`); pending audio and keys are dropped.

        Only the first hang-up counts: the carrier's call is ended once.
        """
        if self.closed:
            return
        self.closed = True
        self.hung_up_by = by
        self._to_borrower.clear()
        self._to_bot.clear()
        self._keying = ""
        self._keyed_groups.clear()
        self._pressed.clear()
        self._closed_event.set()
        self._tick_event.set()
        self._end_carrier_call(by)

    async def wait_closed(self) -> None:
        await self._closed_event.wait()


class InProcessLine(PhoneLine):
    """A line with no carrier: its far end runs in this process (the scripted counterpart
    of `voicebot.voice.counterpart`, or a test). `simulate --audio`, tests, benchmarks.

    `speed` above 1 runs the clock faster, for throughput experiments only.
    """

    def __init__(self, *, speed: float = 1.0, bot_buffer_frames: int = 3) -> None:
        super().__init__(bot_buffer_frames=bot_buffer_frames)
        self.speed = speed
