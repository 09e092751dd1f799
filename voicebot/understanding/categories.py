"""The categories the understanding reports, shared by the rules, the LLM mode and the
call summary: reasons, requests, inbound intents, sentiment and the questions answered."""

from enum import StrEnum


class ReasonCategory(StrEnum):
    """Why the borrower has not paid, in the categories of the call summary."""

    JOB_LOSS = "job_loss"
    INCOME_DROP = "income_drop"
    ILLNESS = "illness"
    FORGOT = "forgot"
    ALREADY_PAID = "already_paid"
    DISPUTE = "dispute"
    REFUSE = "refuse"
    OTHER = "other"


class Request(StrEnum):
    """Something the borrower asks for that the bot records and may route to a human."""

    INSTALLMENT = "installment"
    EXTENSION = "extension"
    FEE_WAIVER = "fee_waiver"
    HUMAN_AGENT = "human_agent"
    STOP_CALLING = "stop_calling"
    CALLBACK_LATER = "callback_later"


class Intent(StrEnum):
    """Why an inbound caller called."""

    BALANCE_INQUIRY = "balance_inquiry"
    REPAYMENT = "repayment"
    INSTALLMENT = "installment"
    DISPUTE = "dispute"
    COMPLAINT = "complaint"
    HUMAN_AGENT = "human_agent"
    OTHER = "other"


class Sentiment(StrEnum):
    """The speaker's state, most serious first: distressed > angry > anxious > calm."""

    CALM = "calm"
    ANXIOUS = "anxious"
    ANGRY = "angry"
    DISTRESSED = "distressed"


class Question(StrEnum):
    """A question the bot answers before the script resumes."""

    WHO_ARE_YOU = "who_are_you"
    IS_ROBOT = "is_robot"
    HOW_TO_PAY = "how_to_pay"
    HOW_MUCH = "how_much"
    WHY_CALL = "why_call"
    REPEAT = "repeat"
