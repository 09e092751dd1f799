"""Debian's baresip as the far end of SIP test calls: headless, on loopback, scripted.

Its microphone is a WAV file (`aufile`), switched mid-call with the `ausrc` command to
play the next recorded answer; the `sndfile` filter records what it hears (the bot) to
`<dir>/dump/*-dec.wav` as the call goes. It is driven over `ctrl_tcp` (netstring JSON
commands; call events come back on the same connection).
"""

import asyncio
import contextlib
import json
import shutil
import socket
import wave
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 8000
BARESIP = shutil.which("baresip")
START_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = int(udp.getsockname()[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:  # ctrl_tcp needs TCP too
        tcp.bind(("127.0.0.1", port))
    return port


def write_wav(path: Path, pcm: np.ndarray, pad_s: float = 0.0) -> Path:
    """8 kHz mono 16-bit WAV (what baresip's aufile needs), padded with silence."""
    pad = np.zeros(int(pad_s * SAMPLE_RATE), dtype=np.int16)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(np.concatenate([pcm.astype("<i2"), pad]).tobytes())
    return path


class Baresip:
    """One baresip process with one account `sip:<user>@127.0.0.1:<port>`."""

    def __init__(
        self, workdir: Path, user: str = "borrower", *, answer: str = "auto", codecs: str = "pcmu"
    ) -> None:
        self.dir = workdir
        self.user = user
        self.port = free_port()
        self.ctrl_port = free_port()
        self.uri = f"sip:{user}@127.0.0.1:{self.port}"
        self._answer = answer
        self._codecs = codecs
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._responses: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._proc: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.silence = self.dir / "silence.wav"

    async def start(self) -> "Baresip":
        assert BARESIP, "baresip is not installed (apt-get install baresip-core)"
        (self.dir / "dump").mkdir(parents=True, exist_ok=True)
        write_wav(self.silence, np.zeros(0, np.int16), pad_s=600)
        (self.dir / "config").write_text(self._config(), encoding="utf-8")
        (self.dir / "accounts").write_text(
            f"<{self.uri}>;answermode={self._answer};regint=0;audio_codecs={self._codecs}\n",
            encoding="utf-8",
        )
        log = (self.dir / "baresip.log").open("wb")
        self._proc = await asyncio.create_subprocess_exec(
            BARESIP, "-f", str(self.dir), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
        )
        reader = await self._connect()
        self._reader_task = asyncio.create_task(self._read(reader))
        return self

    def _config(self) -> str:
        return "\n".join(
            [
                "poll_method epoll",
                f"sip_listen 127.0.0.1:{self.port}",
                "net_interface 127.0.0.1",  # SDP names the host it signals from
                "call_local_timeout 120",
                "call_max_calls 4",
                "audio_player aubridge,nil",  # hears nothing aloud: sndfile records it
                f"audio_source aufile,{self.silence}",
                "audio_alert aubridge,nil",
                "jitter_buffer_delay 1-4",
                "module_path /usr/lib/baresip/modules",
                "module g711.so",
                "module aufile.so",
                "module aubridge.so",
                "module sndfile.so",
                "module_tmp account.so",
                "module_app menu.so",
                "module_app ctrl_tcp.so",
                f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                f"snd_path {self.dir / 'dump'}",
                "",
            ]
        )

    async def _connect(self) -> asyncio.StreamReader:
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                assert self._proc is not None and self._proc.returncode is None, self.log()
                try:
                    reader, self._writer = await asyncio.open_connection(
                        "127.0.0.1", self.ctrl_port
                    )
                    return reader
                except OSError:
                    await asyncio.sleep(0.05)  # polling a condition: the control port opening

    async def _read(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                length = int((await reader.readuntil(b":"))[:-1])
                message = json.loads(await reader.readexactly(length))
                await reader.readexactly(1)  # the netstring's trailing comma
                if message.get("event"):
                    self.events.append(message)
                    self._changed.set()
                else:
                    await self._responses.put(message)

    async def command(self, command: str, params: str = "") -> str:
        """Run a menu command (`dial`, `hangup`, `ausrc`, `sndcode`...); its output."""
        assert self._writer is not None
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        await self._writer.drain()
        response = await asyncio.wait_for(self._responses.get(), 5)
        assert response.get("ok"), f"baresip {command} {params}: {response}"
        return str(response.get("data", ""))

    async def wait_event(self, kind: str, timeout: float) -> dict[str, Any]:
        """The first event of `kind` (CALL_ESTABLISHED, CALL_CLOSED...), waiting for it."""
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if event.get("type") == kind:
                        return event
                self._changed.clear()
                await self._changed.wait()

    async def play(self, wav: Path) -> None:
        """Switch the microphone to `wav` (pad it: the end of the file ends the call)."""
        await self.command("ausrc", f"aufile,{wav}")

    def heard(self) -> np.ndarray:
        """What baresip has heard so far (the bot), 8 kHz int16, read while it records."""
        files = sorted((self.dir / "dump").glob("*-dec.wav"))
        if not files:
            return np.zeros(0, np.int16)
        data = files[-1].read_bytes()[44:]  # the header's sizes are only final at the end
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")

    def log(self) -> str:
        path = self.dir / "baresip.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    async def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.returncode is None:
            with contextlib.suppress(Exception):
                await self.command("quit")
            try:
                await asyncio.wait_for(self._proc.wait(), 5)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()
