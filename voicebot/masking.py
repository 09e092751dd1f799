"""Masking personal data wherever a person or a log sees it (the summary, logs, pages).

`mask_text` finds ID numbers, bank cards and mobile numbers in free text however they were
written or transcribed: ASCII, full-width or Chinese-numeral digits (幺 for 1, 〇/零/洞 for
0), with spaces or dashes between any two digits, mobiles with a +86 or 0086 prefix. A
number never starts or ends next to another digit, and the longest form is tried first, so
a bank card is never half-masked as a phone number. Masked numbers are written in ASCII
digits with their separators dropped.
"""

import logging
import re

# Each digit in all the forms it is written or transcribed in: ASCII, full-width, Chinese.
_FORMS = {
    "0": "0０〇零洞",
    "1": "1１一幺",
    "2": "2２二",
    "3": "3３三",
    "4": "4４四",
    "5": "5５五",
    "6": "6６六",
    "7": "7７七",
    "8": "8８八",
    "9": "9９九",
}
_X = "XxＸｘ"  # the check character that may end an 18-character ID number
_TO_ASCII = str.maketrans(
    {c: d for d, forms in _FORMS.items() for c in forms} | dict.fromkeys(_X, "X")
)
_DIGIT = "[" + "".join(_FORMS.values()) + "]"
# What may stand between two digits: white space (U+00A0 and U+3000 included) and dashes.
_SEP = r"[\s\-\u2010-\u2015\u2212\uff0d]{0,3}"


def _one_of(digits: str) -> str:
    """A character class: any of these ASCII digits, in any written form."""
    return "[" + "".join(_FORMS[d] for d in digits) + "]"


def _digits(n: int) -> str:
    """Exactly `n` digits, separators allowed between them."""
    return rf"{_DIGIT}(?:{_SEP}{_DIGIT}){{{n - 1}}}"


_MOBILE = rf"{_one_of('1')}{_SEP}{_one_of('3456789')}{_SEP}{_digits(9)}"
_COUNTRY = rf"(?:[+＋]{_SEP})?{_one_of('8')}{_SEP}{_one_of('6')}{_SEP}"  # +86, 86
# One alternation, longest form first; the leftmost number is masked whole.
_PERSONAL_NUMBER = re.compile(
    rf"(?<!{_DIGIT})(?:"
    # an ID number (15 digits, or 18 with a final X) or a bank card (16 to 19 digits)
    rf"(?P<card_or_id>{_DIGIT}(?:{_SEP}{_DIGIT}){{14,18}}(?:{_SEP}[{_X}](?![A-Za-z]))?)"
    # a mobile number with its country prefix: +86 139 9999 0001, 86 13999990001
    # (0086 and a mobile are 15 digits: masked above like an old ID number, last four kept)
    rf"|(?P<prefixed>{_COUNTRY}{_MOBILE})"
    # a mobile number: 1, then 3 to 9, then nine digits
    rf"|(?P<mobile>{_MOBILE})"
    rf")(?!{_DIGIT})"
)
_NOT_DIGIT = re.compile(rf"[^{''.join(_FORMS.values())}{_X}]")


def mask_phone(phone: str) -> str:
    """138****8000: the first three and last four digits."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_id(id_number: str) -> str:
    """Only the last four characters of an ID number or bank card."""
    return "*" * max(len(id_number) - 4, 0) + id_number[-4:]


def mask_text(text: str) -> str:
    """Mask ID numbers, bank cards and mobile numbers inside free text."""
    return _PERSONAL_NUMBER.sub(_mask_number, text)


def _mask_number(found: re.Match[str]) -> str:
    number = _NOT_DIGIT.sub("", found.group()).translate(_TO_ASCII)  # ASCII digits only
    if found.lastgroup == "card_or_id":
        return mask_id(number)
    return ("+86 " if found.lastgroup == "prefixed" else "") + mask_phone(number[-11:])


class MaskingFilter(logging.Filter):
    """A handler filter that masks personal data in each record's final message.

    Installed on handlers rather than loggers: a logger's filters do not see the records
    that its children propagate to it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True
