"""Bad local input (files, numbers, the store's path) as a user meets it at the command line.

Each case runs `python -m voicebot.cli` on real files and asserts what the user sees: one
line on stderr that names the file, exit status 2 (1 for an import with rejected rows),
no traceback, and nothing half-written.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from voicebot.campaigns.create import campaign_routes
from voicebot.config import load_settings
from voicebot.store import Store

EXAMPLE = Path("examples/01_promise_to_pay.yaml")
HEADER = "account_id,name,gender,phone,id_number,product,overdue_amount,overdue_days,due_date\n"
GOOD_ROWS = (
    "A1,张伟,M,13800138000,110101199003071234,个人消费贷款,3250.60,15,2026-11-10\n"
    "A2,李娜,F,13900000000,11010119900307123X,信用卡分期,12800,3650,2026-11-22\n"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256))


def voicebot(store: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOICEBOT_STORE__PATH": str(store)}
    return subprocess.run(
        [sys.executable, "-m", "voicebot.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused command (exit 2, no traceback, nothing out)."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("voicebot: ")
    assert result.stdout == ""
    return lines[0]


def stored_accounts(store: Path) -> dict[str, str]:
    if not store.exists():
        return {}
    db = sqlite3.connect(store)
    try:
        return dict(db.execute("SELECT account_id, name FROM accounts").fetchall())
    finally:
        db.close()


def stored_calls(store: Path) -> int:
    if not store.exists():
        return 0
    db = sqlite3.connect(store)
    try:
        return int(db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])
    finally:
        db.close()


# --- CSV encodings ----------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_is_read_in_the_encodings_spreadsheets_save(tmp_path: Path, encoding: str) -> None:
    store = tmp_path / "calls.sqlite3"
    # 䶮 is in GB18030 but not in GBK: the GB18030 file proves the wider codec is used.
    name = "王䶮" if encoding == "gb18030" else "王芳"
    csv_file = tmp_path / "accounts.csv"
    row = f"A3,{name},F,13912345678,320102198805162468,信用卡分期,99.5,8,2026-10-24\n"
    csv_file.write_bytes((HEADER + GOOD_ROWS + row).encode(encoding))
    result = voicebot(store, "accounts", "import", str(csv_file))
    assert result.returncode == 0, result.stderr
    assert "3 added, 0 updated, 0 rejected" in result.stdout
    assert stored_accounts(store) == {"A1": "张伟", "A2": "李娜", "A3": name}


def test_a_campaign_is_created_from_a_gbk_csv(tmp_path: Path) -> None:
    store = tmp_path / "calls.sqlite3"
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_bytes((HEADER + GOOD_ROWS).encode("gbk"))
    result = voicebot(store, "campaign", "create", "nov", "--accounts", str(csv_file))
    assert result.returncode == 0, result.stderr
    assert "2 accounts added, 2 in all, 0 rows rejected" in result.stdout


async def test_the_http_route_takes_a_gbk_csv_and_refuses_a_binary_one(tmp_path: Path) -> None:
    store = tmp_path / "calls.sqlite3"
    settings = load_settings(environ={"VOICEBOT_STORE__PATH": str(store)})
    app = web.Application()
    app.add_routes(campaign_routes(settings))
    async with TestClient(TestServer(app)) as client:
        created = await client.post("/api/campaigns/gbk", data=(HEADER + GOOD_ROWS).encode("gbk"))
        assert created.status == 200 and (await created.json())["accounts"] == 2
        refused = await client.post("/api/campaigns/png", data=PNG)
        assert refused.status == 400
        assert "not a text file in UTF-8 or GBK" in (await refused.json())["error"]
    assert stored_accounts(store) == {"A1": "张伟", "A2": "李娜"}


@pytest.mark.parametrize(
    "content",
    [PNG, "account_id,name\n".encode("utf-16")],
    ids=["png", "utf-16"],
)
def test_a_file_that_is_not_text_is_one_line_and_nothing_is_stored(
    tmp_path: Path, content: bytes
) -> None:
    store = tmp_path / "calls.sqlite3"
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_bytes(content)
    for command in (
        ["accounts", "import", str(csv_file)],
        ["campaign", "create", "nov", "--accounts", str(csv_file)],
    ):
        line = one_error_line(voicebot(store, *command))
        assert line == f"voicebot: {csv_file}: not a text file in UTF-8 or GBK"
    assert stored_accounts(store) == {}


def test_a_file_the_csv_reader_refuses_is_one_line_and_nothing_is_stored(tmp_path: Path) -> None:
    store = tmp_path / "calls.sqlite3"
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text(HEADER + GOOD_ROWS + "A3," + "长" * 200_000 + "\n", encoding="utf-8")
    line = one_error_line(voicebot(store, "accounts", "import", str(csv_file)))
    assert line.startswith(f"voicebot: {csv_file}: not CSV after line 3: field larger than")
    assert stored_accounts(store) == {}


# --- numbers ----------------------------------------------------------------------------

BAD_ROWS = {  # line number -> (row, the field its error names)
    4: ("B1,甲,M,13800138001,110101199003071234,p,1e30,15,2026-11-10", "overdue_amount"),
    5: ("B2,乙,M,13800138002,110101199003071234,p,nan,15,2026-11-10", "overdue_amount"),
    6: ("B3,丙,M,13800138003,110101199003071234,p,inf,15,2026-11-10", "overdue_amount"),
    7: ("B4,丁,M,13800138004,110101199003071234,p,10000000.01,15,2026-11-10", "overdue_amount"),
    8: ("B5,戊,M,13800138005,110101199003071234,p,10.005,15,2026-11-10", "overdue_amount"),
    9: ("B6,己,M,13800138006,110101199003071234,p,１００,15,2026-11-10", "overdue_amount"),
    10: (
        "B7,庚,M,13800138007,110101199003071234,p,100,99999999999999999999999,2026-11-10",
        "overdue_days",
    ),
    11: ("B8,辛,M,13800138008,110101199003071234,p,100,3651,2026-11-10", "overdue_days"),
    12: ("B9,壬,M,13800138009,110101199003071234,p,100,١٥,2026-11-10", "overdue_days"),
    13: ("C1,癸,M,١٣٨٠٠١٣٨٠٠٠,110101199003071234,p,100,15,2026-11-10", "phone"),
    14: ("C2,子,M,１３８００１３８０００,110101199003071234,p,100,15,2026-11-10", "phone"),
    15: (
        "C3,丑,M,13800138010,１１０１０１１９９００３０７１２３４,p,100,15,2026-11-10",
        "id_number",
    ),
    16: ("C4,寅,M,13800138011,11010119900307١٢٣٤,p,100,15,2026-11-10", "id_number"),
    17: ("C5,卯,M,13800138012,110101199003071234,p,100,15,２０２６-11-10", "due_date"),
}


def test_out_of_range_and_non_ascii_numbers_are_row_errors_and_good_rows_are_stored(
    tmp_path: Path,
) -> None:
    store = tmp_path / "calls.sqlite3"
    csv_file = tmp_path / "accounts.csv"
    rows = [row for row, _ in BAD_ROWS.values()]
    good_last = "A9,刘洋,M,13700001234,440301199201019876,个人消费贷款,10000000,0,2026-11-17"
    csv_file.write_text(HEADER + GOOD_ROWS + "\n".join([*rows, good_last]) + "\n", "utf-8")
    result = voicebot(store, "accounts", "import", str(csv_file))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"3 added, 0 updated, {len(BAD_ROWS)} rejected" in result.stdout
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(BAD_ROWS)
    for error, (line, (_, field)) in zip(errors, BAD_ROWS.items(), strict=True):
        assert error.startswith(f"{csv_file}:{line}: skipped: {field}: "), error
    assert "at most 10,000,000 with at most 2 decimals" in errors[0]
    assert "0 to 3650" in errors[6]
    assert stored_accounts(store) == {"A1": "张伟", "A2": "李娜", "A9": "刘洋"}


def test_a_store_failure_midway_keeps_no_row_and_is_one_line(tmp_path: Path) -> None:
    store = tmp_path / "calls.sqlite3"
    Store(store).close()
    db = sqlite3.connect(store)
    db.execute(  # the store fails on the second row, as a full disk would
        "CREATE TRIGGER fail BEFORE INSERT ON accounts WHEN NEW.account_id = 'A2'"
        " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    db.close()
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    line = one_error_line(voicebot(store, "accounts", "import", str(csv_file)))
    assert line.startswith(f"voicebot: {store}: nothing imported from {csv_file}")
    assert "database or disk is full" in line
    assert stored_accounts(store) == {}


# --- scenarios --------------------------------------------------------------------------

EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")


def _example_with(old: str, new: str) -> bytes:
    assert old in EXAMPLE_TEXT
    return EXAMPLE_TEXT.replace(old, new).encode("utf-8")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (PNG, "not a UTF-8 text file"),
        (EXAMPLE_TEXT.encode("gbk"), "not a UTF-8 text file"),
        (b"now: 1\x00\n", "not valid YAML"),
        (b"- just\n- a list\n", "expected a mapping"),
        (b"plain words\n", "expected a mapping"),
        (b"", "expected a mapping"),
        (b"[" * 5000, "not valid YAML"),
        (_example_with("overdue_amount: 3250.60", "overdue_amount: 1e30"), "overdue_amount"),
        (_example_with("overdue_amount: 3250.60", "overdue_amount: .nan"), "overdue_amount"),
        (_example_with("overdue_amount: 3250.60", "overdue_amount: .inf"), "overdue_amount"),
        (_example_with("overdue_days: 15", "overdue_days: " + "1" * 23), "overdue_days"),
        (_example_with('phone: "13800138000"', 'phone: "١٣٨٠٠١٣٨٠٠٠"'), "phone"),
        (_example_with('phone: "13800138000"', 'phone: "１３８００１３８０００"'), "phone"),
        (_example_with("name: 张伟", "name: [张, 伟]"), "account.name"),
    ],
    ids=[
        *("binary", "gbk", "nul", "list", "scalar", "empty", "deep"),
        *("amount-1e30", "amount-nan", "amount-inf", "days-23-digits"),
        *("phone-arabic-indic", "phone-full-width", "name-list"),
    ],
)
def test_simulate_refuses_a_bad_scenario_in_one_line(
    tmp_path: Path, content: bytes, says: str
) -> None:
    store = tmp_path / "calls.sqlite3"
    scenario = tmp_path / "bad.yaml"
    scenario.write_bytes(content)
    line = one_error_line(voicebot(store, "simulate", str(scenario), "--json"))
    assert line.startswith(f"voicebot: {scenario}: ") and says in line, line
    assert stored_calls(store) == 0


def test_simulate_refuses_a_non_ascii_inbound_caller(tmp_path: Path) -> None:
    store = tmp_path / "calls.sqlite3"
    scenario = tmp_path / "inbound.yaml"
    text = EXAMPLE_TEXT.replace("direction: outbound", 'direction: inbound\ncaller: "١٣٨٠٠١٣٨٠٠٠"')
    scenario.write_text(text, encoding="utf-8")
    line = one_error_line(voicebot(store, "simulate", str(scenario)))
    assert line.startswith(f"voicebot: {scenario}: caller: not a phone number")


# --- the store's path -------------------------------------------------------------------

EVERY_STORE_COMMAND = [
    ["simulate", str(EXAMPLE)],
    ["demo", "--text"],
    ["accounts", "import", "accounts.csv"],
    ["campaign", "create", "nov", "--accounts", "accounts.csv"],
    ["campaign", "run", "nov", "--line", "simulated", "--now", "2026-11-25T10:00:00+08:00"],
    ["worker"],
    ["serve"],
    ["call", "A1001"],
    ["user", "add", "wang", "--role", "agent"],
]


@pytest.mark.parametrize("command", EVERY_STORE_COMMAND, ids=lambda c: " ".join(c[:2]))
def test_a_store_path_under_a_file_is_refused_before_any_work(
    tmp_path: Path, command: list[str]
) -> None:
    not_a_folder = tmp_path / "var"
    not_a_folder.write_text("a file where the store's folder should be\n", encoding="utf-8")
    store = not_a_folder / "calls.sqlite3"
    (tmp_path / "accounts.csv").write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    command = [str(tmp_path / a) if a == "accounts.csv" else a for a in command]
    line = one_error_line(voicebot(store, *command, stdin="a-long-password\n"))
    assert line == f"voicebot: {store}: cannot use as the store: a folder on its path is a file"
    assert not_a_folder.read_text(encoding="utf-8").startswith("a file where")


# Tests run as root, and root writes through file modes and read-only directory bits, so a
# chmod'ed folder proves nothing. sysfs refuses to create a regular file for every user,
# root included, with EACCES: what a read-only mount answers.
READ_ONLY_FOLDER = Path("/sys")


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
@pytest.mark.parametrize("command", EVERY_STORE_COMMAND[:3], ids=lambda c: " ".join(c[:2]))
def test_a_store_on_a_read_only_folder_is_refused_before_any_work(
    tmp_path: Path, command: list[str]
) -> None:
    store = READ_ONLY_FOLDER / "voicebot-test.sqlite3"
    (tmp_path / "accounts.csv").write_text(HEADER + GOOD_ROWS, encoding="utf-8")
    command = [str(tmp_path / a) if a == "accounts.csv" else a for a in command]
    line = one_error_line(voicebot(store, *command))
    assert line == f"voicebot: {store}: cannot use as the store: Permission denied"
    assert not store.exists()


def test_a_store_path_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "notes.txt"
    store.write_text("not a database, and long enough to have a header\n" * 4, "utf-8")
    line = one_error_line(voicebot(store, "simulate", str(EXAMPLE)))
    assert line == f"voicebot: {store}: cannot use as the store: file is not a database"
    assert store.read_text("utf-8").startswith("not a database")
