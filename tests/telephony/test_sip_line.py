"""The SIP endpoint against Debian's baresip, at the line level: audio, DTMF, BYE, codecs."""

import asyncio
import contextlib
from pathlib import Path

import numpy as np
import pytest
from baresip_peer import SAMPLE_RATE, write_wav
from conftest import needs_baresip

from telephony.sip.endpoint import SipCall
from voicebot.speech.audio import mulaw_encode
from voicebot.voice.line import LineClosed

pytestmark = needs_baresip


def tone(hz: float, seconds: float, level: float = 6000) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (np.sin(2 * np.pi * hz * t) * level).astype(np.int16)


def dominant_hz(pcm: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(pcm))


def loud(pcm: np.ndarray, rms: float = 1000) -> np.ndarray:
    """The 20 ms frames of `pcm` louder than `rms`, joined."""
    frames = pcm[: len(pcm) // 160 * 160].reshape(-1, 160).astype(np.float64)
    keep = np.sqrt((frames**2).mean(axis=1)) > rms
    return frames[keep].astype(np.int16).ravel()


async def until(condition, timeout: float, line=None) -> None:  # type: ignore[no-untyped-def]
    """Wait, tick by tick of the line (or 20 ms), until `condition()` holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            if line is not None and not line.closed:
                await line.next_tick()
            else:
                await asyncio.sleep(0.02)


@pytest.mark.parametrize("codec", ["pcmu", "pcma"])
async def test_a_baresip_call_carries_audio_both_ways_and_dtmf_digits(
    endpoint_with, baresip, tmp_path: Path, codec: str
) -> None:
    peer_tone = write_wav(tmp_path / "440.wav", tone(440, 2.0), pad_s=30)
    seen: dict[str, object] = {}

    async def bot(call: SipCall) -> None:
        line = call.line
        seen["codec"], seen["number"] = call.codec, call.remote_number
        await peer.wait_event("CALL_ESTABLISHED", 10)  # its microphone switch needs a call
        await peer.play(peer_tone)
        await line.send_from_bot(mulaw_encode(tone(300, 1.5)))
        await until(lambda: len(loud(np.concatenate(line.borrower_frames))) > 8000, 20, line)
        seen["heard"] = np.concatenate(line.borrower_frames)
        await peer.command("sndcode", "1234#")  # baresip sends no audio while keying
        await until(lambda: len(line.digits) == 5, 20, line)
        seen["digits"] = "".join(line.digits)

    endpoint = await endpoint_with(bot)
    peer = await baresip(codecs=codec)
    host, port = endpoint.local_addr
    await peer.command("dial", f"sip:voicebot@{host}:{port}")
    closed = await peer.wait_event("CALL_CLOSED", 30)

    assert seen["codec"] == codec.upper()
    assert seen["number"] == "borrower"
    assert seen["digits"] == "1234#"
    assert abs(dominant_hz(loud(seen["heard"])) - 440) < 10  # type: ignore[arg-type]
    assert abs(dominant_hz(loud(peer.heard())) - 300) < 10
    assert len(loud(peer.heard())) >= 1.2 * SAMPLE_RATE  # the bot's 1.5 s reached baresip
    assert closed["type"] == "CALL_CLOSED"  # our BYE
    await until(lambda: not endpoint.calls, 10)


async def test_a_far_end_bye_mid_sentence_ends_that_call_and_the_next_call_is_served(
    endpoint_with, baresip
) -> None:
    outcomes: list[str | None] = []

    async def bot(call: SipCall) -> None:
        with contextlib.suppress(LineClosed):
            await call.line.send_from_bot(mulaw_encode(tone(300, 20.0)))  # a long sentence
        outcomes.append(call.line.hung_up_by)

    endpoint = await endpoint_with(bot)
    peer = await baresip()
    host, port = endpoint.local_addr
    await peer.command("dial", f"sip:voicebot@{host}:{port}")
    await peer.wait_event("CALL_ESTABLISHED", 10)
    await until(lambda: len(loud(peer.heard())) > SAMPLE_RATE // 2, 10)  # mid-sentence
    await peer.command("hangup")
    await until(lambda: outcomes == ["borrower"] and not endpoint.calls, 10)

    peer.events.clear()
    await peer.command("dial", f"sip:voicebot@{host}:{port}")
    await peer.wait_event("CALL_ESTABLISHED", 10)
    await peer.command("hangup")
    await until(lambda: len(outcomes) == 2, 10)
    assert outcomes == ["borrower", "borrower"]


async def talking_call(endpoint_with, baresip):  # type: ignore[no-untyped-def]
    """A baresip call to the bot, established, the bot talking (a 30 s tone)."""

    async def bot(call: SipCall) -> None:
        with contextlib.suppress(LineClosed):
            await call.line.send_from_bot(mulaw_encode(tone(300, 30.0)))

    endpoint = await endpoint_with(bot)
    peer = await baresip()
    host, port = endpoint.local_addr
    await peer.command("dial", f"sip:voicebot@{host}:{port}")
    await peer.wait_event("CALL_ESTABLISHED", 10)
    return endpoint, peer


async def call_goes_on_then_ends(endpoint, peer) -> None:  # type: ignore[no-untyped-def]
    """The bot's audio still reaches baresip; its hang-up releases the call."""
    heard = len(loud(peer.heard()))
    await until(lambda: len(loud(peer.heard())) > heard + SAMPLE_RATE, 10)
    assert len(endpoint.calls) == 1
    await peer.command("hangup")
    await until(lambda: not endpoint.calls, 10)


async def test_a_re_invite_is_answered_and_the_call_goes_on(endpoint_with, baresip) -> None:
    endpoint, peer = await talking_call(endpoint_with, baresip)
    peer.events.clear()
    await peer.command("reinvite")  # a new offer in the dialog (as a PBX moving media does)
    assert (await peer.wait_event("CALL_REMOTE_SDP", 10))["param"] == "answer"
    await call_goes_on_then_ends(endpoint, peer)
