"""SIP datagrams for the fuzz suite: INVITEs with valid and broken SDP (`fuzz_sdp_gen`),
every other method, garbage, truncated and huge messages, hostile Call-IDs, bursts over
`max_calls`, and the in-dialog requests that play an answered call on. Each datagram's
addresses are checked (`fuzz_gen.check_addresses`) before it is handed out."""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from fuzz_gen import CALLER, check_addresses
from fuzz_sdp_gen import sdp_offer

EVIL_HOSTS = [
    "nohost.invalid",
    "::1",
    "[::1]",
    "localhost",
    "127.0.0.256",
    "",
    "@@@",
    "本地.invalid",
]
OTHER_METHODS = ["REGISTER", "SUBSCRIBE", "NOTIFY", "PRACK", "UPDATE", "MESSAGE", "PUBLISH", "FOO"]
GROUP_WEIGHTS = {  # what `SipFuzzer.groups` sends, by its `_g_<kind>` method
    "invite": 22,
    "invite_bad_sdp": 14,
    "evil_call_id": 9,
    "options": 7,
    "bye": 4,
    "cancel": 3,
    "ack": 3,
    "in_dialog": 7,
    "other_method": 3,
    "garbage": 6,
    "truncated": 6,
    "huge": 4,
    "headers": 6,
    "duplicate_call_id": 4,
    "burst": 0.15,
    "stray_response": 2,
}
HEADER_DEFECTS = [
    "cl_big",
    "cl_small",
    "cl_neg",
    "cl_junk",
    "no_call_id",
    "no_cseq",
    "cseq_junk",
    "no_from",
    "no_via",
    "bad_uri",
    "bare_lf",
    "no_tag",
]


@dataclass
class Invite:
    """An INVITE the fuzzer sent and what it does once answered."""

    call_id: str
    from_tag: str
    branch: str
    uri: str
    follow_up: str  # "bye" | "hold" (no BYE: RTP inactivity) | "no_ack" | "cancel"
    bye_after_s: float = 0.5
    to_tag: str = ""
    cseq: int = 1
    kind: str = ""


@dataclass
class Datagram:
    data: bytes
    kind: str
    invite: Invite | None = None


@dataclass
class SipFuzzer:
    """SIP requests to `target` (the bot), answered to `via_port` (the fuzzer's socket)."""

    seed: int
    target: tuple[str, int]
    via_port: int
    rtp_ports: list[int]
    max_calls: int
    marker: str  # in every generated call id and path: finds stray files
    rng: random.Random = field(init=False)
    answered: list[Invite] = field(default_factory=list)  # told by the driver
    _n: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # --- pieces ----------------------------------------------------------------------

    def _id(self) -> str:
        self._n += 1
        return f"{self.marker}-{self._n}-{self.rng.getrandbits(32):08x}"

    def evil_call_id(self) -> str:
        n, m = self._id(), self.marker
        return self.rng.choice(
            [
                f"../../../../../../../../tmp/{n}-trav",
                f"../../{n}-up",
                f"/tmp/{n}-abs",
                f"{n}\x00nul",
                f"{n}\rX-Injected: 1",
                f"{n}-长号-ユニ-é",
                f"{n}/sub/dir",
                f"{m}-{'x' * 3000}",
                f"{n}%2e%2e%2f",
                f"{n}\\..\\win",
                "..",
                f" {n} ",
            ]
        )

    def sdp(self, mutate: bool) -> tuple[str, str]:
        """An SDP offer: valid (kind "valid") or with one of many defects."""
        return sdp_offer(self.rng, self.rtp_ports, mutate)

    def message(
        self,
        method: str,
        call_id: str,
        *,
        body: str = "",
        from_tag: str = "",
        to_tag: str = "",
        cseq: int = 1,
        branch: str = "",
        extra: list[str] | None = None,
        uri: str = "",
        content_length: str | None = None,
        via_host: str = "127.0.0.1",
    ) -> bytes:
        host, port = self.target
        uri = uri or f"sip:voicebot@{host}:{port}"
        branch = branch or "z9hG4bK" + self._id().replace(".", "")[-24:]
        to = f"<sip:voicebot@{host}:{port}>" + (f";tag={to_tag}" if to_tag else "")
        headers = [
            f"Via: SIP/2.0/UDP {via_host}:{self.via_port};branch={branch};rport",
            "Max-Forwards: 70",
            f'From: "借款人" <sip:{CALLER}@127.0.0.1:{self.via_port}>;tag={from_tag or "ft"}',
            f"To: {to}",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:{CALLER}@127.0.0.1:{self.via_port}>",
            *(extra or []),
        ]
        if body:
            headers.append("Content-Type: application/sdp")
        raw = body.encode("utf-8", "surrogateescape")
        headers.append(f"Content-Length: {len(raw) if content_length is None else content_length}")
        head = f"{method} {uri} SIP/2.0\r\n" + "\r\n".join(headers) + "\r\n\r\n"
        return head.encode("utf-8", "surrogateescape") + raw

    def invite(self, call_id: str, kind: str, sdp: str, follow_up: str = "") -> Datagram:
        r = self.rng
        follow_up = follow_up or r.choices(["bye", "hold", "no_ack", "cancel"], [86, 4, 4, 6])[0]
        info = Invite(
            call_id,
            f"t{r.getrandbits(40):x}",
            f"z9hG4bK{r.getrandbits(64):x}",
            "",
            follow_up,
            bye_after_s=r.uniform(0.05, 2.0),
            kind=kind,
        )
        data = self.message("INVITE", call_id, body=sdp, from_tag=info.from_tag, branch=info.branch)
        return Datagram(data, f"invite_{kind}", info)

    def in_dialog(
        self, call: Invite, method: str, body: str = "", extra: list[str] | None = None
    ) -> bytes:
        call.cseq += 1
        return self.message(
            method,
            call.call_id,
            body=body,
            from_tag=call.from_tag,
            to_tag=call.to_tag,
            cseq=call.cseq,
            extra=extra,
        )

    def ack(self, call: Invite) -> bytes:
        return self.message(
            "ACK",
            call.call_id,
            from_tag=call.from_tag,
            to_tag=call.to_tag,
            cseq=1,
            branch=call.branch + "a",
        )

    def cancel(self, call: Invite) -> bytes:
        return self.message("CANCEL", call.call_id, from_tag=call.from_tag, branch=call.branch)

    def bye(self, call: Invite) -> bytes:
        return self.in_dialog(call, "BYE")

    # --- the stream of messages ------------------------------------------------------

    def groups(self) -> Iterator[list[Datagram]]:
        """Forever: a group of datagrams sent back to back (mostly one; bursts are many)."""
        names, weights = list(GROUP_WEIGHTS), list(GROUP_WEIGHTS.values())
        while True:
            kind = self.rng.choices(names, weights)[0]
            group = getattr(self, f"_g_{kind}")()
            for d in group:
                bad = check_addresses(d.data)
                assert not bad, f"generated an off-machine address {bad} in {d.kind}"
            yield group

    def _g_invite(self) -> list[Datagram]:
        return [self.invite(self._id(), "valid", self.sdp(False)[1])]

    def _g_invite_bad_sdp(self) -> list[Datagram]:
        kind, body = self.sdp(True)
        return [self.invite(self._id(), f"sdp_{kind}", body)]

    def _g_evil_call_id(self) -> list[Datagram]:
        call_id = self.evil_call_id()
        if self.rng.random() < 0.15:
            return [Datagram(self.message("OPTIONS", call_id), "options_evil_call_id")]
        return [self.invite(call_id, "evil_call_id", self.sdp(False)[1])]

    def _g_options(self) -> list[Datagram]:
        via = self.rng.choice(["127.0.0.1", *EVIL_HOSTS])
        return [Datagram(self.message("OPTIONS", self._id(), via_host=via), "options")]

    def _g_bye(self) -> list[Datagram]:
        return [Datagram(self.message("BYE", self._id(), to_tag="x", cseq=2), "bye_unknown")]

    def _g_cancel(self) -> list[Datagram]:
        d = self.invite(self._id(), "valid", self.sdp(False)[1], follow_up="cancel")
        assert d.invite is not None
        d.invite.follow_up = "cancel_now"
        return [d, Datagram(self.cancel(d.invite), "cancel")]

    def _g_ack(self) -> list[Datagram]:
        return [Datagram(self.message("ACK", self._id(), to_tag="x"), "ack_stray")]

    def _g_in_dialog(self) -> list[Datagram]:
        if not self.answered:
            return self._g_invite()
        call = self.rng.choice(self.answered[-30:])
        r = self.rng
        kind = r.choice(["refer", "info", "reinvite", "reinvite_bad", "bye_bad_tag", "options"])
        port = self.via_port
        if kind == "refer":
            target = r.choice([f"sip:agent@127.0.0.1:{port}", "sip:agent@nohost.invalid", "junk"])
            data = self.in_dialog(call, "REFER", extra=[f"Refer-To: <{target}>"])
        elif kind == "info":
            data = self.in_dialog(call, "INFO", extra=["Content-Type: application/dtmf-relay"])
        elif kind.startswith("reinvite"):
            data = self.in_dialog(call, "INVITE", body=self.sdp(kind == "reinvite_bad")[1])
        elif kind == "bye_bad_tag":
            data = self.message("BYE", call.call_id, from_tag="other", to_tag="nope", cseq=99)
        else:
            data = self.in_dialog(call, "OPTIONS")
        return [Datagram(data, f"in_dialog_{kind}")]

    def _g_other_method(self) -> list[Datagram]:
        method = self.rng.choice(OTHER_METHODS)
        return [Datagram(self.message(method, self._id()), f"method_{method}")]

    def _g_garbage(self) -> list[Datagram]:
        r = self.rng
        size = r.choice([0, 1, 4, 64, 512, 1400, 8000])
        data = r.choice(
            [
                bytes(r.getrandbits(8) for _ in range(size)),
                "".join(chr(r.randint(32, 126)) for _ in range(size)).encode(),
                b"\r\n\r\n",
                b"INVITE",
                b"\x00" * size,
                "咨询 还款 \ufffd".encode() * (size // 8 + 1),
            ]
        )
        return [Datagram(data, "garbage")]

    def _g_truncated(self) -> list[Datagram]:
        full = self._g_invite()[0].data if self.rng.random() < 0.7 else self._g_options()[0].data
        for _ in range(20):
            cut = full[: self.rng.randint(1, len(full) - 1)]
            if not check_addresses(cut):
                return [Datagram(cut, "truncated")]
        return [Datagram(full[:10], "truncated")]

    def _g_huge(self) -> list[Datagram]:
        r = self.rng
        kind = r.choice(["one_header", "many_headers", "many_vias", "long_from"])
        if kind == "one_header":
            extra = [f"X-Fuzz: {'v' * r.randint(1000, 60000)}"]
        elif kind == "many_headers":
            extra = [f"X-F{i}: {i}" for i in range(r.randint(200, 2000))]
        elif kind == "many_vias":
            extra = [
                f"Via: SIP/2.0/UDP 127.0.0.1:{self.via_port};branch=z9hG4bKv{i}" for i in range(300)
            ]
        else:
            extra = [f"Subject: {'长' * 8000}"]
        method = r.choice(["INVITE", "OPTIONS"])
        body = self.sdp(False)[1] if method == "INVITE" else ""
        data = self.message(method, self._id(), body=body, extra=extra)[:65000]
        return [Datagram(data, f"huge_{kind}")]

    def _g_headers(self) -> list[Datagram]:
        r = self.rng
        call_id, body = self._id(), self.sdp(False)[1]
        kind = r.choice(HEADER_DEFECTS)
        lengths = {"cl_big": "9999", "cl_small": "3", "cl_neg": "-5", "cl_junk": "abc"}
        data = self.message("INVITE", call_id, body=body, content_length=lengths.get(kind))
        drop = {
            "no_call_id": b"Call-ID:",
            "no_cseq": b"CSeq:",
            "no_from": b"From:",
            "no_via": b"Via:",
        }
        if kind in drop:
            data = b"\r\n".join(x for x in data.split(b"\r\n") if not x.startswith(drop[kind]))
        elif kind == "cseq_junk":
            data = data.replace(b"CSeq: 1 INVITE", b"CSeq: -1x INVITE")
        elif kind == "bad_uri":
            data = data.replace(b"INVITE sip:", b"INVITE nonsense", 1)
        elif kind == "bare_lf":
            data = data.replace(b"\r\n", b"\n")
        elif kind == "no_tag":
            data = data.replace(b";tag=ft", b"")
        info = Invite(call_id, "ft", "", "", "bye", kind=f"headers_{kind}")
        return [Datagram(data, f"headers_{kind}", info)]

    def _g_duplicate_call_id(self) -> list[Datagram]:
        if not self.answered:
            return self._g_invite()
        old = self.rng.choice(self.answered[-50:])
        return [self.invite(old.call_id, "duplicate_call_id", self.sdp(False)[1])]

    def _g_burst(self) -> list[Datagram]:
        size = self.max_calls + 10
        return [self.invite(self._id(), "burst", self.sdp(False)[1], "bye") for _ in range(size)]

    def _g_stray_response(self) -> list[Datagram]:
        data = self.message("INVITE", self._id()).replace(
            b"INVITE sip:voicebot@", b"SIP/2.0 200 OK\r\nX-Was: sip:voicebot@", 1
        )
        return [Datagram(data, "stray_response")]
