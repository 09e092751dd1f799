"""Every Twilio call this server knows of, kept in the store: who it is for, its last status,
and whether its media stream has connected.

A call enters here when the server itself answers it (the signed voice webhook) or
creates it (our REST create): that record, not the stream's own parameters, says whose
call a media stream is, and a stream is accepted once per call (`claim_stream`). The
stream's upgrade signature covers only a fixed URL, so a captured one proves nothing.

An outbound call that never connects (busy, no answer, failed) has no media stream and
so no conversation: its status here is all there is, and what a dialler reads.
"""

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS twilio_calls (
    call_sid TEXT PRIMARY KEY,
    call_id TEXT,
    status TEXT NOT NULL,
    duration_s INTEGER,
    updated_at TEXT NOT NULL
)
"""
# Added after the first release: who the call is for, and whether it has streamed.
_COLUMNS = {
    "direction": "TEXT",
    "account_id": "TEXT",
    "number": "TEXT",
    "streamed": "INTEGER NOT NULL DEFAULT 0",
}


@dataclass(frozen=True)
class ExpectedCall:
    """A call the server answered or created, as its media stream will run it."""

    call_sid: str
    call_id: str  # ours
    direction: str  # "inbound" or "outbound"
    account_id: str  # outbound: the account dialled
    number: str  # inbound: the caller's number


class CallStatusLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=10)
        with self.db:
            self.db.execute(_SCHEMA)
            have = {row[1] for row in self.db.execute("PRAGMA table_info(twilio_calls)")}
            for name, kind in _COLUMNS.items():
                if name not in have:
                    _add_column(self.db, name, kind)

    def close(self) -> None:
        self.db.close()

    def record(self, call_sid: str, call_id: str, status: str, duration_s: int | None) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO twilio_calls (call_sid, call_id, status, duration_s, updated_at)"
                " VALUES (?,NULLIF(?, ''),?,?,?) ON CONFLICT(call_sid) DO UPDATE"
                " SET status=excluded.status, duration_s=COALESCE(excluded.duration_s,"
                " duration_s), call_id=COALESCE(call_id, NULLIF(excluded.call_id, '')),"
                " updated_at=excluded.updated_at",
                (call_sid, call_id, status, duration_s, _now()),
            )

    def expect(self, call: ExpectedCall, status: str) -> str:
        """Note a call we answered or created; returns its call id (the first one given,
        when Twilio repeats a webhook for the same call)."""
        with self.db:
            self.db.execute(
                "INSERT INTO twilio_calls (call_sid, call_id, status, updated_at, direction,"
                " account_id, number) VALUES (?,?,?,?,?,?,?) ON CONFLICT(call_sid) DO UPDATE"
                " SET call_id=COALESCE(NULLIF(call_id, ''), excluded.call_id),"
                " direction=COALESCE(direction, excluded.direction),"
                " account_id=COALESCE(account_id, excluded.account_id),"
                " number=COALESCE(number, excluded.number)",
                (
                    call.call_sid,
                    call.call_id,
                    status,
                    _now(),
                    call.direction,
                    call.account_id,
                    call.number,
                ),
            )
        row = self.db.execute(
            "SELECT call_id FROM twilio_calls WHERE call_sid = ?", (call.call_sid,)
        ).fetchone()
        return str(row[0])

    def claim_stream(self, call_sid: str) -> ExpectedCall | None:
        """The call a media stream for `call_sid` runs, once: None when the server never
        answered or created that call, or its stream has connected before."""
        with self.db:
            claimed = self.db.execute(
                "UPDATE twilio_calls SET streamed = 1 WHERE call_sid = ? AND streamed = 0"
                " AND direction IS NOT NULL AND call_id IS NOT NULL",
                (call_sid,),
            ).rowcount
        if claimed != 1:
            return None
        row = self.db.execute(
            "SELECT call_id, direction, account_id, number FROM twilio_calls WHERE call_sid = ?",
            (call_sid,),
        ).fetchone()
        call_id, direction, account_id, number = row
        return ExpectedCall(call_sid, call_id, direction, account_id or "", number or "")

    def status(self, call_sid: str) -> str | None:
        row = self.db.execute(
            "SELECT status FROM twilio_calls WHERE call_sid = ?", (call_sid,)
        ).fetchone()
        return row[0] if row else None


def _add_column(db: sqlite3.Connection, name: str, kind: str) -> None:
    try:
        db.execute(f"ALTER TABLE twilio_calls ADD COLUMN {name} {kind}")
    except sqlite3.OperationalError as error:  # another process added it meanwhile
        if "duplicate column" not in str(error):
            raise


def parse_duration(value: str) -> int | None:
    """A status callback's CallDuration in seconds; None when absent or not a sane number."""
    if not (value.isascii() and value.isdigit() and len(value) <= 8):
        return None
    return int(value)


def _now() -> str:
    return datetime.now(UTC).isoformat()
