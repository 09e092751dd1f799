"""edge-tts client code against a loopback fake of the Edge read-aloud websocket."""

import socket
from collections.abc import AsyncIterator

import edge_tts.communicate
import pytest
from fakes.edge_tts_server import FAKE_MP3, FakeEdgeTTSServer

from voicebot.speech.edge_tts_service import SpeechServiceUnavailable, synthesize_edge


@pytest.fixture
async def edge_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeEdgeTTSServer]:
    server = FakeEdgeTTSServer()
    await server.start()
    # edge-tts reads its endpoint from this module constant; point it at the fake.
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", server.wss_url)
    yield server
    await server.stop()


async def test_audio_chunks_are_joined(edge_server: FakeEdgeTTSServer) -> None:
    audio = await synthesize_edge("您好，这里是客服中心。")
    assert audio == FAKE_MP3
    (ssml,) = edge_server.received_ssml
    assert "(zh-CN, XiaoxiaoNeural)" in ssml and "您好，这里是客服中心。" in ssml


async def test_refused_request_is_not_retryable(edge_server: FakeEdgeTTSServer) -> None:
    edge_server.behaviour = "reject"
    edge_server.reject_status = 404
    with pytest.raises(SpeechServiceUnavailable) as caught:
        await synthesize_edge("您好")
    assert caught.value.retryable is False


@pytest.mark.parametrize("behaviour", ["reject", "drop", "no_audio"])
async def test_server_trouble_is_retryable(edge_server: FakeEdgeTTSServer, behaviour: str) -> None:
    edge_server.behaviour = behaviour  # type: ignore[assignment]
    with pytest.raises(SpeechServiceUnavailable) as caught:
        await synthesize_edge("您好")
    assert caught.value.retryable is True


async def test_unreachable_service_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", f"ws://127.0.0.1:{port}/edge/v1?T=x")
    with pytest.raises(SpeechServiceUnavailable) as caught:
        await synthesize_edge("您好", connect_timeout_s=1)
    assert caught.value.retryable is True
