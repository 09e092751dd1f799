"""The lines a campaign dials through: the simulated text line here, the carriers' lines
handed in by the composition root (`telephony.carriers.campaign_lines`).

The simulated line (`TextCampaignLine`) runs each call offline through the call session
over a text line (`voicebot.simulate.simulate_call`, in LLM mode when `[llm]` is set),
the borrower played by a persona: the lines a scenario's `borrower:` list would hold, per
account.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from voicebot.accounts import Account
from voicebot.campaigns.scheduler import AttemptOutcome
from voicebot.config import Settings
from voicebot.conversation.script import Script, load_script
from voicebot.conversation.state import Direction
from voicebot.scenario import Scenario
from voicebot.simulate import simulate_call

SIMULATED = "simulated"
BUSY = "<busy>"  # persona entry: the line is engaged, nobody answers, nothing is said
DEFAULT_PERSONA = "default"


class LineNotConfigured(RuntimeError):
    """The chosen line has no carrier set up."""


class PersonaError(ValueError):
    """The personas file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class DialResult:
    outcome: AttemptOutcome
    summary: dict[str, Any] | None  # None when no call connected to the engine (busy)


class CampaignDialer(Protocol):
    """A campaign's line: places one outbound call and reports how it went."""

    # The simulated line runs on the campaign's clock (the attempt's planned time); a real
    # line's call happens when it happens.
    virtual_time: bool

    def dial(self, account: Account, at: datetime, attempt_no: int) -> DialResult: ...


@dataclass(frozen=True)
class Personas:
    """account_id -> the borrower's lines, one list per attempt (the last one repeats)."""

    path: Path
    by_account: Mapping[str, tuple[tuple[str, ...], ...]]
    default: tuple[tuple[str, ...], ...]

    def lines_for(self, account_id: str, attempt_no: int) -> tuple[str, ...]:
        calls = self.by_account.get(account_id, self.default)
        return calls[min(attempt_no, len(calls) - 1)]


def load_personas(path: Path) -> Personas:
    """Read a personas file: `account_id: [lines]` or `account_id: [[call 1], [call 2]]`,
    with `default:` for every account not named (silence when absent)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise PersonaError(f"{path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise PersonaError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if not isinstance(raw, dict):
        raise PersonaError(f"{path}: expected a mapping of account_id to borrower lines")
    calls = {str(key): _calls(path, str(key), value) for key, value in raw.items()}
    default = calls.pop(DEFAULT_PERSONA, ((),))
    return Personas(path, calls, default)


def _calls(path: Path, key: str, value: Any) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise PersonaError(f"{path}: {key}: expected a list of borrower lines")
    if value and all(isinstance(item, list) for item in value):
        return tuple(_lines(path, f"{key}[{i}]", item) for i, item in enumerate(value))
    return (_lines(path, key, value),)


def _lines(path: Path, key: str, value: Sequence[Any]) -> tuple[str, ...]:
    lines = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise PersonaError(f"{path}: {key}[{index}]: expected a text line")
        lines.append(str(item))
    return tuple(lines)


class TextCampaignLine:
    """The simulated line: every call offline through the conversation engine, in text,
    against a persona."""

    virtual_time = True

    def __init__(self, settings: Settings, personas: Personas, script: Script | None = None):
        self.settings = settings
        self.personas = personas
        self.script = script or load_script(settings.prompts_dir)

    def dial(self, account: Account, at: datetime, attempt_no: int) -> DialResult:
        lines = self.personas.lines_for(account.account_id, attempt_no)
        if lines[:1] == (BUSY,):
            return DialResult(AttemptOutcome.BUSY, None)
        scenario = Scenario(
            path=self.personas.path,
            direction=Direction.OUTBOUND,
            account=account,
            borrower=lines,
            now=at,
        )
        summary = simulate_call(scenario, self.settings, self.script, at)
        return DialResult(AttemptOutcome(summary["outcome"]), summary)


CarrierLineFactory = Callable[[Settings], CampaignDialer]  # raises LineNotConfigured


class CampaignLines:
    """The lines a campaign may name: the simulated one, and the carriers' (by name)."""

    def __init__(self, carriers: Mapping[str, CarrierLineFactory] | None = None) -> None:
        self.carriers = dict(carriers or {})

    @property
    def names(self) -> tuple[str, ...]:
        return (SIMULATED, *self.carriers)

    def open(self, kind: str, settings: Settings, personas_path: Path | None) -> CampaignDialer:
        """The line named `kind`; LineNotConfigured when its carrier is not set up."""
        if kind in self.carriers:
            return self.carriers[kind](settings)
        if kind != SIMULATED:
            raise LineNotConfigured(f"no line named {kind!r}: {', '.join(self.names)}")
        personas = (
            load_personas(personas_path)
            if personas_path
            else Personas(Path("<no personas>"), {}, ((),))
        )
        return TextCampaignLine(settings, personas)
