"""Fuzz the phone lines: a live server on loopback, generated SIP and media-stream input.

    .venv/bin/python scripts/fuzz_lines.py --messages 2000 [--seed 7] [--settle-s 45]

Starts `voicebot serve`'s server as the tests do (SIP and Twilio enabled, in a temporary
working dir, a fake Twilio REST API), sends N SIP datagrams (INVITEs with valid and broken
SDP, every other method, garbage, truncated and huge messages, hostile Call-IDs, bursts
over `max_calls`; answered calls are ACKed and later hung up, or left silent) and N
media-stream sessions (event sequences, broken JSON, bad base64, hostile parameters,
replays, unsigned and forged upgrades, webhooks), then checks that the server still
answers OPTIONS and a normal SIP and Twilio call, created no file outside its working
dirs, never ran more SIP calls than its cap, and left exactly one unchanged summary per
call it answered. Prints the figures; exits 1 when a check fails.

The speech models are left out (`--real-models` loads them): a call is held open, as a
silent conversation would be, until its line closes (far-end BYE or stop, the websocket
gone, or the server's own timeouts); then the real call session ends it, and its pipeline,
missing the models, fails at once, so the call ends as any failing call does: BYE or REST
hang-up, recording, summary. What is fuzzed is the lines, not speech.

The run lives beside its test in tests/telephony: generators `fuzz_*_gen.py`, clients
`fuzz_*_client.py`, the server side `fuzz_runner.py`, the checks `fuzz_checks.py` and the
run itself `fuzz_harness.py`.
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "telephony")]

from fuzz_harness import FuzzResult, run_fuzz  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--messages", type=int, default=2000, help="SIP datagrams and stream sessions, each"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--settle-s", type=float, default=45.0, help="how long silent calls may take to end"
    )
    parser.add_argument("--real-models", action="store_true", help="load the speech models")
    parser.add_argument("--json", type=Path, help="also write figures, checks and errors here")
    args = parser.parse_args()
    from voicebot.simulate import quiet_pipecat_logs

    quiet_pipecat_logs()
    result = asyncio.run(run_fuzz(args.messages, args.seed, args.settle_s, args.real_models))
    report = {"figures": result.figures, "checks": result.checks, "server_errors": result.errors}
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print_report(result)
    return 0 if result.ok else 1


def print_report(result: FuzzResult) -> None:
    for key, value in result.figures.items():
        print(f"{key}: {value}")
    print("\nchecks:")
    for check, failures in result.checks.items():
        print(f"  {check}: {'ok' if not failures else f'FAILED ({len(failures)})'}")
        for failure in failures[:10]:
            print(f"    - {failure}")
    print(f"\nserver errors ({len(result.errors)} kinds):")
    for key, seen in result.errors.items():
        print(f"  [{seen['count']}x] {key}")


if __name__ == "__main__":
    sys.exit(main())
