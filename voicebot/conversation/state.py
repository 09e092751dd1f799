"""What a call knows at any moment; the summary is built from this, never from the text."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from voicebot.accounts import Account
from voicebot.understanding.meaning import Intent, ReasonCategory, Request, Sentiment


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Outcome(StrEnum):
    RIGHT_PARTY_CONTACT = "right_party_contact"
    THIRD_PARTY = "third_party"
    WRONG_NUMBER = "wrong_number"
    VERIFICATION_FAILED = "verification_failed"
    NO_RESPONSE = "no_response"
    VOICEMAIL = "voicemail"
    UNREACHABLE = "unreachable"
    BORROWER_HUNG_UP = "borrower_hung_up"
    OUTSIDE_CALLING_HOURS = "outside_calling_hours"


class EscalationReason(StrEnum):
    FEE_WAIVER_REQUEST = "fee_waiver_request"
    INSTALLMENT_REQUEST = "installment_request"
    EXTENSION_REQUEST = "extension_request"
    DISPUTE = "dispute"
    COMPLAINT = "complaint"
    ALREADY_PAID = "already_paid"
    HUMAN_AGENT_REQUEST = "human_agent_request"
    VULNERABLE = "vulnerable"
    HOSTILE = "hostile"
    REFUSE_TO_PAY = "refuse_to_pay"


class NextAction(StrEnum):
    NONE = "none"
    AWAIT_PAYMENT = "await_payment"
    HUMAN_FOLLOWUP = "human_followup"
    CALLBACK = "callback"
    VERIFY_PAYMENT = "verify_payment"
    UPDATE_CONTACT = "update_contact"
    DO_NOT_CALL = "do_not_call"


class Step(StrEnum):
    """The question the bot is waiting to hear answered."""

    CONFIRM_IDENTITY = "confirm_identity"  # 请问您是张先生吗？
    ASK_KNOWS_BORROWER = "ask_knows_borrower"  # 请问您认识张先生吗？
    ASK_INTENT = "ask_intent"  # inbound: 请问有什么可以帮您？
    ASK_NAME = "ask_name"  # inbound: caller number not on file
    VERIFY_ID = "verify_id"  # 身份证后四位
    ASK_REASON = "ask_reason"
    ASK_PLAN = "ask_plan"  # when and how much
    CONFIRM_PROMISE = "confirm_promise"
    ENDED = "ended"


# Most severe first: the summary reports the most severe state heard in the call, because
# that is what the reviewing agent must act on.
SENTIMENT_SEVERITY = (Sentiment.DISTRESSED, Sentiment.ANGRY, Sentiment.ANXIOUS, Sentiment.CALM)


@dataclass(frozen=True)
class Reason:
    category: ReasonCategory
    text: str


@dataclass(frozen=True)
class Promise:
    amount: Decimal
    date: date
    confirmed: bool = True  # the borrower said yes to the read-back or the amount question


@dataclass(frozen=True)
class Line:
    speaker: str  # "bot" or "borrower"
    text: str


@dataclass(frozen=True)
class Reply:
    """What the bot says this turn, and whether it hangs up afterwards."""

    say: tuple[str, ...]
    ended: bool


@dataclass
class CallState:
    """Everything the engine has established so far in one call."""

    direction: Direction
    account: Account | None  # None on an inbound call until the caller is matched
    now: datetime
    step: Step = Step.CONFIRM_IDENTITY
    outcome: Outcome | None = None
    claimed_identity: bool = False
    identity_verified: bool = False
    id_failures: int = 0
    keypad_offered: bool = False  # after a spoken ID reading failed (offer_keypad)
    id_rereads: int = 0  # ID readings of the wrong length, asked again without counting
    misunderstood: int = 0  # times the current question was not understood
    silent_turns: int = 0
    disclosed: bool = False
    reason: Reason | None = None
    pending_amount: Decimal | None = None
    pending_date: date | None = None
    promise: Promise | None = None
    requests: list[Request] = field(default_factory=list)
    installment_periods: int | None = None
    intent: Intent | None = None
    sentiments: set[Sentiment] = field(default_factory=set)
    escalations: list[EscalationReason] = field(default_factory=list)
    ai_disclosed: bool = False
    recording_notice: bool = False
    within_calling_hours: bool = True
    hung_up: bool = False
    lines: list[Line] = field(default_factory=list)
    readers: list[str] = field(default_factory=list)  # who read each borrower turn

    @property
    def ended(self) -> bool:
        return self.step is Step.ENDED

    @property
    def promise_to_pay(self) -> Promise | None:
        """The promise to pay: the confirmed one, else the date and amount the borrower gave
        before the call ended with the read-back unanswered (unconfirmed)."""
        if self.promise is not None:
            return self.promise
        if self.pending_date is not None and self.pending_amount is not None:
            return Promise(self.pending_amount, self.pending_date, confirmed=False)
        return None

    @property
    def sentiment(self) -> Sentiment:
        return next((s for s in SENTIMENT_SEVERITY if s in self.sentiments), Sentiment.CALM)

    def add_request(self, request: Request) -> None:
        if request not in self.requests:
            self.requests.append(request)

    def escalate(self, reason: EscalationReason) -> None:
        if reason not in self.escalations:
            self.escalations.append(reason)
