"""The SQLite store: accounts, call summaries with their transcripts, do-not-call list.

One file, its path in config. Only the last four characters of an ID number are kept:
that is all the bot ever uses, and what is not stored cannot leak.
"""

import json
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from voicebot.accounts import Account

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    gender TEXT NOT NULL,
    phone TEXT NOT NULL,
    id_last4 TEXT NOT NULL,
    product TEXT NOT NULL,
    overdue_amount TEXT NOT NULL,
    overdue_days INTEGER NOT NULL,
    due_date TEXT NOT NULL,
    timezone TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_phone ON accounts (phone);
CREATE INDEX IF NOT EXISTS accounts_name ON accounts (name);
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    account_id TEXT,
    direction TEXT NOT NULL,
    started_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    sentiment TEXT NOT NULL,
    escalation_required INTEGER NOT NULL,
    escalation_priority TEXT NOT NULL,
    next_action TEXT NOT NULL,
    promise_date TEXT,
    promise_amount REAL,
    campaign TEXT,
    transcript_text TEXT NOT NULL,
    summary_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_started ON calls (started_at);
CREATE INDEX IF NOT EXISTS calls_account ON calls (account_id);
CREATE INDEX IF NOT EXISTS calls_followup ON calls (escalation_required, promise_date);
CREATE TABLE IF NOT EXISTS do_not_call (
    phone TEXT PRIMARY KEY,
    added_at TEXT NOT NULL,
    call_id TEXT
);
"""


class DuplicateCall(ValueError):
    """A summary for this call id is stored already: a stored summary is never replaced."""


class StoreError(Exception):
    """The store's file cannot be opened or written; the message names the path."""


def _unusable(path: Path, error: OSError | sqlite3.Error | str) -> StoreError:
    why = (error.strerror or str(error)) if isinstance(error, OSError) else str(error)
    return StoreError(f"{path}: cannot use as the store: {why}")


def check_store_path(path: Path) -> None:
    """Raise StoreError unless the store at `path` can be opened and written.

    Run once before a command does any work, so that a bad path is one clear line and
    not a call placed and then lost. The file and its folder are made if missing.
    """
    _check_writable_file(path)
    store = Store(path)
    try:
        # A table created and rolled back: a read-only file fails here, not mid-call.
        store.db.execute("BEGIN IMMEDIATE")
        store.db.execute("CREATE TABLE store_write_check (x)")
        store.db.rollback()
    except sqlite3.Error as error:
        raise _unusable(path, error) from None
    finally:
        store.close()


def _check_writable_file(path: Path) -> None:
    """The OS's own words for an unusable path, which say more than SQLite's."""
    _make_folder(path)
    try:
        with path.open("ab"):
            pass
    except OSError as error:
        raise _unusable(path, error) from None


def _make_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise _unusable(path, "a folder on its path is a file") from None
    except OSError as error:
        raise _unusable(path, error) from None


class Store:
    """Accounts, calls and the do-not-call list in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _make_folder(path)
        try:
            self.db = sqlite3.connect(path)
        except sqlite3.Error as error:
            raise _unusable(path, error) from None
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as error:
            self.db.close()
            raise _unusable(path, error) from None

    def close(self) -> None:
        self.db.close()

    # --- accounts -------------------------------------------------------------------

    def upsert_account(self, account: Account) -> bool:
        """Insert or update by account_id; True when the account is new."""
        return self.upsert_accounts([account]) == 1

    def upsert_accounts(self, accounts: Sequence[Account]) -> int:
        """Insert or update each by account_id in one transaction: all or none.

        Returns how many were new.
        """
        added = 0
        with self.db:
            for account in accounts:
                added += self.get_account(account.account_id) is None
                self.db.execute(
                    "INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        account.account_id,
                        account.name,
                        account.gender,
                        account.phone,
                        account.id_last4,
                        account.product,
                        str(account.overdue_amount),
                        account.overdue_days,
                        account.due_date.isoformat(),
                        account.timezone,
                        _utcnow(),
                    ),
                )
        return added

    def get_account(self, account_id: str) -> Account | None:
        row = self.db.execute(
            "SELECT * FROM accounts WHERE account_id = ?", (account_id,)
        ).fetchone()
        return _account(row) if row else None

    def by_phone(self, phone: str) -> Account | None:
        row = self.db.execute("SELECT * FROM accounts WHERE phone = ?", (phone,)).fetchone()
        return _account(row) if row else None

    def by_name(self, name: str) -> list[Account]:
        rows = self.db.execute("SELECT * FROM accounts WHERE name = ?", (name,)).fetchall()
        return [_account(row) for row in rows]

    def count_accounts(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0])

    # --- calls ----------------------------------------------------------------------

    def save_call(
        self, summary: dict[str, Any], phone: str | None = None, campaign: str | None = None
    ) -> None:
        """Store a call summary; a "stop calling" request puts `phone` on the DNC list.

        Each call is written once: a second summary for the same call id raises
        `DuplicateCall` (and is logged), the stored one stays as it was.
        """
        promise = summary["promise_to_pay"] or {}
        transcript = "\n".join(line["text"] for line in summary["transcript"])
        try:
            self._insert_call(summary, phone, campaign, promise, transcript)
        except sqlite3.IntegrityError:
            logger.error(
                "store: call %s is stored already; second summary refused", summary["call_id"]
            )
            raise DuplicateCall(f"call {summary['call_id']} is stored already") from None

    def tag_campaign(self, call_id: str, campaign: str) -> None:
        """Mark a stored call as one of `campaign`'s attempts (the line stored it first)."""
        with self.db:
            self.db.execute(
                "UPDATE calls SET campaign = ? WHERE call_id = ? AND campaign IS NULL",
                (campaign, call_id),
            )

    def _insert_call(
        self,
        summary: dict[str, Any],
        phone: str | None,
        campaign: str | None,
        promise: dict[str, Any],
        transcript: str,
    ) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO calls VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    summary["call_id"],
                    summary["account_id"],
                    summary["direction"],
                    summary["started_at"],
                    summary["outcome"],
                    summary["sentiment"],
                    int(summary["escalation"]["required"]),
                    summary["escalation"]["priority"],
                    summary["next_action"],
                    promise.get("date"),
                    promise.get("amount"),
                    campaign,
                    transcript,
                    json.dumps(summary, ensure_ascii=False),
                ),
            )
            if phone and "stop_calling" in summary["requests"]:
                self.db.execute(
                    "INSERT OR IGNORE INTO do_not_call VALUES (?,?,?)",
                    (phone, _utcnow(), summary["call_id"]),
                )

    def get_call(self, call_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT summary_json FROM calls WHERE call_id = ?", (call_id,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def calls(self) -> Iterator[dict[str, Any]]:
        for row in self.db.execute("SELECT summary_json FROM calls ORDER BY started_at"):
            yield json.loads(row[0])

    # --- do-not-call ----------------------------------------------------------------

    def is_do_not_call(self, phone: str) -> bool:
        row = self.db.execute("SELECT 1 FROM do_not_call WHERE phone = ?", (phone,)).fetchone()
        return row is not None


def _account(row: sqlite3.Row) -> Account:
    return Account(
        account_id=row["account_id"],
        name=row["name"],
        gender=row["gender"],
        phone=row["phone"],
        id_number="*" * 14 + row["id_last4"],
        product=row["product"],
        overdue_amount=Decimal(row["overdue_amount"]),
        overdue_days=row["overdue_days"],
        due_date=date.fromisoformat(row["due_date"]),
        timezone=row["timezone"],
    )


def _utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
