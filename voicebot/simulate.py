"""`voicebot simulate` in text mode: a scripted counterpart against the real engine."""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from voicebot.accounts import Account
from voicebot.config import Settings
from voicebot.conversation.engine import Conversation
from voicebot.conversation.rules import within_calling_window
from voicebot.conversation.script import Script
from voicebot.conversation.state import CallState, Direction, Outcome, Reply
from voicebot.scenario import HANGUP, SILENCE, AudioEntry, Scenario
from voicebot.summary import TimedLine, build_summary
from voicebot.understanding.embedding import reader_for

if TYPE_CHECKING:
    from voicebot.llm.driver import LLMMode

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


class _TextCall:
    """One scenario call's bookkeeping: the engine, the modelled clock, the transcript."""

    def __init__(
        self,
        scenario: Scenario,
        settings: Settings,
        script: Script,
        now: datetime,
        on_line: Callable[[TimedLine], None] | None,
    ) -> None:
        self.state = CallState(direction=scenario.direction, account=None, now=now)
        if scenario.direction is Direction.OUTBOUND:
            self.state.account = scenario.account
        self.now = now
        self.call_id = uuid.uuid4().hex
        self.transcript: list[TimedLine] = []
        self.clock = _Clock()
        self.on_line = on_line
        self.entries = iter(scenario.borrower)
        self.conversation = Conversation(
            self.state,
            script,
            settings,
            ScenarioDirectory(scenario.account),
            scenario.caller,
            reader_for(settings),
        )
        self.outside_hours = scenario.direction is Direction.OUTBOUND and not (
            within_calling_window(now, scenario.account.timezone, settings.rules)
        )
        if self.outside_hours:
            self.state.within_calling_hours = False
            self.state.outcome = Outcome.OUTSIDE_CALLING_HOURS

    def emit(self, speaker: str, text: str) -> None:
        line = TimedLine(speaker, text, self.clock.speak(text))
        self.transcript.append(line)
        if self.on_line:
            self.on_line(line)

    def next_turn(self, reply: Reply) -> str | None:
        """Speak `reply`; then what the counterpart says (None: silence), or _CALL_OVER."""
        for text in reply.say:
            self.emit("bot", text)
        if reply.ended:
            return _CALL_OVER
        entry = next(self.entries, SILENCE)
        if isinstance(entry, AudioEntry):
            raise ValueError(f"{entry.path}: audio entries need --audio mode")
        if entry == HANGUP:
            self.conversation.hang_up()
            return _CALL_OVER
        if entry == SILENCE:
            self.clock.t += NO_INPUT_TIMEOUT_S
            return None
        self.emit("borrower", entry)
        return entry

    def summary(self, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
        # A call outside the window never started: no transcript, no time on the clock.
        return build_summary(
            self.state,
            call_id=self.call_id,
            started_at=self.now,
            ended_at=self.now + timedelta(seconds=self.clock.t),
            transcript=self.transcript,
            metrics=metrics,
        )


_CALL_OVER = "\x00call over"


def run_text_call(
    scenario: Scenario,
    settings: Settings,
    script: Script,
    now: datetime,
    on_line: Callable[[TimedLine], None] | None = None,
) -> dict:
    """Run the scenario's call through the engine and return its summary."""
    call = _TextCall(scenario, settings, script, now, on_line)
    if call.outside_hours:
        return call.summary()
    reply = call.conversation.start()
    while (said := call.next_turn(reply)) != _CALL_OVER:
        reply = call.conversation.hear(said)
    return call.summary()


async def run_llm_text_call(
    scenario: Scenario,
    settings: Settings,
    script: Script,
    now: datetime,
    mode: "LLMMode",
    on_line: Callable[[TimedLine], None] | None = None,
) -> dict:
    """`run_text_call` in LLM mode: the same engine, with the LLM's help and notes.

    The modelled clock also counts the time spent waiting for the LLM.
    """
    from voicebot.llm.driver import LLMDriver

    call = _TextCall(scenario, settings, script, now, on_line)
    if call.outside_hours:
        return call.summary()
    driver = LLMDriver(call.conversation, mode)
    reply = call.conversation.start()
    while (said := call.next_turn(reply)) != _CALL_OVER:
        reply = await driver.hear(said)
        call.clock.t += driver.last_wait_s
    return await driver.finish(call.summary())


def simulate_call(
    scenario: Scenario,
    settings: Settings,
    script: Script,
    now: datetime,
    on_line: Callable[[TimedLine], None] | None = None,
) -> dict:
    """Rules only, or LLM mode when `settings.llm` names an endpoint."""
    if not settings.llm.enabled:
        return run_text_call(scenario, settings, script, now, on_line)
    from voicebot.llm.driver import LLMMode  # the openai SDK only when it is used

    async def in_llm_mode() -> dict:
        mode = LLMMode.from_settings(settings, script)
        try:
            return await run_llm_text_call(scenario, settings, script, now, mode, on_line)
        finally:
            await mode.aclose()

    return asyncio.run(in_llm_mode())
