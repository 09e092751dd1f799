"""`voicebot accounts import FILE.csv`: every row validated, good rows kept, bad ones named."""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from voicebot.accounts import ACCOUNT_FIELDS, InvalidField, parse_account
from voicebot.store import Store

REQUIRED_COLUMNS = tuple(f for f in ACCOUNT_FIELDS if f != "timezone")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (missing, not CSV, columns missing)."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)


def import_accounts(path: Path, store: Store) -> ImportReport:
    """Import the valid rows of `path`; re-importing an account_id updates it."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise ImportFileError(f"{path}: {error.strerror}") from None
    report = ImportReport()
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFileError(f"{path}: missing column {missing[0]}")
        seen: dict[str, int] = {}
        for row in reader:
            line = reader.line_num
            try:
                account = parse_account(row)
            except InvalidField as bad:
                report.rejected.append((line, str(bad)))
                continue
            if account.account_id in seen:
                report.rejected.append(
                    (
                        line,
                        f"account_id: {account.account_id} repeats line {seen[account.account_id]}",
                    )
                )
                continue
            seen[account.account_id] = line
            if store.upsert_account(account):
                report.added += 1
            else:
                report.updated += 1
    return report
