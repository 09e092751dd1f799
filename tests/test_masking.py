"""Personal numbers are masked however they are written or transcribed; ordinary text is not.

The properties generate each written form (random digits, separators, full-width digits,
Chinese numerals, country prefixes) inside random Chinese text without digits, so every
digit left in the output was kept on purpose: exactly the digits the mask may show.
"""

import io
import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicebot.campaigns import commands
from voicebot.masking import MaskingFilter, mask_id, mask_phone, mask_text
from voicebot.review_store import ReviewStore

ASCII = "0123456789"
FULL_WIDTH = "０１２３４５６７８９"
CHINESE = "零一二三四五六七八九"
SPOKEN = {"0": "〇洞", "1": "幺"}  # how a 0 and a 1 are also said or written
SEPARATORS = ["", "", "", "", " ", "-", "\u3000", "\u00a0", " - ", "  ", "－"]
TO_ASCII = str.maketrans(
    {c: str(i) for forms in (FULL_WIDTH, CHINESE) for i, c in enumerate(forms)}
    | {"〇": "0", "洞": "0", "幺": "1", "x": "X", "Ｘ": "X", "ｘ": "X"}
)
# Surrounding text: Chinese, punctuation and spaces, never a digit in any form.
WORDS = st.text(
    alphabet="我的电话是号码身份证银行卡请记下好谢谢您，。：、（）还款元天月日新旧 ", max_size=12
)


def kept_digits(text: str) -> str:
    """The digits (and ID check character) in `text`, in ASCII, without anything else."""
    return "".join(c for c in text.translate(TO_ASCII) if c in ASCII + "X")


@st.composite
def written(draw: st.DrawFn, digits: str) -> str:
    """`digits` as a person or a speech recogniser might write them."""
    style = draw(st.sampled_from(["ascii", "full_width", "chinese", "mixed"]))
    chars = []
    for digit in digits:
        if digit not in ASCII:  # the ID check character X
            chars.append(draw(st.sampled_from("XxＸｘ")))
            continue
        forms = {
            "ascii": digit,
            "full_width": FULL_WIDTH[int(digit)],
            "chinese": CHINESE[int(digit)] + SPOKEN.get(digit, ""),
        }
        forms["mixed"] = "".join(forms.values())
        chars.append(draw(st.sampled_from(forms[style])))
    gaps = st.lists(st.sampled_from(SEPARATORS), min_size=len(chars) - 1, max_size=len(chars) - 1)
    return chars[0] + "".join(gap + c for gap, c in zip(draw(gaps), chars[1:], strict=True))


def digit_strings(size: int, first: str = "123456789") -> st.SearchStrategy[str]:
    rest = st.text(alphabet=ASCII, min_size=size - 1, max_size=size - 1)
    return st.builds(str.__add__, st.sampled_from(first), rest)


MOBILES = st.builds(str.__add__, st.just("1"), digit_strings(10, first="3456789"))
IDS = st.one_of(
    digit_strings(15),
    st.builds(str.__add__, digit_strings(17), st.sampled_from(ASCII + "X")),
)
CARDS = st.integers(16, 19).flatmap(digit_strings)


@given(st.data(), MOBILES, WORDS, WORDS)
def test_a_mobile_keeps_only_its_first_three_and_last_four_digits(
    data: st.DataObject, mobile: str, before: str, after: str
) -> None:
    prefix = data.draw(
        st.sampled_from(["", "+86", "+86 ", "＋８６-", "86 ", "八六", "0086", "00 86 "])
    )
    text = before + prefix + data.draw(written(mobile)) + after
    masked = mask_text(text)
    if "00" in prefix:  # 0086 and a mobile are 15 digits: masked like an old ID number
        assert kept_digits(masked) == mobile[-4:]
    else:
        assert kept_digits(masked) == ("86" if prefix else "") + mobile[:3] + mobile[-4:]
    assert "****" in masked and masked.startswith(before) and masked.endswith(after)


@given(st.data(), st.one_of(IDS, CARDS), WORDS, WORDS)
def test_an_id_number_or_bank_card_keeps_only_its_last_four(
    data: st.DataObject, number: str, before: str, after: str
) -> None:
    masked = mask_text(before + data.draw(written(number)) + after)
    assert kept_digits(masked) == number[-4:]
    assert "*" * (len(number) - 4) in masked


@given(st.lists(st.one_of(MOBILES, IDS, CARDS), min_size=2, max_size=4), st.data())
def test_several_numbers_in_one_text_are_each_masked(
    numbers: list[str], data: st.DataObject
) -> None:
    glue = st.text(alphabet="，。我的还有", min_size=1, max_size=3)
    text = "".join(data.draw(glue) + data.draw(written(n)) for n in numbers)
    shown = kept_digits(mask_text(text))
    assert shown == "".join(n[:3] + n[-4:] if len(n) == 11 else n[-4:] for n in numbers)


def chinese_amount(n: int) -> str:
    """12,345 as 一万二千三百四十五 (as the bot says amounts)."""

    def below_10_000(n: int) -> str:
        said, zero = "", False
        for unit, digit in zip("千百十 ", f"{n:04d}", strict=True):
            if digit == "0":
                zero = bool(said)
            else:
                said += ("零" if zero else "") + CHINESE[int(digit)] + unit.strip()
                zero = False
        return said

    high, low = divmod(n, 10_000)
    if not high:
        return below_10_000(low) or "零"
    return below_10_000(high) + "万" + ("零" if 0 < low < 1000 else "") + below_10_000(low)


ORDINARY = st.one_of(
    st.integers(0, 9_999_999_999).map(str),  # short numbers, ID tails, up to ten digits
    st.integers(1, 99_999_999).map(lambda n: f"{n}元"),
    st.integers(1, 99_999_999).map(lambda n: f"{n / 100:.2f}元"),
    st.integers(1, 99_999_999).map(lambda n: chinese_amount(n) + "元"),
    st.dates().map(lambda d: d.isoformat()),
    st.times().map(lambda t: t.strftime("%H:%M")),
    st.sampled_from(["逾期15天", "三千二百五十元", "十一月二十七日", "后四位幺二三四", "1234"]),
)


@given(st.lists(st.tuples(st.text(alphabet="我的是还款号在，。：", min_size=1), ORDINARY)))
def test_ordinary_text_with_amounts_dates_and_short_numbers_is_unchanged(
    pieces: list[tuple[str, str]],
) -> None:
    text = "".join(words + number for words, number in pieces)
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("+86 139 9999 0001", "+86 139****0001"),
        ("139-9999-0001", "139****0001"),
        ("138 0013 8000", "138****8000"),
        ("+8613999990001", "+86 139****0001"),
        ("008613999990001", "***********0001"),
        ("１３９９９９９０００１", "139****0001"),
        ("一三九九九九九零零零一", "139****0001"),
        ("幺三九 九九九九 洞洞〇幺", "139****0001"),
        ("6222 0212 3456 7890 123", "***************0123"),
        ("110101 19900307 1234", "**************1234"),
        ("3501 0219 9003 0712 34", "**************1234"),
        ("11010119900307123x", "**************123X"),
        ("110101900307123", "***********7123"),
        ("13800138000 13900139000", "138****8000 139****9000"),
        ("sip:+8613800138000@10.0.0.1:5060", "sip:+86 138****8000@10.0.0.1:5060"),
    ],
)
def test_the_written_forms_found_in_testing(said: str, shown: str) -> None:
    assert mask_text(f"客户说{said}。") == f"客户说{shown}。"


def test_mask_phone_and_mask_id_keep_their_contracts() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("1234") == "****"
    assert mask_id("110101199003071234") == "**************1234"


def test_log_records_are_masked_by_the_filter() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("tests.masking")
    logger.addHandler(handler)
    try:
        logger.warning("caller %s, card %s", "+86 139 9999 0001", "6222-0212-3456-7890")
        try:
            raise ValueError("bad id 110101199003071234")
        except ValueError:
            logger.exception("lookup of %s failed", "一三九九九九九零零零一")
    finally:
        logger.removeHandler(handler)
    logged = out.getvalue()
    assert "caller +86 139****0001, card ************7890" in logged
    assert "lookup of 139****0001 failed" in logged and "**************1234" in logged
    assert "9999" not in logged and "199003" not in logged


def test_the_campaign_log_file_is_masked(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.log"
    commands._log_to(path)
    loggers = [logging.getLogger(name) for name in ("voicebot.sms", "voicebot.campaigns")]
    try:
        loggers[0].info("SMS text: 请回电 139 9999 0001")
    finally:
        for logger in loggers:
            for handler in logger.handlers[:]:
                logger.removeHandler(handler)
                handler.close()
    assert "请回电 139****0001" in path.read_text(encoding="utf-8")


def test_the_audit_log_stores_a_search_term_masked(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    store = ReviewStore(tmp_path / "review.sqlite3")
    try:
        store.audit("alice", "export", datetime.now(UTC), detail="q=110101 19900307 1234")
        (entry,) = store.audit_entries()
    finally:
        store.close()
    assert entry["detail"] == "q=**************1234"
