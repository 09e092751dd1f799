"""The `[sip]` settings: where the endpoint listens, the PBX or trunk, credentials, transfer."""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from voicebot.config import ConfigError, with_defaults

CODEC_NUMBERS = {"PCMU": 0, "PCMA": 8}


@dataclass(frozen=True)
class SipSettings:
    """The `[sip]` section as read by `sip_settings`. The defaults here serve tests that
    build settings by hand; they are config/default.toml's (tests/test_settings_defaults.py
    holds them to it)."""

    enabled: bool = False  # `voicebot serve` answers SIP only when set
    host: str = "127.0.0.1"  # address the SIP and RTP sockets bind to
    port: int = 5060
    public_host: str = ""  # address peers reach us at (Contact, Via, SDP); empty: host
    user: str = "voicebot"  # our user part: From of outbound calls, AOR when registering
    domain: str = ""  # domain of our AOR and of dialled numbers; empty: the proxy's host
    proxy: str = ""  # host:port of the PBX/trunk outbound INVITEs and REGISTER go to
    register: bool = False  # REGISTER at the proxy (trunks that need it)
    register_expires: int = 300
    username: str = ""  # digest user; empty: `user`
    password: str = field(default="", repr=False)  # read from the variable named password_env
    codecs: tuple[int, ...] = (0, 8)  # payload types in preference order: PCMU, PCMA
    rtp_port_min: int = 20000
    rtp_port_max: int = 20999
    agent_uri: str = ""  # REFER target for calls that need a human; empty: no transfer
    answer_timeout_s: float = 45.0  # an outbound call not answered by then is cancelled
    max_calls: int = 50  # INVITEs beyond this many live calls get 486 Busy Here
    rtp_timeout_s: float = 20.0  # a call from which no RTP arrives this long is ended
    # RTP goes only to the host the call's signalling came from, or into these networks
    # (CIDRs: a PBX or trunk whose media servers sit apart from its signalling).
    restrict_media: bool = True
    media_networks: tuple[str, ...] = ()

    @property
    def sdp_host(self) -> str:
        return self.public_host or self.host

    @property
    def proxy_addr(self) -> tuple[str, int] | None:
        return parse_hostport(self.proxy, "sip.proxy") if self.proxy else None

    @property
    def aor_domain(self) -> str:
        if self.domain:
            return self.domain
        proxy = self.proxy_addr
        return proxy[0] if proxy else self.sdp_host


def parse_hostport(value: str, key: str, default_port: int = 5060) -> tuple[str, int]:
    host, sep, port = value.strip().rpartition(":")
    if not sep:
        host, port = value.strip(), str(default_port)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{key}: expected host:port, got {value!r}")
    return host, int(port)


def sip_settings(section: Mapping, environ: Mapping[str, str]) -> SipSettings:
    """Read and validate the `[sip]` section; the password comes from the environment.

    A key `section` lacks takes its default from config/default.toml.
    """
    s = with_defaults("sip", section)
    sip = SipSettings(
        enabled=_bool(s["enabled"]),
        host=str(s["host"]),
        port=int(s["port"]),
        public_host=str(s["public_host"]).strip(),
        user=str(s["user"]).strip(),
        domain=str(s["domain"]).strip(),
        proxy=str(s["proxy"]).strip(),
        register=_bool(s["register"]),
        register_expires=int(s["register_expires"]),
        username=str(s["username"]).strip(),
        password=environ.get(str(s["password_env"]), ""),
        codecs=tuple(_codec(name) for name in str(s["codecs"]).split(",")),
        rtp_port_min=int(s["rtp_port_min"]),
        rtp_port_max=int(s["rtp_port_max"]),
        agent_uri=str(s["agent_uri"]).strip(),
        answer_timeout_s=float(s["answer_timeout_s"]),
        max_calls=int(s["max_calls"]),
        rtp_timeout_s=float(s["rtp_timeout_s"]),
        restrict_media=_bool(s["restrict_media"]),
        media_networks=tuple(n.strip() for n in str(s["media_networks"]).split(",") if n.strip()),
    )
    _validate(sip)
    return sip


def _validate(sip: SipSettings) -> None:
    if not 0 <= sip.port < 65536:
        raise ConfigError(f"sip.port: {sip.port} is not a UDP port")
    if not 1024 <= sip.rtp_port_min < sip.rtp_port_max < 65536:
        raise ConfigError("sip.rtp_port_min/rtp_port_max: need 1024 <= min < max < 65536")
    if sip.register and not sip.proxy:
        raise ConfigError("sip.register: needs sip.proxy, the registrar's host:port")
    sip.proxy_addr  # noqa: B018 - validates the proxy's form
    if sip.agent_uri and not sip.agent_uri.startswith(("sip:", "sips:", "tel:")):
        raise ConfigError(f"sip.agent_uri: expected a sip: URI, got {sip.agent_uri!r}")
    if sip.max_calls < 1 or sip.answer_timeout_s <= 0 or sip.rtp_timeout_s <= 0:
        raise ConfigError(
            "sip.max_calls, sip.answer_timeout_s and sip.rtp_timeout_s: must be positive"
        )
    for network in sip.media_networks:
        try:
            ipaddress.ip_network(network)
        except ValueError:
            raise ConfigError(f"sip.media_networks: {network!r} is not a network") from None


def _codec(name: str) -> int:
    try:
        return CODEC_NUMBERS[name.strip().upper()]
    except KeyError:
        raise ConfigError(f"sip.codecs: {name.strip()!r} is not PCMU or PCMA") from None


def _bool(value: object) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")
