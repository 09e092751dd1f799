"""Normalise ASR text before anything tries to understand it."""

import re
import unicodedata
from functools import lru_cache

from opencc import OpenCC

_PUNCTUATION = re.compile(r"[\s，。、！？!?,.;；:：…~～\"'“”‘’（）()《》<>【】\[\]]+")


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def normalize(text: str) -> str:
    """Simplified characters, half-width forms, no punctuation or spaces, upper-case X.

    Thousands separators go ("3,000" -> "3000"), decimal points become 点 ("1500.5" ->
    "1500点5"); Chinese numerals are
    left as they are for the number and date parsers, which read both forms.
    """
    text = unicodedata.normalize("NFKC", text)  # full-width digits, letters and signs
    text = _t2s().convert(text)
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = re.sub(r"(?<=\d)\.(?=\d)", "点", text)  # 1500.5 survives the punctuation strip
    text = _PUNCTUATION.sub("", text)
    return text.replace("x", "X")
