"""`voicebot accounts import FILE.csv`: every row validated, then all good rows kept at once.

An import is all or report: the good rows are stored in one transaction and each bad row
is named by its line; if the file as a whole cannot be read, or storing fails midway,
nothing is stored.
"""

import csv
import io
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from voicebot.accounts import ACCOUNT_FIELDS, Account, InvalidField, parse_account, shown
from voicebot.store import Store, StoreError

REQUIRED_COLUMNS = tuple(f for f in ACCOUNT_FIELDS if f != "timezone")
# What text never holds: NUL and the other C0 controls but tab, line feed, carriage return.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportFileError(ValueError):
    """The file as a whole cannot be read, so nothing of it is stored.

    Missing, not UTF-8/GBK text, not CSV, or a required column missing.
    """


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)
    account_ids: list[str] = field(default_factory=list)  # those stored, in file order


def read_csv_text(path: Path) -> str:
    """The text of a CSV file as spreadsheets save it: UTF-8 (with or without BOM) or GBK.

    Chinese Excel saves "CSV" in GBK; GB18030 is its superset, so one codec reads both.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportFileError(f"{path}: {error.strerror}") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _NOT_TEXT.search(text):  # a binary file can decode as GB18030 by chance
            return text
    raise ImportFileError(f"{path}: not a text file in UTF-8 or GBK")


def import_accounts(path: Path, store: Store) -> ImportReport:
    """Import the valid rows of `path`; re-importing an account_id updates it."""
    report = ImportReport()
    accounts = _valid_accounts(path, report)
    try:
        report.added = store.upsert_accounts(accounts)
    except sqlite3.Error as error:  # rolled back: not one row of the file is kept
        raise StoreError(f"{store.path}: nothing imported from {path}: {error}") from None
    report.updated = len(accounts) - report.added
    report.account_ids = [account.account_id for account in accounts]
    return report


def _valid_accounts(path: Path, report: ImportReport) -> list[Account]:
    """Every row parsed; the bad ones go to `report.rejected` by line number."""
    reader = csv.DictReader(io.StringIO(read_csv_text(path), newline=""))
    accounts: list[Account] = []
    seen: dict[str, int] = {}
    try:
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFileError(f"{path}: missing column {missing[0]}")
        for row in reader:
            line = reader.line_num
            try:
                account = parse_account(row)
            except InvalidField as bad:
                report.rejected.append((line, str(bad)))
                continue
            if account.account_id in seen:
                repeated = f"{shown(account.account_id)} repeats line {seen[account.account_id]}"
                report.rejected.append((line, f"account_id: {repeated}"))
                continue
            seen[account.account_id] = line
            accounts.append(account)
    except csv.Error as error:  # e.g. a field over the csv module's size limit
        raise ImportFileError(f"{path}: not CSV after line {reader.line_num}: {error}") from None
    return accounts
