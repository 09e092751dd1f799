"""`voicebot simulate` in text mode: a scripted counterpart against the real engine."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from voicebot.accounts import Account
from voicebot.config import Settings
from voicebot.conversation.engine import Conversation
from voicebot.conversation.rules import within_calling_window
from voicebot.conversation.script import Script
from voicebot.conversation.state import CallState, Direction, Outcome
from voicebot.scenario import HANGUP, SILENCE, AudioEntry, Scenario
from voicebot.summary import TimedLine, build_summary

# A text call has no audio clock, so time is modelled: speech at a phone pace, a short
# gap between turns, and a no-input timeout for a silent turn.
CHARS_PER_SECOND = 4.5
TURN_GAP_S = 0.6
NO_INPUT_TIMEOUT_S = 5.0


class ScenarioDirectory:
    """The scenario's one account, as the directory an inbound call searches."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def by_phone(self, phone: str) -> Account | None:
        return self.account if phone == self.account.phone else None

    def by_name(self, name: str) -> list[Account]:
        return [self.account] if name == self.account.name else []


@dataclass
class _Clock:
    t: float = 0.0

    def speak(self, text: str) -> float:
        start = self.t
        self.t += len(text) / CHARS_PER_SECOND + TURN_GAP_S
        return start


def run_text_call(
    scenario: Scenario,
    settings: Settings,
    script: Script,
    now: datetime,
    on_line: Callable[[TimedLine], None] | None = None,
) -> dict:
    """Run the scenario's call through the engine and return its summary."""
    state = CallState(direction=scenario.direction, account=None, now=now)
    if scenario.direction is Direction.OUTBOUND:
        state.account = scenario.account
    call_id = uuid.uuid4().hex
    transcript: list[TimedLine] = []
    clock = _Clock()

    def emit(speaker: str, text: str) -> None:
        line = TimedLine(speaker, text, clock.speak(text))
        transcript.append(line)
        if on_line:
            on_line(line)

    if scenario.direction is Direction.OUTBOUND and not within_calling_window(
        now, scenario.account.timezone, settings.rules
    ):
        state.within_calling_hours = False
        state.outcome = Outcome.OUTSIDE_CALLING_HOURS
        return build_summary(state, call_id=call_id, started_at=now, ended_at=now, transcript=[])

    conversation = Conversation(
        state, script, settings, ScenarioDirectory(scenario.account), scenario.caller
    )
    reply = conversation.start()
    entries = iter(scenario.borrower)
    while True:
        for text in reply.say:
            emit("bot", text)
        if reply.ended:
            break
        entry = next(entries, SILENCE)
        if isinstance(entry, AudioEntry):
            raise ValueError(f"{entry.path}: audio entries need --audio mode")
        if entry == HANGUP:
            conversation.hang_up()
            break
        if entry == SILENCE:
            clock.t += NO_INPUT_TIMEOUT_S
            reply = conversation.hear(None)
        else:
            emit("borrower", entry)
            reply = conversation.hear(entry)
    return build_summary(
        state,
        call_id=call_id,
        started_at=now,
        ended_at=now + timedelta(seconds=clock.t),
        transcript=transcript,
    )
