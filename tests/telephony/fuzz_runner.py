"""The server side of the fuzz run, observed: the real `CallSessions` recording every call it
runs, and a log handler gathering the server's errors by kind."""

import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicebot.calls import ActiveCall, CallSessions, CallSpec
from voicebot.voice.line import PhoneLine


class SpeechLeftOut(RuntimeError):
    """The fuzz run's stand-in for the speech models: any use ends the call's pipeline."""


class NoSpeech:
    def __getattr__(self, name: str) -> Any:
        raise SpeechLeftOut(f"speech models left out of the fuzz run ({name})")


@dataclass
class RunRecord:
    call_id: str
    line: str
    carrier_call_id: str  # the SIP Call-ID or callSid, as the adapter passed it
    summary: dict[str, Any] | None = None
    error: str = ""
    ended: bool = False


class FuzzRunner(CallSessions):
    """The real call runner; without models, each call is held until its line closes."""

    def __init__(self, settings: Any, models: Any | None) -> None:
        speech: Any = models if models is not None else NoSpeech()
        super().__init__(settings, speech)
        self.hold = models is None
        self.runs: list[RunRecord] = []
        self.live: Counter[str] = Counter()
        self.max_live: Counter[str] = Counter()

    async def run(self, line: PhoneLine, spec: CallSpec) -> dict[str, Any]:
        carrier = getattr(spec, "carrier_call_id", "") or spec.call_id
        record = RunRecord(str(spec.call_id), spec.line_kind, str(carrier))
        self.runs.append(record)
        self.live[spec.line_kind] += 1
        self.max_live[spec.line_kind] = max(
            self.max_live[spec.line_kind], self.live[spec.line_kind]
        )
        try:
            if self.hold:  # listed as live while held, as a conversation would be
                entry = ActiveCall(
                    spec.call_id, spec.direction.value, spec.line_kind, spec.number, self.clock()
                )
                self.calls.add(entry)
                await line.wait_closed()
            record.summary = await super().run(line, spec)
            return record.summary
        except BaseException as error:
            record.error = f"{type(error).__name__}: {error}"
            raise
        finally:
            self.live[spec.line_kind] -= 1
            record.ended = True


class ErrorLog(logging.Handler):
    """Server-side tracebacks and errors, by distinct (logger, message, exception) kind."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.kinds: dict[str, dict[str, Any]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, SpeechLeftOut):
            return
        if exc is None and record.levelno < logging.ERROR:
            return
        text = record.getMessage()
        key = f"{record.name}: {type(exc).__name__ if exc else ''} {text[:50]}"
        seen = self.kinds.setdefault(key, {"count": 0, "example": text[:300], "trace": ""})
        seen["count"] += 1
        if exc is not None and record.exc_info and not seen["trace"]:
            seen["trace"] = logging.Formatter().formatException(record.exc_info)[-1500:]


@contextlib.contextmanager
def capturing_errors(log_path: Path) -> Iterator[ErrorLog]:
    """Warnings and up from every logger: gathered by kind, and written to `log_path`."""
    errors, log_file = ErrorLog(), logging.FileHandler(log_path)
    log_file.setLevel(logging.WARNING)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    root.addHandler(errors)
    root.addHandler(log_file)
    try:
        yield errors
    finally:
        root.removeHandler(errors)
        root.removeHandler(log_file)
        log_file.close()
        root.setLevel(level)
