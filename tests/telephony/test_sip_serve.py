"""`voicebot serve` with `[sip] enabled`: the endpoint starts and stops with the server and
hands each call it answers to the call runner, and `voicebot call --line sip` explains a
missing proxy."""

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from conftest import needs_baresip
from test_sip_line import loud, tone, until

from telephony.server import create_server
from telephony.sip.service import SIP_ENDPOINT
from voicebot.calls import CallSessions, CallSpec
from voicebot.config import Settings, load_settings
from voicebot.speech.audio import mulaw_encode
from voicebot.voice.line import PhoneLine


class RecordingRunner(CallSessions):
    """The call runner with the conversation replaced: it plays a tone and records the spec."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, models=None)  # type: ignore[arg-type]
        self.specs: list[CallSpec] = []

    async def run(self, line: PhoneLine, spec: CallSpec) -> dict[str, Any]:
        self.specs.append(spec)
        await line.send_from_bot(mulaw_encode(tone(300, 1.0)))
        return {"call_id": spec.call_id}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = load_settings(environ={})
    return dataclasses.replace(base, store_path=tmp_path / "calls.sqlite3")


@needs_baresip
async def test_serve_answers_sip_calls_through_the_call_runner(settings: Settings, baresip):
    runner = RecordingRunner(settings)
    sections = {"sip": {"enabled": "true", "port": 0, "rtp_port_min": 32000, "rtp_port_max": 32100}}
    app = create_server(settings, sections=sections, runner=runner)
    server = web.AppRunner(app)
    await server.setup()  # runs the startup hooks: the SIP endpoint binds
    try:
        endpoint = app[SIP_ENDPOINT]
        host, port = endpoint.local_addr
        peer = await baresip("13800138000")
        await peer.command("dial", f"sip:voicebot@{host}:{port}")
        await peer.wait_event("CALL_CLOSED", 20)  # the runner returned: BYE
        assert len(loud(peer.heard())) >= 0.8 * 8000
        (spec,) = runner.specs
        assert (spec.line_kind, spec.direction.value, spec.number) == (
            "sip",
            "inbound",
            "13800138000",
        )
        assert spec.line_metrics is not None and spec.line_metrics()["codec"] == "PCMU"
        assert spec.transfer is None  # no sip.agent_uri configured
    finally:
        await server.cleanup()
    await until(lambda: endpoint._transport._udp_transport is None, 5)  # socket closed


def test_serve_without_sip_enabled_binds_nothing(settings: Settings) -> None:
    app = create_server(
        settings, sections={"sip": {"enabled": "false"}}, runner=RecordingRunner(settings)
    )
    assert SIP_ENDPOINT not in app


def test_voicebot_call_over_sip_needs_a_proxy(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from telephony.dial import dial_from_cli

    monkeypatch.setenv("VOICEBOT_SIP__PROXY", "")
    assert dial_from_cli(settings, "A1001", "sip") == 2
    assert "sip.proxy" in capsys.readouterr().err
