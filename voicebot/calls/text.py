"""A call over a text line: the scripted counterpart's entries, and a modelled clock.

A text line has no audio clock, so time is modelled: speech at a phone pace, a short
gap between turns, and a no-input timeout for a silent turn. In LLM mode the clock also
counts the time spent waiting for the LLM.

Keys (`{dtmf: "12#34#"}`) are heard as on a phone line: each `#`-ended group is one turn
of the borrower's, the later groups answering the bot's replies to the earlier ones
without taking another entry.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from voicebot.calls.engine import CallEngine
from voicebot.conversation.state import Reply
from voicebot.scenario import HANGUP, SILENCE, AudioEntry, DtmfEntry, Entry
from voicebot.summary import TimedLine

CHARS_PER_SECOND = 4.5
TURN_GAP_S = 0.6
NO_INPUT_TIMEOUT_S = 5.0
KEY_S = 0.3  # one key pressed, on the modelled clock


@dataclass(frozen=True)
class _Turn:
    """What the counterpart said (or keyed) in one turn."""

    text: str
    keyed: bool = False


class TextLine:
    """The counterpart's entries, one per bot turn, on a clock of modelled speech."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = iter(entries)
        self.keyed: list[str] = []  # keyed groups of the current entry not yet heard
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
        if said is not None and said.keyed:
            reply = await engine.hear_keys(said.text)
        else:
            reply = await engine.hear(said.text if said else None)
        line.now += engine.last_wait_s
    line.hang_up("bot")  # no-op when the counterpart hung up


class _CallOver:
    pass


_CALL_OVER = _CallOver()


def _next_turn(
    line: TextLine, reply: Reply, record: Callable[[TimedLine], None]
) -> "_Turn | _CallOver | None":
    """Speak `reply`; then what the counterpart says (None: silence), or _CALL_OVER."""
    for text in reply.say:
        record(TimedLine("bot", text, line.speak(text)))
    if reply.ended:
        return _CALL_OVER
    if not line.keyed:
        entry = next(line.entries, SILENCE)
        if isinstance(entry, AudioEntry):
            raise ValueError(f"{entry.path}: audio entries need --audio mode")
        if not isinstance(entry, DtmfEntry):
            return _said(line, entry, record)
        line.keyed = list(entry.heard)  # keyed digits are heard as the borrower's words
        if not line.keyed:  # only `#`: nothing to hear
            return _said(line, SILENCE, record)
    keys = line.keyed.pop(0)
    record(TimedLine("borrower", keys, line.now))
    line.now += (len(keys) + 1) * KEY_S + TURN_GAP_S
    return _Turn(keys, keyed=True)


def _said(
    line: TextLine, entry: str, record: Callable[[TimedLine], None]
) -> "_Turn | _CallOver | None":
    if entry == HANGUP:
        line.hang_up("borrower")
        return _CALL_OVER
    if entry == SILENCE:
        line.now += NO_INPUT_TIMEOUT_S
        return None
    record(TimedLine("borrower", entry, line.speak(entry)))
    return _Turn(entry)
