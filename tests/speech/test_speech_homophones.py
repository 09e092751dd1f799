"""Near-homophone correction of transcripts against the shipped phrase list.

The misheard inputs are what Whisper base wrote for the offline voice on the phone line
(scripts/bench_voice.py prints them); the corpus test guards against rewriting real speech.
"""

from pathlib import Path

import pytest
import yaml

from voicebot.config import PROJECT_ROOT, load_settings
from voicebot.speech.homophones import PhoneticCorrector, PhraseListError
from voicebot.understanding.normalize import normalize

PHRASES = PROJECT_ROOT / "config" / "asr_phrases.yaml"


@pytest.fixture(scope="module")
def corrector() -> PhoneticCorrector:
    return PhoneticCorrector.from_file(PHRASES)


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("这周五发公司，全部还上。", "这周五发工资，全部还上。"),
        ("公司一直拖欠公司", "公司一直拖欠工资"),
        ("发了公资就还", "发了工资就还"),
        ("没错 是我被人", "没错 是我本人"),
        ("是的，有什么书？", "是的，有什么事？"),
        ("声意不好，手头紧", "生意不好，手头紧"),
        ("全部怀上", "全部还上"),
        ("这比仗不对，我要投诉", "这笔账不对，我要投诉"),
    ],
)
def test_misheard_phrases_are_written_as_meant(
    corrector: PhoneticCorrector, heard: str, meant: str
) -> None:
    assert corrector.correct(heard) == meant


@pytest.mark.parametrize(
    "said",
    [
        "上个月公司裁员了",  # 公司 is a word too: two characters change only on identical sound
        "你那边声音不好",  # a kept look-alike of 生意不好
        "我怀孕了",
        "我想申请延期",  # 延期 is not 分期: the differing syllable shares nothing
        "下个月十号还两千",
    ],
)
def test_real_speech_is_left_alone(corrector: PhoneticCorrector, said: str) -> None:
    assert corrector.correct(said) == said


def test_the_borrower_name_is_written_as_the_account_spells_it(
    corrector: PhoneticCorrector,
) -> None:
    assert corrector.correct("嗯，我是张维。", names=["张伟"]) == "嗯，我是张伟。"
    assert corrector.correct("嗯，我是张维。") == "嗯，我是张维。"


def _texts(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        node = list(node.values())
    return [text for item in node for text in _texts(item)] if isinstance(node, list) else []


def test_no_script_line_or_scenario_utterance_is_rewritten(corrector: PhoneticCorrector) -> None:
    scenarios = yaml.safe_load((PROJECT_ROOT / "tests" / "scenarios.yaml").read_text())
    corpus = [line for case in scenarios for line in _texts(case["borrower"])]
    for path in [
        *(PROJECT_ROOT / "examples").glob("*.yaml"),
        *(PROJECT_ROOT / "prompts").glob("*.yaml"),
    ]:
        if path.name == "understanding_examples.yaml":
            continue  # the reader's bank of varied borrower speech; see the README's note
        corpus += _texts(yaml.safe_load(path.read_text()))
    assert len(corpus) > 300
    changed = {
        text: corrector.correct(text, ["张伟", "李娜"])
        for text in map(normalize, corpus)
        if corrector.correct(text, ["张伟", "李娜"]) != text
    }
    assert changed == {}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("- 工资\n", "expected a mapping with a 'phrases' list"),
        ("phrases: [工资, salary]\n", "phrases entry 'salary' is not two or more Chinese"),
        ("phrases: [工资]\nkeep: [声]\n", "keep entry '声'"),
        ("phrases: [工资\n", "cannot read the ASR phrase list"),
    ],
)
def test_a_bad_phrase_list_is_refused_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "phrases.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PhraseListError, match=problem) as error:
        PhoneticCorrector.from_file(path)
    assert str(path) in str(error.value)


def test_the_phrase_list_is_a_setting_and_can_be_turned_off(tmp_path: Path) -> None:
    assert load_settings().voice.asr_phrases == PHRASES
    config = tmp_path / "voicebot.toml"
    default = (PROJECT_ROOT / "config" / "default.toml").read_text(encoding="utf-8")
    config.write_text(
        default.replace('asr_phrases = "config/asr_phrases.yaml"', 'asr_phrases = ""')
    )
    assert load_settings(config).voice.asr_phrases is None
