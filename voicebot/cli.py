"""The `voicebot` command: simulate, demo, accounts import, serve, call, user add."""

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from telephony.carrier import Carrier
from telephony.carriers import CARRIERS, campaign_lines
from voicebot.account_import import ImportFileError, import_accounts
from voicebot.accounts import InvalidField
from voicebot.campaigns.commands import add_commands as add_campaign_commands
from voicebot.config import PROJECT_ROOT, ConfigError, Settings, load_settings
from voicebot.conversation.script import ScriptError, load_script
from voicebot.masking import MaskingFilter
from voicebot.report import print_line, print_summary
from voicebot.scenario import Scenario, ScenarioError, load_scenario, parse_now
from voicebot.simulate import simulate_call
from voicebot.store import Store, StoreError, check_store_path

EXAMPLES_DIR = PROJECT_ROOT / "examples"


def main(argv: Sequence[str] | None = None, carriers: Sequence[Carrier] = CARRIERS) -> int:
    """The command line; `carriers` (tests add theirs) are the phone lines it offers."""
    parser = _parser(carriers)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        # Every command uses the store: an unusable path is refused before any call is placed.
        check_store_path(settings.store_path)
        return int(args.run(args, settings))
    except (ConfigError, ScriptError, StoreError) as error:
        print(f"voicebot: {error}", file=sys.stderr)
        return 2


def _parser(carriers: Sequence[Carrier]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicebot", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    simulate = commands.add_parser("simulate", help="run one scripted call and print its summary")
    simulate.add_argument("scenario", type=Path)
    simulate.add_argument("--json", action="store_true", help="print only the summary JSON")
    simulate.add_argument("--audio", action="store_true", help="run through the voice pipeline")
    simulate.add_argument("--now", help="the call's wall-clock time, ISO 8601 with offset")
    simulate.set_defaults(run=_simulate)

    demo = commands.add_parser("demo", help="run and store the example calls in examples/")
    demo.add_argument(
        "--text", action="store_true", help="text only, without the voice pipeline (seconds)"
    )
    demo.set_defaults(run=_demo)

    accounts = commands.add_parser("accounts", help="the account store")
    account_commands = accounts.add_subparsers(required=True, metavar="ACTION")
    importer = account_commands.add_parser("import", help="import accounts from a CSV file")
    importer.add_argument("file", type=Path)
    importer.set_defaults(run=_import_accounts)

    sections = ", ".join(f"[{carrier.section}]" for carrier in carriers)
    serve = commands.add_parser(
        "serve", help=f"serve the review page and the enabled phone lines ({sections})"
    )
    serve.set_defaults(run=_serve, carriers=carriers)
    call = commands.add_parser("call", help="call an account now over a phone line")
    call.add_argument("account_id")
    names = [carrier.name for carrier in carriers]
    call.add_argument("--line", choices=names, default=names[0] if names else None)
    call.set_defaults(run=_call, carriers=carriers)
    user = commands.add_parser("user", help="review page accounts")
    user_commands = user.add_subparsers(required=True, metavar="ACTION")
    user_add = user_commands.add_parser("add", help="add an agent or supervisor")
    user_add.add_argument("name")
    user_add.add_argument("--role", choices=["agent", "supervisor"], required=True)
    user_add.set_defaults(run=_add_user)
    add_campaign_commands(commands, campaign_lines(carriers))  # campaign create|run, worker
    return parser


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    try:
        scenario = load_scenario(args.scenario)
        now = parse_now(args.now, "--now") if args.now else scenario.now
    except ScenarioError as error:
        print(f"voicebot: {error}", file=sys.stderr)
        return 2
    except InvalidField as bad:
        print(f"voicebot: {bad}", file=sys.stderr)
        return 2
    if args.audio or scenario.has_audio:
        return _simulate_audio(args, settings, scenario, now)
    script = load_script(settings.prompts_dir)
    summary = simulate_call(
        scenario,
        settings,
        script,
        now or datetime.now(UTC).astimezone(),
        on_line=None if args.json else print_line,
        store=True,
    )
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print_summary(summary, settings.prompts_dir)
    return 0


def _simulate_audio(
    args: argparse.Namespace, settings: Settings, scenario: Scenario, now: datetime | None
) -> int:
    # Imported here: pipecat and the speech models are only needed for audio calls.
    from voicebot.simulate import simulate_audio_call

    when = now or datetime.now(UTC).astimezone()
    on_line = None if args.json else print_line
    summary = simulate_audio_call(scenario, settings, when, on_line=on_line, store=True)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print_summary(summary, settings.prompts_dir)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    if not args.text:
        from voicebot.simulate import run_audio_demo

        return run_audio_demo(settings, sorted(EXAMPLES_DIR.glob("*.yaml")))
    script = load_script(settings.prompts_dir)
    paths = sorted(EXAMPLES_DIR.glob("*.yaml"))
    for path in paths:
        scenario = load_scenario(path)
        print(f"\n=== {path.stem} ===")
        now = scenario.now or datetime.now(UTC).astimezone()
        summary = simulate_call(scenario, settings, script, now, on_line=print_line, store=True)
        print_summary(summary, settings.prompts_dir)
    print(f"\n{len(paths)} calls stored in {settings.store_path}")
    return 0


def _import_accounts(args: argparse.Namespace, settings: Settings) -> int:
    store = Store(settings.store_path)
    try:
        report = import_accounts(args.file, store)
    except ImportFileError as error:
        print(f"voicebot: {error}", file=sys.stderr)
        return 2
    finally:
        store.close()
    for line, why in report.rejected:
        print(f"{args.file}:{line}: skipped: {why}", file=sys.stderr)
    print(
        f"{report.added} added, {report.updated} updated, {len(report.rejected)} rejected"
        f" ({settings.store_path})"
    )
    return 1 if report.rejected else 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from telephony.server import run  # the web stack only when serving

    console = logging.StreamHandler()  # the server's log: personal data masked
    console.addFilter(MaskingFilter())
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", handlers=[console]
    )
    run(settings, args.carriers)
    return 0


def _call(args: argparse.Namespace, settings: Settings) -> int:
    from telephony.dial import dial_from_cli  # the carriers only when calling

    return dial_from_cli(settings, args.account_id, args.line, args.carriers)


def _add_user(args: argparse.Namespace, settings: Settings) -> int:
    from voicebot.review_store import ReviewStore, UserError

    if sys.stdin.isatty():
        password = getpass.getpass("密码: ")
        if getpass.getpass("再次输入密码: ") != password:
            print("voicebot: the passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    store = ReviewStore(settings.store_path)
    try:
        store.add_user(args.name, args.role, password, datetime.now(UTC))
    except UserError as error:
        print(f"voicebot: {error}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"{args.role} {args.name} added ({settings.store_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
