"""The second half of a verified call: disclosure, the reason, and a promise to pay.

Also the shared machinery of every step: speaking script lines, moving between steps and
ending the call. `Conversation` in engine.py builds on this class.
"""

from datetime import date
from decimal import Decimal

from voicebot.config import Settings
from voicebot.conversation.script import Script
from voicebot.conversation.state import (
    CallState,
    EscalationReason,
    Line,
    Outcome,
    Promise,
    Reason,
    Reply,
    Step,
)
from voicebot.understanding.dates import mentions_vague_time, parse_date, speak_date
from voicebot.understanding.meaning import Meaning, ReasonCategory, Request, says_something
from voicebot.understanding.numbers import (
    mentions_full_amount,
    parse_amount,
    speak_amount,
    speak_number,
)

# Requests a human must decide on: the bot records them and promises nothing.
HUMAN_DECISIONS = (Request.INSTALLMENT, Request.EXTENSION, Request.FEE_WAIVER)
_ACKNOWLEDGE = {
    ReasonCategory.JOB_LOSS: "ack_job_loss",
    ReasonCategory.INCOME_DROP: "ack_income_drop",
    ReasonCategory.ILLNESS: "ack_illness",
    ReasonCategory.FORGOT: "ack_forgot",
    ReasonCategory.REFUSE: "ack_refuse",
    ReasonCategory.OTHER: "ack_other",
}


class PlanSteps:
    def __init__(self, state: CallState, script: Script, settings: Settings) -> None:
        self.state = state
        self.script = script
        self.settings = settings
        self._replied_upto = 0
        self._acknowledged_requests: set[Request] = set()
        self._plan_rejections = 0
        self._last_key = ""  # the script line said last, to know which question is open
        # Set for a turn whose reason the rules could only record as `other`: an outside
        # reader (the LLM) may still place it.
        self._reason_unplaced = False

    # --- speaking and moving on -----------------------------------------------------

    def _say(self, key: str) -> None:
        self.state.lines.append(Line("bot", self.script.render(key, self._slots())))
        self._last_key = key

    def _goto(self, step: Step) -> None:
        self.state.step = step
        self.state.misunderstood = 0

    def _end(self, outcome: Outcome | None, *keys: str) -> bool:
        for key in keys:
            self._say(key)
        if outcome is not None:
            self.state.outcome = outcome
        self.state.step = Step.ENDED
        return True

    def _disclose(self, key: str) -> None:
        """Say something about the debt; only ever to the verified borrower."""
        if not self.state.identity_verified:
            raise RuntimeError("refusing to disclose the debt before identity verification")
        self.state.disclosed = True
        self._say(key)

    def _reply(self) -> Reply:
        new = self.state.lines[self._replied_upto :]
        self._replied_upto = len(self.state.lines)
        return Reply(tuple(line.text for line in new if line.speaker == "bot"), self.state.ended)

    def _slots(self) -> dict[str, str]:
        lender = self.settings.lender
        slots = {
            "lender": lender.name,
            "hotline": lender.hotline,
            "repayment_channels": lender.repayment_channels,
            "borrower": "借款人",
            "pronoun": "他",
            "requests": "、".join(
                self.script.lines[f"request_{r}"]
                for r in self.state.requests
                if r in HUMAN_DECISIONS
            ),
        }
        account = self.state.account
        if account is not None:
            slots |= {
                "borrower": account.honorific,
                "pronoun": account.pronoun,
                "product": account.product,
                "overdue_amount": speak_amount(account.overdue_amount),
                "overdue_days": speak_number(account.overdue_days),
                "due_date": speak_date(account.due_date),
            }
        if self.state.pending_amount is not None:
            slots["amount"] = speak_amount(self.state.pending_amount)
        if self.state.pending_date is not None:
            slots["date"] = speak_date(self.state.pending_date)
        return slots

    # --- reason and plan ------------------------------------------------------------

    def _on_reason(self, m: Meaning) -> None:
        if self._on_reason_given(m):
            return
        # Words the rules cannot place are still the borrower's answer: kept as `other`, so
        # the agent reads them, and the call moves on rather than asking again.
        reason = m.reason
        unplaced = reason is None and self.state.reason is None and says_something(m.text)
        if unplaced:
            reason = ReasonCategory.OTHER
            self.state.reason = Reason(reason, self.state.lines[-1].text)
        took_slots = self._take_plan_slots(m)
        # Nothing else in the words either: where an outside reader (the LLM) may help.
        self._reason_unplaced = unplaced and not took_slots and not m.requests
        if self._route_requests(took_slots):
            return
        if reason is not None:
            self._say(_ACKNOWLEDGE[reason])
        if took_slots:  # "我下周五发工资就还" skips the question about the plan
            self._continue_plan()
        elif reason is not None:
            self._say("ask_plan")
            self._goto(Step.ASK_PLAN)

    def _on_reason_given(self, m: Meaning) -> bool:
        """Record the borrower's reason; handles the ones that end the call."""
        state = self.state
        reason = ReasonCategory.REFUSE if m.refuse_to_pay and m.reason is None else m.reason
        if reason is None:
            return False
        if state.reason is None or state.reason.category is ReasonCategory.OTHER:
            state.reason = Reason(reason, state.lines[-1].text)
        if reason is ReasonCategory.ALREADY_PAID:
            state.escalate(EscalationReason.ALREADY_PAID)
            return self._end(None, "already_paid", "close_followup")
        if reason is ReasonCategory.DISPUTE:
            return self._on_dispute(state.lines[-1].text)
        if reason is ReasonCategory.REFUSE:
            state.escalate(EscalationReason.REFUSE_TO_PAY)
            if state.step is Step.ASK_PLAN:  # asked twice, refused twice
                return self._end(None, "ack_refuse", "close_followup")
        return False

    def _on_dispute(self, text: str) -> bool:
        if self.state.reason is None:
            self.state.reason = Reason(ReasonCategory.DISPUTE, text)
        self.state.escalate(EscalationReason.DISPUTE)
        return self._end(None, "dispute_recorded", "close_followup")

    def _on_plan(self, m: Meaning) -> None:
        if self._on_reason_given(m):
            return
        state = self.state
        if self._agrees_to_full_amount(m):
            state.pending_amount = self._overdue_amount()  # "是全部的…吗？" "对": agreed
            self._route_requests(plan_follows=True)
            self._record_promise()
            return
        took_slots = self._take_plan_slots(m)
        if m.yes and not m.no and state.pending_date and state.pending_amount is None:
            state.pending_amount = self._overdue_amount()
            took_slots = True
        if self._route_requests(took_slots):
            return
        if m.reason is not None:
            self._say(_ACKNOWLEDGE[m.reason])
        if took_slots:
            self._continue_plan()
        elif m.no and state.pending_date and state.pending_amount is None:
            self._say("ask_partial_amount")
        elif mentions_vague_time(m.text) and state.misunderstood == 0:
            state.misunderstood += 1  # "发工资以后": ask once for a day
            self._say("ask_exact_date")
        elif m.reason is not None:
            self._say("ask_plan")

    def _agrees_to_full_amount(self, m: Meaning) -> bool:
        """A yes (or "全部") to "…那天您能还多少呢？是全部的…吗？" that names no other date
        or amount: the borrower took the amount the bot proposed."""
        agreed = m.yes or mentions_full_amount(m.text)
        if self._last_key != "ask_amount" or not agreed or m.no:
            return False
        if self.state.pending_date is None or self.state.pending_amount is not None:
            return False
        when, amount = self._date_in(m), self._amount_in(m)
        return (when is None or when == self.state.pending_date) and (
            amount is None or amount >= self._overdue_amount()
        )

    def _record_promise(self) -> None:
        state = self.state
        assert state.pending_amount is not None and state.pending_date is not None
        state.promise = Promise(state.pending_amount, state.pending_date, confirmed=True)
        self._end(None, "promise_recorded", "close")

    def _on_confirm_promise(self, m: Meaning) -> None:
        state = self.state
        if m.yes and not m.no and state.pending_amount and state.pending_date:
            self._record_promise()
        elif self._take_plan_slots(m):  # "不对，是下周五" corrects and is read back again
            self._continue_plan()
        elif m.no or m.refuse_to_pay:
            self._plan_rejections += 1
            state.pending_amount = state.pending_date = None
            if self._plan_rejections >= 2:
                self._end(None, "close_followup")
            else:
                self._say("ask_plan")
                self._goto(Step.ASK_PLAN)

    def _plan_slots_in(self, m: Meaning) -> bool:
        return (
            self._date_in(m) is not None
            or self._amount_in(m) is not None
            or mentions_full_amount(m.text)
        )

    def _date_in(self, m: Meaning) -> date | None:
        """The date said: read from the text, else the slot an outside reader filled."""
        when = parse_date(m.text, self.state.now.date())
        return when if when is not None else m.pay_date

    @staticmethod
    def _amount_in(m: Meaning) -> Decimal | None:
        amount = parse_amount(m.text)
        return amount if amount is not None else m.amount

    def _take_plan_slots(self, m: Meaning) -> bool:
        """Fill the promise's date and amount from what was said; True when any was."""
        state = self.state
        if state.account is None:
            return False
        when = self._date_in(m)
        amount = self._amount_in(m)
        if amount is None and mentions_full_amount(m.text):
            amount = self._overdue_amount()
        if when is not None:
            state.pending_date = when
        if amount is not None and amount > 0:
            # More than is owed is a mishearing or a slip; a promise never exceeds the debt.
            state.pending_amount = min(amount, self._overdue_amount())
        return when is not None or amount is not None

    def _overdue_amount(self) -> Decimal:
        assert self.state.account is not None
        return self.state.account.overdue_amount

    def _continue_plan(self) -> None:
        state = self.state
        if state.pending_date is not None and state.pending_date < state.now.date():
            state.pending_date = None
            self._say("ask_exact_date")
            self._goto(Step.ASK_PLAN)
        elif state.pending_date and state.pending_amount:
            self._say("confirm_promise")
            self._goto(Step.CONFIRM_PROMISE)
        elif state.pending_date:
            self._say("ask_amount")
            self._goto(Step.ASK_PLAN)
        else:
            self._say("ask_date")
            self._goto(Step.ASK_PLAN)

    def _route_requests(self, plan_follows: bool = False) -> bool:
        """Acknowledge new installment/extension/waiver requests; a human decides them.

        Returns True when that ends the call (nothing about a plan was said).
        """
        new = [r for r in self.state.requests if r in HUMAN_DECISIONS]
        new = [r for r in new if r not in self._acknowledged_requests]
        if not new:
            return False
        self._acknowledged_requests.update(new)
        if plan_follows:
            self._say("request_recorded")
            return False
        return self._end(None, "request_recorded", "close_followup")
