"""The pipeline's side of a phone line: keyed digits enter the pipeline as the borrower's
words (a transcription from `KEYED_DIGITS`, `*` as the X of an ID), beside the audio."""

import asyncio

from pipecat.frames.frames import Frame, InputAudioRawFrame, TranscriptionFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner

from voicebot.scenario import DtmfEntry
from voicebot.voice.engine_processor import KEYED_DIGITS
from voicebot.voice.line import InProcessLine
from voicebot.voice.transport import LineTransport


class Heard(FrameProcessor):
    """What reaches the processor after the line's input: keyed groups and audio."""

    def __init__(self) -> None:
        super().__init__()
        self.transcriptions: list[TranscriptionFrame] = []
        self.audio_frames = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, TranscriptionFrame):
            self.transcriptions.append(frame)
        elif isinstance(frame, InputAudioRawFrame):
            self.audio_frames += 1
        await self.push_frame(frame, direction)


async def test_keys_pressed_on_the_line_reach_the_pipeline_as_a_keyed_transcription() -> None:
    line = InProcessLine()
    heard = Heard()
    worker = PipelineWorker(
        Pipeline([LineTransport(line).input(), heard]),
        params=PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000),
        enable_rtvi=False,
        idle_timeout_secs=None,
        check_dangling_tasks=False,
    )
    runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
    await runner.add_workers(worker)
    running = asyncio.create_task(runner.run())
    line.press("123*#")  # while the pipeline starts: kept until it listens
    clock = asyncio.create_task(line.run())
    try:
        async with asyncio.timeout(10):
            while not (heard.transcriptions and heard.audio_frames):
                await line.next_tick()
    finally:
        line.hang_up("bot")
        await worker.cancel(reason="test over")
        await asyncio.gather(running, clock, return_exceptions=True)

    [keyed] = heard.transcriptions
    assert (keyed.text, keyed.user_id) == ("123X", KEYED_DIGITS)  # * keys an ID's X
    assert DtmfEntry("123*#").heard == (keyed.text,)  # as the text simulator hears it
    assert heard.audio_frames > 0  # the caller's audio flows beside it
