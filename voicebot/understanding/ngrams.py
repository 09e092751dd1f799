"""Character n-gram similarity to the labelled examples: the embedding reader's second
opinion.

Short Mandarin phrasings of one meaning share characters (还不上, 拖, 不想活, 工资) that a
small sentence model does not always weigh; a TF-IDF vector of character 1-3-grams
(sublinear counts, smoothed IDF, unit length) compared with each example's catches them.
Pure numpy over an inverted index: about 0.1 ms per utterance for the 1,300 examples.
"""

import math
import re
from collections import Counter, defaultdict

import numpy as np

SIZES = (1, 2, 3)
_NOT_WORDS = re.compile(r"[\s，。、！？!?,.;；:：…~～\"'“”‘’（）()]+")


def grams(text: str) -> Counter[str]:
    """The character 1-3-grams of `text`, spaces and punctuation left out, with counts."""
    text = _NOT_WORDS.sub("", text)
    return Counter(text[i : i + n] for n in SIZES for i in range(len(text) - n + 1))


class NgramIndex:
    """Cosine similarity of TF-IDF character n-gram vectors, one per example."""

    def __init__(self, texts: list[str]) -> None:
        documents = [grams(text) for text in texts]
        frequency = Counter(gram for document in documents for gram in document)
        total = len(documents)
        self.idf = {g: math.log((1 + total) / (1 + df)) + 1 for g, df in frequency.items()}
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for row, document in enumerate(documents):
            weights = {g: (1 + math.log(c)) * self.idf[g] for g, c in document.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for gram, weight in weights.items():
                postings[gram][0].append(row)
                postings[gram][1].append(weight / norm)
        self.size = total
        self.postings = {
            gram: (np.asarray(rows, dtype=np.intp), np.asarray(ws, dtype=np.float32))
            for gram, (rows, ws) in postings.items()
        }

    def similarities(self, text: str) -> np.ndarray:
        """Each example's cosine similarity to `text` (0 where no n-gram is shared)."""
        weights = {
            g: (1 + math.log(c)) * self.idf[g] for g, c in grams(text).items() if g in self.idf
        }
        similarities = np.zeros(self.size, dtype=np.float32)
        norm = math.sqrt(sum(w * w for w in weights.values()))
        if not norm:
            return similarities
        for gram, weight in weights.items():
            rows, example_weights = self.postings[gram]
            similarities[rows] += example_weights * (weight / norm)
        return similarities
