"""`voicebot simulate` and `voicebot demo`: a scenario's call against a scripted counterpart.

A text call is the call session (`voicebot.calls`) over a text line, with a modelled
clock; an audio call (`--audio`) is the same session over the simulated 8 kHz line, the
counterpart speaking through the offline voice. Both run the same engine, in LLM mode
when `[llm]` names an endpoint, as the phone lines do.
"""

import asyncio
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from voicebot.accounts import Account
from voicebot.calls import SIMULATED, CallSessions, CallSpec, TextLine
from voicebot.config import LLMSettings, Settings
from voicebot.conversation.script import Script, load_script
from voicebot.conversation.state import Direction
from voicebot.report import print_line, print_summary
from voicebot.scenario import Scenario, load_scenario
from voicebot.summary import TimedLine

if TYPE_CHECKING:
    from voicebot.llm.driver import LLMMode
    from voicebot.voice.pipeline import Profile, VoiceModels

T = TypeVar("T")


class ScenarioDirectory:
    """The scenario's one account, as the directory an inbound call searches."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def by_phone(self, phone: str) -> Account | None:
        return self.account if phone == self.account.phone else None

    def by_name(self, name: str) -> list[Account]:
        return [self.account] if name == self.account.name else []


def scenario_spec(scenario: Scenario) -> CallSpec:
    """The scenario's call as a line describes it: outbound to the account, or inbound
    from `caller`, looked up in the scenario's one account."""
    outbound = scenario.direction is Direction.OUTBOUND
    return CallSpec(
        SIMULATED,
        scenario.direction,
        scenario.account.phone if outbound else (scenario.caller or ""),
        account=scenario.account if outbound else None,
        directory=ScenarioDirectory(scenario.account),
    )


def run_text_call(
    scenario: Scenario,
    settings: Settings,
    script: Script,
    now: datetime,
    on_line: Callable[[TimedLine], None] | None = None,
    *,
    store: bool = False,
) -> dict[str, Any]:
    """The scenario's call through the rules alone; its summary (stored when `store`)."""
    # Rules only, whatever `settings.llm` says: `simulate_call` chooses the mode.
    rules_only = replace(settings, llm=LLMSettings())
    sessions = CallSessions(rules_only, script=script, store_calls=store)
    line = TextLine(scenario.borrower)
    call = sessions.run(line, scenario_spec(scenario), now=now, on_line=on_line)
    return _run_without_waiting(call)


async def run_llm_text_call(
    scenario: Scenario,
    settings: Settings,
    script: Script,
    now: datetime,
    mode: "LLMMode",
    on_line: Callable[[TimedLine], None] | None = None,
    *,
    store: bool = False,
) -> dict[str, Any]:
    """`run_text_call` in LLM mode: the same engine, with the LLM's help and notes.

    The modelled clock also counts the time spent waiting for the LLM.
    """
    sessions = CallSessions(settings, script=script, store_calls=store, llm=mode)
    line = TextLine(scenario.borrower)
    return await sessions.run(line, scenario_spec(scenario), now=now, on_line=on_line)


def simulate_call(
    scenario: Scenario,
    settings: Settings,
    script: Script,
    now: datetime,
    on_line: Callable[[TimedLine], None] | None = None,
    *,
    store: bool = False,
) -> dict[str, Any]:
    """Rules only, or LLM mode when `settings.llm` names an endpoint."""
    if not settings.llm.enabled:
        return run_text_call(scenario, settings, script, now, on_line, store=store)
    sessions = CallSessions(settings, script=script, store_calls=store)
    line = TextLine(scenario.borrower)
    return asyncio.run(sessions.run(line, scenario_spec(scenario), now=now, on_line=on_line))


def _run_without_waiting(call: Coroutine[Any, Any, T]) -> T:
    """Run a rules-only text call to its end. It never waits on anything, so it needs no
    event loop, and can be placed from inside one (a campaign's worker, an async test)."""
    try:
        call.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    call.close()
    raise RuntimeError("a rules-only text call waited on something")


# --- audio: the simulated 8 kHz line -------------------------------------------------


@dataclass
class CallOptions:
    """How a simulated call is placed; the defaults are `voicebot simulate --audio`."""

    profile: "Profile | None" = None  # None: the tuned profile from the settings
    cues: Mapping[int, float] = field(default_factory=dict)  # see ScriptedCounterpart
    no_input_timeout_s: float | None = None  # None: from the settings
    reply_gap_s: float = 0.6
    noise_level: float = 0.0
    key_gap_s: float | None = None  # between two keys; None: the counterpart's quick pace
    line_speed: float = 1.0  # >1 only for throughput experiments, never for latency
    max_call_s: float | None = None  # None: `voice.max_call_s`


async def run_audio_call(
    scenario: Scenario,
    settings: Settings,
    script: Script,
    now: datetime,
    models: "VoiceModels",
    *,
    on_line: Callable[[TimedLine], None] | None = None,
    options: CallOptions | None = None,
    store: bool = False,
) -> dict[str, Any]:
    """Place the scenario's call over a simulated line and return its summary."""
    import numpy as np

    from voicebot.calls.voice import AudioOptions
    from voicebot.voice.counterpart import KEY_GAP_S, ScriptedCounterpart
    from voicebot.voice.line import InProcessLine

    options = options or CallOptions()
    line = InProcessLine(speed=options.line_speed)

    async def speak(text: str) -> np.ndarray:
        pcm, _ = await asyncio.to_thread(models.tts_cache.speak, text)
        return pcm

    counterpart = ScriptedCounterpart(
        line,
        scenario.borrower,
        speak,
        reply_gap_s=options.reply_gap_s,
        cues=options.cues,
        noise_level=options.noise_level,
        key_gap_s=options.key_gap_s or KEY_GAP_S,
    )
    audio = AudioOptions(options.profile, options.no_input_timeout_s, options.max_call_s)
    sessions = CallSessions(settings, models, script, store_calls=store)
    running = [asyncio.create_task(line.run()), asyncio.create_task(counterpart.run())]
    try:
        return await sessions.run(
            line, scenario_spec(scenario), now=now, on_line=on_line, audio=audio
        )
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def quiet_pipecat_logs() -> None:
    """Keep pipecat's per-frame debug logging off the console of a CLI run."""
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")


def simulate_audio_call(
    scenario: Scenario,
    settings: Settings,
    now: datetime,
    *,
    on_line: Callable[[TimedLine], None] | None = None,
    store: bool = False,
) -> dict[str, Any]:
    """`voicebot simulate --audio`: load the models and place one call."""
    from voicebot.voice.pipeline import VoiceModels

    quiet_pipecat_logs()
    script = load_script(settings.prompts_dir)
    models = VoiceModels(settings.voice)
    call = run_audio_call(scenario, settings, script, now, models, on_line=on_line, store=store)
    return asyncio.run(call)


def run_audio_demo(settings: Settings, paths: Sequence[Path]) -> int:
    """`voicebot demo`: the example calls over the simulated line, one by one, stored."""
    from voicebot.voice.pipeline import VoiceModels

    quiet_pipecat_logs()
    script = load_script(settings.prompts_dir)
    models = VoiceModels(settings.voice)
    models.warm_up()
    for path in paths:
        scenario = load_scenario(path)
        print(f"\n=== {path.stem} (audio) ===", flush=True)
        now = scenario.now or datetime.now(UTC).astimezone()
        call = run_audio_call(
            scenario, settings, script, now, models, on_line=print_line, store=True
        )
        summary = asyncio.run(call)
        print_summary(summary, settings.prompts_dir)
        print(f"  recording: {summary['recording']}")
        print(f"  voice-to-voice: {summary['metrics'].get('voice_to_voice_s')}")
    print(f"\n{len(paths)} calls stored in {settings.store_path}")
    return 0
