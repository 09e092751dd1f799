"""A call over an audio line: the voice pipeline around the call's engine.

line in -> VAD -> ASR -> `ConversationProcessor` (the engine) -> TTS -> line out, run on
its own pipecat worker until the conversation ends, the line closes or the call has
lasted `voice.max_call_s`. Keyed digits enter the pipeline as a transcription, as if the
borrower had said them.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pipecat.frames.frames import TranscriptionFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.workers.runner import WorkerRunner

from voicebot.calls.engine import CallEngine
from voicebot.calls.metrics import CallFigures, call_metrics
from voicebot.config import VoiceSettings
from voicebot.speech.audio import mulaw_encode
from voicebot.summary import TimedLine
from voicebot.voice.engine_processor import KEYED_DIGITS, ConversationProcessor
from voicebot.voice.line import SAMPLE_RATE, PhoneLine
from voicebot.voice.pipeline import CallHooks, Profile, VoiceModels, build_pipeline, tuned_profile

DRAIN_S = 1.5  # the last queued words are played before the line is hung up


@dataclass(frozen=True)
class AudioOptions:
    """How an audio call is run; the defaults come from `[voice]`."""

    profile: Profile | None = None  # None: the tuned profile of the settings
    no_input_timeout_s: float | None = None
    max_call_s: float | None = None


class AudioConversation:
    """One call's voice pipeline and the figures it gathers."""

    def __init__(
        self,
        line: PhoneLine,
        engine: CallEngine,
        voice: VoiceSettings,
        record: Callable[[TimedLine], None],
        options: AudioOptions,
    ) -> None:
        self.line = line
        self.max_call_s = options.max_call_s or voice.max_call_s
        self.ended = asyncio.Event()
        self.processor = ConversationProcessor(
            engine,
            line_time=lambda: line.now,
            no_input_timeout_s=options.no_input_timeout_s or voice.no_input_timeout_s,
            on_line=record,
            on_call_ended=self.ended.set,
            vad_start_secs=voice.vad_start_secs,
            wait=line.wait,
        )
        self.figures = CallFigures()
        self.profile = options.profile or tuned_profile(voice)

    async def run(self, models: VoiceModels, on_connected: Callable[[], None]) -> None:
        processor, figures = self.processor, self.figures
        hooks = CallHooks(
            processor.hint, figures.on_transcription, figures.on_synthesis, processor.names
        )
        # Built off the event loop: loading the VAD model takes 0.1-0.3 s, a stall that every
        # other call's audio would hear when many calls start together.
        pipeline = await asyncio.to_thread(
            build_pipeline, self.line, processor, models, self.profile, hooks, processor.on_played
        )
        self.line.attach_key_presses(processor.on_key_pressed)
        on_connected()
        await run_until_ended(pipeline, self.line, self.ended, self.max_call_s)

    def metrics(self) -> dict[str, Any]:
        return call_metrics(self.line, self.processor, self.figures, self.profile)


async def start_worker(pipeline: Pipeline) -> tuple[PipelineWorker, asyncio.Task[None]]:
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


async def run_until_ended(
    pipeline: Pipeline,
    line: PhoneLine,
    ended: asyncio.Event,
    max_call_s: float,
) -> None:
    """Run `pipeline` until `ended` is set, the line closes or `max_call_s` passes.

    The keys the borrower presses enter the pipeline as a transcription, as if said."""
    worker, running = await start_worker(pipeline)

    async def hear(text: str) -> None:
        stamp = datetime.now(UTC).isoformat()
        await worker.queue_frame(TranscriptionFrame(text, KEYED_DIGITS, stamp))

    line.attach_keyed_digits(hear)
    helpers: list[asyncio.Task[Any]] = [
        asyncio.create_task(ended.wait()),
        asyncio.create_task(line.wait_closed()),
    ]
    try:
        await asyncio.wait(
            [*helpers, running], timeout=max_call_s, return_when=asyncio.FIRST_COMPLETED
        )
        if running.done() and running.exception() is not None:
            raise running.exception()  # type: ignore[misc]
    finally:
        await worker.cancel(reason="call ended")
        for task in helpers:
            task.cancel()
        await asyncio.gather(running, *helpers, return_exceptions=True)


async def say_on_line(line: PhoneLine, models: VoiceModels, text: str) -> None:
    """Speak `text` on the line outside the pipeline (the transfer notice), then drain."""
    pcm = await models.speak(text)
    await line.send_from_bot(mulaw_encode(np.asarray(pcm, dtype=np.int16)))
    await drain(line)


async def drain(line: PhoneLine) -> None:
    """Let the bot's last queued audio play (bounded), so the hang-up does not cut it."""
    for _ in range(round(DRAIN_S / 0.02)):
        if line.closed or not line.bot_audio_pending:
            return
        await line.next_tick()
