"""What must hold after the fuzz run: every call ended with exactly one summary that nothing
overwrote, no file outside the working dirs, and the server still answers OPTIONS and an
ordinary SIP and Twilio call."""

import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from fuzz_gen import CALLER
from fuzz_runner import FuzzRunner, RunRecord
from fuzz_sip_client import SipClient, sip_client
from fuzz_sip_gen import SipFuzzer
from fuzz_stream_client import StreamFigures, answer
from twilio_peer import TwilioStream, stream_parameters

from telephony.sip.endpoint import SipCall, SipEndpoint
from telephony.sip.settings import SipSettings
from voicebot.store import Store

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {
    ".git",
    ".venv",
    ".tools",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "node_modules",
}


def snapshot(root: Path, skip: set[str]) -> set[str]:
    """Every file below `root`, but in `SKIP_DIRS` and the folders `skip`."""
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [
            d for d in dirnames if d not in SKIP_DIRS and str(Path(dirpath, d)) not in skip
        ]
        found.update(str(Path(dirpath, f)) for f in filenames)
    return found


async def settle(runner: FuzzRunner, endpoint: SipEndpoint, settle_s: float) -> None:
    """Until every call has ended and the endpoint holds none, for `settle_s` at most."""
    deadline = time.perf_counter() + settle_s
    while time.perf_counter() < deadline:
        if all(r.ended for r in runner.runs) and not endpoint.calls:
            return
        await asyncio.sleep(0.2)


def never_ended(r: RunRecord, figs: StreamFigures) -> str:
    sent = figs.plans.get(r.carrier_call_id, "")
    return f"{r.line} call {r.carrier_call_id[:80]!r} never ended" + (
        f" (sent: {sent})" if sent else ""
    )


async def check_options(target: tuple[str, int]) -> list[str]:
    async with sip_client() as client:
        probe = SipFuzzer(0, target, client.port, [9], 1, "probe")
        for _ in range(3):  # UDP: resend as a UA would
            client.send(probe.message("OPTIONS", "probe-options"), target)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(client.options_ok.wait(), 1.0)
                return []
        return [f"no 200 to OPTIONS (got {dict(client.statuses)})"]


async def _new_summary(runner: FuzzRunner, before: int, line: str, timeout_s: float = 20) -> bool:
    """A call on `line` run after the first `before` runs ended with a stored summary."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        done = [r for r in runner.runs[before:] if r.line == line and r.summary is not None]
        stored = {cid for cid, _ in stored_summaries(runner.settings)}
        if any(r.summary["call_id"] in stored for r in done if r.summary):
            return True
        await asyncio.sleep(0.1)
    return False


async def _normal_call(
    runner: FuzzRunner, line: str, name: str, place: Callable[[], Awaitable[str]]
) -> list[str]:
    """`place` makes one ordinary call on `line` and returns its id: it must leave a summary."""
    before = len(runner.runs)
    try:
        call_id = await place()
    except Exception as error:
        return [f"normal {name} call failed: {type(error).__name__}: {error}"]
    if not await _new_summary(runner, before, line):
        return [f"normal {name} call {call_id} left no summary"]
    return []


async def normal_sip_call(target: tuple[str, int], runner: FuzzRunner, rtp_first: int) -> list[str]:
    """A borrower's phone calls, talks a second and hangs up: one summary."""
    sip = SipSettings(
        enabled=True,
        port=0,
        user=CALLER,
        rtp_port_min=rtp_first,
        rtp_port_max=rtp_first + 20,
        answer_timeout_s=10,
    )
    phone = SipEndpoint(sip)
    await phone.start()
    call_ids: list[str] = []

    async def talk(call: SipCall) -> None:
        call_ids.append(call.call_id)
        await asyncio.sleep(1.0)

    async def place() -> str:
        try:
            await asyncio.wait_for(
                phone.place_call(f"sip:voicebot@{target[0]}:{target[1]}", talk), 30
            )
        finally:
            await phone.stop()
        return call_ids[0]

    return await _normal_call(runner, "sip", "SIP", place)


async def normal_twilio_call(base: str, runner: FuzzRunner) -> list[str]:
    """Twilio's voice webhook, then the stream its TwiML names; a second, then `stop`."""
    stream = TwilioStream()

    async def place() -> str:
        try:
            async with aiohttp.ClientSession() as session:
                twiml = (await answer(session, base, stream.call_sid))[1]
            await stream.connect(*stream_parameters(twiml))
            await asyncio.sleep(1.0)
            await stream.stop()
            await stream.wait_closed(20)
        finally:
            await stream.close()
        return stream.call_sid

    return await _normal_call(runner, "twilio", "Twilio", place)


def stored_summaries(settings: Any) -> list[tuple[str, str]]:
    """(call id, summary JSON) of every call in the store."""
    store = Store(settings.store_path)
    try:
        return [(r[0], r[1]) for r in store.db.execute("SELECT call_id, summary_json FROM calls")]
    finally:
        store.close()


def stray_files(tmp: Path, marker: str, repo_before: set[str]) -> list[str]:
    """Files outside the working dirs: in the temp dir beside var/, in /tmp, in the repo."""
    stray = sorted(snapshot(tmp, {str(tmp / "var"), str(tmp / "fuzz")}))
    with os.scandir("/tmp") as entries:
        stray += sorted(e.path for e in entries if marker in e.name)
    new_in_repo = snapshot(ROOT, set()) - repo_before
    shared_caches = str(ROOT / "var" / "cache")  # speech and example vectors, by content
    stray += sorted(
        p
        for p in new_in_repo
        if marker in p or (p.startswith(str(ROOT / "var")) and not p.startswith(shared_caches))
    )
    return [f"created outside the working dirs: {p[:200]!r}" for p in stray]


def summary_failures(
    runner: FuzzRunner, runs: list[RunRecord], client: SipClient, settings: Any
) -> list[str]:
    """Every call run ended with its own summary, stored once and never replaced; every
    SIP dialog answered 200 was run."""
    stored = dict(stored_summaries(settings))
    by_id = Counter(r.summary["call_id"] for r in runner.runs if r.summary)
    failures = [_summary_failure(r, stored, by_id) for r in runner.runs if r.ended]
    sip_runs = [r for r in runs if r.line == "sip"]
    if len(sip_runs) < len(client.answered):
        run_ids = {_printable(r.carrier_call_id) for r in sip_runs}
        missing = [cid for cid, _ in client.answered if _printable(cid) not in run_ids]
        failures.append(
            f"{len(client.answered)} SIP dialogs answered 200, {len(sip_runs)} calls run;"
            f" e.g. never run: {[m[:60] for m in missing[:5]]}"
        )
    return sorted({f for f in failures if f})


def _summary_failure(r: RunRecord, stored: dict[str, str], by_id: Counter[str]) -> str:
    """What is wrong with an ended call's summary ("" when nothing); a call still live is
    reported by still_live_after_settle."""
    if r.summary is None:
        return f"{r.line} call {r.carrier_call_id[:80]!r} returned no summary: {r.error[:300]}"
    cid = r.summary["call_id"]
    if cid not in stored:
        return f"{r.line} call {r.carrier_call_id[:80]!r}: summary {cid[:80]!r} not in the store"
    if by_id[cid] > 1:
        return f"{r.line} call {cid[:80]!r}: {by_id[cid]} calls share one row (overwritten)"
    if json.loads(stored[cid]) != json.loads(json.dumps(r.summary)):
        return f"{r.line} call {cid[:80]!r}: stored summary differs (overwritten)"
    return ""


def _printable(call_id: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in call_id.strip())[:128]
