"""A call over a text line: the scripted counterpart's entries, and a modelled clock.

A text line has no audio clock, so time is modelled: speech at a phone pace, a short
gap between turns, and a no-input timeout for a silent turn. In LLM mode the clock also
counts the time spent waiting for the LLM.
"""

from collections.abc import Callable, Sequence

from voicebot.calls.engine import CallEngine
from voicebot.conversation.state import Reply
from voicebot.scenario import HANGUP, SILENCE, AudioEntry, DtmfEntry, Entry
from voicebot.summary import TimedLine

CHARS_PER_SECOND = 4.5
TURN_GAP_S = 0.6
NO_INPUT_TIMEOUT_S = 5.0


class TextLine:
    """The counterpart's entries, one per bot turn, on a clock of modelled speech."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = iter(entries)
        self.now = 0.0  # seconds since the call started
        self.hung_up_by: str | None = None
        self.closed = False

    def speak(self, text: str) -> float:
        """Time `text` takes to say; returns when it started."""
        start = self.now
        self.now += len(text) / CHARS_PER_SECOND + TURN_GAP_S
        return start

    def hang_up(self, by: str) -> None:
        if not self.closed:
            self.closed, self.hung_up_by = True, by


async def converse_in_text(
    line: TextLine, engine: CallEngine, record: Callable[[TimedLine], None]
) -> None:
    """Run the conversation until the bot ends it or the counterpart hangs up."""
    reply = engine.start()
    while not isinstance(said := _next_turn(line, reply, record), _CallOver):
        reply = await engine.hear(said)
        line.now += engine.last_wait_s
    line.hang_up("bot")  # no-op when the counterpart hung up


class _CallOver:
    pass


_CALL_OVER = _CallOver()


def _next_turn(
    line: TextLine, reply: Reply, record: Callable[[TimedLine], None]
) -> "str | _CallOver | None":
    """Speak `reply`; then what the counterpart says (None: silence), or _CALL_OVER."""
    for text in reply.say:
        record(TimedLine("bot", text, line.speak(text)))
    if reply.ended:
        return _CALL_OVER
    entry = next(line.entries, SILENCE)
    if isinstance(entry, AudioEntry):
        raise ValueError(f"{entry.path}: audio entries need --audio mode")
    if isinstance(entry, DtmfEntry):  # keyed digits are heard as the borrower's words
        entry = "".join(entry.heard) or SILENCE
    if entry == HANGUP:
        line.hang_up("borrower")
        return _CALL_OVER
    if entry == SILENCE:
        line.now += NO_INPUT_TIMEOUT_S
        return None
    record(TimedLine("borrower", entry, line.speak(entry)))
    return entry
