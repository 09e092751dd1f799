"""Generated input for the phone-line fuzz suite (`scripts/fuzz_lines.py`): what the SIP and
the media-stream generators share. Seeded and reproducible (`random.Random`).

- `fuzz_sip_gen.SipFuzzer`: SIP datagrams, their SDP bodies from `fuzz_sdp_gen`;
- `fuzz_stream_gen.StreamFuzzer`: Twilio media-stream sessions and webhook POSTs.

Every address the server might send to (SDP `c=`, Via, Contact, Record-Route, Refer-To, any
sip: URI) is on this machine: a 127.0.0.0/8 address, `::1`, `localhost`, a `.invalid` name or
a string no resolver accepts; every port it might send to is one of the fuzzer's own
sockets. `check_addresses` verifies each datagram before it is sent (a truncation that would
cut `127.0.0.1` to `12`, which reads as 0.0.0.12, is cut elsewhere).
"""

import ipaddress
import re
import socket

CALLER = "13800138000"  # the stored account's phone


def host_is_safe(host: str) -> bool:
    """True when sending to `host` cannot leave this machine."""
    h = host.strip().strip("[]")
    if not h:
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        pass
    try:
        return socket.inet_aton(h)[0] == 127  # legacy forms too: "127.1", "2130706433"
    except (OSError, ValueError):
        pass
    name = h.lower().rstrip(".")
    if name == "localhost" or name.endswith((".invalid", ".localhost")):
        return True
    if name.rsplit(".", 1)[-1].isdigit():  # not an address (checked above), nor a name
        return True
    return any(not (c.isascii() and (c.isalnum() or c in "-.")) for c in h)  # unresolvable


_URI_HOST = re.compile(r"sips?:(?:[^@\s;>,]*@)?(\[[^\]]*\]|[^:;>,\s?]+)", re.I)
_VIA_HOST = re.compile(r"SIP/2\.0/\w+\s+(\[[^\]]*\]|[^:;,\s]+)", re.I)
_PARAM_HOST = re.compile(r"(?:received|maddr)=([^;,\s]+)", re.I)


def check_addresses(data: bytes) -> list[str]:
    """Hosts in `data` the server could send to that might not be on this machine."""
    text = data.decode("utf-8", "replace")
    hosts = [m.group(1) for rx in (_URI_HOST, _VIA_HOST, _PARAM_HOST) for m in rx.finditer(text)]
    for line in re.split(r"\r\n|\n|\r", text):
        if line.strip().lower().startswith("c="):
            hosts += [part.split("/")[0] for part in line.split()[2:]]  # c=IN IP4 <addr>
    return [h for h in hosts if not host_is_safe(h)]
