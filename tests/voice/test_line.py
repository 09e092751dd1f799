"""The phone line every call runs on: what a carrier feeds in reaches the bot, keyed digits
are heard in groups, the bot's frames go out once a tick, and a hang-up ends the call once."""

import asyncio
from pathlib import Path

import numpy as np
import pytest

from voicebot import scenario as scenarios
from voicebot.scenario import DtmfEntry, ScenarioError, parse_scenario
from voicebot.speech.audio import mulaw_decode, mulaw_encode
from voicebot.voice.counterpart import KEY_GAP_S, ScriptedCounterpart
from voicebot.voice.line import (
    END_KEY,
    FRAME_SAMPLES,
    KEYED_PAUSE_S,
    KEYPAD,
    InProcessLine,
    LineClosed,
    PhoneLine,
)

ACCOUNT = {
    "account_id": "A1",
    "name": "张伟",
    "gender": "M",
    "phone": "13800138000",
    "id_number": "110101199003071234",
    "product": "个人消费贷款",
    "overdue_amount": 100,
    "overdue_days": 3,
    "due_date": "2026-11-10",
}


class FakeCarrier(PhoneLine):
    """A carrier as small as one can be: it keeps what it was asked to do."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.sent: list[tuple[np.ndarray, bool]] = []
        self.ended_by: list[str] = []

    async def _send_to_carrier(self, pcm16: np.ndarray, bot_spoke: bool) -> None:
        self.sent.append((pcm16, bot_spoke))

    def _end_carrier_call(self, by: str) -> None:
        self.ended_by.append(by)


def tone(frames: int, level: int = 8000) -> np.ndarray:
    t = np.arange(frames * FRAME_SAMPLES) / 8000
    return (np.sin(2 * np.pi * 440 * t) * level).astype(np.int16)


async def ticks(line: PhoneLine, count: int) -> None:
    for _ in range(count):
        await line._tick()


async def test_caller_audio_fed_by_a_carrier_is_heard_by_the_bot_frame_by_frame() -> None:
    line = FakeCarrier()
    heard: list[bytes] = []

    async def bot(mulaw: bytes) -> None:
        heard.append(mulaw)

    line.attach_bot(bot)
    speech = tone(2)
    line.send_from_borrower(speech)  # a carrier that decodes (RTP, Twilio's serializer)
    line.send_mulaw_from_borrower(mulaw_encode(speech[:FRAME_SAMPLES]))  # or one that does not
    await ticks(line, 4)

    assert [len(frame) for frame in heard] == [FRAME_SAMPLES] * 4
    assert heard[:3] == [mulaw_encode(speech[:160]), mulaw_encode(speech[160:]), heard[0]]
    assert not np.any(mulaw_decode(heard[3]))  # nothing queued: silence
    assert np.array_equal(line.borrower_frames[0], mulaw_decode(heard[0]))  # and recorded


async def test_a_burst_beyond_the_inbound_bound_drops_the_oldest_audio_and_counts_it() -> None:
    line = FakeCarrier(max_inbound_frames=2)
    speech = tone(5)
    line.send_from_borrower(speech)
    await ticks(line, 2)

    assert line.dropped_inbound_frames == 3
    assert np.array_equal(line.borrower_frames[0], mulaw_decode(mulaw_encode(speech[480:640])))


async def test_the_bot_frame_of_each_tick_goes_to_the_carrier_silence_included() -> None:
    line = FakeCarrier()
    await line.send_from_bot(mulaw_encode(tone(1)))
    await ticks(line, 2)

    assert [spoke for _, spoke in line.sent] == [True, False]
    assert np.array_equal(line.sent[0][0], line.bot_frames[0])
    assert not np.any(line.sent[1][0])


async def test_keyed_digits_reach_the_listener_as_one_group_at_the_end_key() -> None:
    line = FakeCarrier()
    groups: list[tuple[str, int]] = []

    async def listener(digits: str) -> None:
        groups.append((digits, line.ticks))

    line.attach_keyed_digits(listener)
    line.press("12")
    await ticks(line, 3)
    line.press("34#")
    await ticks(line, 3)

    assert groups == [("1234", 4)]  # heard on the tick after `#`, once
    assert "".join(line.digits) == "1234#"


async def test_keys_without_the_end_key_are_heard_after_a_pause() -> None:
    line = FakeCarrier()
    groups: list[str] = []

    async def listener(digits: str) -> None:
        groups.append(digits)

    line.attach_keyed_digits(listener)
    line.press("56")
    pause = round(KEYED_PAUSE_S / 0.02)
    await ticks(line, pause - 1)
    assert groups == []
    await ticks(line, 2)
    line.press("#")  # an end key alone says nothing
    await ticks(line, 2)
    assert groups == ["56"]


def test_a_key_not_on_the_keypad_is_refused() -> None:
    line = FakeCarrier()
    with pytest.raises(ValueError, match="x"):
        line.press("12x")
    assert line.digits == []
    assert (scenarios.KEYPAD, scenarios.END_KEY) == (KEYPAD, END_KEY)  # scenarios key the same


@pytest.mark.parametrize("first", ["bot", "borrower", "line"])
async def test_a_hang_up_from_either_side_ends_the_call_once(first: str) -> None:
    line = FakeCarrier()
    line.send_from_borrower(tone(3))
    line.press("12")
    closed = asyncio.create_task(line.wait_closed())

    line.hang_up(first)
    line.hang_up("bot")  # every orchestration hangs up at the end, too
    line.hang_up("borrower")

    await asyncio.wait_for(closed, 1)
    assert line.closed and line.hung_up_by == first
    assert line.ended_by == [first]  # the carrier's call is ended once, told who ended it
    assert not line.borrower_audio_pending
    with pytest.raises(LineClosed):
        await line.send_from_bot(mulaw_encode(tone(1)))
    line.send_from_borrower(tone(1))
    line.press("3")
    assert not line.borrower_audio_pending and line.digits == ["1", "2"]
    await line.next_tick()  # returns at once on a closed line


async def test_a_far_end_gone_silent_ends_the_call_as_a_broken_line() -> None:
    line = FakeCarrier(media_timeout_s=0.1)
    clock = asyncio.create_task(line.run())
    await asyncio.wait_for(line.wait_closed(), 5)
    await clock

    assert line.hung_up_by == "line" and line.end_reason == "no media"
    assert line.ended_by == ["line"]


async def test_the_scripted_counterpart_presses_a_scenarios_keys_after_the_bots_turn() -> None:
    raw = {"account": ACCOUNT, "borrower": [{"dtmf": "1234#"}, "<hangup>"]}
    scenario = parse_scenario(raw, Path("keys.yaml"))
    assert scenario.borrower[0] == DtmfEntry("1234#")
    assert scenario.borrower[0].heard == ("1234",)  # type: ignore[union-attr]

    line = InProcessLine(speed=20)
    heard: list[tuple[str, float]] = []
    bot_turns: list[asyncio.Task[None]] = []

    async def listener(digits: str) -> None:
        heard.append((digits, line.now))
        bot_turns.append(asyncio.create_task(line.send_from_bot(mulaw_encode(tone(5)))))

    async def speak(text: str) -> np.ndarray:
        raise AssertionError(f"nothing is said: {text}")

    line.attach_keyed_digits(listener)
    counterpart = ScriptedCounterpart(line, scenario.borrower, speak, reply_gap_s=0.2)
    clock = asyncio.create_task(line.run())
    await line.send_from_bot(mulaw_encode(tone(10)))  # the bot's turn
    await asyncio.wait_for(counterpart.run(), 10)
    await asyncio.gather(clock, *bot_turns)

    assert [digits for digits, _ in heard] == ["1234"]
    assert heard[0][1] >= 0.2 + 4 * KEY_GAP_S  # after the turn, keyed one by one
    assert line.hung_up_by == "borrower"


@pytest.mark.parametrize(
    ("dtmf", "problem"),
    [(1234, "quoted text"), ("", "quoted text"), ("12a", "not keypad keys")],
)
def test_a_scenarios_keys_must_be_quoted_keypad_keys(dtmf: object, problem: str) -> None:
    raw = {"account": ACCOUNT, "borrower": ["对", {"dtmf": dtmf}]}
    with pytest.raises(ScenarioError, match=rf"borrower\[1\]\.dtmf: .*{problem}"):
        parse_scenario(raw, Path("keys.yaml"))


async def test_each_key_is_reported_as_it_is_pressed_before_its_group_is_complete() -> None:
    line = FakeCarrier()
    pressed: list[tuple[str, int]] = []
    groups: list[str] = []

    async def on_key(key: str) -> None:
        pressed.append((key, line.ticks))

    async def on_group(digits: str) -> None:
        groups.append(digits)

    line.attach_key_presses(on_key)
    line.attach_keyed_digits(on_group)
    line.press("1")
    await ticks(line, 2)
    line.press("2#")
    await ticks(line, 1)

    assert pressed == [("1", 1), ("2", 3), ("#", 3)]
    assert groups == ["12"]
