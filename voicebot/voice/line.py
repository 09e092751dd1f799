"""A simulated phone line: 8 kHz G.711 mu-law both ways, clocked in 20 ms frames.

The line is the carrier between two endpoints: the bot (through `LineTransport`, the
pipecat transport a real carrier connection will also implement) and the borrower (the
scripted counterpart of `voicebot.voice.counterpart`). Each tick moves one 20 ms frame in
each direction, or silence when a side has nothing queued, and records both frames, so
the line's own record is the call recording and the source of its timing figures.

Pacing is real time by default. `speed` above 1 runs the clock faster; it exists only for
throughput experiments: latency figures are measured at real time.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

import numpy as np

from voicebot.speech.audio import mulaw_decode, mulaw_encode

SAMPLE_RATE = 8000
FRAME_SECONDS = 0.02
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)  # 160 samples, 160 mu-law bytes
_MULAW_SILENCE = mulaw_encode(np.zeros(FRAME_SAMPLES, dtype=np.int16))

BotAudioListener = Callable[[bytes], Awaitable[None]]


class LineClosed(Exception):
    """The line was hung up; nothing more can be sent."""


class SimulatedLine:
    """Two one-way 8 kHz mu-law channels and a clock that moves both in 20 ms frames."""

    def __init__(self, *, speed: float = 1.0, bot_buffer_frames: int = 3) -> None:
        """`bot_buffer_frames` bounds how far the bot may write ahead of playback.

        A small bound keeps barge-in fast: audio already on the wire cannot be recalled.
        """
        self.speed = speed
        self._bot_ahead = bot_buffer_frames * FRAME_SAMPLES
        self._to_borrower = bytearray()  # mu-law from the bot, waiting to be played
        self._to_bot = bytearray()  # mu-law from the borrower
        self._bot_listener: BotAudioListener | None = None
        self._tick_event = asyncio.Event()
        self.ticks = 0
        self.closed = False
        self.hung_up_by: str | None = None  # "bot" or "borrower"
        # Per tick: decoded audio heard on each side, and whether the bot had audio queued.
        self.bot_frames: list[np.ndarray] = []
        self.borrower_frames: list[np.ndarray] = []
        self.bot_had_audio: list[bool] = []
        self._closed_event = asyncio.Event()

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

    # --- the borrower's side -----------------------------------------------------------

    def send_from_borrower(self, pcm16_8k: np.ndarray) -> None:
        """Queue borrower speech (8 kHz int16); it is mu-law encoded on the wire."""
        if not self.closed:
            self._to_bot += mulaw_encode(pcm16_8k)

    @property
    def borrower_audio_pending(self) -> bool:
        return bool(self._to_bot)

    def bot_is_silent_for(self, seconds: float) -> bool:
        """Whether the bot has sent nothing for the last `seconds` of line time."""
        frames = round(seconds / FRAME_SECONDS)
        recent = self.bot_had_audio[-frames:]
        return len(recent) >= frames and not any(recent) and not self._to_borrower

    # --- ending ------------------------------------------------------------------------

    def hang_up(self, by: str) -> None:
        """End the call from either side; pending audio is dropped."""
        if self.closed:
            return
        self.closed = True
        self.hung_up_by = by
        self._to_borrower.clear()
        self._to_bot.clear()
        self._closed_event.set()
        self._tick_event.set()

    async def wait_closed(self) -> None:
        await self._closed_event.wait()
