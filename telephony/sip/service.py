"""The voice bot on SIP: the endpoint's calls, run by the process's `CallSessions`.

Inbound calls are answered and handed to the call session with the caller's number (which finds
the account); `dial` places an outbound call to an account's phone (nothing is dialled
outside the calling window). With `sip.agent_uri` set, a call whose summary needs a human
is transferred there by REFER; the summary's `transfer` records target and result.
`sip_hook` is the endpoint on `voicebot serve` (`[sip] enabled`).
"""

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from typing import Any

from aiohttp import web

from telephony.carrier import StartupHook
from telephony.keys import DIALERS, SESSIONS
from telephony.sip.endpoint import SipCall, SipEndpoint
from telephony.sip.outbound import CallFailed
from telephony.sip.settings import SipSettings, sip_settings
from voicebot.accounts import Account
from voicebot.calls import CallSessions, CallSpec, carrier_call_id, find_account, outside_hours
from voicebot.config import ConfigError, Settings
from voicebot.conversation.state import Direction

logger = logging.getLogger(__name__)

LINE = "sip"
SIP_ENDPOINT = web.AppKey("sip_endpoint", SipEndpoint)


class SipCalls:
    """Connects a SIP endpoint to the call sessions."""

    def __init__(self, runner: CallSessions, endpoint: SipEndpoint) -> None:
        self.runner = runner
        self.endpoint = endpoint
        endpoint.on_inbound = self.answer
        self._dialling: set[asyncio.Task[Any]] = set()

    async def answer(self, call: SipCall) -> dict[str, Any]:
        return await self.runner.run(call.line, self._spec(call, Direction.INBOUND))

    async def dial(self, account: Account) -> dict[str, Any]:
        """Call the account's phone and run the call; its summary (also when refused)."""
        runner = self.runner
        summary = outside_hours(runner.settings, account, runner.clock(), LINE)
        if summary is not None:
            return summary

        async def run(call: SipCall) -> dict[str, Any]:
            return await self.runner.run(call.line, self._spec(call, Direction.OUTBOUND, account))

        return await self.endpoint.place_call(account.phone, run)

    async def dial_account_id(self, account_id: str) -> dict[str, Any]:
        """The server's dialer: look the account up, start the call, answer at once."""
        account = find_account(self.runner.settings, account_id)
        task = asyncio.get_running_loop().create_task(self._dial_logged(account))
        self._dialling.add(task)
        task.add_done_callback(self._dialling.discard)
        return {"line": LINE, "account_id": account_id, "status": "dialing"}

    async def _dial_logged(self, account: Account) -> None:
        try:
            await self.dial(account)
        except CallFailed as failed:
            logger.info("sip: call to account %s not connected: %s", account.account_id, failed)

    def _spec(
        self, call: SipCall, direction: Direction, account: Account | None = None
    ) -> CallSpec:
        async def transfer() -> dict[str, Any]:
            return (await self.endpoint.transfer(call)).as_dict()

        return CallSpec(
            line_kind=LINE,
            direction=direction,
            number=account.phone if account else call.remote_number,
            account=account,
            carrier_call_id=carrier_call_id(call.call_id),
            transfer=transfer if self.endpoint.settings.agent_uri else None,
            line_metrics=lambda: sip_figures(call),
        )


def sip_figures(call: SipCall) -> dict[str, Any]:
    """The codec and the incoming stream's health, for the summary's metrics."""
    stats = call.line.rtp.stats
    return {
        "codec": call.codec,
        "packets_received": stats.get("packets_received", 0),
        "packets_lost": stats.get("packets_lost", 0),
        "concealed_frames": stats.get("concealed_frames", 0),
        "dropped_inbound_frames": call.line.dropped_inbound_frames,
        "max_send_gap_ms": round(call.line.max_send_gap_s * 1000, 1),
        "digits": "".join(call.line.digits),
    }


def sip_hook(settings: SipSettings) -> StartupHook:
    """`voicebot serve`'s SIP endpoint (`[sip] enabled`: see `telephony.sip.carrier`)."""

    async def serve_sip(app: web.Application) -> AsyncIterator[None]:
        calls = SipCalls(app[SESSIONS], SipEndpoint(settings))
        await calls.endpoint.start()
        app[SIP_ENDPOINT] = calls.endpoint
        app[DIALERS][LINE] = calls.dial_account_id
        yield
        await calls.endpoint.stop()

    return serve_sip


def dial_from_cli(settings: Settings, sections: Mapping[str, Any], account_id: str) -> int:
    """`voicebot call ACCOUNT_ID --line sip`: this process dials through `[sip]` and runs
    the call itself (its own socket, no REGISTER: `voicebot serve` keeps the binding)."""
    try:
        sip = sip_settings(sections.get("sip", {}), os.environ)
    except ConfigError as error:
        print(f"voicebot: {error}", file=sys.stderr)
        return 2
    if not sip.proxy:
        print("voicebot: sip.proxy: set the PBX or trunk (host:port) to dial", file=sys.stderr)
        return 2
    try:
        account = find_account(settings, account_id)
    except LookupError as missing:
        print(f"voicebot: {missing}", file=sys.stderr)
        return 2
    try:
        summary = asyncio.run(_dial_once(settings, replace(sip, port=0, register=False), account))
    except CallFailed as failed:
        print(f"voicebot: {failed}", file=sys.stderr)
        return 1
    print(json.dumps(summary, ensure_ascii=False))
    return 0


async def _dial_once(settings: Settings, sip: SipSettings, account: Account) -> dict[str, Any]:
    from voicebot.voice.pipeline import VoiceModels  # the models only when a call is placed

    models = await asyncio.to_thread(VoiceModels, settings.voice)
    await asyncio.to_thread(models.warm_up)
    calls = SipCalls(CallSessions(settings, models), SipEndpoint(sip))
    await calls.endpoint.start()
    try:
        return await calls.dial(account)
    finally:
        await calls.endpoint.stop()
