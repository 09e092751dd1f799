"""One call session for every way a call is placed: simulated text, simulated audio, SIP,
Twilio and campaign calls all run through `CallSessions.run(line, spec)`.

How a line (a carrier) plugs in
-------------------------------
1. **The line.** A text line is a `TextLine` (the scripted counterpart's entries on a
   modelled clock). An audio line subclasses `voicebot.voice.line.PhoneLine` (the 8 kHz
   mu-law line with a 20 ms clock that records both directions; see
   `telephony.sip.line.SipLine`, `telephony.twilio.line.TwilioLine`, and `InProcessLine`
   for simulations): feed what the far end sends (`send_from_borrower`,
   `send_mulaw_from_borrower`, `press` for DTMF keys, heard as the borrower's words),
   call `hang_up("borrower")` when the far end hangs up or `hang_up("line")` when the
   media breaks, and override `_send_to_carrier` (the bot's frame of each tick onto the
   wire) and `_end_carrier_call` (BYE, REST: the session hangs up with "bot" at the end
   of the call). The adapter starts the line's clock (`line.run()`) when media flows and
   stops it after the session returns.
2. **The call.** Describe it in a `CallSpec`: line kind, direction, the borrower's number
   (dialled, or the caller's: an inbound caller's number finds the account in the store),
   the account of an outbound call, and optionally `transfer` (a coroutine handing the
   caller to a human; its result is stored as the summary's `transfer`), `line_metrics`
   (the carrier's figures, stored under `metrics[<line kind>]`) and `on_complete`
   (called with the stored summary, for campaigns).
3. **Run it.** `summary = await sessions.run(line, spec)` with the process's one
   `CallSessions` (speech models shared by all calls). The session lists the call in
   `sessions.calls` (`GET /calls/active`), runs the engine (in LLM mode when `[llm]` names
   an endpoint) and the voice pipeline until the conversation ends, the line closes or
   `voice.max_call_s` passes, says `transfer_to_agent` and transfers when the summary
   requires escalation and `spec.transfer` is set, writes the stereo recording, stores
   the summary and returns it. It never raises for a failing call: whatever goes wrong,
   the summary of what was said is written. Outbound adapters call
   `sessions.outside_hours(account, line_kind)` before dialling: outside the calling
   window nothing is dialled (and the refusal is stored).
4. **Serve it.** `telephony.server` builds `voicebot serve`'s app; an adapter adds its
   web routes and a startup hook there.

Logs name the call id; numbers only masked.
"""

from voicebot.calls.engine import CallEngine, llm_mode, open_engine
from voicebot.calls.record import (
    find_account,
    outside_hours,
    outside_hours_summary,
    store_summary,
    summarise,
)
from voicebot.calls.registry import ActiveCall, CallRegistry
from voicebot.calls.session import SIMULATED, CallSession, CallSessions
from voicebot.calls.spec import CallSpec, Transfer, carrier_call_id, national_number
from voicebot.calls.text import TextLine

__all__ = [
    "SIMULATED",
    "ActiveCall",
    "CallEngine",
    "CallRegistry",
    "CallSession",
    "CallSessions",
    "CallSpec",
    "TextLine",
    "Transfer",
    "carrier_call_id",
    "find_account",
    "llm_mode",
    "national_number",
    "open_engine",
    "outside_hours",
    "outside_hours_summary",
    "store_summary",
    "summarise",
]
