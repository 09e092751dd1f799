"""Settings for live-call tests: a fresh store holding the borrower's account."""

import dataclasses
from pathlib import Path
from typing import Any

from voicebot.accounts import parse_account
from voicebot.config import Settings, WebSettings, load_settings
from voicebot.store import Store

ACCOUNT = {
    "account_id": "A1001", "name": "张伟", "gender": "M", "phone": "13800138000",
    "id_number": "110101199003071234", "product": "个人消费贷款", "overdue_amount": 3250.60,
    "overdue_days": 15, "due_date": "2026-11-10",
}  # fmt: skip


def stored_summaries(settings: Settings) -> list[dict[str, Any]]:
    """Every call summary in the settings' store."""
    store = Store(settings.store_path)
    try:
        return list(store.calls())
    finally:
        store.close()


def live_settings(tmp: Path) -> Settings:
    """Recordings, speech cache and store under `tmp`; the account stored."""
    settings = load_settings(environ={})
    voice = dataclasses.replace(
        settings.voice, recordings_dir=tmp / "recordings", tts_cache_dir=tmp / "tts"
    )
    settings = dataclasses.replace(
        settings,
        voice=voice,
        store_path=tmp / "calls.sqlite3",
        web=WebSettings(secret="test-secret"),
    )
    store = Store(settings.store_path)
    store.upsert_account(parse_account(ACCOUNT))
    store.close()
    return settings
