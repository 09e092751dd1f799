"""The LLM mode's reviewed texts: its instructions (prompts/llm.yaml) and the FAQ
(prompts/faq.yaml), loaded once, filled with the lender's settings and checked."""

from dataclasses import dataclass
from pathlib import Path

import yaml

from voicebot.config import LenderSettings
from voicebot.conversation.script import Script, ScriptError

_INSTRUCTIONS = ("understanding", "off_script", "notes")


@dataclass(frozen=True)
class FAQEntry:
    topic: str
    question: str
    answer: str


@dataclass(frozen=True)
class LLMPrompts:
    """Instructions by purpose, and the FAQ that grounds off-script answers."""

    understanding: str
    off_script: str
    notes: str
    faq: tuple[FAQEntry, ...]

    def grounding_texts(self) -> list[str]:
        """Every reviewed text an answer may draw facts (and numbers) from."""
        return [entry.answer for entry in self.faq]


def load_llm_prompts(prompts_dir: Path, lender: LenderSettings, script: Script) -> LLMPrompts:
    """Load and fill prompts/llm.yaml and prompts/faq.yaml; a malformed entry or an FAQ
    answer with a banned claim raises ScriptError naming the file and the entry."""
    slots = {
        "lender": lender.name,
        "hotline": lender.hotline,
        "repayment_channels": lender.repayment_channels,
    }
    llm_file = prompts_dir / "llm.yaml"
    raw = _load(llm_file)
    texts = {}
    for key in _INSTRUCTIONS:
        if not isinstance(raw.get(key), str):
            raise ScriptError(f"{llm_file}: {key}: expected a text")
        texts[key] = _fill(raw[key], slots, llm_file, key)
    faq_file = prompts_dir / "faq.yaml"
    entries = _load(faq_file).get("entries")
    if not isinstance(entries, list):
        raise ScriptError(f"{faq_file}: entries: expected a list")
    faq = []
    for number, entry in enumerate(entries, 1):
        where = f"entries[{number}]"
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("topic", "question", "answer")
        ):
            raise ScriptError(f"{faq_file}: {where}: expected topic, question and answer")
        answer = _fill(entry["answer"], slots, faq_file, where)
        if banned := script.banned_phrases_in(answer):
            raise ScriptError(f"{faq_file}: {entry['topic']}: banned claim {banned[0]}")
        faq.append(FAQEntry(entry["topic"], entry["question"], answer))
    return LLMPrompts(faq=tuple(faq), **texts)


def _fill(template: str, slots: dict[str, str], path: Path, key: str) -> str:
    try:
        return template.format_map(slots)
    except (KeyError, ValueError) as error:
        raise ScriptError(f"{path}: {key}: bad placeholder {error}") from None


def _load(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScriptError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise ScriptError(f"{path}: expected a mapping")
    return data
