"""A loopback fake of the Edge read-aloud websocket that `edge-tts` talks to.

Protocol (edge-tts 7.x, `edge_tts.communicate`): the client opens
``<WSS_URL>&ConnectionId=...&Sec-MS-GEC=...``, sends a text frame with
``Path:speech.config`` and one with ``Path:ssml`` per text chunk; the service answers
``Path:turn.start`` (text), audio as binary frames (2-byte big-endian header length,
headers ending in CRLF, then MP3 bytes) and finally ``Path:turn.end`` (text).

Tests point edge-tts at the fake by patching ``edge_tts.communicate.WSS_URL`` with
`FakeEdgeTTSServer.wss_url`.
"""

import re
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import WSMsgType, web

Behaviour = Literal["speak", "no_audio", "drop", "reject"]
FAKE_MP3 = b"\xff\xf3\x44\xc4" + bytes(200)  # MP3 frame header, then padding


@dataclass
class FakeEdgeTTSServer:
    """Scripted fake: `behaviour` decides how the next request is answered."""

    behaviour: Behaviour = "speak"
    audio: bytes = FAKE_MP3
    chunks: int = 3
    reject_status: int = 503
    received_ssml: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def wss_url(self) -> str:
        """Replacement for edge-tts's WSS_URL (it appends ``&ConnectionId=...``)."""
        return f"ws://127.0.0.1:{self.port}/edge/v1?TrustedClientToken=fake"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/edge/v1", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.behaviour == "reject":
            return web.Response(status=self.reject_status)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            headers = dict(re.findall(r"^([\w-]+):(.*?)\r$", message.data, flags=re.M))
            if headers.get("Path") != "ssml":
                continue
            self.received_ssml.append(message.data.split("\r\n\r\n", 1)[1])
            if self.behaviour == "drop":
                await ws.close()
                break
            await self._answer(ws, headers.get("X-RequestId", "0"))
        return ws

    async def _answer(self, ws: web.WebSocketResponse, request_id: str) -> None:
        prefix = f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\n"
        await ws.send_str(f"{prefix}Path:turn.start\r\n\r\n{{}}")
        if self.behaviour == "speak":
            size = -(-len(self.audio) // self.chunks)
            for start in range(0, len(self.audio), size):
                header = f"X-RequestId:{request_id}\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n"
                head = header.encode()
                await ws.send_bytes(
                    len(head).to_bytes(2, "big") + head + self.audio[start : start + size]
                )
        await ws.send_str(f"{prefix}Path:turn.end\r\n\r\n{{}}")
