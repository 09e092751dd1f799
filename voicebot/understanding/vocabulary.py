"""The vocabulary of meaning.py: keyword lexicons, their look-alike guards and negation.

Every list is module-level data so a reviewer can read and extend it without touching the
logic. A vocabulary string holds regular-expression fragments separated by spaces; most
fragments are plain words.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from voicebot.understanding.categories import Question, ReasonCategory, Request

# --- Negation -------------------------------------------------------------------------------

# A word right before a keyword that cancels it: "不用转人工", "没忘记", "我不是不想还".
NEGATORS: tuple[str, ...] = (
    "不用", "不要", "不需要", "不想", "不必", "没必要", "用不着", "不会", "不是", "没说",
    "没有", "没", "别", "不",
)  # fmt: skip
# "要不分期吧" suggests rather than negates.
NOT_NEGATING: tuple[str, ...] = ("要不",)
# Words allowed between a negator and its keyword: "不用给我转人工".
_BRIDGE = re.compile(r"(给我|帮我|给|帮|再|去|来|转|接|找|我|你们|你)+$")
# A-not-A questions ("是不是", "有没有") contain a negation that negates nothing; they are
# masked before most matching so "有没有逾期" is not read as "没有逾期".
A_NOT_A = (
    "是不是 对不对 行不行 可不可以 好不好 要不要 能不能 会不会 有没有 用不用 想不想 需不需要 "
    "还不还 该不该"
)


# Closing words: the call should end politely rather than ask again.
GOODBYE = re.compile(r"再见(?!面)|拜拜|先这样|就这样吧|挂了|没别的事")


def _negated(text: str, start: int) -> bool:
    prefix = _BRIDGE.sub("", text[max(0, start - 6) : start])
    if prefix.endswith(NOT_NEGATING):
        return False
    return prefix.endswith(NEGATORS)


def _alternation(fragments: str) -> str:
    return "|".join(f"(?:{fragment})" for fragment in fragments.split())


@dataclass(frozen=True)
class Lexicon:
    """Keyword patterns for one meaning and the look-alike phrases masked out before matching."""

    pattern: re.Pattern[str]
    guard: re.Pattern[str] | None
    negatable: bool

    def found(self, text: str) -> bool:
        if self.guard is not None:
            text = self.guard.sub("|", text)
        return any(
            not (self.negatable and _negated(text, match.start()))
            for match in self.pattern.finditer(text)
        )


def _lexicon(patterns: str, guards: str = "", *, negatable: bool = True) -> Lexicon:
    """Negatable lexicons also mask A-not-A questions; plain ones (announcements, insults,
    self-harm) match their words wherever they occur."""
    all_guards = f"{guards} {A_NOT_A}" if negatable else guards
    guard = re.compile(_alternation(all_guards), re.IGNORECASE) if all_guards.strip() else None
    return Lexicon(re.compile(_alternation(patterns), re.IGNORECASE), guard, negatable)


def _plain(patterns: str, guards: str = "") -> Lexicon:
    return _lexicon(patterns, guards, negatable=False)


# --- Vocabulary -----------------------------------------------------------------------------

_PAST = (
    "已经|早就|早都|早|刚刚|刚才|刚|昨天|前天|上周|上星期|上个星期|上个月|前几天|前两天|今天|"
    "早上|上午|中午"
)
_NUMBER = "[0-9一二两三四五六七八九十几]+"

# Checked in this order; the first that matches is the reason.
REASONS: Mapping[ReasonCategory, Lexicon] = MappingProxyType(
    {
        ReasonCategory.ALREADY_PAID: _lexicon(
            f"({_PAST})(就|都|已经)?(还|转账|转|付|交|缴|存|打款)(了|过|完|清|款了|进去|过去|的) "
            "(已经|刚刚|刚才|昨天|前天|上周)[^不没]{0,8}?(还|转账|转|付|交|缴)(了|过|清) "
            "(?<![没未])(还|付|交|缴)(过|清|完)了 已还 已经还 已经结清 结清了 扣过了 已经扣了 "
            "扣款成功 打过去了 转过去了 我(都)?还了(?=啊|呀|的|嘛|$|钱|款)",
            negatable=False,  # "不是已经还了吗" still says it was paid
        ),
        ReasonCategory.DISPUTE: _lexicon(
            "金额不对 数目不对 数字不对 钱数不对 数不对 账不对 账单不对 对不上 利息不对 利息算错 "
            "没借过 没有借过 没借 没有借 不是我借 不是我的 没欠 没有欠 不欠 没有逾期 没逾期 "
            "不可能逾期 怎么会逾期 怎么会欠 算错 搞错 弄错 多算 多扣 乱收费 乱扣 被盗用 被冒用 "
            "冒用 盗用 不是我办 没办过 没有办过 没申请过 没有申请过",
            "不是我的(错|问题|号|手机|电话)",
        ),
        ReasonCategory.REFUSE: _lexicon(
            "不想还 不还 不会还 不打算还 不愿意还 没打算还 不可能还 没义务还 就是不还 "
            "凭什么(要|让)?我?还 凭什么$ 一分(钱)?都不 爱咋咋地 随便你们 有本事",
            "(如果|要是|万一|假如|若)我?(一直)?不(想)?还 不还(的话|会|有什么|怎么|了会) "
            "不(想|会|是)还不(上|起|了) 不还不行",
        ),
        ReasonCategory.ILLNESS: _lexicon(
            "生病 病了 得病 有病在身 住院 手术 开刀 看病 治病 医院 医药费 癌 化疗 放疗 骨折 "
            "车祸 受伤 伤了 身体不好 身体不舒服 不舒服 病倒 重病 大病 抢救 ICU 怀孕 生孩子 坐月子",
            "毛病",
        ),
        ReasonCategory.JOB_LOSS: _lexicon(
            "失业 被裁 裁员 裁了 丢了工作 工作丢了 丢工作 没工作 没有工作 工作没了 没了工作 "
            "倒闭 被辞退 辞退 被开除 开除 辞职 离职 下岗 待业 找工作 没活干 没上班 不上班了 停工 "
            "停产"
        ),
        ReasonCategory.INCOME_DROP: _lexicon(
            "收入少 收入降 收入减少 收入不稳定 没收入 没有收入 工资降 降薪 减薪 降工资 工资少 "
            "工资低 工资没发 没发工资 工资还没发 工资发不出 拖欠工资 欠薪 生意不好 生意难做 生意亏 "
            "生意不行 亏了 亏本 亏钱 赔了 赔钱 手头.{0,2}紧 手头不宽裕 手(头|上)没钱 没有?钱 "
            "钱不够 不够钱 拿不出 周转不开 周转不过来 周转困难 资金周转 资金紧张 经济困难 经济压力 "
            "困难 还不起 还不上 还不了 压力大 负债"
        ),
        ReasonCategory.FORGOT: _lexicon(
            "忘了 忘记 搞忘 忙忘 给忘 没注意 没留意 没在意 疏忽 不知道逾期 不知道已经逾期 "
            "不知道到期 以为还没到期 以为没到期 以为是下个月 以为下个月 记错 不记得 "
            "没(看到|收到|看)(短信|通知|提醒)",
            "别忘 不要忘 忘不了 忘掉",
        ),
        ReasonCategory.OTHER: _lexicon(
            "出差 在外地 在国外 出国 回老家 在老家 "
            "卡(出|有)?了?(问题|冻结|被冻结|丢了|坏了|注销|过期|挂失|被锁|锁了|换了) 换卡 换了卡 "
            "扣款失败 扣不了 没扣 没有扣 扣不上 余额不足 还款失败 还不进去 转不进去 付不了 打不开 "
            "登不上 登录不了 登不进去 系统(问题|故障|出错) 手机丢 手机坏 换了手机 换手机 家里有事 "
            "家里出事 出事了 去世 过世 被骗 离婚 学费 疫情"
        ),
    }
)

REQUESTS: Mapping[Request, Lexicon] = MappingProxyType(
    {
        Request.INSTALLMENT: _lexicon(
            f"分期 分{_NUMBER}(个月|期|次|年) 分批 分次 分开还 分几次 分几个月 "
            f"(拆|分)(成|开|作)?{_NUMBER}?(个月|期|次|份|笔) "
            "(每个?月|一个月)还一(点|部分)"
        ),
        Request.EXTENSION: _lexicon(
            "延期 延迟 延后 延长 宽限 推迟 推后 晚(几|两)天 晚(一)?点还 晚些还 缓一缓 缓缓 "
            "缓几天 缓一段 缓一下 (多|再)给我?(几天|点时间|一点时间|一段时间) 等几天 再等等 "
            "再等一等 等我几天 通融"
        ),
        Request.FEE_WAIVER: _lexicon(
            "减免 免息 免除 免掉 减掉 罚息.{0,6}(免|减|少|去掉|不要) (免|减|少)(一)?点?罚息 滞纳金 "
            "违约金 少还(一)?点 少还些 打个?折 优惠 只还本金 少点 便宜点 利息.{0,4}(免|减|少) "
            "减(一)?点 减少一点"
        ),
        Request.HUMAN_AGENT: _lexicon(
            "人工(?!智能) (找|要|换|跟|和|让|转)个?真人 (跟|和)人说 "
            "(找|叫|让|要|换)(你们)?的?(领导|经理|主管|负责人|上级) (转|找)客服"
        ),
        Request.STOP_CALLING: _lexicon(
            "(别|不要)(再|老|一直)?(给我)?(打|来电|打电话|打过来) 以后(别|不要)(再)?打 "
            "(别|不要)(再)?(联系|骚扰)我? 停止拨打 拉黑 再打.{0,8}(报警|投诉|告) 删掉我的号码"
        ),
        Request.CALLBACK_LATER: _lexicon(
            "在忙 正忙 很忙 忙着 忙呢 有点忙 开会 开车 不方便 在上班 上班呢 没有?空 没有?时间 "
            "(晚点|晚一点|晚些|等会儿?|等一会儿?|等下|待会儿?|过会儿?|一会儿?|稍后|回头|改天|明天"
            "|下午|晚上|过两天|过几天)再?(打|联系|说|聊|来电|给我打) "
            "再打过来 再给我打 回电话 回给你 给你回 回拨 我回你",
            # declines to tell, not a bad time; "再打过来我就投诉" threatens, it does not invite
            "不方便(告诉|透露|说(?!话)) 再(打|给我打)过来(?=.{0,8}(报警|投诉|告))",
        ),
    }
)

# Intents that are not simply a request or a reason; checked in priority order below.
COMPLAINT = _lexicon(
    "投诉 骚扰 过分 举报 暴力催收 催收.{0,4}(太|态度) 态度(太|很)?(差|不好|恶劣) 银保监 "
    "金融监管 12378 315 打爆 通讯录 告你们 起诉你们 报警 曝光 (找|上)媒体 网上.{0,4}(发|说|曝) "
    "消协 消费者协会 12315"
)
REPAYMENT = _lexicon(
    "(想|要|准备|打算|马上|现在|今天|这就|可以)就?还(款|钱|清|上|吧|啊|$) 还款账户 还款账号 "
    "还款方式 怎么还款 怎么还钱 提前还 一次性还 (想|要|提前|一次性)(还|结)清"
)
BALANCE_INQUIRY = _lexicon(
    "欠多少 还欠多少 还多少 剩多少 差多少 一共多少 总共多少 多少钱 账单 查账 查一下 查询 "
    "帮我查 余额 欠款金额 还款金额 要还多少"
)
OTHER_INTENT = _lexicon(
    "咨询 我想问 想问一下 问一下 了解一下 证明 修改 更改 变更 改一下 注销 换绑 解绑 额度"
)

# Checked in this order; the first that matches is the question.
QUESTIONS: Mapping[Question, Lexicon] = MappingProxyType(
    {
        Question.IS_ROBOT: _plain(
            "机器人 是真人 真人吗 真人啊 是人吗 是不是人 人工智能 AI 电脑 自动语音 录音吗 是录音"
        ),
        Question.HOW_TO_PAY: _plain(
            "怎么(才能|去)?还(款|钱|啊|呀|呢|吗|给|$) 怎么(付|支付|转账|缴|交|操作) "
            "(在|去|往)哪(里|儿)?(还|转|打|付|交) 还款方式 还款渠道 还到哪 哪个账户 哪个账号 "
            "什么账户 账(户|号)是?多少 还款账户 还款账号 用什么还 "
            "(支付宝|微信|银行卡).{0,4}吗$"
        ),
        Question.HOW_MUCH: _plain(
            "欠多少 欠了多少 要还多少 还多少 还欠多少 一共多少 总共多少 多少钱 差多少 剩多少 "
            "逾期多少 金额是多少",
            "能还多少就?还多少 还多少算多少 能还多少",
        ),
        Question.WHO_ARE_YOU: _plain(
            "你们?是?哪里 哪里的 哪儿的 你们?是谁 谁啊 哪位 哪个公司 什么公司 哪个平台 什么平台 "
            "哪家 什么机构 哪个单位 你们?是干(什么|嘛)的"
        ),
        Question.WHY_CALL: _plain(
            "什么事 啥事 干嘛 干什么 有事吗 有事儿 找我有事 为(什么|啥)打 怎么又打 什么情况"
        ),
        Question.REPEAT: _plain(
            "你说什么 你说啥 说的什么 没听清 听不清 没听见 听不见 没听到 听不到 没听懂 听不懂 "
            "再说一遍 再说一次 重复一下 再讲一遍 大声点 大声一点 信号不好 ^什么$ ^啥$ "
            "什么意思 啥意思"
        ),
    }
)

# Wanting to die, a way to do it, or a farewell: said outright, as an idiom or in passing.
# A false alarm costs an agent's call; a miss can cost a life.
SELF_HARM = _plain(
    # wanting to die, or not to live
    "不想活 不活了 (不|没)(想|愿意|打算)再?活 "
    "活(着|下去)?(还)?(没|有什么|还有啥|有啥)(意思|意义|盼头|劲) 活够了 活腻 想死 我就?去死 "
    "(只能|只好|还不如|不如|干脆|准备|打算)(去)?死 死(了)?(算了|拉倒|就好|也好|干净|省心) "
    "死了就.{0,6}(不用|解脱|没|清) 一死了之 一了百了 了结(自己|生命|这一切|这条命|了) "
    "结束(自己|生命|这一切|这条命|一切) (想|就|早点|彻底)解脱 自杀 自尽 轻生 寻死 寻短见 "
    "活不下去 不如死了 死给你们?看 消失(算了|掉|了) (彻底|永远)消失 (世界|世上).{0,4}消失 "
    "不在(这个)?世上 "
    # life not worth going on with, said in other words
    "(?<![干做找揽接农])活(着|下去)?[^，。]{0,4}((没|没有|没什么|没啥|有什么|有啥)(意思|意义|盼头|劲|"
    "奔头|用)|太累|好累|太苦|太痛苦) "
    "活着就是(个|一个)?(错误|浪费|多余|累赘|负担) (不配|不该|不想再)活 多余的人 "
    "不想(再)?(睁眼|睁开眼|醒|醒来|醒过来|看到明天) 没有明天了 一睡不起 长眠 永远睡(着|过去|下去) "
    "离开(这个世界|这个世上|人世|人间) 了此残生 一死百了 以死(谢罪|明志|相逼) "
    "(不要|不想要)(了)?(这条|我这条|我的)命 (这条|我的)命(我)?(也|就)?(不要|不想要)了 "
    "去见阎王 寻短 "
    # a burden to the family
    "我(就)?是(个|一个|家里的?|全家的?|大家的?)?(累赘|负担|拖油瓶|包袱) "
    # a way to do it
    "跳(楼|河|江|海|桥|崖|下去) (楼顶|天台|楼上|桥上|河边|江边).{0,8}(跳|下去|站|坐|走) "
    "安眠药 农药 老鼠药 敌敌畏 百草枯 (喝|吃|买|攒|存|备)(了|好)?.{0,4}(药片|一瓶药) 喝药 "
    "上吊 (找|买|准备)(了|好)?(一)?根?绳子 烧炭 割腕 (割|划|拿刀).{0,3}(自己|手腕|胳膊|手) "
    "卧轨 撞车 "
    "(站|坐|爬|蹲|待)(在|到|上)(了)?(楼顶|顶楼|天台|大桥|桥上|桥边|河边|江边|湖边|海边|水库|悬崖|崖边|"
    "铁轨|窗台|窗户外) "
    "吃了(好多|一把|一堆|很多|整瓶|一整瓶|一瓶|半瓶)(的)?药 药(都|我)?(已经)?(准备|买|攒|备)好了 "
    "(刀|绳子|药)(就)?在(我)?(手边|手里|身边|旁边) "
    # a farewell, or a life offered for the debt
    "拖累(家里|家人|孩子|老婆|老公|父母|爸妈|他们|大家|你们) "
    "(没有我|我不在了|我走了|我死了|我没了).{0,10}(更好|就好|轻松|省心|解脱|不用|就没|干净) "
    "下辈子(再)?还 (人|我)(都)?没了.{0,6}(债|钱|还) (命|这条命)(赔|抵|还|给)(给)?你们 "
    "拿命(还|抵|赔) 遗书 交代后事 后事 到那边(去)? 去(那边)?(找|陪)我(爸|妈|爷爷|奶奶|爸爸|妈妈) "
    "(睡|睡过去|睡着)(了)?(就)?(再也)?(不|别)(要)?醒 永远(不|别)(用|再)?醒 "
    "(找|陪|见|跟)(我)?(那)?(去世|死去|过世|走了|死了)的 "
    "(替|帮)我(跟|和|向|给|对)[^，。]{0,6}(说|道)(一)?(声|个|句)?(对不起|再见|抱歉|永别) "
    "(最后一次)(接|跟你们|打|说) (以后|再)(就)?(再也)?(没有|没|不会有|找不到)我(这个人)? "
    "东西都(分|送)(给|人|掉|出去) 该交代的都交代 "
)
DISTRESSED = _plain(
    "崩溃 没法活 怎么活 哭 绝望 走投无路 撑不下去 熬不下去 没(有)?活路 死路一条 逼死 "
    "喘不过气 扛不住 天塌 没(有)?希望 太难了 好难"
)
HOSTILE = _plain(
    "骗子 诈骗 滚 神经病 有病吧 有病啊 你们?有病 脑子有病 有毛病 傻逼 傻B 傻X SB 煞笔 "
    "王八蛋 混蛋 畜生 垃圾 去死 死全家 操你 你妈(?!妈) 他妈的 (?<!妈)妈的 草泥马 尼玛 "
    "弄死你 找人弄你 打死你 走着瞧 等着瞧",
    # asking whether the call is a scam is caution, not an insult (see REFUSE_VERIFY)
    "(是不是|会不会|不会是|别是|怕是|怕|像是?|以为是|当成)(什么)?(骗子|诈骗) 防诈骗 反诈骗",
)
ANGRY = _plain(
    "烦死 烦不烦 好烦 很烦 真烦 别烦我 有完没完 受够了 够了够了 闭嘴 气死 讨厌 天天打 "
    "一直打 老打 打个不停 又打 又是你们 什么玩意 搞什么 无语 吵死 我靠"
)
ANXIOUS = _lexicon(
    "着急 急死 好急 很急 怎么办 担心 征信 影响 慌 害怕 好怕 我怕 紧张 起诉 坐牢 被告 上门 "
    "失信 压力(好|很|太)?大 黑名单 求求 求你 拜托 担忧 焦虑 睡不着"
)

_RELATIVE = (
    "老婆|老公|爱人|媳妇|妻子|丈夫|对象|男朋友|女朋友|爸爸|妈妈|爸|妈|父亲|母亲|儿子|女儿|哥哥|"
    "姐姐|弟弟|妹妹|哥|姐|弟|妹|家人|家属|亲戚|同事|朋友|室友|舍友|邻居|领导|老板|员工|秘书|"
    "岳父|岳母|公公|婆婆|叔叔|阿姨|舅舅|姑姑|奶奶|爷爷"
)
THIRD_PARTY = _plain(
    f"是(他|她)的?({_RELATIVE}) (他|她)是我的?({_RELATIVE}) 是我({_RELATIVE})的(手机|电话|号) "
    f"是我的?({_RELATIVE})[啊呀的]?$ "
    "(他|她)(现在|今天|刚好|刚刚|人)?(不在|出去了|出门了|出去|在上班|上班去了|在外面|睡了|"
    "在睡觉|不方便|没空|在忙|在洗澡|在开车) (找|问)(他|她)有?(什么|啥|干嘛|干什么) "
    "(他|她)的?(手机|电话)(在我|放我|落) (帮|替)(他|她)(接|转告|还|说) 转告"
)
WRONG_NUMBER = _plain(
    "打错 号码错了 不认识 没(有)?这个人 查无此人 找错人 找错了 我不叫 不是这个人 新办的号 "
    "(号|号码|手机号|电话)是?我?新办的 "
    "新号码 刚换的号"
)
VOICEMAIL = _plain("留言 语音信箱 提示音 嘀声 滴声 哔声 嘟声后 留下您的")
UNREACHABLE = _plain(
    "已关机 已停机 停机 空号 无法接通 不在服务区 号码不存在 不存在的号码 号码有误 暂停服务 呼叫受限"
)

# Declining to prove identity to an unknown caller, often for fear of fraud: the bot offers
# the official hotline instead of asking again. Plain: the negation is the meaning.
REFUSE_VERIFY = _plain(
    "不(会|能|想|要|愿意|可能|方便|敢)?(随便)?(把|给|跟|和|向|对)(你们?|陌生人?)?(说|讲)?(我的)?"
    "(身份证|证件|个人信息|信息|后四位|隐私) "
    "(身份证|证件|个人信息|后四位|隐私)(号|号码)?(的事)?(我)?(不|没法|不能|不会|不可以|不便|凭什么)"
    "(告诉|给|说|透露|提供) "
    "(告诉|给|透露)(你们?)?(一个)?陌生 陌生(电话|人|号码|来电).{0,6}(不说|不告诉|不给|不透露) "
    "不(想|会|能|愿意)?告诉(你|陌生) (凭什么|为什么|为啥|干嘛|干什么)(要)?(告诉|给|跟)你 "
    # "凭什么把身份证号告诉你": the words between the question and the verb vary
    "(凭什么|为什么|为啥|干嘛|干什么)(要)?(把|给)?.{0,8}(告诉|给|报给|说给)(你|你们) "
    "不(随便)?透露 不便透露 "
    "怎么(知道|证明|确定)你们?(是|不是|真) (是不是|是|怕是|像是?|别是|不会是|肯定是)(骗子|诈骗) "
    "骗子吧 诈骗(电话|的吧|吧) 骗人的吧 防诈骗 "
    "我(自己)?(去|会)?(打|拨)(你们的?)?(官方|客服|热线)"
)

# Words that carry nothing of their own: hums, fillers and a bare yes or no. An answer made
# only of these is asked again rather than recorded as the borrower's reason.
FILLER = re.compile(
    r"^(喂|啊|哦|噢|呃|额|唉|哎|诶|欸|嗯|恩|那个|这个|就是|然后|呀|吧|呢|嘛|哈|呵|"
    r"是的|是啊|是|对的|对啊|对|好的|好|行|嗯嗯|没有|没|不是|不对|不|这|那)*$"
)
# An utterance that ends as a question asks rather than answers.
ASKS_BACK = re.compile(r"(吗|么|嘛)$")

# Yes and no. Negation wins: a no anywhere cancels a yes ("不是的", "不对").
NO_ANYWHERE = _plain(
    "不是 不对 不行 不可以 不可能 错了 不认识 不用了 不需要 不必了 不告诉 "
    "^(没有|还没有?|没呢|没啊|没$|否)(?![钱时空问错关]) ^不(?=$|[不是对行用要了会])",
    f"不是不 不是说 不是已经 不是刚 不好意思 没错 没问题 没关系 不客气 不错 {A_NOT_A}",
)
