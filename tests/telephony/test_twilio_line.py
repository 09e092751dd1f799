"""A Twilio media stream as a phone line, message by message: the caller's audio and keys
reach the bot, the bot's audio and `clear` go out, and only the bot's hang-up ends the
Twilio call (once)."""

import base64
import json

import numpy as np
import pytest

from telephony.twilio.line import TwilioLine
from voicebot.speech.audio import mulaw_decode, mulaw_encode


class FakeSocket:
    """The websocket's sending side: keeps every message the line sends."""

    closed = False

    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def send_str(self, data: str) -> None:
        self.sent.append(json.loads(data))


def media(pcm: np.ndarray) -> str:
    payload = base64.b64encode(mulaw_encode(pcm)).decode()
    return json.dumps({"event": "media", "streamSid": "MZ1", "media": {"payload": payload}})


def key(digit: str) -> str:
    return json.dumps({"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": digit}})


def twilio_line() -> tuple[TwilioLine, FakeSocket, list[str]]:
    ws, rest_hang_ups = FakeSocket(), []
    line = TwilioLine(ws, "MZ1", on_bot_hang_up=lambda: rest_hang_ups.append("hang up"))  # type: ignore[arg-type]
    return line, ws, rest_hang_ups


async def test_the_callers_audio_and_keys_reach_the_bot() -> None:
    line, _, _ = twilio_line()
    heard: list[bytes] = []
    keyed: list[str] = []

    async def bot(mulaw: bytes) -> None:
        heard.append(mulaw)

    async def keys(digits: str) -> None:
        keyed.append(digits)

    line.attach_bot(bot)
    line.attach_keyed_digits(keys)
    speech = (np.sin(np.arange(160) / 3) * 6000).astype(np.int16)
    assert await line.receive(media(speech))
    for digit in "42#":
        assert await line.receive(key(digit))
    await line._tick()

    assert np.array_equal(mulaw_decode(heard[0]), mulaw_decode(mulaw_encode(speech)))
    assert keyed == ["42"]
    assert line.figures()["digits"] == "42#" and line.figures()["media_messages"] == 1


async def test_the_bots_audio_goes_out_as_media_and_a_barge_in_as_clear() -> None:
    line, ws, _ = twilio_line()
    await line.send_from_bot(mulaw_encode(np.full(160, 3000, dtype=np.int16)))
    await line._tick()
    await line._tick()  # silence is not sent: Twilio plays nothing by itself
    line.clear_bot_audio()
    await line._tick()

    assert [message["event"] for message in ws.sent] == ["media", "clear"]
    assert ws.sent[0]["streamSid"] == "MZ1"


@pytest.mark.parametrize(("first", "rest_calls"), [("bot", 1), ("borrower", 0), ("line", 0)])
async def test_only_the_bots_hang_up_ends_the_twilio_call_and_only_once(
    first: str, rest_calls: int
) -> None:
    line, _, rest_hang_ups = twilio_line()
    line.hang_up(first)
    line.hang_up("bot")

    assert line.hung_up_by == first
    assert len(rest_hang_ups) == rest_calls
    assert (line.figures()["end"] == "bot hung up") == (first == "bot")
    assert not await line.receive(json.dumps({"event": "stop", "streamSid": "MZ1"}))
