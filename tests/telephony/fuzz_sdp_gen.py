"""SDP offers for the fuzzed INVITEs: valid, or with one of many defects (`fuzz_gen`'s rule
holds: every address is on this machine, every port one of the fuzzer's RTP sinks)."""

import random
from dataclasses import dataclass, field
from typing import Any

DEFECTS = [
    "port",
    "port",
    "port",
    "conn",
    "conn",
    "codec",
    "codec",
    "no_m",
    "no_c",
    "many_m",
    "huge",
    "lf_only",
    "no_v",
    "pt_junk",
    "dup_c",
    "empty",
]
BAD_CONNECTIONS = [
    "IN IP6 ::1",
    "IN IP4 nohost.invalid",
    "IN IP4 ",
    "IN IP4 127.0.0.256",
    "IN IP4 ::1",
    "IN IP9 127.0.0.1",
    "IN IP4 127.0.0.1/127",
    "garbage",
    "IN IP4 " + "a" * 500 + ".invalid",
    "IN IP4 127.0.0.1\x00",
    "IN IP4 本地.invalid",
    "IN IP6 nohost.invalid",
    "IN IP4 localhost",
]
BAD_CODECS = [
    ("18", ["18 G729/8000"]),
    ("96", ["96 opus/48000/2"]),
    ("0", ["0 PCMA/8000"]),
    ("8 101", ["8 PCMA/8000", "101 telephone-event/8000"]),
    ("0 101", ["0 PCMU/8000", "101 telephone-event/abc"]),
    ("", []),
    ("0 " * 200, ["0 PCMU/8000"]),
]


@dataclass
class _Offer:
    conn: str
    port: Any
    fmts: str = "0 8 101"
    maps: list[str] = field(
        default_factory=lambda: ["0 PCMU/8000", "8 PCMA/8000", "101 telephone-event/8000"]
    )
    extra: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            "v=0",
            "o=fuzz 1 1 IN IP4 127.0.0.1",
            "s=-",
            f"c={self.conn}",
            "t=0 0",
            f"m=audio {self.port} RTP/AVP {self.fmts}",
            *[f"a=rtpmap:{m}" for m in self.maps],
            "a=ptime:20",
            "a=sendrecv",
            *self.extra,
        ]


def sdp_offer(rng: random.Random, rtp_ports: list[int], mutate: bool) -> tuple[str, str]:
    """(kind, SDP): kind "valid", or the defect when `mutate`."""
    conn = "IN IP4 " + rng.choice(["127.0.0.1", "127.0.0.1", "127.1.2.3"])
    offer = _Offer(conn, rng.choice(rtp_ports))
    kind = "valid"
    if mutate:
        kind = rng.choice(DEFECTS)
        _spoil_fields(rng, rtp_ports, kind, offer)
    lines = _spoil_lines(rng, rtp_ports, kind, offer.lines())
    sep = "\n" if kind == "lf_only" else "\r\n"
    return kind, sep.join(lines) + (sep if lines else "")


def _spoil_fields(rng: random.Random, rtp_ports: list[int], kind: str, offer: _Offer) -> None:
    if kind == "port":
        port = rng.choice(rtp_ports)
        offer.port = rng.choice([0, 99999, "abc", -1, 65536, "", "1e3", f"{port}/2", 1])
    elif kind == "conn":
        offer.conn = rng.choice(BAD_CONNECTIONS)
    elif kind == "codec":
        offer.fmts, offer.maps = rng.choice(BAD_CODECS)
    elif kind == "pt_junk":
        offer.fmts = rng.choice(["abc 0", "-1 0", "300 0", "0 x"])
        offer.maps = ["x PCMU/8000"]
    elif kind == "huge":
        offer.extra = [f"a=x-fuzz-{i}:{'y' * 50}" for i in range(rng.randint(100, 900))]
    elif kind == "dup_c":
        offer.extra = ["c=IN IP4 nohost.invalid"]


def _spoil_lines(
    rng: random.Random, rtp_ports: list[int], kind: str, lines: list[str]
) -> list[str]:
    if kind == "no_m":
        return [x for x in lines if not x.startswith(("m=", "a="))]
    if kind == "no_c":
        return [x for x in lines if not x.startswith("c=")]
    if kind == "many_m":
        lines[5:5] = ["m=video 0 RTP/AVP 96", "a=rtpmap:96 H264/90000"]
        lines.append(f"m=audio {rng.choice(rtp_ports)} RTP/AVP 0")
    elif kind == "no_v":
        return lines[1:]
    elif kind == "empty":
        return []
    return lines
