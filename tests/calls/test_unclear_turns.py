"""Speech the recogniser doubts (line noise read as 嗯嗯) is asked again: not a yes, and
not a silent turn that would end the call."""

from datetime import datetime

from voicebot.accounts import parse_account
from voicebot.calls import open_engine
from voicebot.config import load_settings
from voicebot.conversation.script import load_script
from voicebot.conversation.state import CallState, Direction

ACCOUNT = {
    "account_id": "A1001", "name": "张伟", "gender": "M", "phone": "13800138000",
    "id_number": "110101199003071234", "product": "个人消费贷款", "overdue_amount": 3250.60,
    "overdue_days": 15, "due_date": "2026-11-10",
}  # fmt: skip
SETTINGS = load_settings(environ={})
SCRIPT = load_script(SETTINGS.prompts_dir)


class NoDirectory:
    def by_phone(self, phone: str) -> None:
        return None

    def by_name(self, name: str) -> list:
        return []


async def test_doubted_speech_asks_the_identity_question_again_and_a_yes_still_counts() -> None:
    now = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
    state = CallState(Direction.OUTBOUND, parse_account(ACCOUNT), now)
    engine = open_engine(state, SETTINGS, SCRIPT, NoDirectory(), None, None)
    engine.start()

    unclear = await engine.hear_unclear()
    assert unclear.say and "本人" in unclear.say[-1] and not unclear.ended
    assert not state.claimed_identity and state.silent_turns == 0
    assert not any(line.speaker == "borrower" for line in state.lines)

    yes = await engine.hear("是的")
    assert "最后四位" in yes.say[-1]
    keyed = await engine.hear_keys("1234")
    assert state.identity_verified and "核实成功" in keyed.say[0]
