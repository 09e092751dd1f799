"""SIP load check: 20 simultaneous calls on loopback against one call, in the same run.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_sip.py [--calls 20]

The bot runs here: its SIP endpoint and the full voice pipeline (Silero VAD, Whisper, the
engine, the offline voice), the models shared by every call. The borrowers run in another
process (`scripts/sip_caller.py`: our own SIP endpoint as the UAC, one RTP stream per
call), so their clock is not the bot's: each dials in, says "我想查一下还欠多少钱" and
"幺二三四" (the offline voice) when the bot has finished a turn, and hangs up after
the bot's reply to the second. First one call alone, then `--calls` at once.

Printed per run, as the far end measured them: the largest gap between two arriving
packets of bot audio (the bot sends 20 ms packets without pause, so 20 ms is perfect),
voice-to-voice per answer (end of the answer sent -> first bot speech received), and
the load run's figures as a ratio to the single call's.
"""

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from telephony.sip.endpoint import SipEndpoint
from telephony.sip.service import SipCalls
from telephony.sip.settings import SipSettings
from voicebot.accounts import parse_account
from voicebot.calls import CallSessions
from voicebot.config import load_settings
from voicebot.simulate import quiet_pipecat_logs
from voicebot.store import Store
from voicebot.voice.pipeline import VoiceModels

ACCOUNT = {
    "account_id": "A1001", "name": "张伟", "gender": "M", "phone": "13800138000",
    "id_number": "110101199003071234", "product": "个人消费贷款", "overdue_amount": 3250.60,
    "overdue_days": 15, "due_date": "2026-11-10",
}  # fmt: skip
ANSWERS = ["我想查一下还欠多少钱", "幺二三四"]
CALLER = Path(__file__).resolve().parent / "sip_caller.py"
TIMEOUT_S = 600


def write_answers(models: VoiceModels, directory: Path) -> None:
    import wave

    for i, text in enumerate(ANSWERS):
        pcm = np.asarray(models.tts_cache.speak(text)[0], dtype="<i2")
        with wave.open(str(directory / f"answer{i}.wav"), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            wav.writeframes(pcm.tobytes())


async def run_callers(target: str, calls: int, answers: Path) -> list[dict[str, Any]]:
    command = [sys.executable, str(CALLER), target, "--calls", str(calls), "--answers"]
    process = await asyncio.create_subprocess_exec(
        *command, str(answers), stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": "."}
    )
    out, _ = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
    return list(json.loads(out))


def describe(name: str, results: list[dict[str, Any]], seconds: float) -> dict[str, float]:
    ok = [r for r in results if not r["error"] and r["voice_to_voice_s"]]
    gaps = [r["max_gap_ms"] for r in ok]
    settled = [r["max_gap_settled_ms"] for r in ok]
    v2v = [x for r in ok for x in r["voice_to_voice_s"]]
    figures = {
        "gap_max_ms": max(gaps, default=float("nan")),
        "gap_p50_ms": statistics.median(gaps) if gaps else float("nan"),
        "gap_settled_max_ms": max(settled, default=float("nan")),
        "v2v_p50_s": statistics.median(v2v) if v2v else float("nan"),
        "v2v_p90_s": float(np.percentile(v2v, 90)) if v2v else float("nan"),
        "v2v_max_s": max(v2v, default=float("nan")),
    }
    errors = [r["error"] for r in results if r["error"]]
    print(f"\n{name}: {len(ok)}/{len(results)} calls completed in {seconds:.0f} s", flush=True)
    if errors:
        print(f"  failures: {errors[:3]}")
    print(
        f"  largest gap between bot packets: max {figures['gap_max_ms']:.0f} ms, "
        f"median over calls {figures['gap_p50_ms']:.0f} ms (20 ms is perfect); after the "
        f"first 10 s of each call: max {figures['gap_settled_max_ms']:.0f} ms"
    )
    print(
        f"  voice-to-voice: p50 {figures['v2v_p50_s']:.2f} s, p90 {figures['v2v_p90_s']:.2f} s,"
        f" max {figures['v2v_max_s']:.2f} s over {len(v2v)} answers"
    )
    return figures


async def bench(calls: int) -> None:
    settings = load_settings()
    work = Path(tempfile.mkdtemp(prefix="bench_sip_"))
    voice = dataclasses.replace(settings.voice, recordings_dir=work / "recordings")
    settings = dataclasses.replace(settings, voice=voice, store_path=work / "calls.sqlite3")
    store = Store(settings.store_path)
    store.upsert_account(parse_account(ACCOUNT))
    store.close()
    models = VoiceModels(settings.voice)
    models.warm_up()
    answers = work / "answers"
    answers.mkdir()
    write_answers(models, answers)
    sip = SipSettings(port=0, rtp_port_min=30000, rtp_port_max=30999, max_calls=calls + 5)
    endpoint = SipCalls(CallSessions(settings, models), SipEndpoint(sip)).endpoint
    await endpoint.start()
    host, port = endpoint.local_addr
    target = f"sip:voicebot@{host}:{port}"
    print(f"bot at {target}; load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    try:
        started = time.perf_counter()
        single = describe(
            "1 call", await run_callers(target, 1, answers), time.perf_counter() - started
        )
        started = time.perf_counter()
        load = describe(
            f"{calls} calls at once",
            await run_callers(target, calls, answers),
            time.perf_counter() - started,
        )
    finally:
        await endpoint.stop()
    print(f"\n{calls} calls vs 1 call (ratio): ", end="")
    print(", ".join(f"{key} x{load[key] / single[key]:.2f}" for key in single if single[key]))
    store = Store(settings.store_path)
    summaries = list(store.calls())
    store.close()
    send_gaps = sorted(s["metrics"].get("sip", {}).get("max_send_gap_ms", 0) for s in summaries)
    print(
        f"bot side: {len(summaries)} summaries stored; largest wall-clock gap between two "
        f"packets sent, per call: median {statistics.median(send_gaps or [0]):.0f} ms, "
        f"max {max(send_gaps, default=0):.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    quiet_pipecat_logs()
    asyncio.run(bench(args.calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
