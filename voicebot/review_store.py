"""The review side of the SQLite store: agents, sessions, follow-ups, audit log, search index.

It shares the file of `voicebot.store.Store` and never changes the `calls` table itself:
triggers only note which calls changed, and `sync_search()` re-indexes them. The index
holds the transcript as overlapping character pairs (bigrams), so that Chinese words of any
length, which have no spaces between them, are found through FTS5 without a full scan.
"""

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from voicebot.masking import mask_text

ROLES = ("agent", "supervisor")
MIN_PASSWORD_LENGTH = 8

# The reason lives only in summary_json; this exact expression is indexed and must be used
# verbatim by queries that filter or group by it.
REASON_SQL = "json_extract(c.summary_json, '$.reason.category')"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS call_review (
    call_id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('open', 'handled')),
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS followups (
    id INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS followups_call ON followups (call_id, at);
CREATE INDEX IF NOT EXISTS followups_at ON followups (at);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    username TEXT,
    action TEXT NOT NULL,
    call_id TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_user_action ON audit_log (username, action, at);
-- Sign-in attempts not known to have succeeded, by client address, for throttling; a row
-- is written before the password is checked and removed when it matches.
CREATE TABLE IF NOT EXISTS sign_in_failures (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    address TEXT NOT NULL,
    username TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_in_failures_address ON sign_in_failures (address, at);
CREATE INDEX IF NOT EXISTS calls_outcome ON calls (outcome, started_at);
CREATE INDEX IF NOT EXISTS calls_campaign ON calls (campaign, started_at);
CREATE INDEX IF NOT EXISTS calls_reason ON calls (json_extract(summary_json, '$.reason.category'));
-- Covers the queue's condition, ranking and handled check without reading the calls' rows;
-- partial, so it holds only calls that can ever need a follow-up.
CREATE INDEX IF NOT EXISTS calls_open_queue
    ON calls (escalation_required, escalation_priority, promise_date, started_at, call_id)
    WHERE escalation_required = 1 OR promise_date IS NOT NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS call_search USING fts5 (terms, tokenize = 'unicode61');
CREATE TABLE IF NOT EXISTS call_search_pending (call_rowid INTEGER PRIMARY KEY);
CREATE TRIGGER IF NOT EXISTS call_search_insert AFTER INSERT ON calls BEGIN
    INSERT OR IGNORE INTO call_search_pending VALUES (new.rowid);
END;
CREATE TRIGGER IF NOT EXISTS call_search_update AFTER UPDATE ON calls BEGIN
    INSERT OR IGNORE INTO call_search_pending VALUES (old.rowid);
    INSERT OR IGNORE INTO call_search_pending VALUES (new.rowid);
END;
CREATE TRIGGER IF NOT EXISTS call_search_delete AFTER DELETE ON calls BEGIN
    INSERT OR IGNORE INTO call_search_pending VALUES (old.rowid);
END;
"""

_WORD = re.compile(r"[^\W_]+")


class UserError(ValueError):
    """A user cannot be added as asked; the message says why (in English, for the CLI)."""


@dataclass(frozen=True)
class User:
    username: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


@dataclass(frozen=True)
class Session:
    user: User
    token: str
    expires_at: datetime


class ReviewStore:
    """Users, sessions, follow-ups, the audit log and the transcript index, on one connection."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.execute("PRAGMA cache_size=-65536")  # 64 MiB: the queue's indexes stay warm
        _ensure_calls_table(self.db)
        new_index = not _table_exists(self.db, "call_search")
        self.db.executescript(_SCHEMA)
        if new_index:
            with self.db:
                self.db.execute("INSERT OR IGNORE INTO call_search_pending SELECT rowid FROM calls")
        self.sync_search()

    def close(self) -> None:
        self.db.close()

    # --- users ----------------------------------------------------------------------

    def add_user(self, username: str, role: str, password: str, now: datetime) -> None:
        """Add an agent or supervisor; the password is kept only as a scrypt hash."""
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if not re.fullmatch(r"[\w.@-]{1,64}", username):
            raise UserError("user name: 1-64 letters, digits, '.', '@', '-' or '_'")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
        try:
            with self.db:
                self.db.execute(
                    "INSERT INTO users VALUES (?,?,?,?)",
                    (username, role, hash_password(password), _iso(now)),
                )
        except sqlite3.IntegrityError:
            raise UserError(f"user {username!r} already exists") from None

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches; None otherwise (in about the same time).

        Blocking (scrypt): the web app calls `credentials()` and checks the hash off its
        event loop instead."""
        found = self.credentials(username)
        if found is None:
            hash_password(password)  # spend the same time as a real check
            return None
        user, stored = found
        return user if verify_password(password, stored) else None

    def credentials(self, username: str) -> tuple[User, str] | None:
        """The user and their stored password hash; None for an unknown name."""
        row = self.db.execute(
            "SELECT username, role, password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
        return None if row is None else (User(row["username"], row["role"]), row["password_hash"])

    # --- sessions -------------------------------------------------------------------

    def create_session(self, user: User, now: datetime, lifetime: timedelta) -> Session:
        """A new session; only a hash of its token is stored."""
        token = secrets.token_urlsafe(32)
        expires = now + lifetime
        with self.db:
            self.db.execute(
                "INSERT INTO sessions VALUES (?,?,?,?)",
                (_token_hash(token), user.username, _iso(now), _iso(expires)),
            )
            self.db.execute("DELETE FROM sessions WHERE expires_at < ?", (_iso(now),))
        return Session(user, token, expires)

    def session(self, token: str, now: datetime, lifetime: timedelta) -> Session | None:
        """The live session for `token`, its expiry pushed back by `lifetime` (idle timeout)."""
        row = self.db.execute(
            "SELECT s.username, s.expires_at, u.role FROM sessions s"
            " JOIN users u ON u.username = s.username WHERE s.token_hash = ?",
            (_token_hash(token),),
        ).fetchone()
        if row is None or row["expires_at"] <= _iso(now):
            return None
        expires = now + lifetime
        with self.db:
            self.db.execute(
                "UPDATE sessions SET expires_at = ? WHERE token_hash = ?",
                (_iso(expires), _token_hash(token)),
            )
        return Session(User(row["username"], row["role"]), token, expires)

    def end_session(self, token: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))

    # --- follow-ups -----------------------------------------------------------------

    def record_followup(
        self, call_id: str, user: User, action: str, outcome: str | None, note: str, now: datetime
    ) -> None:
        """Add to a call's follow-up history; "handled" takes it out of the queue, "reopened"
        puts it back."""
        status = {"handled": "handled", "reopened": "open"}.get(action)
        with self.db:
            self.db.execute(
                "INSERT INTO followups (call_id, at, username, action, outcome, note)"
                " VALUES (?,?,?,?,?,?)",
                (call_id, _iso(now), user.username, action, outcome, note),
            )
            if status:
                self.db.execute(
                    "INSERT OR REPLACE INTO call_review VALUES (?,?,?,?)",
                    (call_id, status, _iso(now), user.username),
                )

    def followups(self, call_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT at, username, action, outcome, note FROM followups"
            " WHERE call_id = ? ORDER BY at, id",
            (call_id,),
        )
        return [dict(row) for row in rows]

    def review_status(self, call_id: str) -> str:
        row = self.db.execute(
            "SELECT status FROM call_review WHERE call_id = ?", (call_id,)
        ).fetchone()
        return str(row["status"]) if row else "open"

    # --- audit log ------------------------------------------------------------------

    def audit(
        self,
        username: str | None,
        action: str,
        now: datetime,
        call_id: str | None = None,
        detail: str = "",
    ) -> None:
        """Log what a user did; personal numbers in `detail` (a search term) are masked."""
        with self.db:
            self.db.execute(
                "INSERT INTO audit_log (at, username, action, call_id, detail) VALUES (?,?,?,?,?)",
                (_iso(now), username, action, call_id, mask_text(detail)),
            )

    def audit_entries(self, call_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        sql = "SELECT at, username, action, call_id, detail FROM audit_log"
        params: tuple[Any, ...] = ()
        if call_id is not None:
            sql += " WHERE call_id = ?"
            params = (call_id,)
        rows = self.db.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [dict(row) for row in rows]

    # --- sign-in throttling ----------------------------------------------------------

    def sign_in_failures(self, address: str, username: str, since: datetime) -> tuple[int, int]:
        """Failed (or unfinished) sign-ins since `since`: from `address` for `username`,
        and from `address` for any name."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(username = ?), 0), COUNT(*) FROM sign_in_failures"
            " WHERE address = ? AND at >= ?",
            (username, address, _iso(since)),
        ).fetchone()
        return int(row[0]), int(row[1])

    def note_sign_in_attempt(
        self, address: str, username: str, now: datetime, forget_before: datetime
    ) -> int:
        """Count an attempt as failed until `forget_sign_in_attempt` says otherwise, so that
        parallel attempts are counted before any of them finishes; rows older than
        `forget_before` are dropped. The new row's id."""
        with self.db:
            self.db.execute("DELETE FROM sign_in_failures WHERE at < ?", (_iso(forget_before),))
            cursor = self.db.execute(
                "INSERT INTO sign_in_failures (at, address, username) VALUES (?,?,?)",
                (_iso(now), address, username),
            )
        return int(cursor.lastrowid or 0)

    def forget_sign_in_attempt(self, attempt_id: int) -> None:
        """An attempt that was not a failure (refused before the password was checked)."""
        with self.db:
            self.db.execute("DELETE FROM sign_in_failures WHERE id = ?", (attempt_id,))

    def forget_sign_in_failures(self, address: str, username: str) -> None:
        """A successful sign-in clears its own address and name, nothing else."""
        with self.db:
            self.db.execute(
                "DELETE FROM sign_in_failures WHERE address = ? AND username = ?",
                (address, username),
            )

    # --- transcript search ----------------------------------------------------------

    def sync_search(self) -> int:
        """Re-index the calls that changed since the last sync; the number re-indexed."""
        if self.db.execute("SELECT 1 FROM call_search_pending LIMIT 1").fetchone() is None:
            return 0
        with self.db:
            pending = [r[0] for r in self.db.execute("SELECT call_rowid FROM call_search_pending")]
            for start in range(0, len(pending), 500):
                chunk = pending[start : start + 500]
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"DELETE FROM call_search WHERE rowid IN ({marks})", chunk)
                rows = self.db.execute(
                    f"SELECT rowid, transcript_text FROM calls WHERE rowid IN ({marks})", chunk
                ).fetchall()
                self.db.executemany(
                    "INSERT INTO call_search (rowid, terms) VALUES (?, ?)",
                    [(row[0], search_terms(row[1])) for row in rows],
                )
            self.db.execute("DELETE FROM call_search_pending")
        return len(pending)


def search_terms(text: str) -> str:
    """Text as the index holds it: each word's character pairs, then its last character."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        terms.extend(word[i : i + 2] for i in range(len(word) - 1))
        terms.append(word[-1])
    return " ".join(terms)


def match_query(query: str) -> str | None:
    """An FTS5 MATCH expression finding `query` as a substring; None when it has no words.

    Built only from letters and digits, so nothing the user types can change its syntax.
    """
    parts = []
    for word in _WORD.findall(query.lower()):
        if len(word) == 1:
            parts.append(f'"{word}"*')
        else:
            parts.append('"' + " ".join(word[i : i + 2] for i in range(len(word) - 1)) + '"')
    return " AND ".join(parts) or None


def hash_password(password: str, salt: bytes | None = None) -> str:
    """scrypt (n=2**14, r=8, p=1) with a random salt, as `scrypt$n$r$p$salt$hash`."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    n, r, p = 2**14, 8, 1
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def _ensure_calls_table(db: sqlite3.Connection) -> None:
    # The calls table belongs to voicebot.store; create it the same way if nothing has yet.
    if not _table_exists(db, "calls"):
        from voicebot.store import _SCHEMA as STORE_SCHEMA

        db.executescript(STORE_SCHEMA)


def _table_exists(db: sqlite3.Connection, name: str) -> bool:
    row = db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    return row is not None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
