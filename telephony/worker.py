"""Running one live call's pipeline until the conversation ends or the line closes."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from pipecat.frames.frames import TranscriptionFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.workers.runner import WorkerRunner

from telephony.digits import DigitCollector
from voicebot.voice.engine_processor import KEYED_DIGITS
from voicebot.voice.line import SAMPLE_RATE, SimulatedLine


async def run_until_ended(
    pipeline: Pipeline,
    line: SimulatedLine,
    ended: asyncio.Event,
    digits: DigitCollector,
    max_call_s: float,
) -> None:
    """Run `pipeline` until `ended` is set, the line closes or `max_call_s` passes.

    Keyed digits enter the pipeline as a transcription, as if the borrower said them.
    """
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=SAMPLE_RATE, audio_out_sample_rate=SAMPLE_RATE),
        enable_rtvi=False,
        idle_timeout_secs=None,
        check_dangling_tasks=False,
    )

    async def hear(text: str) -> None:
        stamp = datetime.now(UTC).isoformat()
        await worker.queue_frame(TranscriptionFrame(text, KEYED_DIGITS, stamp))

    runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
    await runner.add_workers(worker)
    running = asyncio.create_task(runner.run())
    helpers: list[asyncio.Task[Any]] = [
        asyncio.create_task(ended.wait()),
        asyncio.create_task(line.wait_closed()),
    ]
    keyed = asyncio.create_task(digits.run(hear))
    try:
        await asyncio.wait(
            [*helpers, running], timeout=max_call_s, return_when=asyncio.FIRST_COMPLETED
        )
        if running.done() and running.exception() is not None:
            raise running.exception()  # type: ignore[misc]
    finally:
        await worker.cancel(reason="call ended")
        for task in (*helpers, keyed):
            task.cancel()
        await asyncio.gather(running, keyed, *helpers, return_exceptions=True)
