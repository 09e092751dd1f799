"""DTMF digits as the borrower's words: keyed digits reach the conversation as text.

Digits are gathered until `#`, or until the caller has keyed nothing for `PAUSE_S` of
line time, and then heard as one utterance ("1234"), as if the borrower had said them:
the engine reads the ID digits from it like from speech.
"""

import asyncio
from collections.abc import Awaitable, Callable

from voicebot.voice.line import SimulatedLine

PAUSE_S = 2.0
END_KEY = "#"


class DigitCollector:
    """Listens to a line's digits (when the line has any) and hands over keyed groups."""

    def __init__(self, line: SimulatedLine) -> None:
        self.line = line
        self.keyed: list[str] = []  # every key of the call, `#` included
        self._pending = ""
        self._complete = False
        self._last_at = 0.0
        self._keyed_event = asyncio.Event()
        attach = getattr(line, "attach_digits", None)
        if attach is not None:
            attach(self.on_digit)

    def on_digit(self, digit: str) -> None:
        self.keyed.append(digit)
        if digit == END_KEY:
            self._complete = True
        else:
            self._pending += digit
        self._last_at = self.line.now
        self._keyed_event.set()

    async def run(self, hear: Callable[[str], Awaitable[None]]) -> None:
        """Until the line closes: hand each keyed group to `hear`."""
        while not self.line.closed:
            await self._keyed_event.wait()
            self._keyed_event.clear()
            while (
                self._pending
                and not self._complete
                and not self.line.closed
                and self.line.now - self._last_at < PAUSE_S
            ):
                await self.line.next_tick()
            text, self._pending, self._complete = self._pending, "", False
            if text and not self.line.closed:
                await hear(text)
