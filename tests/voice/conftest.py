"""Voice fixtures: real models loaded once; the test calls run together, once a session.

Every call runs real audio at real-time pace through the real pipeline (Silero VAD,
Whisper, the engine, the offline voice), so the calls are placed concurrently in one
event loop and each test checks its own call's summary.
"""

import asyncio
import dataclasses
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voicebot.config import Settings, load_settings
from voicebot.conversation.script import load_script
from voicebot.scenario import parse_scenario
from voicebot.simulate import CallOptions, run_audio_call
from voicebot.voice.pipeline import VoiceModels

ACCOUNT = {
    "account_id": "A1001",
    "name": "张伟",
    "gender": "M",
    "phone": "13800138000",
    "id_number": "110101199003071234",
    "product": "个人消费贷款",
    "overdue_amount": 3250.60,
    "overdue_days": 15,
    "due_date": "2026-11-10",
}
NOW = "2026-11-25T10:00:00+08:00"

# name -> (borrower entries, counterpart cues: entry index -> seconds into the bot's turn)
CALLS: dict[str, tuple[list[Any], dict[int, float]]] = {
    "promise": (["对，我是", "幺二三四", "我最近失业了", "这周五发工资，全部还上", "对"], {}),
    "third_party": (["喂，我是他老婆，他在上班"], {}),
    # The borrower talks over the disclosure 2.5 s in; it must stop and be said again.
    "barge_in": (["对，我是", "幺二三四", "等一下，你说我欠多少钱"], {2: 2.5}),
    # The borrower hangs up 1 s into the bot's request for the ID digits.
    "hangup": (["对，我是", "<hangup>"], {1: 1.0}),
    # The borrower keys the ID digits on the phone's keypad instead of saying them.
    "keyed_id": (["对，我是", {"dtmf": "1234#"}, "<hangup>"], {}),
    "silence": ([], {}),
    # Line noise is all that answers the identity question.
    "noise": ([{"audio": "NOISE"}, "<hangup>"], {}),
    # A real 是的; a spoken ID the bot does not match is offered the keypad; keys verify.
    "keypad_offer": (["是的", "五六七八", {"dtmf": "1234#"}, "<hangup>"], {}),
    # A slow keyer (1.5 s a key, 7.5 s for 1234#) is not asked whether they are there.
    "slow_keys": (["对，我是", {"dtmf": "1234#"}, "<hangup>"], {}),
}
KEY_GAPS = {"slow_keys": 1.5}


def line_noise(path: Path) -> Path:
    """1.6 s of hiss with crackles, as a bad line carries it (seeded): no words at all."""
    rng = np.random.default_rng(18)
    hiss = rng.normal(0, 600, 12800)
    hiss[rng.integers(0, hiss.size, 40)] += rng.normal(0, 8000, 40)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(np.clip(hiss, -32768, 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="session")
def voice_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = load_settings(environ={})
    tmp = tmp_path_factory.mktemp("voice")
    voice = dataclasses.replace(
        settings.voice, recordings_dir=tmp / "recordings", tts_cache_dir=tmp / "tts"
    )
    return dataclasses.replace(settings, voice=voice)


@pytest.fixture(scope="session")
def voice_models(voice_settings: Settings) -> VoiceModels:
    models = VoiceModels(voice_settings.voice)
    models.warm_up()
    return models


@pytest.fixture(scope="session")
def voice_calls(
    voice_settings: Settings, voice_models: VoiceModels, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """The summaries of every test call, placed together at real-time pace."""
    script = load_script(voice_settings.prompts_dir)
    noise = line_noise(tmp_path_factory.mktemp("clips") / "noise.wav")

    async def place(name: str) -> dict[str, Any]:
        entries, cues = CALLS[name]
        entries = [{"audio": str(noise)} if e == {"audio": "NOISE"} else e for e in entries]
        raw = {"now": NOW, "account": ACCOUNT, "borrower": entries}
        scenario = parse_scenario(raw, Path(f"tests/voice/{name}.yaml"))
        assert scenario.now is not None
        # A patient borrower (1.2 s): five concurrent calls on two cores slow synthesis.
        options = CallOptions(
            cues=cues,
            no_input_timeout_s=2.5,
            reply_gap_s=1.2,
            max_call_s=240,
            key_gap_s=KEY_GAPS.get(name),
        )
        return await run_audio_call(
            scenario, voice_settings, script, scenario.now, voice_models, options=options
        )

    async def place_all() -> dict[str, dict[str, Any]]:
        summaries = await asyncio.gather(*(place(name) for name in CALLS))
        return dict(zip(CALLS, summaries, strict=True))

    return asyncio.run(place_all())
