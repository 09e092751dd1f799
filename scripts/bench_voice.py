"""Voice benchmark: latency, recognition accuracy, the stock baseline and throughput.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_voice.py [--calls 20] [--concurrency 2]

1. Latency: audio calls of varied scenarios over the simulated line at real-time pace;
   voice-to-voice (end of borrower speech -> first bot audio on the line) p50/p95/max.
2. CER: borrower utterances spoken by the offline voice at two speeds, with line noise,
   through the 8 kHz mu-law line, recognised with the hint the bot would give.
3. Baseline: the same calls through pipecat's stock settings (WhisperSTTService default
   decoding on 16 kHz audio, language zh, VAD stop 0.8 s, no TTS cache), alternating
   with ours in batches; our latency as a ratio to it.
4. Throughput: simultaneous calls until one has an output gap over 100 ms.
5. With `--asr remote`: the CER clips through a local fake OpenAI-compatible ASR server
   and through Whisper here, alternating; the latency remote ASR adds, as a ratio, and a
   stalled server's fallback time (scripts/bench_remote_asr.py).
"""

import argparse
import asyncio
import contextlib
import dataclasses
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cn2an
import numpy as np
import yaml

from voicebot.config import Settings, load_settings
from voicebot.conversation.script import load_script
from voicebot.scenario import Scenario, parse_scenario
from voicebot.simulate import CallOptions, quiet_pipecat_logs, run_audio_call
from voicebot.speech.asr import HINT_DATE_AMOUNT, HINT_DIGITS, HINT_YES_NO
from voicebot.speech.audio import float_to_pcm16, pcm16_to_float, phone_line
from voicebot.speech.offline_tts import OfflineVoice
from voicebot.voice.pipeline import Profile, VoiceModels, stock_profile, tuned_profile

ACCOUNT = {
    "account_id": "A1001", "name": "张伟", "gender": "M", "phone": "13800138000",
    "id_number": "110101199003071234", "product": "个人消费贷款", "overdue_amount": 3250.60,
    "overdue_days": 15, "due_date": "2026-11-10",
}  # fmt: skip
NOW = "2026-11-25T10:00:00+08:00"
SCENARIOS_FILE = Path(__file__).parent.parent / "tests" / "scenarios.yaml"
SCENARIOS: list[list[str]] = [
    ["对，我是", "幺二三四", "我最近失业了", "这周五发工资，全部还上", "对"],
    ["喂，我是他老婆，他在上班"],
    ["你打错了"],
    ["是我", "幺二三四", "最近生病住院了", "月底还一千", "对"],
    ["对", "幺二三四", "我想申请分期"],
    ["对，我是", "幺二三四", "我已经还了"],
    ["是我", "幺二三四", "忘记了", "明天全部还清", "对的"],
    ["我不认识这个人"],
]
_QUESTION = "请问是什么原因没有按时还款呢？"
UTTERANCES: list[tuple[str, str | None]] = [
    *[(t, HINT_YES_NO) for t in ("对，我是", "是我", "好的", "不是", "对的", "没错，是我本人",
                                  "对，你说吧", "是的，有什么事", "嗯，我是张伟", "你打错了")],
    *[(t, HINT_DIGITS) for t in ("幺二三四", "三五零八", "七七八九", "零六四二", "九一五三")],
    *[(t, _QUESTION) for t in ("我最近失业了", "最近生病住院了", "我忘记还款了", "我已经还了",
                               "公司一直拖欠工资", "生意不好，手头紧", "我丢了工作，没有收入",
                               "家里有人生病，花了很多钱", "这笔账不对，我要投诉", "我想申请分期",
                               "能不能减免一些利息", "我想延期还款", "我现在不方便说",
                               "你们能不能别再打电话了", "我要转人工客服")],
    *[(t, HINT_DATE_AMOUNT) for t in ("这周五发工资，全部还上", "明天全部还清", "月底还一千",
                                      "下个月十号还两千", "后天先还五百", "下周一还一千五百块",
                                      "十二月五号全部还上", "月底之前还三千", "周五先还一半",
                                      "发了工资就还")],
]  # fmt: skip
_NOT_TEXT = re.compile(r"[\s，。、！？!?,.;；:：…“”\"']+")
_WORDS_ONLY = re.compile(r"[\u4e00-\u9fff，？！。]{3,}")
_DIGITS = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")


def load() -> str:
    """The machine's 1/5/15-minute load average: other work skews every figure here."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def scenario(entries: list[str], index: int) -> Scenario:
    raw = {"now": NOW, "account": ACCOUNT, "borrower": entries}
    return parse_scenario(raw, Path(f"bench/{index}.yaml"))


async def run_calls(
    settings: Settings,
    models: VoiceModels,
    profile: Profile,
    indexes: range,
    concurrency: int,
) -> list[dict[str, Any]]:
    """Calls `indexes` (cycling through SCENARIOS), `concurrency` at a time, at real time."""
    script = load_script(settings.prompts_dir)
    limit = asyncio.Semaphore(concurrency)

    async def one(i: int) -> dict[str, Any]:
        async with limit:
            sc = scenario(SCENARIOS[i % len(SCENARIOS)], i)
            assert sc.now is not None
            options = CallOptions(profile=profile, no_input_timeout_s=3.0)
            return await run_audio_call(sc, settings, script, sc.now, models, options=options)

    return list(await asyncio.gather(*(one(i) for i in indexes)))


async def compare(
    settings: Settings, models: VoiceModels, profiles: list[Profile], calls: int, concurrency: int
) -> dict[str, list[dict[str, Any]]]:
    """The same calls through each profile, alternating in batches of `concurrency` calls.

    Alternating keeps the profiles under the same outside load (other work on the machine
    comes and goes), so their ratio is fair even when the absolute figures drift.
    """
    results: dict[str, list[dict[str, Any]]] = {p.name: [] for p in profiles}
    for start in range(0, calls, concurrency):
        batch = range(start, min(calls, start + concurrency))
        for profile in profiles:
            results[profile.name] += await run_calls(settings, models, profile, batch, concurrency)
    return results


def latency_report(name: str, summaries: list[dict[str, Any]], vad_stop_s: float) -> list[float]:
    v2v = [x for s in summaries for x in s["metrics"]["voice_to_voice_s"]]
    asr = [x for s in summaries for x in s["metrics"]["asr_s"]]
    tts = [x for s in summaries for x in s["metrics"]["tts_s"]]
    print(
        f"[{name}] {len(summaries)} calls, {len(v2v)} turns: voice-to-voice p50 "
        f"{percentile(v2v, 50):.3f} s, p95 {percentile(v2v, 95):.3f} s, max {max(v2v):.3f} s;"
        f" ASR p50 {percentile(asr, 50):.3f} s, p95 {percentile(asr, 95):.3f} s;"
        f" TTS p50 {percentile(tts, 50):.3f} s"
    )
    outcomes: dict[str, int] = {}
    for s in summaries:
        outcomes[s["outcome"]] = outcomes.get(s["outcome"], 0) + 1
    early = sum(s["metrics"].get("asr_early", 0) for s in summaries)
    print(f"[{name}] outcomes: {outcomes}; early decodes used {early}; load average {load()}")
    rest = percentile(v2v, 50) - vad_stop_s - percentile(asr, 50) - percentile(tts, 50)
    print(
        f"[{name}] where a median turn goes: VAD stop {vad_stop_s:.2f} s + ASR "
        f"{percentile(asr, 50):.2f} s + TTS {percentile(tts, 50):.2f} s + rest {rest:.2f} s"
    )
    return v2v


def normalise(text: str) -> str:
    """Text for CER: no punctuation, numbers as digits (spoken or written)."""
    bare = _NOT_TEXT.sub("", text)
    with contextlib.suppress(ValueError, KeyError):
        bare = cn2an.transform(bare, "cn2an")
    return bare.translate(_DIGITS)


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _speak(voice: OfflineVoice, text: str, noise: float, rng: np.random.Generator) -> tuple:
    """The offline voice saying `text`, with line noise, through the 8 kHz mu-law line."""
    audio, rate = voice.synthesize(text)
    noisy = pcm16_to_float(audio) + rng.normal(0, noise, audio.size).astype(np.float32)
    return phone_line(float_to_pcm16(noisy), rate)


def _errors(
    models: VoiceModels, audio: tuple[np.ndarray, int], text: str, hint: str | None
) -> tuple[int, ...]:
    """Edit distance after and before phrase correction, and the reference length."""
    heard = models.transcriber.transcribe_detailed(*audio, hint, names=(str(ACCOUNT["name"]),))
    ref, hyp = normalise(text), normalise(heard.text)
    if ref != hyp:
        print(f"  {text} -> {heard.text}  (heard {heard.uncorrected})")
    return edit_distance(ref, hyp), edit_distance(ref, normalise(heard.uncorrected)), len(ref)


def held_out() -> list[str]:
    """Borrower lines of the scenario suite that the CER set and its tuning never saw."""
    tuned = {normalise(text) for text, _ in UTTERANCES}
    cases = yaml.safe_load(SCENARIOS_FILE.read_text(encoding="utf-8"))
    lines = [line for case in cases for line in case["borrower"] if isinstance(line, str)]
    lines = [line for line in lines if _WORDS_ONLY.fullmatch(line)]  # digits are tested apart
    return list(dict.fromkeys(line for line in lines if normalise(line) not in tuned))


def _cer(cells: list[tuple[int, ...]]) -> str:
    after, before, chars = (sum(c[k] for c in cells) for k in range(3))
    return f"{after / chars:.1%} (before phrase correction {before / chars:.1%})"


def cer_report(models: VoiceModels, settings: Settings, noises: list[float], draws: int) -> None:
    """CER per speed and noise level, over the noisy conditions, and on held-out lines.

    Each noisy condition is measured over `draws` noise draws: one draw's figure moves by
    two points with the seed (10.0 % vs 12.2 % for the same decoder).
    """
    cells: dict[tuple[float, float], list[tuple[int, ...]]] = {}
    rng = np.random.default_rng(7)
    for speed in (1.0, 1.2):
        voice = OfflineVoice(settings.voice.cache_dir, speed=speed)
        for text, hint in UTTERANCES:
            for noise in noises:
                for _ in range(draws if noise else 1):
                    audio = _speak(voice, text, noise, rng)
                    cells.setdefault((speed, noise), []).append(_errors(models, audio, text, hint))
    for (speed, noise), cell in sorted(cells.items()):
        print(f"[CER] speed {speed}, noise {noise}: {_cer(cell)}")
    noisy = [c for (_, noise), cell in cells.items() if noise > 0 for c in cell]
    print(f"[CER] {len(UTTERANCES)} utterances x speeds 1.0, 1.2 with line noise, {draws} draws: "
          f"{_cer(noisy)}")  # fmt: skip
    voice, lines, noise = OfflineVoice(settings.voice.cache_dir), held_out(), max(noises)
    unseen = [
        _errors(models, _speak(voice, line, noise, rng), line, None)
        for line in lines
        for _ in range(draws if noise else 1)
    ]
    print(f"[CER] held out: {len(lines)} scenario lines, speed 1.0, noise {noise}, no hint: "
          f"{_cer(unseen)}")  # fmt: skip


def remote_asr_report(models: VoiceModels, settings: Settings, delay_s: float | None) -> None:
    """The CER utterances (no noise) through the remote path vs the offline decode."""
    from bench_remote_asr import Clip, measure  # scripts/, beside this file

    voice, rng = OfflineVoice(settings.voice.cache_dir), np.random.default_rng(7)
    clips = [Clip(*_speak(voice, text, 0.0, rng), text, hint) for text, hint in UTTERANCES]
    asyncio.run(measure(models, clips, delay_s=delay_s))


async def throughput(settings: Settings, models: VoiceModels, levels: list[int]) -> int:
    """The most simultaneous calls with no output gap over 100 ms (real-time pace)."""
    sustained = 0
    for level in levels:
        profile = tuned_profile(settings.voice)
        summaries = await run_calls(settings, models, profile, range(level), level)
        gap = max(s["metrics"]["max_output_gap_s"] for s in summaries)
        v2v = [x for s in summaries for x in s["metrics"]["voice_to_voice_s"]]
        print(f"[throughput] {level} calls: max output gap {gap:.2f} s, v2v p50 "
              f"{percentile(v2v, 50):.2f} s")  # fmt: skip
        if gap > 0.1:
            break
        sustained = level
    print(f"[throughput] sustained without a gap over 100 ms: {sustained} simultaneous calls")
    return sustained


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--levels", default="1,2,3,4")
    parser.add_argument("--noise", default="0,0.01", help="line noise levels (RMS) for CER")
    parser.add_argument("--draws", type=int, default=3, help="noise draws per noisy CER clip")
    parser.add_argument("--skip", default="", help="comma list of: latency,cer,baseline,load")
    parser.add_argument(
        "--asr",
        choices=("offline", "remote"),
        default="offline",
        help="remote: also measure ASR through a local fake server",
    )
    parser.add_argument(
        "--remote-delay",
        type=float,
        default=None,
        help="the fake answers the reference text after this many seconds "
        "(default: it decodes with Whisper base, as a server on this box)",
    )
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    quiet_pipecat_logs()
    settings = load_settings()
    voice = dataclasses.replace(settings.voice, recordings_dir=Path("var/bench/recordings"))
    settings = dataclasses.replace(settings, voice=voice)
    started = time.perf_counter()
    models = VoiceModels(settings.voice)
    models.warm_up()
    print(f"models loaded in {time.perf_counter() - started:.1f} s; load average {load()}")
    profiles = [tuned_profile(voice)] + ([] if "baseline" in skip else [stock_profile()])
    if "latency" not in skip:
        results = asyncio.run(compare(settings, models, profiles, args.calls, args.concurrency))
        figures = {
            p.name: latency_report(p.name, results[p.name], p.vad.stop_secs) for p in profiles
        }
        if "stock" in figures:
            ours, base = figures["tuned"], figures["stock"]
            print(
                f"[ratio] tuned/stock voice-to-voice: p50 "
                f"{statistics.median(ours) / statistics.median(base):.2f}, p95 "
                f"{percentile(ours, 95) / percentile(base, 95):.2f}, mean "
                f"{statistics.mean(ours) / statistics.mean(base):.2f}"
            )
    if "cer" not in skip:
        cer_report(models, settings, [float(x) for x in args.noise.split(",")], args.draws)
    if args.asr == "remote":
        remote_asr_report(models, settings, args.remote_delay)
    if "load" not in skip:
        asyncio.run(throughput(settings, models, [int(x) for x in args.levels.split(",")]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
