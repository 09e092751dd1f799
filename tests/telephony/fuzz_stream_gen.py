"""Twilio media-stream sessions for the fuzz suite: event sequences, broken JSON, bad
base64, hostile parameters, replays of earlier calls, unsigned and forged upgrades, and
webhook POSTs. Seeded and reproducible (`random.Random`)."""

import base64
import json
import random
from dataclasses import dataclass, field
from typing import Any

from fuzz_gen import CALLER

PLAN_WEIGHTS = {
    "normal": 22,
    "events": 30,
    "replay": 6,
    "unsigned": 5,
    "wrong_sig": 4,
    "other_url": 3,
    "no_start": 4,
    "bad_start": 7,
    "out_of_order": 6,
    "binary_first": 2,
    "webhook": 8,
    "idle_close": 3,
}
SIGNING = {"unsigned": "none", "wrong_sig": "wrong", "other_url": "other_url"}  # else "valid"
JUNK_TEXTS = [
    "{",
    "null",
    "[]",
    '{"event": 7}',
    '{"event": null}',
    "\x00",
    '{"event":"media","media":{"payload":"' + "A" * 20 + '"',
    "[" * 50000 + "]" * 50000,
    json.dumps({"event": "media", "media": "\x00" * 100}),
    "长" * 1000,
]
CONNECTED = ("text", json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))


@dataclass
class StreamPlan:
    """One websocket session (or webhook POST) as the fuzzer plays it."""

    kind: str
    signing: str  # "valid" | "none" | "wrong" | "other_url"
    query: str = ""
    frames: list[tuple[str, Any]] = field(default_factory=list)  # (text|binary|pause|close|abort)
    webhook: tuple[str, dict[str, str]] | None = None  # (path, form) instead of a stream
    call_sid: str = ""
    answer_first: bool = False  # POST the voice webhook for call_sid first, as Twilio does
    twiml_parameters: bool = False  # the start carries the answer's <Parameter>s


@dataclass
class StreamFuzzer:
    """Stream sessions (`plan`), each drawn from its own seeded generator."""

    seed: int
    marker: str
    rng: random.Random = field(init=False)
    _starts: list[dict[str, Any]] = field(default_factory=list)
    _n: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed ^ 0x5EED)

    def _sid(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self.marker}{self._n}x{self.rng.getrandbits(32):08x}"

    def _params(self) -> dict[str, Any]:
        r, m = self.rng, f"{self.marker}{self._n}"
        params: list[Any] = [
            {"direction": "inbound", "number": "+86" + CALLER},
            {"direction": "inbound", "number": "+86" + CALLER},
            {
                "direction": "inbound",
                "number": "+86" + CALLER,
                "call_id": f"../../../../../../tmp/{m}-ws",
            },
            {"direction": "inbound", "number": "\x00+86\x00", "call_id": f"{m}\x00nul"},
            {"direction": "inbound", "call_id": f"/tmp/{m}-wsabs"},
            {"direction": "outbound", "account_id": "A1001"},
            {"direction": "outbound", "account_id": "../../etc/passwd"},
            {"direction": "inbound", "number": ["list"], "call_id": {"a": 1}},
            {"direction": "inbound", "number": "长" * 5000},
            "not-a-dict",
            None,
        ]
        return r.choice(params)

    def media(self, kind: str = "ok") -> str:
        r = self.rng
        payload: Any = base64.b64encode(bytes(r.getrandbits(8) for _ in range(160))).decode()
        body: Any = {"track": "inbound", "chunk": "1", "timestamp": "20", "payload": payload}
        if kind == "bad":
            choice = r.choice(["b64", "b64", "int", "none", "str_media", "huge", "odd", "empty"])
            if choice == "b64":
                body["payload"] = r.choice(["f/9/f3", "!!!!", "====", "YQ", "\u00e9\u00e9"])
            elif choice == "int":
                body["payload"] = 12345
            elif choice == "none":
                body = None
            elif choice == "str_media":
                body = "payload"
            elif choice == "huge":
                body["payload"] = base64.b64encode(b"\x7f" * r.choice([40000, 700000])).decode()
            elif choice == "odd":
                body["payload"] = base64.b64encode(b"\x7f" * 161).decode()
            else:
                body["payload"] = ""
        return json.dumps({"event": "media", "streamSid": "MZ", "media": body})

    def _event(self, start: dict[str, Any]) -> tuple[str, Any]:
        r = self.rng
        sid = start.get("streamSid", "MZ")
        kind = r.choices(
            ["media", "bad_media", "dtmf", "mark", "unknown", "junk", "binary"],
            [50, 6, 10, 5, 4, 6, 2],
        )[0]
        if kind == "media":
            return "text", self.media()
        if kind == "bad_media":
            return "text", self.media("bad")
        if kind == "dtmf":
            digit = r.choice(["1", "2", "#", "*", "x", 5, "", None, "12"])
            return "text", json.dumps({"event": "dtmf", "streamSid": sid, "dtmf": {"digit": digit}})
        if kind == "mark":
            return "text", json.dumps({"event": "mark", "streamSid": sid, "mark": {"name": "m"}})
        if kind == "unknown":
            return "text", json.dumps({"event": r.choice(["transcription", "x" * 500, "Stop"])})
        if kind == "binary":
            return "binary", bytes(r.getrandbits(8) for _ in range(r.randint(0, 400)))
        return "text", r.choice(JUNK_TEXTS)

    def plan(self) -> StreamPlan:
        r = self.rng
        kind = r.choices(list(PLAN_WEIGHTS), list(PLAN_WEIGHTS.values()))[0]
        if kind == "webhook":
            return self._webhook()
        call_sid, start = self._start(kind)
        frames = self._frames(kind, start, self._start_message(kind, start))
        query = r.choice(["", "", "", f"?call_id=../../tmp/{self.marker}-q", "?x=%00"])
        answer = r.random() < (0.3 if kind == "replay" else 0.05 if kind == "no_start" else 0.9)
        twiml = kind in ("normal", "events") or r.random() < 0.3
        signing = SIGNING.get(kind, "valid")
        return StreamPlan(kind, signing, query, frames, None, str(call_sid), answer, twiml)

    def _start(self, kind: str) -> tuple[str, dict[str, Any]]:
        """The call's sid and `start` payload: a new call, or a replay of an earlier one."""
        call_sid, stream_sid = self._sid("CA"), self._sid("MZ")
        start: dict[str, Any] = {
            "accountSid": "AC" + "0" * 32,
            "callSid": call_sid,
            "streamSid": stream_sid,
            "tracks": ["inbound"],
            "customParameters": self._params(),
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        }
        if kind == "replay" and self._starts:
            start = self.rng.choice(
                self._starts[-40:]
            )  # the same call again: its summary must stay
            call_sid = str(start.get("callSid", ""))
        elif kind in ("normal", "events"):
            self._starts.append(start)
        return call_sid, start

    def _start_message(self, kind: str, start: dict[str, Any]) -> dict[str, Any]:
        start_msg = {
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": start["streamSid"],
            "start": start,
        }
        if kind != "bad_start":
            return start_msg
        return self.rng.choice(
            [
                {"event": "start", "start": start},  # no streamSid
                {"event": "start", "streamSid": "MZ", "start": "x"},
                {
                    "event": "start",
                    "streamSid": "MZ",
                    "start": {**start, "customParameters": "x"},
                },
                {"event": "start", "streamSid": ["MZ"], "start": {**start, "callSid": ["x"]}},
                {
                    "event": "start",
                    "streamSid": "MZ",
                    "start": {**start, "callSid": None, "customParameters": {"call_id": ""}},
                },
            ]
        )

    def _frames(
        self, kind: str, start: dict[str, Any], start_msg: dict[str, Any]
    ) -> list[tuple[str, Any]]:
        r = self.rng
        frames: list[tuple[str, Any]] = [CONNECTED]
        if kind == "out_of_order":
            frames += [("text", self.media()), ("text", json.dumps({"event": "stop"}))]
        if kind == "binary_first":
            frames.append(("binary", b"\x00\x01binary"))
        if kind != "no_start":
            frames.append(("start", start_msg))
        n_events = r.choice([0, 1, 3, 10, 30]) if kind != "normal" else r.choice([1, 5, 15])
        for _ in range(n_events):
            frames.append(self._event(start) if kind != "normal" else ("text", self.media()))
            if r.random() < 0.2:
                frames.append(("pause", r.uniform(0.0, 0.05)))
        if kind == "out_of_order" and r.random() < 0.5:
            frames.append(("start", start_msg))  # a second start
        return frames + self._ending(kind, start)

    def _ending(self, kind: str, start: dict[str, Any]) -> list[tuple[str, Any]]:
        r = self.rng
        frames: list[tuple[str, Any]] = []
        end = r.choices(["stop", "close", "abort", "idle"], [60, 25, 10, 5])[0]
        if kind == "idle_close":
            end = "idle"
        if end == "stop":
            frames.append(
                ("text", json.dumps({"event": "stop", "streamSid": start["streamSid"], "stop": {}}))
            )
            if r.random() < 0.2:
                frames.append(("text", self.media()))  # after stop
        if end == "idle":
            frames.append(("pause", r.uniform(0.3, 1.0)))
        frames.append(("abort" if end == "abort" else "close", None))
        return frames

    def _webhook(self) -> StreamPlan:
        r = self.rng
        path = r.choice(
            ["/telephony/twilio/voice", "/telephony/twilio/status", "/telephony/twilio/dial-result"]
        )
        form = {
            "CallSid": r.choice([self._sid("CA"), f"../../tmp/{self.marker}-wh", "\x00", ""]),
            "From": r.choice(["+86" + CALLER, "\x00", "长" * 300, ""]),
            "CallStatus": r.choice(["completed", "in-progress", "", "\x00" * 3]),
            "CallDuration": r.choice(["12", "-1", "abc", "9" * 40]),
        }
        signing = r.choices(["valid", "none", "wrong"], [70, 15, 15])[0]
        return StreamPlan("webhook", signing, r.choice(["", "?call_id=../x"]), webhook=(path, form))
