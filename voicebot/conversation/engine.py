"""One call's conversation: what the borrower said -> what the bot says next.

Pure: no audio, network or clock. The time of the call arrives in `CallState.now`, the
account lookup for inbound callers through an injected `AccountDirectory`. The text
simulator, the voice pipeline and the LLM mode all drive this same class.
"""

import copy
from collections.abc import Sequence
from typing import Protocol

from voicebot.accounts import Account
from voicebot.config import Settings
from voicebot.conversation.plan import PlanSteps
from voicebot.conversation.script import Script
from voicebot.conversation.state import (
    CallState,
    Direction,
    EscalationReason,
    Line,
    Outcome,
    Reply,
    Step,
)
from voicebot.understanding.embedding import EmbeddingReader
from voicebot.understanding.meaning import (
    Intent,
    Meaning,
    Question,
    Request,
    Sentiment,
    understand,
)
from voicebot.understanding.numbers import id_characters_said, parse_id_digits, parse_periods
from voicebot.understanding.reading import merge_reading

# What to ask again when a question was not understood or was interrupted by one of ours.
_REASK = {
    Step.CONFIRM_IDENTITY: "opening_rephrase",
    Step.ASK_KNOWS_BORROWER: "ask_knows_borrower",
    Step.ASK_INTENT: "ask_intent_rephrase",
    Step.ASK_NAME: "ask_name_rephrase",
    Step.VERIFY_ID: "ask_id",
    Step.ASK_REASON: "ask_reason_rephrase",
    Step.ASK_PLAN: "ask_plan",
    Step.CONFIRM_PROMISE: "confirm_promise",
}
# The question each step waits on, as the embedding reader's contexts name it.
_READER_CONTEXT = {
    Step.CONFIRM_IDENTITY: "identity",
    Step.ASK_KNOWS_BORROWER: "identity",
    Step.VERIFY_ID: "id_digits",
    Step.ASK_REASON: "reason",
    Step.ASK_PLAN: "plan",
    Step.CONFIRM_PROMISE: "readback",
    Step.ASK_INTENT: "inbound",
}
_IDENTITY_STEPS = (Step.CONFIRM_IDENTITY, Step.VERIFY_ID)  # never after verification
# ID readings of the wrong length asked again before the next one counts as a failed try.
_MAX_ID_REREADS = 2
_INTENT_FROM_REQUEST = {
    Request.INSTALLMENT: Intent.INSTALLMENT,
    Request.HUMAN_AGENT: Intent.HUMAN_AGENT,
}
_INTENT_FROM_QUESTION = {
    Question.HOW_MUCH: Intent.BALANCE_INQUIRY,
    Question.HOW_TO_PAY: Intent.REPAYMENT,
}


class AccountDirectory(Protocol):
    """Where an inbound caller's account is looked up."""

    def by_phone(self, phone: str) -> Account | None: ...

    def by_name(self, name: str) -> Sequence[Account]: ...


class Conversation(PlanSteps):
    """Runs the outbound reminder or the inbound hotline conversation (prompts/script.yaml)."""

    def __init__(
        self,
        state: CallState,
        script: Script,
        settings: Settings,
        directory: AccountDirectory | None = None,
        caller: str | None = None,
        reader: EmbeddingReader | None = None,
    ) -> None:
        """`reader`: the embedding reader behind the rules (None: the rules read alone)."""
        super().__init__(state, script, settings)
        self.directory = directory
        self.reader = reader
        self.candidates: list[Account] = []
        self._keyed = False  # the turn being heard was keyed on the keypad, not spoken
        if state.direction is Direction.INBOUND and caller and directory:
            found = directory.by_phone(caller)
            self.candidates = [found] if found else []

    # --- the public API -------------------------------------------------------------

    def start(self) -> Reply:
        """The bot's first turn: the AI and recording notice come first on every call."""
        if self.state.direction is Direction.OUTBOUND:
            self._say("opening")
            self._goto(Step.CONFIRM_IDENTITY)
        else:
            self._say("inbound_greeting")
            self._goto(Step.ASK_INTENT)
        self.state.ai_disclosed = self.state.recording_notice = True
        return self._reply()

    def hear(self, text: str | None, meaning: Meaning | None = None) -> Reply:
        """The borrower's turn: `None` or an empty string is a silent turn.

        `meaning` replaces the rules' reading of `text` when given (the LLM mode passes the
        rules' meaning merged with the LLM's validated one); by default the rules decide.
        """
        if self.state.ended:
            if text and text.strip():
                self._hear_after_end(text, meaning or understand(text))
            return Reply((), True)
        if not text or not text.strip():
            self._on_silence()
            return self._reply()
        self._take_turn(text, meaning or self.read(text))
        return self._reply()

    def hear_keys(self, keys: str) -> Reply:
        """Keys the borrower pressed, as their words (`*` already read as X). A keyed ID
        that does not match counts as a failed try at once: the keypad is not offered."""
        self._keyed = True
        try:
            return self.hear(keys)
        finally:
            self._keyed = False

    def hear_unclear(self) -> Reply:
        """Something was said that the recogniser doubts (line noise, a mumble): neither an
        answer nor a silent turn. The question is asked again as when not understood."""
        if self.state.ended:
            return Reply((), True)
        self.state.silent_turns = 0
        self._not_understood()
        return self._reply()

    def read(self, text: str) -> Meaning:
        """What `text` means at this point of the call: the rules' reading, with what they
        left open filled by the embedding reader (when there is one)."""
        rules = understand(text)
        if self.reader is None or not rules.text:
            return rules
        context = _READER_CONTEXT.get(self.state.step)
        reading = self.reader.read(rules.text, context)
        if context is None or reading.label is None:  # nothing to fill: no trial run needed
            return merge_reading(rules, reading, answered=True)
        return merge_reading(rules, reading, answered=not self.needs_help(rules))

    def _hear_after_end(self, text: str, m: Meaning) -> None:
        """Words heard while the goodbye plays (the voice line still listens): a greeting
        split by a pause shows its second half only now, and still says who answered."""
        self.state.lines.append(Line("borrower", text.strip()))
        self.state.readers.append(m.reader)
        if (m.voicemail or m.unreachable) and not self.state.claimed_identity:
            self.state.outcome = Outcome.VOICEMAIL if m.voicemail else Outcome.UNREACHABLE

    def needs_help(self, meaning: Meaning) -> bool:
        """Whether `meaning` would leave the current question unanswered (a rephrase or a
        move-on would follow), so an outside reader such as the LLM is worth asking.

        Decided by a trial run on a copy of the conversation: the step handlers stay the
        one place that knows what counts as an answer.
        """
        if self.state.ended or not meaning.text:
            return False
        shared = (self.script, self.settings, self.directory, self.reader)
        trial = copy.deepcopy(self, {id(obj): obj for obj in shared})
        return not trial._take_turn(meaning.text, meaning) or trial._reason_unplaced

    def answer_off_script(self, said: str, answer: str, meaning: Meaning | None = None) -> Reply:
        """A question outside the script: record `said`, speak `answer`, ask again.

        `answer` must already have passed the LLM guard (banned claims, figures). The reply
        says the answer first, then the current step's question; the step does not change
        and the turn does not count as a misunderstanding.
        """
        if self.state.ended:
            return Reply((), True)
        self._hear_words(said)
        self.state.readers.append(meaning.reader if meaning is not None else "rules")
        if meaning is not None:
            self.state.sentiments.add(meaning.sentiment)
        self.state.lines.append(Line("bot", answer))
        if self.state.step in _REASK:
            self._say(_REASK[self.state.step])
        return self._reply()

    def hang_up(self) -> None:
        """The counterpart hung up; the summary is still written from what is known."""
        if not self.state.ended:
            self.state.hung_up = True
            self.state.step = Step.ENDED

    def _hear_words(self, text: str) -> None:
        self.state.silent_turns = 0
        self.state.lines.append(Line("borrower", text.strip()))

    def _complaint_heard_first(self) -> bool:
        state = self.state
        return EscalationReason.COMPLAINT not in state.escalations and state.step not in (
            Step.ASK_INTENT,  # an inbound complaint is answered by complaint_recorded
            Step.ENDED,
        )

    def _take_turn(self, text: str, meaning: Meaning) -> bool:
        """Act on one utterance; False when it was not understood at the current step."""
        self._hear_words(text)
        self._reason_unplaced = False
        self.state.readers.append(meaning.reader)
        self.state.sentiments.add(meaning.sentiment)
        self._record_requests(meaning)
        if meaning.complaint or meaning.intent is Intent.COMPLAINT:
            if self._complaint_heard_first():  # a complaint mid-call is acknowledged once
                self._say("complaint_noted")
            self.state.escalate(EscalationReason.COMPLAINT)  # wherever it is said
        if meaning.vulnerable:  # the embedding reader's suspicion: a human calls back first,
            self.state.escalate(EscalationReason.VULNERABLE)  # and the call goes on
            self.state.sentiments.add(Sentiment.DISTRESSED)
        if self._on_call_level_signal(meaning):
            return True
        return self._on_step(meaning)

    # --- signals that end or redirect the call whatever was asked --------------------

    def _on_call_level_signal(self, m: Meaning) -> bool:
        state = self.state
        unverified = not state.identity_verified
        outbound = state.direction is Direction.OUTBOUND
        if (m.voicemail or m.unreachable) and not state.claimed_identity:
            # Nothing is left on a machine: no message could avoid revealing the debt.
            return self._end(Outcome.VOICEMAIL if m.voicemail else Outcome.UNREACHABLE)
        if m.self_harm or m.sentiment == "distressed":
            state.escalate(EscalationReason.VULNERABLE)
            return self._end(None, "distress", "close_followup")
        if Request.STOP_CALLING in m.requests:
            return self._end(None, "stop_calling")
        if m.wrong_number and unverified:
            return self._end(Outcome.WRONG_NUMBER, "wrong_number")
        if m.third_party and unverified and state.step is not Step.VERIFY_ID:
            return self._end(Outcome.THIRD_PARTY, "third_party")
        if m.refuse_verify and state.step in _IDENTITY_STEPS and outbound:
            # A cautious borrower is told how to check the call is real, not pressed.
            return self._end(Outcome.VERIFICATION_FAILED, "refuse_verify")
        if Request.HUMAN_AGENT in m.requests and state.step is not Step.ASK_INTENT:
            return self._end(None, "human_agent", "close_followup")
        if state.step is Step.ASK_INTENT:
            return False  # an inbound caller's first words are their purpose, even a complaint
        if m.hostile:
            state.escalate(EscalationReason.HOSTILE)
            if not self._makes_progress(m):
                return self._end(None, "hostile", "close_followup")
            self._say("hostile")
        if Request.CALLBACK_LATER in m.requests and not self._makes_progress(m):
            return self._end(None, "callback_later")
        if m.goodbye and m.reason is None and not self._plan_slots_in(m):
            return self._end(None, "close_followup")
        return False

    def _makes_progress(self, m: Meaning) -> bool:
        """Whether the utterance also answers the question asked (so the call goes on)."""
        return m.yes or m.reason is not None or self._plan_slots_in(m)

    def _record_requests(self, m: Meaning) -> None:
        for request in m.requests:
            self.state.add_request(request)
        if Request.INSTALLMENT in m.requests:
            self.state.installment_periods = parse_periods(m.text) or (
                self.state.installment_periods
            )

    def _on_silence(self) -> None:
        self.state.silent_turns += 1
        if self.state.silent_turns >= self.settings.rules.max_silent_turns:
            self._end(None, "silence_end")
        else:
            self._say("silence")

    # --- the questions of the script --------------------------------------------------

    def _on_step(self, m: Meaning) -> bool:
        handler = {
            Step.CONFIRM_IDENTITY: self._on_confirm_identity,
            Step.ASK_KNOWS_BORROWER: self._on_knows_borrower,
            Step.ASK_INTENT: self._on_intent,
            Step.ASK_NAME: self._on_name,
            Step.VERIFY_ID: self._on_id_digits,
            Step.ASK_REASON: self._on_reason,
            Step.ASK_PLAN: self._on_plan,
            Step.CONFIRM_PROMISE: self._on_confirm_promise,
        }[self.state.step]
        # "我欠多少钱？" opening an inbound call is the caller's purpose, not a question.
        question = m.question if self.state.step is not Step.ASK_INTENT else None
        if question and not self._makes_progress(m) and not parse_id_digits(m.text):
            self._answer(question)  # 你们是哪里？ is answered, then the script resumes
            self._say(_REASK[self.state.step])
            return True
        if question:
            self._answer(question)
        step_before, lines_before = self.state.step, len(self.state.lines)
        handler(m)
        if self.state.step == step_before and len(self.state.lines) == lines_before:
            self._not_understood()
            return False
        return True

    def _answer(self, question: Question) -> None:
        verified = self.state.identity_verified
        if question is Question.REPEAT:
            last_bot = [line.text for line in self.state.lines if line.speaker == "bot"]
            if last_bot:
                self.state.lines.append(Line("bot", last_bot[-1]))
            return
        key = {
            Question.WHO_ARE_YOU: "answer_who_are_you",
            Question.IS_ROBOT: "answer_is_robot",
            Question.HOW_TO_PAY: "answer_how_to_pay",
            Question.HOW_MUCH: "answer_how_much" if verified else "answer_why_call_unverified",
            Question.WHY_CALL: "answer_why_call" if verified else "answer_why_call_unverified",
        }[question]
        self._say(key)

    def _on_confirm_identity(self, m: Meaning) -> None:
        if not m.no and parse_id_digits(m.text):
            # "是我，身份证后四位1234", or just "1234": the digits answer both questions;
            # digits that do not match are a failed try at the ID step.
            self.state.claimed_identity = True
            self._goto(Step.VERIFY_ID)
            self._on_id_digits(m)
        elif m.yes and not m.no:
            self.state.claimed_identity = True
            self._say("ask_id")
            self._goto(Step.VERIFY_ID)
        elif m.no:
            self._say("ask_knows_borrower")
            self._goto(Step.ASK_KNOWS_BORROWER)

    def _on_knows_borrower(self, m: Meaning) -> None:
        knows = "认识" in m.text and "不认识" not in m.text
        if (m.yes or knows) and not m.no:
            self._end(Outcome.THIRD_PARTY, "third_party")
        elif m.no:
            self._end(Outcome.WRONG_NUMBER, "wrong_number")

    def _on_intent(self, m: Meaning) -> None:
        intent = m.intent
        for request in m.requests:
            intent = intent or _INTENT_FROM_REQUEST.get(request)
        if m.question:
            intent = intent or _INTENT_FROM_QUESTION.get(m.question)
        if intent is None and m.reason == "dispute":
            intent = Intent.DISPUTE
        if intent is None:
            return
        self.state.intent = intent
        self._ask_for_account(m)

    def _ask_for_account(self, m: Meaning) -> None:
        if not self.candidates:
            self.candidates = self._accounts_named_in(m.text)
        if self.candidates:
            self._say("ask_id")
            self._goto(Step.VERIFY_ID)
        else:
            self._say("ask_name")
            self._goto(Step.ASK_NAME)

    def _on_name(self, m: Meaning) -> None:
        self.candidates = self._accounts_named_in(m.text)
        if self.candidates:
            self._say("ask_id")
            self._goto(Step.VERIFY_ID)

    def _accounts_named_in(self, text: str) -> list[Account]:
        if self.directory is None:
            return []
        # A name is 2-4 characters somewhere in "我叫张伟"/"张伟"/"借款人是欧阳娜娜".
        spans = {text[i : i + n] for n in (4, 3, 2) for i in range(len(text) - n + 1)}
        found = {a.account_id: a for name in spans for a in self.directory.by_name(name)}
        return list(found.values())

    def _on_id_digits(self, m: Meaning) -> None:
        digits = parse_id_digits(m.text)
        if digits is None:
            if m.no:  # 不方便说 / 不告诉你: a refusal counts as a failed check
                self._fail_id_check()
            elif id_characters_said(m.text):  # 一二三, 一二三四五: not a reading of four
                self._ask_id_again()
            elif self.state.misunderstood:
                self._fail_id_check(final=True)
            return
        if self.state.direction is Direction.OUTBOUND:
            candidates = [self.state.account] if self.state.account else []
        else:
            candidates = self.candidates
        matched = next((a for a in candidates if a.id_last4 == digits), None)
        if matched is None and not self._keyed and not self.state.keypad_offered:
            # Spoken digits are easily misheard; keys are not: offered before the try counts.
            self.state.keypad_offered = True
            self._say("offer_keypad")
            return
        if matched is None:
            self._fail_id_check()
            return
        self.state.account = matched
        self.state.identity_verified = True
        self._after_verification()

    def _ask_id_again(self) -> None:
        """A reading that is not four characters is asked for again, not counted as a
        wrong ID, up to `_MAX_ID_REREADS` times; the keypad is offered with it."""
        if self.state.id_rereads >= _MAX_ID_REREADS:
            self._fail_id_check()
            return
        self.state.id_rereads += 1
        self.state.keypad_offered = self.state.keypad_offered or not self._keyed
        self._say("id_reread")

    def _fail_id_check(self, final: bool = False) -> None:
        self.state.id_failures += 1
        if final or self.state.id_failures >= self.settings.rules.max_id_attempts:
            self._end(Outcome.VERIFICATION_FAILED, "id_failed")
        else:
            self._say("id_retry")
            self.state.misunderstood = 0

    def _after_verification(self) -> None:
        state = self.state
        if state.direction is Direction.OUTBOUND:
            self._disclose("disclose")
            self._goto(Step.ASK_REASON)
            return
        intent = state.intent or Intent.OTHER
        if intent in (Intent.BALANCE_INQUIRY, Intent.OTHER):
            self._disclose("disclose_balance")
            self._goto(Step.ASK_PLAN)
        elif intent is Intent.REPAYMENT:
            self._disclose("disclose_repayment")
            self._goto(Step.ASK_PLAN)
        elif intent is Intent.INSTALLMENT:
            state.add_request(Request.INSTALLMENT)
            self._route_requests()
        elif intent is Intent.DISPUTE:
            self._on_dispute(state.lines[-1].text if state.lines else "")
        elif intent is Intent.COMPLAINT:
            state.escalate(EscalationReason.COMPLAINT)
            self._end(None, "complaint_recorded", "close_followup")
        else:  # human_agent
            state.add_request(Request.HUMAN_AGENT)
            self._end(None, "human_agent", "close_followup")

    def _not_understood(self) -> None:
        """Ask once more in other words; the second time, move on."""
        step = self.state.step
        if self.state.misunderstood == 0 and step in _REASK:
            self.state.misunderstood += 1
            self._say(_REASK[step])
            return
        if step is Step.CONFIRM_IDENTITY:
            self._end(Outcome.VERIFICATION_FAILED, "id_failed")
        elif step is Step.ASK_KNOWS_BORROWER:
            self._end(Outcome.THIRD_PARTY, "third_party")
        elif step is Step.ASK_INTENT:
            self.state.intent = Intent.OTHER
            self._ask_for_account(Meaning(text=""))
        elif step is Step.ASK_NAME:
            self._end(Outcome.VERIFICATION_FAILED, "account_not_found")
        elif step is Step.VERIFY_ID:
            self._fail_id_check(final=True)
        elif step is Step.ASK_REASON:
            self._say("ask_plan")
            self._goto(Step.ASK_PLAN)
        else:
            self._end(None, "close_followup")
