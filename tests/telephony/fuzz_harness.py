"""The fuzz run (`scripts/fuzz_lines.py`, `test_fuzz_lines.py`): starts `voicebot serve`'s
server as the tests do (SIP and Twilio enabled, in a temporary working dir, a fake Twilio
REST API), sends the generated SIP datagrams and stream sessions at once, lets the calls
end, then runs the checks of `fuzz_checks` and gathers the figures."""

import asyncio
import contextlib
import os
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from baresip_peer import free_port
from fuzz_checks import (
    ROOT,
    check_options,
    never_ended,
    normal_sip_call,
    normal_twilio_call,
    settle,
    snapshot,
    stored_summaries,
    stray_files,
    summary_failures,
)
from fuzz_runner import ErrorLog, FuzzRunner, capturing_errors
from fuzz_sip_client import SipClient, send_sip, sip_client
from fuzz_sip_gen import SipFuzzer
from fuzz_stream_client import StreamFigures, send_streams
from fuzz_stream_gen import StreamFuzzer
from live_env import live_settings
from twilio_peer import FakeTwilioApi, twilio_section

from telephony.server import create_server
from telephony.sip.endpoint import SipEndpoint
from telephony.sip.service import SIP_ENDPOINT

SIP_CAP, TWILIO_CAP = 12, 50
RTP_TIMEOUT_S = 4  # [sip] rtp_timeout_s: a call left silent (no BYE, no RTP) ends by then


class Sink(asyncio.DatagramProtocol):
    """Where generated SDP points the bot's RTP: the fuzzer's own ports."""

    packets = 0

    def datagram_received(self, data: bytes, addr: Any) -> None:
        Sink.packets += 1


@dataclass
class FuzzResult:
    figures: dict[str, Any]
    checks: dict[str, list[str]]  # check -> failures (empty: passed)
    errors: dict[str, dict[str, Any]]

    @property
    def ok(self) -> bool:
        return not any(self.checks.values())


@dataclass
class Served:
    """The server under fuzz and where its lines answer."""

    runner: FuzzRunner
    endpoint: SipEndpoint
    base: str  # http://127.0.0.1:<port>: webhooks and media streams
    target: tuple[str, int]  # the SIP endpoint
    rtp_first: int  # its RTP ports start here (400 of them); free above


@dataclass
class FuzzWork:
    """Where one run works: `tmp/var` is the server's, `tmp/fuzz` the fuzzer's."""

    tmp: Path
    marker: str  # in every generated call id and path: finds stray files
    repo_before: set[str]


async def run_fuzz(
    messages: int, seed: int, settle_s: float = 45.0, real_models: bool = False
) -> FuzzResult:
    """Fuzz a fresh server with `messages` SIP datagrams and as many stream sessions."""
    tmp = Path(tempfile.mkdtemp(prefix="fuzz_lines_"))
    own = tmp / "fuzz"
    own.mkdir()
    work = FuzzWork(tmp, f"fz{seed}p{os.getpid()}", snapshot(ROOT, set()))
    settings = live_settings(tmp / "var")
    models = None
    if real_models:
        from voicebot.voice.pipeline import VoiceModels

        models = VoiceModels(settings.voice)
        models.warm_up()
    with capturing_errors(own / "server.log") as errors:
        return await _fuzz(settings, models, work, messages, seed, settle_s, errors)


async def _fuzz(
    settings: Any,
    models: Any,
    work: FuzzWork,
    n: int,
    seed: int,
    settle_s: float,
    errors: ErrorLog,
) -> FuzzResult:
    async with (
        rtp_sinks(4) as rtp_ports,
        serving(settings, models) as served,
        sip_client() as client,
        sampling_peak(served.endpoint) as peak,
    ):
        sip = SipFuzzer(seed, served.target, client.port, rtp_ports, SIP_CAP, work.marker)
        client.fuzzer = sip
        figs = StreamFigures()
        started = time.perf_counter()
        await asyncio.gather(
            send_sip(client, sip, served.target, n),
            send_streams(StreamFuzzer(seed, work.marker), served.base, n, figs),
        )
        sent_s = time.perf_counter() - started
        await settle(served.runner, served.endpoint, settle_s)
        settled_s = time.perf_counter() - started - sent_s
        fuzz_runs = list(served.runner.runs)
        checks = await _live_checks(served, figs)
    runner = served.runner
    peak["sip"] = max(peak["sip"], runner.max_live["sip"])
    checks["sip_cap"] = (
        [f"{peak['sip']} SIP calls at once, cap {SIP_CAP}"] if peak["sip"] > SIP_CAP else []
    )
    checks["files"] = stray_files(work.tmp, work.marker, work.repo_before)
    checks["summaries"] = summary_failures(runner, fuzz_runs, client, settings)
    elapsed_s = time.perf_counter() - started
    figures = {
        "seed": seed,
        **client.figures(),
        **figs.figures(),
        **_call_figures(runner, settings, peak["sip"]),
        "send_s": round(sent_s, 1),
        "settle_s": round(settled_s, 1),
        "elapsed_s": round(elapsed_s, 1),
        "messages_per_s": round(_messages(client, figs) / sent_s, 1),
        "server_error_kinds": len(errors.kinds),
        "work_dir": str(work.tmp),
    }
    return FuzzResult(figures, checks, errors.kinds)


async def _live_checks(served: Served, figs: StreamFigures) -> dict[str, list[str]]:
    """The checks that need the server still up, after the fuzz traffic has settled."""
    live = [r for r in served.runner.runs if not r.ended]
    checks = {"still_live_after_settle": [never_ended(r, figs) for r in live]}
    checks["options"] = await check_options(served.target)
    rtp_free = served.rtp_first + 402
    checks["normal_sip_call"] = await normal_sip_call(served.target, served.runner, rtp_free)
    checks["normal_twilio_call"] = await normal_twilio_call(served.base, served.runner)
    return checks


def _call_figures(runner: FuzzRunner, settings: Any, peak_sip: int) -> dict[str, Any]:
    return {
        "calls_run": dict(Counter(r.line for r in runner.runs)),
        "summaries_stored": len(stored_summaries(settings)),
        "max_concurrent_calls": {
            "sip": peak_sip,
            "sip_cap": SIP_CAP,
            "twilio": runner.max_live["twilio"],
            "twilio_cap": TWILIO_CAP,
        },
        "rtp_packets_at_sinks": Sink.packets,
    }


def _messages(client: SipClient, figs: StreamFigures) -> int:
    return client.sent + client.follow_ups + figs.frames + figs.sessions


def server_sections(base: str, api_url: str, rtp_first: int) -> dict[str, dict[str, Any]]:
    """`voicebot serve`'s settings for the run: both carriers, small caps, short timeouts."""
    return {
        "telephony": {"public_url": base, "max_calls": TWILIO_CAP},
        "twilio": twilio_section(api_url),
        "sip": {
            "enabled": "true",
            "host": "127.0.0.1",
            "port": 0,
            "max_calls": SIP_CAP,
            "rtp_port_min": rtp_first,
            "rtp_port_max": rtp_first + 400,
            "rtp_timeout_s": RTP_TIMEOUT_S,
        },
    }


@contextlib.asynccontextmanager
async def serving(settings: Any, models: Any) -> AsyncIterator[Served]:
    """`voicebot serve`'s server on loopback with a fake Twilio REST API; stopped after."""
    api = await FakeTwilioApi().start()
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        rtp_first = free_port() // 2 * 2
        runner = FuzzRunner(settings, models)
        sections = server_sections(base, api.url, rtp_first)
        app = create_server(settings, sections=sections, runner=runner)
        server = web.AppRunner(app, handle_signals=False, shutdown_timeout=5)
        await server.setup()
        try:
            await web.TCPSite(server, "127.0.0.1", port).start()
            endpoint = app[SIP_ENDPOINT]
            yield Served(runner, endpoint, base, endpoint.local_addr, rtp_first)
        finally:
            await server.cleanup()
    finally:
        await api.stop()


@contextlib.asynccontextmanager
async def rtp_sinks(count: int) -> AsyncIterator[list[int]]:
    """`count` UDP sockets that count what reaches them; their ports."""
    loop = asyncio.get_running_loop()
    sinks = [
        await loop.create_datagram_endpoint(Sink, local_addr=("127.0.0.1", 0)) for _ in range(count)
    ]
    try:
        yield [int(t.get_extra_info("sockname")[1]) for t, _ in sinks]
    finally:
        for t, _ in sinks:
            t.close()


@contextlib.asynccontextmanager
async def sampling_peak(endpoint: SipEndpoint) -> AsyncIterator[dict[str, int]]:
    """The most SIP calls the endpoint held at once (`["sip"]`), sampled every 5 ms."""
    peak = {"sip": 0}

    async def sample() -> None:
        while True:
            peak["sip"] = max(peak["sip"], len(endpoint.calls))
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    try:
        yield peak
    finally:
        sampler.cancel()
