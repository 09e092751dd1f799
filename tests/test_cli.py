"""`voicebot simulate`, `voicebot demo` and `voicebot accounts import` as a user runs them."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from voicebot.cli import main
from voicebot.store import Store
from voicebot.summary import validate_summary

EXAMPLE = Path("examples/01_promise_to_pay.yaml")
CSV_HEADER = "account_id,name,gender,phone,id_number,product,overdue_amount,overdue_days,due_date\n"
ZHANG_WEI = "A1,张伟,M,13800138000,110101199003071234,个人消费贷款,3250.60,15,2026-11-10\n"


def test_simulate_json_prints_one_valid_summary_and_stores_it(
    store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(EXAMPLE), "--json"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out)  # exactly one JSON object, nothing else
    validate_summary(summary)
    assert summary["promise_to_pay"] == {"amount": 3250.6, "date": "2026-11-27", "confirmed": True}
    assert Store(store_env).get_call(summary["call_id"]) == summary


def test_simulate_readable_shows_transcript_then_summary(
    store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.index("机器人：您好") < out.index("--- summary ---")
    assert "right_party_contact" in out and "2026-11-27" in out


def test_now_flag_overrides_the_scenario_time(
    store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", str(EXAMPLE), "--json", "--now", "2026-11-25T23:00:00+08:00"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["outcome"] == "outside_calling_hours"
    assert summary["transcript"] == []
    assert summary["compliance"]["within_calling_hours"] is False


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ("gender: M", "gender: X"),
        ('phone: "13800138000"', "phone: call-me"),
        ("overdue_amount: 3250.60", "overdue_amount: lots"),
        ('due_date: "2026-11-10"', 'due_date: "10/11/2026"'),
        ("direction: outbound", "direction: sideways"),
        ('now: "2026-11-25T10:00:00+08:00"', 'now: "2026-11-25T10:00:00"'),
    ],
)
def test_invalid_scenario_exits_2_with_one_line_naming_the_field(
    tmp_path: Path, patch: str, field: str, store_env: Path
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert patch in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(patch, field), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "voicebot.cli", "simulate", str(bad), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert str(bad) in lines[0] and field.split(":")[0] in lines[0]


def test_missing_scenario_file_is_a_clear_error(
    store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "no/such/file.yaml"]) == 2
    assert "no/such/file.yaml" in capsys.readouterr().err


def test_demo_runs_every_example_and_stores_each(
    store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--text"]) == 0
    out = capsys.readouterr().out
    examples = sorted(Path("examples").glob("*.yaml"))
    assert len(examples) >= 8
    rows = sqlite3.connect(store_env).execute("SELECT outcome FROM calls").fetchall()
    outcomes = {row[0] for row in rows}
    assert len(rows) == len(examples)
    assert {"right_party_contact", "third_party", "wrong_number", "voicemail"} <= outcomes
    assert "138****8000" not in out or "13800138000" not in out


def test_accounts_import_keeps_good_rows_and_reports_bad_ones_by_line(
    tmp_path: Path, store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text(
        CSV_HEADER
        + ZHANG_WEI
        + "A2,李娜,F,13900000000,11010119900307123X,信用卡,1200,3,2026-11-22\n"
        + "A3,王五,Q,13700000000,110101199003071234,个人消费贷款,100,3,2026-11-22\n"
        + "A4,赵六,M,13600000000,110101199003071234,个人消费贷款,-5,3,2026-11-22\n"
        + "A5,钱七,M,13500000000,123,个人消费贷款,100,3,2026-11-22\n",
        encoding="utf-8",
    )
    assert main(["accounts", "import", str(csv_file)]) == 1
    captured = capsys.readouterr()
    assert "2 added, 0 updated, 3 rejected" in captured.out
    assert f"{csv_file}:4: skipped: gender" in captured.err
    assert f"{csv_file}:5: skipped: overdue_amount" in captured.err
    assert f"{csv_file}:6: skipped: id_number" in captured.err
    store = Store(store_env)
    assert store.count_accounts() == 2
    assert store.get_account("A2") is not None

    csv_file.write_text(
        CSV_HEADER + "A1,张伟,M,13800138000,110101199003071234,个人消费贷款,999.00,16,2026-11-10\n",
        encoding="utf-8",
    )
    assert main(["accounts", "import", str(csv_file)]) == 0
    assert "0 added, 1 updated, 0 rejected" in capsys.readouterr().out
    account = Store(store_env).get_account("A1")
    assert account is not None and str(account.overdue_amount) == "999.00"
    assert Store(store_env).count_accounts() == 2


def test_accounts_import_keeps_only_the_last_four_id_characters(
    tmp_path: Path, store_env: Path
) -> None:
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text(
        CSV_HEADER + ZHANG_WEI,
        encoding="utf-8",
    )
    main(["accounts", "import", str(csv_file)])
    dump = "\n".join(sqlite3.connect(store_env).iterdump())
    assert "1234" in dump and "110101199003071234" not in dump


def test_accounts_import_names_a_missing_column(
    tmp_path: Path, store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "accounts.csv"
    csv_file.write_text("account_id,name\nA1,张伟\n", encoding="utf-8")
    assert main(["accounts", "import", str(csv_file)]) == 2
    assert "missing column gender" in capsys.readouterr().err


def test_stop_calling_puts_the_number_on_the_do_not_call_list(
    tmp_path: Path, store_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    scenario = tmp_path / "stop.yaml"
    borrower = text[text.index("borrower:") :]
    scenario.write_text(text.replace(borrower, "borrower:\n  - 别再打了\n"), encoding="utf-8")
    assert main(["simulate", str(scenario), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["next_action"] == "do_not_call"
    assert Store(store_env).is_do_not_call("13800138000")
