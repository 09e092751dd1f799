"""The phone lines under fuzz: 2,000 generated SIP datagrams (SDP bodies included) and
2,000 generated media-stream sessions against a live server on loopback (`fuzz_harness`),
then its checks (`fuzz_checks`): OPTIONS and a normal SIP and Twilio call still work, no file
outside the working dirs, the SIP cap held, every call run left exactly one summary that
nothing overwrote. `scripts/fuzz_lines.py --messages N` runs longer."""

import asyncio
import json

import pytest
from fuzz_gen import check_addresses, host_is_safe
from fuzz_harness import FuzzResult, run_fuzz
from fuzz_sip_gen import SipFuzzer
from fuzz_stream_gen import StreamFuzzer

MESSAGES = 2000  # of each: the CI run
SEED = 20261129


def test_every_generated_address_stays_on_this_machine() -> None:
    sip = SipFuzzer(SEED, ("127.0.0.1", 5060), 40000, [40002, 40004], 12, "fzcheck")
    groups = sip.groups()
    sent = 0
    while sent < MESSAGES:
        group = next(groups)  # `groups` asserts each datagram; this re-checks
        sent += len(group)
        assert all(not check_addresses(d.data) for d in group)
    for host in ("10.0.0.1", "8.8.8.8", "1.2.3", "example.com", "::2", "12"):
        assert not host_is_safe(host), host
    for host in ("127.0.0.1", "127.1", "::1", "localhost", "nohost.invalid", "@@@", "127.0.0.256"):
        assert host_is_safe(host), host


def test_generation_is_reproducible() -> None:
    def first(seed: int) -> list[bytes]:
        groups = SipFuzzer(seed, ("127.0.0.1", 5060), 40000, [40002], 12, "fz").groups()
        return [d.data for _ in range(50) for d in next(groups)]

    assert first(SEED) == first(SEED) != first(SEED + 1)
    plans = [StreamFuzzer(SEED, "fz").plan() for _ in range(2)]
    assert plans[0] == plans[1]


@pytest.fixture(scope="module")
def fuzzed() -> FuzzResult:
    return asyncio.run(run_fuzz(MESSAGES, SEED, settle_s=30.0))


def test_the_fuzz_run_sent_what_ci_requires(fuzzed: FuzzResult) -> None:
    figures = fuzzed.figures
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    assert figures["sip_messages_sent"] >= MESSAGES
    assert figures["stream_sessions"] >= MESSAGES


@pytest.mark.parametrize(
    "check",
    [
        "options",
        "normal_sip_call",
        "normal_twilio_call",
        "still_live_after_settle",
        "sip_cap",
        "files",
        "summaries",
    ],
)
def test_after_the_fuzz(fuzzed: FuzzResult, check: str) -> None:
    failures = fuzzed.checks[check]
    assert not failures, f"{check}: {len(failures)} failures:\n" + "\n".join(failures[:20])
