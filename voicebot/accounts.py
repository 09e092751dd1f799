"""The overdue account on file, validated the same way for scenarios and CSV imports."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
# Sanity bounds: a larger figure in a file is a typo or a unit mix-up, not a debt to call about.
MAX_OVERDUE_AMOUNT = Decimal("10000000")  # yuan
MAX_OVERDUE_DAYS = 3650  # ten years
ACCOUNT_FIELDS = (
    "account_id",
    "name",
    "gender",
    "phone",
    "id_number",
    "product",
    "overdue_amount",
    "overdue_days",
    "due_date",
    "timezone",
)
_COMPOUND_SURNAMES = frozenset(
    {
        *("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟"),
        *("长孙", "宇文", "司徒", "夏侯", "公孙", "轩辕", "端木", "独孤", "南宫"),
    }
)


class InvalidField(ValueError):
    """One field of an account (or scenario) is missing or malformed."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    gender: str  # "M" or "F"
    phone: str  # digits only, without +86
    id_number: str
    product: str
    overdue_amount: Decimal
    overdue_days: int
    due_date: date
    timezone: str = DEFAULT_TIMEZONE

    @property
    def surname(self) -> str:
        return self.name[:2] if self.name[:2] in _COMPOUND_SURNAMES else self.name[:1]

    @property
    def honorific(self) -> str:
        """How the bot addresses the borrower: 张先生 / 李女士."""
        return self.surname + ("先生" if self.gender == "M" else "女士")

    @property
    def id_last4(self) -> str:
        return self.id_number[-4:].upper()

    @property
    def pronoun(self) -> str:
        return "他" if self.gender == "M" else "她"


def parse_account(raw: Mapping[str, Any]) -> Account:
    """Validate one account's fields; raises InvalidField naming the first bad field."""
    return Account(
        account_id=_text(raw, "account_id"),
        name=_text(raw, "name"),
        gender=_choice(raw, "gender", ("M", "F")),
        phone=normalize_phone(_text(raw, "phone"), "phone"),
        id_number=_id_number(raw),
        product=_text(raw, "product"),
        overdue_amount=_amount(raw),
        overdue_days=_days(raw),
        due_date=_date(raw, "due_date"),
        timezone=_timezone(raw),
    )


def normalize_phone(value: str, field: str = "phone") -> str:
    """ASCII digits only, with a +86/0086 country prefix removed.

    `\\d` would also take full-width and Arabic-Indic digits, which no dialer can use.
    """
    digits = re.sub(r"[\s\-()]", "", value)
    digits = re.sub(r"^(\+86|0086)", "", digits)
    if not re.fullmatch(r"[0-9]{7,15}", digits):
        raise InvalidField(field, f"not a phone number: {shown(value)}")
    return digits


def shown(value: object) -> str:
    """`value` quoted for an error message, cut short: a bad field can be megabytes."""
    text = repr(str(value))
    return text if len(text) <= 42 else text[:40] + "…'"


def _text(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if value is None or str(value).strip() == "":
        raise InvalidField(field, "missing")
    if isinstance(value, dict | list):
        raise InvalidField(field, "expected a single value, not a list or mapping")
    return str(value).strip()


def _choice(raw: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> str:
    value = _text(raw, field).upper()
    if value not in allowed:
        raise InvalidField(field, f"must be one of {', '.join(allowed)}, got {shown(raw[field])}")
    return value


def _id_number(raw: Mapping[str, Any]) -> str:
    value = _text(raw, "id_number").upper()
    if not re.fullmatch(r"[0-9]{17}[0-9X]|[0-9]{15}", value):
        raise InvalidField("id_number", "must be an 18-character or 15-digit ID number")
    return value


def _amount(raw: Mapping[str, Any]) -> Decimal:
    text = _text(raw, "overdue_amount").replace(",", "")
    # ASCII digits only: Decimal() alone would take "1e30", "nan" and full-width "３２５０".
    if (
        not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", text)
        or not 0 < Decimal(text) <= MAX_OVERDUE_AMOUNT
    ):
        raise InvalidField(
            "overdue_amount",
            f"must be yuan, more than 0 and at most {MAX_OVERDUE_AMOUNT:,}"
            f" with at most 2 decimals, got {shown(text)}",
        )
    return Decimal(text).quantize(Decimal("0.01"))


def _days(raw: Mapping[str, Any]) -> int:
    text = _text(raw, "overdue_days")
    # Compared as a Decimal: int() refuses strings of more than 4,300 digits.
    if not re.fullmatch(r"[0-9]+", text) or Decimal(text) > MAX_OVERDUE_DAYS:
        raise InvalidField(
            "overdue_days",
            f"must be a whole number of days, 0 to {MAX_OVERDUE_DAYS}, got {shown(text)}",
        )
    return int(text)


def _date(raw: Mapping[str, Any], field: str) -> date:
    value = raw.get(field)
    if isinstance(value, date):
        return value
    text = _text(raw, field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidField(field, f"must be a date YYYY-MM-DD, got {shown(text)}") from None


def _timezone(raw: Mapping[str, Any]) -> str:
    name = str(raw.get("timezone") or DEFAULT_TIMEZONE).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidField("timezone", f"unknown time zone {shown(name)}") from None
    return name
