"""Blind transfer (RFC 3515 REFER): ask the far end to call an agent, follow its NOTIFYs.

aiosipua sends the REFER and surfaces the NOTIFYs' sipfrag status lines; a REFER the far
end refuses outright (403, 405, 501...) is a plain response that aiosipua drops, so the
UAC here also hands REFER responses to the transfer waiting for them.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiosipua import SipResponse, SipUAC, SipUAS
from aiosipua.dialog import Dialog

logger = logging.getLogger(__name__)

TRANSFER_TIMEOUT_S = 60.0  # REFER accepted, but no final NOTIFY: the agent never answered


@dataclass(frozen=True)
class TransferResult:
    target: str
    status: int  # the final sipfrag status, the REFER's rejection, or 408 when nothing came
    reason: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def describe(self) -> str:
        return f"{self.status} {self.reason}".strip()

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "status": self.status, "reason": self.reason, "ok": self.ok}


class Uac(SipUAC):
    """aiosipua's UAC that also reports responses to in-dialog REFERs and notes which
    INVITEs have been answered at all (the others are resent: `outbound.dial`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refer_responses: dict[str, asyncio.Future[tuple[int, str]]] = {}
        self.invites_heard: set[str] = set()

    def handle_response(self, response: SipResponse, addr: tuple[str, int]) -> None:
        cseq = response.cseq
        if cseq is not None and cseq.method.upper() == "INVITE":
            self.invites_heard.add(response.call_id or "")
        if cseq is not None and cseq.method.upper() == "REFER":
            waiter = self.refer_responses.get(response.call_id or "")
            if waiter is not None and response.status_code >= 300 and not waiter.done():
                waiter.set_result((response.status_code, response.reason_phrase))
            return
        super().handle_response(response, addr)


class Transfers:
    """The transfers in progress, one per call at most."""

    def __init__(self, uac: Uac, uas: SipUAS) -> None:
        self._uac = uac
        uas.on_transfer_progress = self._on_progress

    async def refer(
        self, call_id: str, dialog: Dialog, addr: tuple[str, int], target: str
    ) -> TransferResult:
        waiter: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        self._uac.refer_responses[call_id] = waiter
        try:
            self._uac.send_refer(dialog, target, addr)
            status, reason = await asyncio.wait_for(waiter, TRANSFER_TIMEOUT_S)
        except ValueError as error:  # the dialog is no longer confirmed (the call ended)
            status, reason = 481, str(error)
        except TimeoutError:
            status, reason = 408, "no final transfer NOTIFY"
        finally:
            self._uac.refer_responses.pop(call_id, None)
        return TransferResult(target, status, reason)

    def _on_progress(self, call_id: str, status: int, reason: str) -> None:
        logger.info("sip: %s transfer progress %d %s", call_id, status, reason)
        waiter = self._uac.refer_responses.get(call_id)
        if waiter is not None and status >= 200 and not waiter.done():
            waiter.set_result((status, reason))
