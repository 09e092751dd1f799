"""Offline voice -> simulated phone line (8 kHz mu-law) -> Whisper base, with hints.

These run the real models (about 1-2 s per utterance on two cores); the models are
loaded once per session by the fixtures in conftest.py.
"""

from pathlib import Path

import numpy as np
import pytest
from pypinyin import lazy_pinyin

from voicebot.config import PROJECT_ROOT
from voicebot.speech.asr import (
    HINT_DATE_AMOUNT,
    HINT_DIGITS,
    HINT_YES_NO,
    Transcriber,
    too_many_digits,
)
from voicebot.speech.audio import phone_line
from voicebot.speech.homophones import PhoneticCorrector
from voicebot.speech.offline_tts import OfflineVoice
from voicebot.understanding.normalize import normalize

_QUESTION = "请问是什么原因没有按时还款呢？"


def _hear(voice: OfflineVoice, transcriber: Transcriber, text: str, hint: str | None) -> str:
    audio, rate = voice.synthesize(text)
    narrow, narrow_rate = phone_line(audio, rate)
    return normalize(transcriber.transcribe(narrow, narrow_rate, hint))


def test_identity_confirmation(offline_voice: OfflineVoice, transcriber: Transcriber) -> None:
    heard = _hear(offline_voice, transcriber, "对，我是张伟", HINT_YES_NO)
    # Names are compared by sound: 张伟 and 张维 are the same spoken name.
    assert lazy_pinyin(heard) == lazy_pinyin("对我是张伟")


def test_promise_to_pay(offline_voice: OfflineVoice, transcriber: Transcriber) -> None:
    heard = _hear(offline_voice, transcriber, "我下周五还三千块", HINT_DATE_AMOUNT)
    assert "下周五" in heard and "还" in heard
    assert "三千" in heard or "3000" in heard


@pytest.mark.parametrize(("said", "digits"), [("一二三四", "1234"), ("幺二三四", "1234")])
def test_id_digits(
    offline_voice: OfflineVoice, transcriber: Transcriber, said: str, digits: str
) -> None:
    assert _hear(offline_voice, transcriber, said, HINT_DIGITS) == digits


def test_words_in_answer_to_the_id_question_stay_words(
    offline_voice: OfflineVoice, transcriber: Transcriber
) -> None:
    # Read as digits only, this came out as 55; too few digits, so it is read again.
    assert _hear(offline_voice, transcriber, "我不记得了", HINT_DIGITS) == "我不记得了"


@pytest.mark.parametrize("answer", ["对", "是我", "好的", "不是"])
def test_short_answers_with_yes_no_hint(
    offline_voice: OfflineVoice, transcriber: Transcriber, answer: str
) -> None:
    assert _hear(offline_voice, transcriber, answer, HINT_YES_NO) == answer


def test_bytes_input_and_silence(transcriber: Transcriber) -> None:
    silence = np.zeros(8000, dtype=np.int16).tobytes()
    assert transcriber.transcribe(silence, 8000, HINT_YES_NO) == ""


def test_question_text_as_hint(offline_voice: OfflineVoice, transcriber: Transcriber) -> None:
    heard = _hear(offline_voice, transcriber, "我现在手头比较紧", "请问您什么时候能还款？")
    assert heard == "我现在手头比较紧"


def test_noise_gives_nothing(transcriber: Transcriber) -> None:
    # Whisper answers noise with 对不起, the prompt or a loop: all must be dropped.
    noise = np.random.default_rng(0).normal(0, 3000, 16000).astype(np.int16)
    result = transcriber.transcribe_detailed(noise, 8000, HINT_YES_NO)
    assert result.text == "" and result.dropped in ("no_speech", "echo", "loop")


@pytest.mark.parametrize(
    ("said", "phrase"), [("公司一直拖欠工资", "拖欠工资"), ("这周五发工资，全部还上", "发工资")]
)
def test_the_phrase_list_restores_what_whisper_mishears(
    offline_voice: OfflineVoice,
    transcriber: Transcriber,
    whisper_base_dir: Path,
    said: str,
    phrase: str,
) -> None:
    # Whisper base writes 工资 as 公司 here; the phrase list puts it back, and says so.
    corrector = PhoneticCorrector.from_file(PROJECT_ROOT / "config" / "asr_phrases.yaml")
    corrected = Transcriber(whisper_base_dir, corrector=corrector)
    audio, rate = offline_voice.synthesize(said)
    heard = corrected.transcribe_detailed(*phone_line(audio, rate), _QUESTION)
    assert phrase in normalize(heard.text)
    assert phrase not in normalize(heard.uncorrected)
    assert normalize(transcriber.transcribe(*phone_line(audio, rate), _QUESTION)) == normalize(
        heard.uncorrected
    )


@pytest.mark.parametrize("level", [200, 600, 2000])
def test_line_noise_under_the_yes_no_hint_is_never_an_answer(
    transcriber: Transcriber, level: int
) -> None:
    # Whisper base reads this hiss as 嗯 嗯 嗯 … (no-speech 0.40-0.53, under the 0.55 gate);
    # 嗯嗯 would be a yes to the identity question. The recogniser's doubt drops it.
    noise = np.random.default_rng(7).normal(0, level, 8000)
    heard = transcriber.transcribe_detailed(*phone_line(noise.astype(np.int16), 8000), HINT_YES_NO)
    assert heard.text == "", heard
    assert heard.unclear  # asked again, not a silent turn


@pytest.mark.parametrize("answer", ["是的", "对的", "好的", "是我"])
def test_a_real_short_answer_is_not_doubted(
    offline_voice: OfflineVoice, transcriber: Transcriber, answer: str
) -> None:
    audio, rate = offline_voice.synthesize(answer)
    heard = transcriber.transcribe_detailed(*phone_line(audio, rate), HINT_YES_NO)
    assert not heard.unclear and normalize(heard.text) == answer, heard


def test_a_digit_reading_longer_than_the_audio_is_unclear() -> None:
    assert too_many_digits("12345678", 0.5) and not too_many_digits("1234", 1.0)
