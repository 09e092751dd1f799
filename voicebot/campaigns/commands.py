"""`voicebot campaign create|run` and `voicebot worker`: argument parsing and printing."""

import argparse
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from voicebot.accounts import InvalidField
from voicebot.campaigns.lines import CampaignLines
from voicebot.config import Settings
from voicebot.masking import MaskingFilter
from voicebot.scenario import parse_now


def add_commands(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]", lines: CampaignLines
) -> None:
    """Add the `campaign` and `worker` subcommands to the CLI's parser; `lines` are the
    lines a campaign may run on (the composition root's carriers)."""
    campaign = commands.add_parser("campaign", help="outbound campaigns")
    actions = campaign.add_subparsers(required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a campaign from a CSV of accounts")
    create.add_argument("name")
    create.add_argument("--accounts", type=Path, required=True, metavar="FILE.csv")
    create.set_defaults(run=_create)

    run = actions.add_parser("run", help="place the campaign's calls")
    run.add_argument("name")
    run.add_argument("--line", choices=lines.names, required=True)
    run.add_argument("--personas", type=Path, help="simulated line: account_id -> borrower lines")
    run.add_argument("--now", help="simulated line: the campaign clock's start, ISO 8601")
    run.add_argument("--days", type=float, default=7, help="run until this many days on")
    run.set_defaults(run=_run, campaign_lines=lines)

    worker = commands.add_parser("worker", help="take campaign calls from the Redis queue")
    worker.set_defaults(run=_worker, campaign_lines=lines)


def _create(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.account_import import ImportFileError
    from voicebot.campaigns.create import CampaignNameError, create_campaign
    from voicebot.store import Store

    store = Store(settings.store_path)
    try:
        report = create_campaign(args.name, args.accounts, store)
    except (CampaignNameError, ImportFileError) as error:
        print(f"voicebot: {error}", file=sys.stderr)
        return 2
    finally:
        store.close()
    for line, why in report.rejected:
        print(f"{args.accounts}:{line}: skipped: {why}", file=sys.stderr)
    print(
        f"campaign {report.name}: {report.added} accounts added, {report.accounts} in all,"
        f" {len(report.rejected)} rows rejected ({settings.store_path})"
    )
    return 1 if report.rejected else 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.campaigns.lines import LineNotConfigured, PersonaError
    from voicebot.campaigns.report import LiveProgress, final_report
    from voicebot.campaigns.runner import RunOptions, run_embedded
    from voicebot.campaigns.state import CampaignState
    from voicebot.store import Store

    try:
        start = parse_now(args.now, "--now") if args.now else datetime.now(UTC)
    except InvalidField as bad:
        print(f"voicebot: {bad}", file=sys.stderr)
        return 2
    store = Store(settings.store_path)
    known = CampaignState(store).exists(args.name)
    store.close()
    if not known:
        print(f"voicebot: no campaign named {args.name!r}; create it first", file=sys.stderr)
        return 2
    try:  # before any state: a line not set up, bad personas
        line = args.campaign_lines.open(args.line, settings, args.personas)
    except (LineNotConfigured, PersonaError) as error:
        print(f"voicebot: {error}", file=sys.stderr)
        return 2
    # Only the simulated line keeps its own clock; a real line calls in real time.
    end = start + timedelta(days=args.days)
    options = RunOptions(args.name, start, end, line.virtual_time)
    log_path = settings.store_path.parent / "campaigns.log"
    _log_to(log_path)  # SMS sent (masked numbers) and dialer errors; the screen shows progress
    display = LiveProgress(sys.stderr)
    began = time.monotonic()
    if settings.campaigns.redis_url:  # `voicebot worker`s dial; arq only when scaling out
        from voicebot.campaigns.queue import run_on_workers

        progress = run_on_workers(settings, options, args.line, args.personas, display)
    else:
        progress = run_embedded(settings, options, line, args.line, args.personas, display)
    display.finish()
    store = Store(settings.store_path)
    state = CampaignState(store)
    report = final_report(
        args.name,
        progress,
        state.closures(args.name),
        state.outcomes(args.name),
        time.monotonic() - began,
    )
    store.close()
    print(report)
    print(f"SMS and dialer log: {log_path}")
    return 0


def _log_to(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    handler.addFilter(MaskingFilter())
    for name in ("voicebot.sms", "voicebot.campaigns"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.campaigns.redis_url:
        print(
            "voicebot: campaigns.redis_url is empty; set VOICEBOT_CAMPAIGNS__REDIS_URL",
            file=sys.stderr,
        )
        return 2
    from voicebot.campaigns.queue import run_worker

    console = logging.StreamHandler()
    console.addFilter(MaskingFilter())
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", handlers=[console]
    )
    run_worker(settings, args.campaign_lines)
    return 0
