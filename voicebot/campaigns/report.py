"""What a person sees while a campaign runs and when it ends."""

import time
from collections.abc import Callable, Mapping
from typing import TextIO

from voicebot.campaigns.state import Progress


class LiveProgress:
    """A one-line display, redrawn at most a few times a second: calls placed, connected,
    promises, escalations, and how long the current round still needs at the current rate."""

    def __init__(self, stream: TextIO, timer: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.timer = timer
        self.started = timer()
        self.drawn_at = 0.0
        self.first_placed: int | None = None
        self.interactive = stream.isatty()
        self.last = Progress()

    def __call__(self, progress: Progress) -> None:
        self.last = progress
        if self.first_placed is None:
            self.first_placed = progress.placed
        now = self.timer()
        if now - self.drawn_at < (0.2 if self.interactive else 5.0):
            return
        self.drawn_at = now
        self._draw(progress, now)

    def finish(self) -> None:
        self._draw(self.last, self.timer())
        if self.interactive:
            self.stream.write("\n")
        self.stream.flush()

    def _draw(self, progress: Progress, now: float) -> None:
        elapsed = max(now - self.started, 1e-6)
        rate = (progress.placed - (self.first_placed or 0)) / elapsed
        eta = f"{progress.open / rate:.0f}s" if rate > 0 and progress.open else "-"
        line = (
            f"placed {progress.placed}  connected {progress.connected}"
            f"  promises {progress.promises}  escalations {progress.escalations}"
            f"  closed {progress.closed}/{progress.accounts}"
            f"  in flight {progress.open}  ETA {eta}  ({rate * 60:.0f} calls/min)"
        )
        self.stream.write(("\r\033[K" + line) if self.interactive else line + "\n")
        self.stream.flush()


def final_report(
    name: str,
    progress: Progress,
    closures: Mapping[str, int],
    outcomes: Mapping[str, int],
    elapsed_s: float,
) -> str:
    """The end-of-run summary printed by `voicebot campaign run`."""
    lines = [
        f"campaign {name}: {progress.accounts} accounts, {progress.placed} calls placed,"
        f" {progress.connected} connected, {progress.promises} promises to pay,"
        f" {progress.escalations} escalations ({elapsed_s:.1f}s)",
        "accounts: " + _counts(closures),
        "attempts: " + _counts(outcomes),
    ]
    if progress.unknown:
        lines.append(
            f"{progress.unknown} attempts have an unknown result (a dialer stopped mid-call):"
            " counted against the daily caps, retried later"
        )
    return "\n".join(lines)


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) or "none"
