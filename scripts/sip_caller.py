"""The far end of the SIP load check: N borrowers calling the bot at once, from one process.

    .venv/bin/python scripts/sip_caller.py sip:voicebot@127.0.0.1:5060 --calls 20 \
        --answers DIR > result.json

Each call is placed through our own SIP endpoint (a UAC on its own UDP socket and RTP
ports) and behaves like a patient borrower: once the bot has spoken and then been quiet
for 2.5 s it says the next recorded answer (DIR/answer*.wav, 8 kHz mono), and after the
bot's reply to the last one it hangs up. It runs in its own process, so its clock is not
the bot's: every RTP packet of bot audio is timestamped on arrival.

Per call it reports the largest gap between two arriving bot packets during the call and,
per answer, voice-to-voice: from the last packet of the answer sent to the first packet
of bot speech received.
"""

import argparse
import asyncio
import json
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from telephony.sip.endpoint import SipCall, SipEndpoint
from telephony.sip.settings import SipSettings
from voicebot.speech.audio import mulaw_decode, mulaw_encode

FRAME = 160
SPEECH_RMS = 300.0
GAP_S = 2.5  # patient: under load the bot can pause over a second between sentences
SETTLE_S = 10.0
CALLER_NUMBER = "13800138000"  # the account on file: the bot finds it by this number


@dataclass
class CallRecord:
    arrivals: list[tuple[float, bool]] = field(default_factory=list)  # (time, bot speech?)
    answers_ended: list[float] = field(default_factory=list)
    error: str = ""

    def figures(self) -> dict[str, Any]:
        times = [t for t, _ in self.arrivals]
        gaps = np.diff(times) if len(times) > 1 else np.zeros(1)
        # Past the first SETTLE_S of the call: the other calls' set-up is over by then.
        settled = [t for t in times if times and t > times[0] + SETTLE_S]
        later = np.diff(settled) if len(settled) > 1 else np.zeros(1)
        v2v = []
        for ended in self.answers_ended:
            reply = next((t for t, loud in self.arrivals if loud and t > ended), None)
            if reply is not None:
                v2v.append(round(reply - ended, 3))
        return {
            "error": self.error,
            "packets": len(times),
            "max_gap_ms": round(float(gaps.max()) * 1000, 1),
            "max_gap_settled_ms": round(float(later.max()) * 1000, 1),
            "voice_to_voice_s": v2v,
        }


def read_answers(directory: Path) -> list[bytes]:
    answers = []
    for path in sorted(directory.glob("answer*.wav")):
        with wave.open(str(path), "rb") as wav:
            pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        answers.append(mulaw_encode(pcm))
    return answers


def _loud(payload: bytes) -> bool:
    pcm = mulaw_decode(payload).astype(np.float64)
    return bool(np.sqrt(np.mean(pcm**2)) > SPEECH_RMS)


async def borrower(call: SipCall, answers: list[bytes], record: CallRecord) -> None:
    line = call.line
    rtp_in = line.rtp._rtp_transport  # the packets as they arrive, before the jitter buffer
    forward = rtp_in._on_rtp

    def arrived(data: bytes, addr: tuple[str, int]) -> None:
        record.arrivals.append((time.perf_counter(), _loud(data[12:])))
        forward(data, addr)

    rtp_in._on_rtp = arrived
    heard_from = 0
    for answer in [*answers, None]:
        await _bot_turn_end(call, heard_from)
        if answer is None or line.closed:
            break
        await line.send_from_bot(answer)
        while line.bot_audio_pending and not line.closed:
            await line.next_tick()
        record.answers_ended.append(time.perf_counter())
        heard_from = line.ticks
    line.hang_up("bot")


async def _bot_turn_end(call: SipCall, heard_from: int) -> None:
    """Until the bot has spoken since tick `heard_from` of our line, then been quiet."""
    quiet_needed = round(GAP_S / 0.02)
    spoke, quiet, seen = False, 0, heard_from
    while not call.line.closed:
        frames = call.line.borrower_frames  # what this side hears: the bot
        for frame in frames[seen:]:
            loud = _frame_loud(frame)
            spoke, quiet = spoke or loud, 0 if loud else quiet + 1
        seen = len(frames)
        if spoke and quiet >= quiet_needed:
            return
        await call.line.next_tick()


def _frame_loud(frame: np.ndarray) -> bool:
    return bool(np.sqrt(np.mean(frame.astype(np.float64) ** 2)) > SPEECH_RMS)


async def place_calls(target: str, calls: int, answers: list[bytes]) -> list[dict[str, Any]]:
    settings = SipSettings(
        port=0, user=CALLER_NUMBER, codecs=(0,), rtp_port_min=40000, rtp_port_max=40999
    )
    endpoint = SipEndpoint(settings)
    await endpoint.start()
    records = [CallRecord() for _ in range(calls)]

    async def one(record: CallRecord) -> None:
        try:
            await endpoint.place_call(target, lambda call: borrower(call, answers, record))
        except Exception as error:  # reported per call: the load check goes on
            record.error = f"{type(error).__name__}: {error}"

    try:
        await asyncio.gather(*(one(record) for record in records))
    finally:
        await endpoint.stop()
    return [record.figures() for record in records]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", help="the bot's SIP URI")
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--answers", type=Path, required=True)
    args = parser.parse_args()
    results = asyncio.run(place_calls(args.target, args.calls, read_answers(args.answers)))
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
