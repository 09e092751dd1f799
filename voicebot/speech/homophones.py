"""Snap near-homophones in a transcript to the phrases a collection call is about.

Whisper base on an 8 kHz line often writes the right sounds with the wrong characters, or
one syllable off: 工资 -> 公资 / 发公司, 本人 -> 被人, 申请分期 -> 先请分期, 人工客服 ->
员工客服, 张伟 -> 张维. Commercial recognisers take a phrase list for this ("custom
vocabulary"); ours is `config/asr_phrases.yaml`, plus the borrower's name on each call.

A stretch of the transcript is rewritten to a phrase of the same length when it sounds
like it, judged on toneless pinyin (any reading of the heard character may match the
phrase's reading in context):
- two characters: every syllable must match (homophones only, so 公司 never becomes 工资);
- three or four: at most one syllable may differ; five or more: at most two; a differing
  syllable must keep its initial or its final (or swap it for its fuzzy pair: z/zh, n/l,
  an/ang...), so 被人 -> 本人 but 上个月 never -> 下个月.
Exact phrases already in the transcript and the listed real look-alikes (`keep`, such as
声音不好 next to 生意不好) are never rewritten.
"""

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import yaml
from pypinyin import Style, lazy_pinyin, pinyin

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_HAN_ONLY = re.compile(r"^[\u4e00-\u9fff]{2,}$")


class PhraseListError(ValueError):
    """The phrase list file is missing or malformed."""


@lru_cache(maxsize=8192)
def _readings(char: str) -> frozenset[str]:
    """Every toneless reading of one character (还: hai, huan, fu)."""
    return frozenset(pinyin(char, heteronym=True, style=Style.NORMAL)[0])


def _phrase_reading(phrase: str) -> tuple[str, ...]:
    """The phrase's own reading in context (分期: fen qi, never fen ji)."""
    return tuple(lazy_pinyin(phrase, style=Style.NORMAL))


def _allowed_misses(length: int) -> int:
    return 0 if length <= 2 else 1 if length <= 4 else 2


_INITIALS = ("zh", "ch", "sh", *"bpmfdtnlgkhjqxrzcsyw")
# The fuzzy pairs of pinyin input methods: sounds Mandarin speakers (and Whisper) swap.
_FUZZY = {
    frozenset(pair)
    for pair in (("z", "zh"), ("c", "ch"), ("s", "sh"), ("n", "l"), ("r", "l"), ("f", "h"),
                 ("an", "ang"), ("en", "eng"), ("in", "ing"), ("ian", "iang"), ("uan", "uang"))
}  # fmt: skip


def _split(syllable: str) -> tuple[str, str]:
    initial = next((i for i in _INITIALS if syllable.startswith(i)), "")
    return initial, syllable[len(initial) :]


def _alike(a: str, b: str) -> bool:
    """Whether two syllables share their initial or final, allowing the fuzzy pairs."""
    (ia, fa), (ib, fb) = _split(a), _split(b)
    return ia == ib or fa == fb or {ia, ib} in _FUZZY or {fa, fb} in _FUZZY


class PhoneticCorrector:
    """Rewrites misheard stretches of a transcript to the phrases they sound like."""

    def __init__(self, phrases: Iterable[str], keep: Iterable[str] = ()) -> None:
        words = {p for p in phrases if _HAN_ONLY.match(p)}
        # Longest first: 全部还上 is tried before 还上 could claim part of it.
        self._phrases = [(p, _phrase_reading(p)) for p in sorted(words, key=len, reverse=True)]
        self._keep = tuple(k for k in keep if k)

    @classmethod
    def from_file(cls, path: Path) -> "PhoneticCorrector":
        """Load `phrases:` and `keep:` (lists of Chinese phrases) from a YAML file."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise PhraseListError(f"{path}: cannot read the ASR phrase list ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("phrases"), list):
            raise PhraseListError(f"{path}: expected a mapping with a 'phrases' list")
        entries = {"phrases": data["phrases"], "keep": data.get("keep") or []}
        for key, values in entries.items():
            bad = [v for v in values if not isinstance(v, str) or not _HAN_ONLY.match(v)]
            if bad:
                raise PhraseListError(
                    f"{path}: {key} entry {bad[0]!r} is not two or more Chinese characters"
                )
        return cls(entries["phrases"], entries["keep"])

    def correct(self, text: str, names: Sequence[str] = ()) -> str:
        """The transcript with near-homophones of the phrases (and `names`) rewritten."""
        extra = [(n, _phrase_reading(n)) for n in names if _HAN_ONLY.match(n)]
        phrases = sorted([*extra, *self._phrases], key=lambda p: len(p[0]), reverse=True)
        return _HAN_RUN.sub(lambda run: self._correct_run(run.group(), phrases), text)

    def _correct_run(self, run: str, phrases: list[tuple[str, tuple[str, ...]]]) -> str:
        chars = list(run)
        fixed = [False] * len(chars)  # exact phrases, kept look-alikes, rewritten stretches
        for word in [*(p for p, _ in phrases), *self._keep]:
            for found in re.finditer(re.escape(word), run):
                fixed[found.start() : found.end()] = [True] * len(word)
        for phrase, reading in phrases:
            start = 0
            while start + len(phrase) <= len(chars):
                window = chars[start : start + len(phrase)]
                if self._sounds_like(window, phrase, reading) and not any(
                    fixed[start + k] for k, c in enumerate(window) if c != phrase[k]
                ):
                    chars[start : start + len(phrase)] = phrase
                    fixed[start : start + len(phrase)] = [True] * len(phrase)
                    start += len(phrase)
                else:
                    start += 1
        return "".join(chars)

    @staticmethod
    def _sounds_like(window: list[str], phrase: str, reading: tuple[str, ...]) -> bool:
        if "".join(window) == phrase or len(reading) != len(phrase):
            return False
        misses = [
            (_readings(c), syllable)
            for c, p, syllable in zip(window, phrase, reading, strict=True)
            if c != p and syllable not in _readings(c)
        ]
        return len(misses) <= _allowed_misses(len(phrase)) and all(
            any(_alike(heard, syllable) for heard in readings) for readings, syllable in misses
        )
