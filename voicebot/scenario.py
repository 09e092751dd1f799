"""Scenario files for `voicebot simulate` (examples/ shows the format): loading and validation."""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from voicebot.accounts import Account, InvalidField, normalize_phone, parse_account
from voicebot.conversation.state import Direction

SILENCE = "<silence>"
HANGUP = "<hangup>"
# The phone's keys, as `voicebot.voice.line` has them (not imported: voice reads scenarios).
KEYPAD = "0123456789*#ABCD"
END_KEY = "#"


class ScenarioError(ValueError):
    """An invalid scenario; the message names the file and the offending field."""


@dataclass(frozen=True)
class AudioEntry:
    path: Path


@dataclass(frozen=True)
class DtmfEntry:
    """Keys the borrower presses on the phone's keypad (`{dtmf: "1234#"}`)."""

    digits: str

    @property
    def heard(self) -> tuple[str, ...]:
        """The groups the bot hears, as the borrower's words: `#` ends a group and `*` is
        the X of an ID number ("123*#" -> ("123X",)), as on a phone line
        (`voicebot.voice.transport.keyed_words`)."""
        return tuple(group.replace("*", "X") for group in self.digits.split(END_KEY) if group)


Entry = str | AudioEntry | DtmfEntry  # a text line, SILENCE, HANGUP, an audio clip, keys


@dataclass(frozen=True)
class Scenario:
    path: Path
    direction: Direction
    account: Account
    borrower: tuple[Entry, ...]
    now: datetime | None = None
    caller: str | None = None

    @property
    def has_audio(self) -> bool:
        return any(isinstance(entry, AudioEntry) for entry in self.borrower)


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; raises ScenarioError naming the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a UTF-8 text file") from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {_first_line(error)}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not valid YAML: nested too deeply") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: expected a mapping with account and borrower")
    return parse_scenario(raw, path)


def parse_scenario(raw: dict[str, Any], path: Path) -> Scenario:
    """Validate a scenario already read from YAML; `path` anchors audio clips and errors."""
    try:
        return _parse(path, raw)
    except InvalidField as bad:
        raise ScenarioError(f"{path}: {bad}") from None


def _parse(path: Path, raw: dict[str, Any]) -> Scenario:
    direction_text = str(raw.get("direction", "outbound"))
    if direction_text not in ("outbound", "inbound"):
        raise InvalidField("direction", f"must be outbound or inbound, got {direction_text!r}")
    direction = Direction(direction_text)
    account_raw = raw.get("account")
    if not isinstance(account_raw, dict):
        raise InvalidField("account", "missing or not a mapping")
    try:
        account = parse_account(account_raw)
    except InvalidField as bad:
        raise InvalidField(f"account.{bad.field}", bad.problem) from None
    caller = None
    if direction is Direction.INBOUND:
        if raw.get("caller") is None:
            raise InvalidField("caller", "inbound scenarios need the calling number")
        caller = normalize_phone(str(raw["caller"]), "caller")
    return Scenario(
        path=path,
        direction=direction,
        account=account,
        borrower=_entries(path, raw.get("borrower")),
        now=_now(raw.get("now")) if raw.get("now") is not None else None,
        caller=caller,
    )


def parse_now(value: Any, field: str = "now") -> datetime:
    """An ISO 8601 time with an offset; naive times are refused (whose 10:00?)."""
    try:
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidField(field, f"not an ISO 8601 time: {value!r}") from None
    if when.tzinfo is None:
        raise InvalidField(field, f"needs a UTC offset, e.g. +08:00: {value!r}")
    return when


def _now(value: Any) -> datetime:
    return parse_now(value)


def _entries(path: Path, raw: Any) -> tuple[Entry, ...]:
    if not isinstance(raw, list):
        raise InvalidField("borrower", "expected a list of lines")
    entries: list[Entry] = []
    for index, item in enumerate(raw):
        if isinstance(item, dict) and set(item) == {"audio"}:
            clip = (path.parent / str(item["audio"])).resolve()
            if not clip.is_file():
                raise InvalidField(f"borrower[{index}].audio", f"no such file {item['audio']}")
            entries.append(AudioEntry(clip))
        elif isinstance(item, dict) and set(item) == {"dtmf"}:
            entries.append(DtmfEntry(_keys(item["dtmf"], f"borrower[{index}].dtmf")))
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            entries.append(str(item))
        else:
            raise InvalidField(
                f"borrower[{index}]", 'expected text, {audio: file.wav} or {dtmf: "1234#"}'
            )
    return tuple(entries)


def _keys(value: Any, field: str) -> str:
    # A number is refused: YAML reads 1234 as an integer and 0123 as octal 83.
    if not isinstance(value, str) or not value:
        raise InvalidField(field, f'expected the keys as quoted text, e.g. "1234#": {value!r}')
    unknown = sorted(set(value) - set(KEYPAD))
    if unknown:
        raise InvalidField(field, f"not keypad keys (0-9, *, #, A-D): {''.join(unknown)!r}")
    return value


def _first_line(error: Exception) -> str:
    return " ".join(str(error).split())
