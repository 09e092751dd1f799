"""The reviewed script in prompts/: loading, checking and filling its templates."""

import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

# Every placeholder a template may use; anything else is a typo caught at load time.
SLOTS = frozenset(
    {
        "lender",
        "hotline",
        "repayment_channels",
        "borrower",
        "pronoun",
        "product",
        "overdue_amount",
        "overdue_days",
        "due_date",
        "amount",
        "date",
        "requests",
    }
)


class ScriptError(ValueError):
    """The script files are malformed; the message names the file and the line key."""


@dataclass(frozen=True)
class Script:
    lines: Mapping[str, str]
    banned_phrases: tuple[str, ...]

    def render(self, key: str, slots: Mapping[str, str]) -> str:
        """The line `key` with its placeholders filled in."""
        return self.lines[key].format_map(slots)

    def banned_phrases_in(self, text: str) -> list[str]:
        """The banned claims that `text` contains (empty when it is safe to speak)."""
        return [phrase for phrase in self.banned_phrases if phrase in text]


def load_script(prompts_dir: Path) -> Script:
    """Load prompts/script.yaml and prompts/banned_claims.yaml, checking every template."""
    script_file = prompts_dir / "script.yaml"
    lines = _load_mapping(script_file)
    for key, template in lines.items():
        if not isinstance(template, str):
            raise ScriptError(f"{script_file}: {key}: expected a line of text")
        unknown = _placeholders(template) - SLOTS
        if unknown:
            raise ScriptError(f"{script_file}: {key}: unknown placeholder {sorted(unknown)[0]}")
    banned_file = prompts_dir / "banned_claims.yaml"
    banned = _load_mapping(banned_file).get("phrases")
    if not isinstance(banned, list) or not all(isinstance(p, str) for p in banned):
        raise ScriptError(f"{banned_file}: phrases: expected a list of text")
    return Script(lines=lines, banned_phrases=tuple(banned))


def _load_mapping(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScriptError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise ScriptError(f"{path}: expected a mapping of keys to lines")
    return data


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
