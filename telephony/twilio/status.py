"""Twilio's status callbacks, kept in the store: the last status of every Twilio call.

An outbound call that never connects (busy, no answer, failed) has no media stream and
so no conversation: its status here is all there is, and what a dialler reads.
"""

import sqlite3
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


class CallStatusLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=10)
        self.db.execute(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def record(self, call_sid: str, call_id: str, status: str, duration_s: int | None) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO twilio_calls VALUES (?,?,?,?,?) ON CONFLICT(call_sid) DO UPDATE"
                " SET status=excluded.status, duration_s=COALESCE(excluded.duration_s,"
                " duration_s), call_id=COALESCE(NULLIF(excluded.call_id, ''), call_id),"
                " updated_at=excluded.updated_at",
                (call_sid, call_id, status, duration_s, datetime.now(UTC).isoformat()),
            )

    def status(self, call_sid: str) -> str | None:
        row = self.db.execute(
            "SELECT status FROM twilio_calls WHERE call_sid = ?", (call_sid,)
        ).fetchone()
        return row[0] if row else None
