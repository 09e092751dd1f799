"""`voicebot simulate --audio`: one scripted call over the simulated phone line.

The same engine and summary as the text simulator (`voicebot.simulate`), but the borrower
is heard through the voice pipeline and every figure comes from the line: the recording,
voice-to-voice latency per turn, ASR and TTS time.
"""

import asyncio
import statistics
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.workers.runner import WorkerRunner

from voicebot.config import Settings
from voicebot.conversation.engine import Conversation
from voicebot.conversation.rules import within_calling_window
from voicebot.conversation.script import Script, load_script
from voicebot.conversation.state import CallState, Direction, Outcome
from voicebot.report import print_line, print_summary
from voicebot.scenario import Scenario, load_scenario
from voicebot.simulate import ScenarioDirectory
from voicebot.speech.asr import Transcription
from voicebot.summary import TimedLine, build_summary
from voicebot.understanding.embedding import reader_for
from voicebot.voice.counterpart import ScriptedCounterpart
from voicebot.voice.engine_processor import ConversationProcessor
from voicebot.voice.line import SAMPLE_RATE, SimulatedLine
from voicebot.voice.pipeline import CallHooks, Profile, VoiceModels, build_pipeline, tuned_profile
from voicebot.voice.recording import measure_line, recording_path, write_recording


@dataclass
class CallOptions:
    """How a simulated call is placed; the defaults are `voicebot simulate --audio`."""

    profile: Profile | None = None  # None: the tuned profile from the settings
    cues: Mapping[int, float] = field(default_factory=dict)  # see ScriptedCounterpart
    no_input_timeout_s: float | None = None  # None: from the settings
    reply_gap_s: float = 0.6
    noise_level: float = 0.0
    line_speed: float = 1.0  # >1 only for throughput experiments, never for latency
    max_call_s: float = 300.0


@dataclass
class CallFigures:
    """ASR and TTS figures of one call, gathered from the pipeline's hooks."""

    asr_s: list[float] = field(default_factory=list)
    asr_dropped: list[str] = field(default_factory=list)
    asr_early: int = 0  # turns whose decode started at the speaker's first pause
    tts_s: list[float] = field(default_factory=list)
    tts_cached: list[bool] = field(default_factory=list)

    def on_transcription(self, result: Transcription) -> None:
        self.asr_s.append(round(result.seconds, 3))
        self.asr_early += result.early
        if result.dropped:
            self.asr_dropped.append(result.dropped)

    def on_synthesis(self, _text: str, seconds: float, cached: bool) -> None:
        self.tts_s.append(round(seconds, 3))
        self.tts_cached.append(cached)


async def run_audio_call(
    scenario: Scenario,
    settings: Settings,
    script: Script,
    now: datetime,
    models: VoiceModels,
    *,
    on_line: Callable[[TimedLine], None] | None = None,
    options: CallOptions | None = None,
) -> dict[str, Any]:
    """Place the scenario's call over a simulated line and return its summary."""
    options = options or CallOptions()
    state = CallState(direction=scenario.direction, account=None, now=now)
    if scenario.direction is Direction.OUTBOUND:
        state.account = scenario.account
    call_id = uuid.uuid4().hex
    if scenario.direction is Direction.OUTBOUND and not within_calling_window(
        now, scenario.account.timezone, settings.rules
    ):
        state.within_calling_hours = False
        state.outcome = Outcome.OUTSIDE_CALLING_HOURS
        return build_summary(state, call_id=call_id, started_at=now, ended_at=now, transcript=[])

    conversation = Conversation(
        state,
        script,
        settings,
        ScenarioDirectory(scenario.account),
        scenario.caller,
        reader_for(settings),
    )
    line = SimulatedLine(speed=options.line_speed)
    transcript: list[TimedLine] = []
    figures = CallFigures()
    ended = asyncio.Event()

    def record(line_: TimedLine) -> None:
        transcript.append(line_)
        if on_line:
            on_line(line_)

    voice = settings.voice
    processor = ConversationProcessor(
        conversation,
        line_time=lambda: line.now,
        no_input_timeout_s=options.no_input_timeout_s or voice.no_input_timeout_s,
        on_line=record,
        on_call_ended=ended.set,
        vad_start_secs=voice.vad_start_secs,
        wait=line.wait,
    )
    hooks = CallHooks(
        processor.hint, figures.on_transcription, figures.on_synthesis, processor.names
    )
    profile = options.profile or tuned_profile(voice)
    pipeline = build_pipeline(line, processor, models, profile, hooks, processor.on_played)
    await _run_call(line, pipeline, scenario, models, options, ended)
    if line.hung_up_by == "borrower":
        conversation.hang_up()

    recording = write_recording(line, recording_path(voice.recordings_dir, call_id))
    metrics = call_metrics(line, processor, figures, profile)
    return build_summary(
        state,
        call_id=call_id,
        started_at=now,
        ended_at=now + timedelta(seconds=line.now),
        transcript=sorted(transcript, key=lambda x: x.t),
        recording=str(recording),
        metrics=metrics,
    )


async def start_worker(pipeline: Any) -> tuple[PipelineWorker, asyncio.Task[None]]:
    """Run a call's pipeline on its own worker runner; `worker.cancel()` ends it."""
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=SAMPLE_RATE, audio_out_sample_rate=SAMPLE_RATE),
        enable_rtvi=False,
        idle_timeout_secs=None,
        check_dangling_tasks=False,
    )
    runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
    await runner.add_workers(worker)
    return worker, asyncio.create_task(runner.run())


async def _run_call(
    line: SimulatedLine,
    pipeline: Any,
    scenario: Scenario,
    models: VoiceModels,
    options: CallOptions,
    ended: asyncio.Event,
) -> None:
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
    )
    worker, running = await start_worker(pipeline)
    tasks = [
        running,
        asyncio.create_task(line.run()),
        asyncio.create_task(counterpart.run()),
    ]
    bot_done = asyncio.create_task(ended.wait())
    closed = asyncio.create_task(line.wait_closed())
    await asyncio.wait(
        [bot_done, closed], timeout=options.max_call_s, return_when=asyncio.FIRST_COMPLETED
    )
    line.hang_up("bot")  # no-op when the borrower hung up first
    await worker.cancel(reason="call ended")
    for task in (bot_done, closed, *tasks[1:]):
        task.cancel()
    await asyncio.gather(*tasks, bot_done, closed, return_exceptions=True)


def call_metrics(
    line: SimulatedLine, processor: ConversationProcessor, figures: CallFigures, profile: Profile
) -> dict[str, Any]:
    """The summary's `metrics` of a call on any line: latency, ASR, TTS, barge-in, gaps."""
    timing = measure_line(line, processor.interruptions)
    v2v = [round(x, 3) for x in timing.voice_to_voice]
    return {
        "profile": profile.name,
        "voice_to_voice_s": v2v,
        "voice_to_voice_p50_s": round(statistics.median(v2v), 3) if v2v else None,
        "asr_s": figures.asr_s,
        "asr_dropped": figures.asr_dropped,
        "asr_early": figures.asr_early,
        "tts_s": figures.tts_s,
        "tts_cached": figures.tts_cached,
        "barge_in_stop_s": [round(x, 3) for x in timing.barge_in_stop],
        "max_output_gap_s": round(max(timing.output_gaps, default=0.0), 3),
        "hung_up_by": line.hung_up_by,
    }


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
) -> dict[str, Any]:
    """`voicebot simulate --audio`: load the models and place one call."""
    quiet_pipecat_logs()
    script = load_script(settings.prompts_dir)
    models = VoiceModels(settings.voice)
    return asyncio.run(run_audio_call(scenario, settings, script, now, models, on_line=on_line))


def run_audio_demo(
    settings: Settings,
    paths: Sequence[Path],
    store: Callable[[Settings, dict[str, Any], str], None],
) -> int:
    """`voicebot demo --audio`: the example calls over the simulated line, one by one."""
    quiet_pipecat_logs()
    script = load_script(settings.prompts_dir)
    models = VoiceModels(settings.voice)
    models.warm_up()
    for path in paths:
        scenario = load_scenario(path)
        print(f"\n=== {path.stem} (audio) ===", flush=True)
        now = scenario.now or datetime.now(UTC).astimezone()
        summary = asyncio.run(
            run_audio_call(scenario, settings, script, now, models, on_line=print_line)
        )
        print_summary(summary)
        print(f"  recording: {summary['recording']}")
        print(f"  voice-to-voice: {summary['metrics'].get('voice_to_voice_s')}")
        store(settings, summary, scenario.account.phone)
    print(f"\n{len(paths)} calls stored in {settings.store_path}")
    return 0
