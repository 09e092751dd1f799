"""Meanings of borrower utterances as ASR writes them on the phone."""

import dataclasses

import pytest

from voicebot.llm.understanding import LLMReading, merge
from voicebot.understanding.meaning import (
    Intent,
    Meaning,
    Question,
    ReasonCategory,
    Request,
    Sentiment,
    says_something,
    understand,
)
from voicebot.understanding.normalize import normalize

R = ReasonCategory
Q = Question


@pytest.mark.parametrize(
    ("said", "yes", "no"),
    [
        ("对", True, False),
        ("对对对", True, False),
        ("嗯", True, False),
        ("嗯嗯", True, False),
        ("是的", True, False),
        ("是我", True, False),
        ("对是我", True, False),
        ("我就是", True, False),
        ("是本人", True, False),
        ("我是本人", True, False),
        ("没错", True, False),
        ("没问题", True, False),
        ("好的好的", True, False),
        ("行", True, False),
        ("可以", True, False),
        ("喂对我是张伟", True, False),
        ("嗯是我啥事", True, False),
        ("我是张伟", True, False),
        ("我是", True, False),
        ("OK", True, False),
        ("ok好的", True, False),
        ("是啊怎么了", True, False),
        ("嗯我知道了", True, False),
        ("你说的对", True, False),
        ("没错是我", True, False),
        ("不是", False, True),
        ("不是的", False, True),
        ("不对", False, True),
        ("不是我", False, True),
        ("没有", False, True),
        ("不行", False, True),
        ("不可以", False, True),
        ("不是本人", False, True),
        ("好像不是", False, True),
        ("还没还", False, True),
        ("没呢", False, True),
        ("不用了谢谢", False, True),
        ("不告诉你", False, True),
        ("喂", False, False),
        ("喂喂喂", False, False),
        ("喂你好", False, False),
        ("您好", False, False),
        ("好烦啊", False, False),
        ("我在银行", False, False),
        ("可以分期吗", False, False),
        ("但是我没钱", False, False),
        ("我就是没钱", False, False),
        ("我就是张伟你们哪里", True, False),
        ("对我现在在开车", True, False),
        ("我不是不想还", False, False),
        ("是他老婆", False, False),
        ("我是他同事", False, False),
    ],
)
def test_yes_and_no(said: str, yes: bool, no: bool) -> None:
    meaning = understand(said)
    assert (meaning.yes, meaning.no) == (yes, no)


@pytest.mark.parametrize(
    ("said", "reason"),
    [
        ("我失业了", R.JOB_LOSS),
        ("公司倒闭了现在没工作", R.JOB_LOSS),
        ("我被裁员了", R.JOB_LOSS),
        ("上个月丢了工作", R.JOB_LOSS),
        ("我失业了没钱还", R.JOB_LOSS),
        ("最近生意不好", R.INCOME_DROP),
        ("工资没发", R.INCOME_DROP),
        ("手头有点紧", R.INCOME_DROP),
        ("资金周转不开", R.INCOME_DROP),
        ("没钱啊", R.INCOME_DROP),
        ("工资降了一半", R.INCOME_DROP),
        ("我没忘就是没钱", R.INCOME_DROP),
        ("我不是不想还是真的没钱", R.INCOME_DROP),
        ("我住院了", R.ILLNESS),
        ("家里人病了在医院", R.ILLNESS),
        ("我妈做手术花了好多钱", R.ILLNESS),
        ("去看病了", R.ILLNESS),
        ("我忘了", R.FORGOT),
        ("不好意思忘记还了", R.FORGOT),
        ("没注意到逾期了", R.FORGOT),
        ("我不知道逾期了", R.FORGOT),
        ("我已经还了", R.ALREADY_PAID),
        ("上周就还了", R.ALREADY_PAID),
        ("昨天转账了", R.ALREADY_PAID),
        ("钱早就还清了", R.ALREADY_PAID),
        ("我还过了啊", R.ALREADY_PAID),
        ("我刚刚已经在APP上还了", R.ALREADY_PAID),
        ("我已经跟你们说过了", None),
        ("金额不对", R.DISPUTE),
        ("我没借过钱", R.DISPUTE),
        ("不是我借的", R.DISPUTE),
        ("利息算错了吧", R.DISPUTE),
        ("我没有逾期啊", R.DISPUTE),
        ("我不想还", R.REFUSE),
        ("凭什么还", R.REFUSE),
        ("我就是不还", R.REFUSE),
        ("没钱也不还", R.REFUSE),
        ("我在出差", R.OTHER),
        ("我人在国外", R.OTHER),
        ("卡出问题了扣款失败", R.OTHER),
        ("银行卡被冻结了", R.OTHER),
        ("好的", None),
        ("你们是哪里", None),
        ("明天还", None),
        ("如果不还会怎么样", None),
        ("我有没有逾期", None),
        ("没毛病", None),
        ("这不是我的号码", None),
    ],
)
def test_reason(said: str, reason: ReasonCategory | None) -> None:
    assert understand(said).reason == reason


@pytest.mark.parametrize(
    ("said", "requests"),
    [
        ("能不能分期", {Request.INSTALLMENT}),
        ("我想分三个月还", {Request.INSTALLMENT}),
        ("可以分3期吗", {Request.INSTALLMENT}),
        ("要不分期吧", {Request.INSTALLMENT}),
        ("能不能宽限几天", {Request.EXTENSION}),
        ("再缓一缓吧", {Request.EXTENSION}),
        ("晚几天还行不行", {Request.EXTENSION}),
        ("罚息能不能免", {Request.FEE_WAIVER}),
        ("滞纳金能不能减免", {Request.FEE_WAIVER}),
        ("能少还点吗", {Request.FEE_WAIVER}),
        ("转人工", {Request.HUMAN_AGENT}),
        ("我要找人工客服", {Request.HUMAN_AGENT}),
        ("我不跟机器说找真人", {Request.HUMAN_AGENT}),
        ("别再打了", {Request.STOP_CALLING}),
        ("以后别给我打电话", {Request.STOP_CALLING}),
        ("别再打过来了", {Request.STOP_CALLING}),
        ("我在开会晚点再打", {Request.CALLBACK_LATER}),
        ("在开车不方便", {Request.CALLBACK_LATER}),
        ("回头再说吧", {Request.CALLBACK_LATER}),
        ("等会儿打过来", {Request.CALLBACK_LATER}),
        ("分期和罚息减免都想要", {Request.INSTALLMENT, Request.FEE_WAIVER}),
        ("我现在开车晚点打给你能分期吗", {Request.CALLBACK_LATER, Request.INSTALLMENT}),
        ("现在说话不方便", {Request.CALLBACK_LATER}),
        ("不方便说", set()),
        ("不用转人工", set()),
        ("不用给我转人工", set()),
        ("我不想分期", set()),
        ("我不在忙你说吧", set()),
        ("好的", set()),
    ],
)
def test_requests(said: str, requests: set[Request]) -> None:
    assert understand(said).requests == frozenset(requests)


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("我想查一下我还欠多少", Intent.BALANCE_INQUIRY),
        ("我的账单出来了吗", Intent.BALANCE_INQUIRY),
        ("我想还款", Intent.REPAYMENT),
        ("你们的还款账户是多少", Intent.REPAYMENT),
        ("我想办分期", Intent.INSTALLMENT),
        ("你们金额算错了", Intent.DISPUTE),
        ("我要投诉你们催收员", Intent.COMPLAINT),
        ("你们这是骚扰", Intent.COMPLAINT),
        ("帮我转人工", Intent.HUMAN_AGENT),
        ("我想开结清证明", Intent.OTHER),
        ("我想咨询一下", Intent.OTHER),
        ("我现在就还", Intent.REPAYMENT),
        ("喂你好", None),
        ("我不想还", None),
    ],
)
def test_intent(said: str, intent: Intent | None) -> None:
    assert understand(said).intent == intent


@pytest.mark.parametrize(
    ("said", "sentiment"),
    [
        ("我真的崩溃了", Sentiment.DISTRESSED),
        ("我现在走投无路了", Sentiment.DISTRESSED),
        ("我都想哭", Sentiment.DISTRESSED),
        ("我不想活了", Sentiment.DISTRESSED),
        ("烦死了", Sentiment.ANGRY),
        ("你们有病吧天天打", Sentiment.ANGRY),
        ("骗子", Sentiment.ANGRY),
        ("别烦我", Sentiment.ANGRY),
        ("会不会影响我征信啊", Sentiment.ANXIOUS),
        ("我好担心怎么办", Sentiment.ANXIOUS),
        ("我很害怕会不会被起诉", Sentiment.ANXIOUS),
        ("好的我明天还", Sentiment.CALM),
        ("我不着急", Sentiment.CALM),
    ],
)
def test_sentiment(said: str, sentiment: Sentiment) -> None:
    assert understand(said).sentiment == sentiment


@pytest.mark.parametrize(
    ("said", "flag", "value"),
    [
        ("我不想活了", "self_harm", True),
        ("活着没意思", "self_harm", True),
        ("再逼我我就跳楼", "self_harm", True),
        ("我想死", "self_harm", True),
        ("再逼我就自杀", "self_harm", True),
        ("我死了你们也拿不到钱", "self_harm", False),
        ("我是他老婆", "third_party", True),
        ("他不在", "third_party", True),
        ("他出去了", "third_party", True),
        ("你找他什么事", "third_party", True),
        ("我是他同事", "third_party", True),
        ("这是我老公的手机", "third_party", True),
        ("她是我女儿有什么事跟我说", "third_party", True),
        ("认识是我朋友", "third_party", True),
        ("我是张伟", "third_party", False),
        ("我是他朋友他现在不在", "third_party", True),
        ("这个号码是我新办的", "wrong_number", True),
        ("打错了", "wrong_number", True),
        ("不认识这个人", "wrong_number", True),
        ("没有这个人", "wrong_number", True),
        ("我不是张伟也不认识", "wrong_number", True),
        ("你打错电话了吧", "wrong_number", True),
        ("您好您拨打的用户暂时无法接听请在提示音后留言", "voicemail", True),
        ("您好您拨打的用户暂时无法接听请在提示音后留言", "unreachable", False),
        ("请在嘀声后留言", "voicemail", True),
        ("已转入语音信箱", "voicemail", True),
        ("您拨打的电话已关机", "unreachable", True),
        ("您拨打的号码是空号", "unreachable", True),
        ("您拨打的电话暂时无法接通请稍后再拨", "unreachable", True),
        ("您拨打的用户已停机", "unreachable", True),
        ("对不起您拨打的用户不在服务区", "unreachable", True),
        ("对不起您拨打的用户不在服务区", "yes", False),
        ("您拨打的号码不存在", "unreachable", True),
        ("我手机关机了没看到短信", "unreachable", False),
        ("骗子", "hostile", True),
        ("滚", "hostile", True),
        ("神经病", "hostile", True),
        ("我要投诉你们", "hostile", False),  # a complaint, not an insult: see complaint
        ("再打我就报警", "complaint", True),
        ("我要投诉你们", "complaint", True),
        ("我有病住院了", "hostile", False),
        ("我被骗了已经报警了", "hostile", False),
        ("我不还", "refuse_to_pay", True),
        ("不会还的", "refuse_to_pay", True),
        ("凭什么还", "refuse_to_pay", True),
        ("没钱也不还", "refuse_to_pay", True),
        ("就是不还", "refuse_to_pay", True),
        ("我不是不想还", "refuse_to_pay", False),
        ("我又不是不还", "refuse_to_pay", False),
        ("如果不还会怎么样", "refuse_to_pay", False),
        ("我也不想还不上啊", "refuse_to_pay", False),
        ("我不会把身份证号告诉陌生电话", "refuse_verify", True),
        ("身份证号不能告诉你", "refuse_verify", True),
        ("凭什么告诉你", "refuse_verify", True),
        ("我怎么知道你们是不是真的", "refuse_verify", True),
        ("你们是不是骗子啊", "refuse_verify", True),
        ("你们是不是骗子啊", "hostile", False),  # caution, not an insult
        ("我自己打官方客服问", "refuse_verify", True),
        ("不告诉你", "refuse_verify", True),
        ("不方便说", "refuse_verify", False),
        ("是我", "refuse_verify", False),
        ("一二三四", "refuse_verify", False),
        ("我被骗了已经报警了", "refuse_verify", False),
        ("你们再打过来我就打电话投诉", "complaint", True),
        ("我要投诉你们的催收员", "complaint", True),
        ("催收态度太差了", "complaint", True),
        ("我不会投诉的", "complaint", False),
        ("我忘了", "complaint", False),
    ],
)
def test_flags(said: str, flag: str, value: bool) -> None:
    assert getattr(understand(said), flag) is value


# Self-harm said without the telling words, one sentence per meaning family of the lexicon;
# each family also has a look-alike that must stay quiet (a false alarm ends the call).
@pytest.mark.parametrize(
    ("said", "self_harm"),
    [
        ("活下去也没啥意义", True),  # life not worth going on with
        ("活着好累啊", True),
        ("我活着就是浪费粮食", True),
        ("不想再睁开眼了", True),
        ("我想离开这个世界", True),
        ("我就是家里的累赘", True),  # a burden
        ("我现在坐在顶楼边上", True),  # somewhere high
        ("我刚吃了一整瓶药", True),  # a way to do it
        ("绳子就在我手边", True),
        ("我要去找我死去的奶奶", True),  # joining the dead
        ("帮我跟我儿子说声再见", True),  # a farewell
        ("以后再也没有我这个人了", True),
        ("我的东西都送人了", True),
        ("该交代的都交代完了", True),
        ("这条命我也不要了", True),
        ("干活干得好累", False),
        ("不要命地加班", False),
        ("我在楼顶晒被子", False),
        ("我吃了药好多了", False),
        ("帮我跟我儿子说一声", False),
    ],
)
def test_self_harm_in_other_words(said: str, self_harm: bool) -> None:
    assert understand(said).self_harm is self_harm


@pytest.mark.parametrize(
    ("said", "question"),
    [
        ("你们是哪里", Q.WHO_ARE_YOU),
        ("你是谁啊", Q.WHO_ARE_YOU),
        ("哪个公司的", Q.WHO_ARE_YOU),
        ("你是机器人吗", Q.IS_ROBOT),
        ("是真人吗", Q.IS_ROBOT),
        ("你是不是人工智能", Q.IS_ROBOT),
        ("怎么还", Q.HOW_TO_PAY),
        ("在哪还款", Q.HOW_TO_PAY),
        ("还款方式是什么", Q.HOW_TO_PAY),
        ("我欠多少", Q.HOW_MUCH),
        ("要还多少钱", Q.HOW_MUCH),
        ("有什么事", Q.WHY_CALL),
        ("打电话干嘛", Q.WHY_CALL),
        ("你说什么", Q.REPEAT),
        ("没听清再说一遍", Q.REPEAT),
        ("什么", Q.REPEAT),
        ("信号不好听不见", Q.REPEAT),
        ("我要还钱你们账号多少", Q.HOW_TO_PAY),
        ("我就是张伟你们哪里", Q.WHO_ARE_YOU),
        ("我能还多少还多少", None),
        ("好的", None),
    ],
)
def test_question(said: str, question: Question | None) -> None:
    assert understand(said).question == question


def test_a_threat_to_complain_inside_a_stop_calling_request_is_no_callback() -> None:
    meaning = understand("别再打了，你们再打过来我就打电话投诉")
    assert meaning.requests == frozenset({Request.STOP_CALLING})
    assert meaning.complaint and meaning.intent is Intent.COMPLAINT
    assert understand("等会儿再打过来").requests == frozenset({Request.CALLBACK_LATER})


@pytest.mark.parametrize(
    ("said", "words"),
    [
        ("嗯", False),
        ("嗯嗯那个", False),
        ("是的是的", False),
        ("没有", False),
        ("逾期了会多收钱吗", False),  # a question back, not an answer
        ("孩子上学花钱多", True),
        ("对，就是家里事情多", True),
        ("说来话长", True),
    ],
)
def test_says_something(said: str, words: bool) -> None:
    assert says_something(said) is words


def test_every_reading_names_its_reader() -> None:
    rules = understand("孩子上学花钱多")
    assert rules.reader == "rules"
    assert merge(rules, LLMReading()).reader == "rules"  # the LLM added nothing
    llm = merge(rules, LLMReading(reason=ReasonCategory.INCOME_DROP))
    assert (llm.reason, llm.reader) == (ReasonCategory.INCOME_DROP, "llm")
    assert merge(rules, LLMReading(off_script_question=True)).reader == "llm"


def test_several_meanings_in_one_breath() -> None:
    meaning = understand("不是我借的你们是不是搞错了我要投诉")
    assert meaning.no and not meaning.yes
    assert meaning.reason is R.DISPUTE
    assert meaning.intent is Intent.COMPLAINT
    assert meaning.complaint and not meaning.hostile  # a complaint, not an insult

    meaning = understand("是他老婆他出去了你找他什么事")
    assert meaning.third_party and not meaning.yes
    assert meaning.question is Q.WHY_CALL

    meaning = understand("再打我就报警")
    assert Request.STOP_CALLING in meaning.requests
    assert meaning.sentiment is Sentiment.ANGRY


@pytest.mark.parametrize(
    ("asr", "field", "value"),
    [
        ("我還欠多少錢？", "question", Q.HOW_MUCH),
        ("我還欠多少錢？", "intent", Intent.BALANCE_INQUIRY),
        ("對，是我。", "yes", True),
        ("我失業了，沒錢還", "reason", R.JOB_LOSS),
        ("能不能分３期？", "requests", frozenset({Request.INSTALLMENT})),
        ("您撥打的電話已關機", "unreachable", True),
        ("別再打電話了！", "requests", frozenset({Request.STOP_CALLING})),
        ("轉人工", "requests", frozenset({Request.HUMAN_AGENT})),
        ("我不想活了……", "self_harm", True),
        ("是的，我就是張偉", "yes", True),
        ("我上週已經還了", "reason", R.ALREADY_PAID),
        ("OK， 好的", "yes", True),
    ],
)
def test_raw_asr_text_is_normalised_first(asr: str, field: str, value: object) -> None:
    assert getattr(understand(asr), field) == value
    assert understand(asr) == understand(normalize(asr))


def test_meaning_keeps_the_normalised_text_and_is_frozen() -> None:
    meaning = understand("對， 是我 ")
    assert meaning.text == "对是我"
    assert meaning == Meaning(text="对是我", yes=True, reader="rules")
    with pytest.raises(dataclasses.FrozenInstanceError):
        meaning.yes = False  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "goodbye"),
    [
        ("好的我知道了，再见", True),
        ("拜拜", True),
        ("那先这样吧", True),
        ("再见面再说", False),
        ("好的", False),
    ],
)
def test_goodbye(text: str, goodbye: bool) -> None:
    assert understand(text).goodbye is goodbye
