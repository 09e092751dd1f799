"""What a line knows about a call when it connects: the `CallSpec`."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from voicebot.accounts import Account
from voicebot.conversation.engine import AccountDirectory
from voicebot.conversation.state import Direction

Transfer = Callable[[], Awaitable[dict[str, Any]]]  # hands the caller to a human; the result


@dataclass
class CallSpec:
    """One call as its line describes it."""

    line_kind: str  # "simulated", "twilio", "sip", ...
    direction: Direction
    number: str  # the borrower's: dialled (outbound) or calling (inbound)
    account: Account | None = None  # outbound calls
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # ours, never the carrier's
    carrier_call_id: str = ""  # the carrier's Call-ID / callSid: data, never a path or a key
    transfer: Transfer | None = None
    line_metrics: Callable[[], dict[str, Any]] | None = None  # stored as metrics[line_kind]
    directory: AccountDirectory | None = None  # where an inbound caller is found; None: the store
    on_complete: Callable[[dict[str, Any]], None] | None = None  # after the summary is stored

    @property
    def caller(self) -> str | None:
        """An inbound caller's number as the directory keeps it."""
        if self.direction is not Direction.INBOUND or not self.number:
            return None
        return self.number if self.directory is not None else national_number(self.number)


def carrier_call_id(raw: object) -> str:
    """A carrier's call identifier as we keep it: printable, at most 128 characters.
    It is data for the summary and the logs, never a file name or a key of ours."""
    text = "".join(c if c.isprintable() else "?" for c in str(raw))
    return text[:128]


def national_number(number: str) -> str:
    """A Chinese E.164 number as the store keeps it: +8613800138000 -> 13800138000."""
    number = number.strip()
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            return number[len(prefix) :]
    return number
