"""Creating a campaign from a CSV of accounts, from the CLI or over HTTP.

The file goes through the account store's validated import (account_import): bad rows are
reported by line and skipped, good rows are stored and join the campaign.
"""

import asyncio
import json
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from voicebot.account_import import ImportFileError, import_accounts
from voicebot.accounts import Account
from voicebot.campaigns.scheduler import Target
from voicebot.campaigns.state import CampaignState
from voicebot.config import Settings
from voicebot.store import Store

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class CampaignNameError(ValueError):
    """A campaign name must be short and plain: it appears in commands and file names."""


@dataclass
class CreateReport:
    name: str
    added: int = 0  # accounts new to the campaign
    accounts: int = 0  # accounts in the campaign after the import
    rejected: list[tuple[int, str]] = field(default_factory=list)


def check_name(name: str) -> str:
    if not name or len(name) > 64 or not set(name.lower()) <= _NAME_CHARS:
        raise CampaignNameError(
            f"campaign name {name!r}: use 1-64 letters, digits, '-', '_' or '.'"
        )
    return name


def create_campaign(
    name: str, csv_path: Path, store: Store, now: datetime | None = None
) -> CreateReport:
    """Import `csv_path` and add its valid accounts to campaign `name` (created if new)."""
    check_name(name)
    imported = import_accounts(csv_path, store)
    accounts = [store.get_account(account_id) for account_id in imported.account_ids]
    targets = [_target(account) for account in accounts if account is not None]
    state = CampaignState(store)
    added = state.create(name, targets, now or datetime.now(UTC))
    return CreateReport(name, added, len(state.account_ids(name)), imported.rejected)


def _target(account: Account) -> Target:
    return Target(
        account.account_id,
        account.phone,
        account.timezone,
        account.overdue_days,
        account.overdue_amount,
    )


# --- HTTP -------------------------------------------------------------------------------


def campaign_routes(settings: Settings) -> list[web.RouteDef]:
    """Routes for the server app to mount (behind its own sign-in):

    - `POST /api/campaigns/{name}` with a CSV body creates or extends the campaign and
      answers `{campaign, added, accounts, rejected: [{line, why}]}` (400 when the file
      as a whole is unusable);
    - `GET /api/campaigns/{name}` answers the campaign's progress.
    """

    async def create(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        try:
            report = await asyncio.to_thread(_create_from_bytes, settings, name, body)
        except CampaignNameError as error:
            return _json_response({"error": str(error)}, status=400)
        except ImportFileError as error:
            return _json_response({"error": f"上传的账户文件无法导入：{error}"}, status=400)
        return _json_response(
            {
                "campaign": report.name,
                "added": report.added,
                "accounts": report.accounts,
                "rejected": [{"line": line, "why": why} for line, why in report.rejected],
            }
        )

    async def progress(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        found = await asyncio.to_thread(_progress, settings, name)
        if found is None:
            return _json_response({"error": f"no campaign named {name!r}"}, status=404)
        return _json_response(found)

    return [
        web.post("/api/campaigns/{name}", create),
        web.get("/api/campaigns/{name}", progress),
    ]


def _json_response(body: object, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )


def _create_from_bytes(settings: Settings, name: str, body: bytes) -> CreateReport:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "accounts.csv"
        path.write_bytes(body)
        store = Store(settings.store_path)
        try:
            return create_campaign(name, path, store)
        except ImportFileError as error:  # named without our temporary file's path
            raise ImportFileError(str(error).removeprefix(f"{path}: ")) from None
        finally:
            store.close()


def _progress(settings: Settings, name: str) -> dict[str, object] | None:
    store = Store(settings.store_path)
    try:
        state = CampaignState(store)
        if not state.exists(name):
            return None
        progress = state.progress(name)
        return {
            "campaign": name,
            **asdict(progress),
            "closed_by": state.closures(name),
            "outcomes": state.outcomes(name),
        }
    finally:
        store.close()
