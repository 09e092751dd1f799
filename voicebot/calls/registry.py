"""The calls a process carries right now, for operators (`GET /calls/active`).

Entries hold the borrower's number for the call's own use; everything that leaves the
registry (JSON, logs) shows it masked.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voicebot.masking import mask_phone


@dataclass
class ActiveCall:
    call_id: str
    direction: str  # "inbound" or "outbound"
    line: str  # the line kind: "twilio", "sip", "simulated"
    number: str  # never shown unmasked
    started_at: datetime
    state: str = "connected"  # connected -> in_conversation -> transferring -> ending

    def as_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "direction": self.direction,
            "line": self.line,
            "number": mask_phone(self.number) if self.number else "",
            "state": self.state,
            "started_at": self.started_at.isoformat(timespec="seconds"),
        }


class CallRegistry:
    """Live calls by id; each call's session adds, updates and removes its entry."""

    def __init__(self) -> None:
        self._calls: dict[str, ActiveCall] = {}

    def add(self, call: ActiveCall) -> None:
        self._calls[call.call_id] = call

    def reserve(self, call: ActiveCall, limit: int) -> bool:
        """Add `call` if fewer than `limit` calls are live; False (nothing added) if full.
        Check and add happen in one step, so a burst of calls cannot pass the cap."""
        if len(self._calls) >= limit:
            return False
        self.add(call)
        return True

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._calls

    def set_state(self, call_id: str, state: str) -> None:
        call = self._calls.get(call_id)
        if call is not None:
            call.state = state

    def remove(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    def __len__(self) -> int:
        return len(self._calls)

    def active(self) -> list[dict[str, Any]]:
        """Every live call, oldest first, numbers masked."""
        calls = sorted(self._calls.values(), key=lambda c: c.started_at)
        return [call.as_dict() for call in calls]
