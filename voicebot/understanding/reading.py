"""The embedding reader's labels as a `Meaning`, and a `Meaning` as labels.

The reader only fills what the rules left open (the rules keep their authority) and can
only raise the sentiment; self-harm and distress are the triggers it adds whatever the
rules found (escalated as `vulnerable`; the call goes on).
"""

import dataclasses

from voicebot.understanding.categories import Intent, ReasonCategory, Request, Sentiment
from voicebot.understanding.embedding import Reading
from voicebot.understanding.meaning import Meaning

_SEVERITY = (Sentiment.CALM, Sentiment.ANXIOUS, Sentiment.ANGRY, Sentiment.DISTRESSED)


def merge_reading(rules: Meaning, reading: Reading, answered: bool = False) -> Meaning:
    """`rules` with the gaps filled from the embedding reader's `reading`. `answered`: the
    rules already answered the question asked, so the reader adds only its flags and the
    self-harm trigger."""
    label = "" if answered else reading.label or ""
    kind, _, value = label.partition(":")
    said_who = rules.third_party or rules.wrong_number or rules.voicemail or rules.unreachable
    open_answer = not (rules.yes or rules.no or said_who or rules.refuse_verify)
    changes: dict[str, object] = {}
    if kind == "answer" and open_answer:
        changes[value] = True  # yes / no
    elif kind == "speaker" and open_answer:
        changes[value] = True  # third_party / wrong_number / voicemail
    elif label == "refuse_verify" and open_answer:
        changes["refuse_verify"] = True
    elif kind == "reason" and rules.reason is None:
        changes["reason"] = ReasonCategory(value)
    elif kind == "request" and Request(value) not in rules.requests:
        changes["requests"] = rules.requests | {Request(value)}
    elif kind == "intent" and rules.intent is None:
        changes["intent"] = Intent(value)
    complaint = "complaint" in reading.flags or label == "intent:complaint"
    if complaint and not rules.complaint:
        changes["complaint"] = True  # a complaint is one wherever it is heard
    sentiments = [Sentiment(f.partition(":")[2]) for f in reading.flags if f.startswith("sent")]
    # Self-harm, or distress (which always escalates, DOMAIN.md), heard by the reader alone:
    # escalated with high priority while the call goes on; only the rules end a call on it.
    if (reading.self_harm or Sentiment.DISTRESSED in sentiments) and not rules.self_harm:
        changes["vulnerable"] = True
    sentiments = [s for s in sentiments if s is not Sentiment.DISTRESSED]  # the rules' call
    raised = max([rules.sentiment, *sentiments], key=_SEVERITY.index)
    if raised is not rules.sentiment:
        changes["sentiment"] = raised
    if not changes:
        return rules
    return dataclasses.replace(rules, **changes, reader="embedding")  # type: ignore[arg-type]


def labels_of(meaning: Meaning) -> set[str]:
    """The labels a meaning shows, in the example bank's names (what the bench scores)."""
    flags = {
        "answer:yes": meaning.yes,
        "answer:no": meaning.no,
        "speaker:third_party": meaning.third_party,
        "speaker:wrong_number": meaning.wrong_number,
        "speaker:voicemail": meaning.voicemail or meaning.unreachable,
        "refuse_verify": meaning.refuse_verify,
        "complaint": meaning.complaint,
        "self_harm": meaning.self_harm or meaning.vulnerable,  # escalated as vulnerable
    }
    labels = {name for name, shown in flags.items() if shown}
    if meaning.reason is not None:
        labels.add(f"reason:{meaning.reason.value}")
    labels |= {f"request:{r.value}" for r in meaning.requests}
    if meaning.intent is not None:
        labels.add(f"intent:{meaning.intent.value}")
    if meaning.sentiment is not Sentiment.CALM:
        labels.add(f"sentiment:{meaning.sentiment.value}")
    if meaning.vulnerable:
        labels.add("sentiment:distressed")
    return labels
