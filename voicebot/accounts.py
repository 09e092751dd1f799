"""The overdue account on file, validated the same way for scenarios and CSV imports."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"
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
    """Digits only, with a +86/0086 country prefix removed."""
    digits = re.sub(r"[\s\-()]", "", value)
    digits = re.sub(r"^(\+86|0086)", "", digits)
    if not re.fullmatch(r"\d{7,15}", digits):
        raise InvalidField(field, f"not a phone number: {value!r}")
    return digits


def _text(raw: Mapping[str, Any], field: str) -> str:
    value = raw.get(field)
    if value is None or str(value).strip() == "":
        raise InvalidField(field, "missing")
    return str(value).strip()


def _choice(raw: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> str:
    value = _text(raw, field).upper()
    if value not in allowed:
        raise InvalidField(field, f"must be one of {', '.join(allowed)}, got {raw[field]!r}")
    return value


def _id_number(raw: Mapping[str, Any]) -> str:
    value = _text(raw, "id_number").upper()
    if not re.fullmatch(r"\d{17}[\dX]|\d{15}", value):
        raise InvalidField("id_number", "must be an 18-character or 15-digit ID number")
    return value


def _amount(raw: Mapping[str, Any]) -> Decimal:
    text = _text(raw, "overdue_amount").replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidField("overdue_amount", f"not a number: {text!r}") from None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidField("overdue_amount", f"must be a positive amount in yuan, got {text}")
    return amount.quantize(Decimal("0.01"))


def _days(raw: Mapping[str, Any]) -> int:
    text = _text(raw, "overdue_days")
    if not re.fullmatch(r"\d+", text):
        raise InvalidField("overdue_days", f"must be a whole number of days, got {text!r}")
    return int(text)


def _date(raw: Mapping[str, Any], field: str) -> date:
    value = raw.get(field)
    if isinstance(value, date):
        return value
    text = _text(raw, field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidField(field, f"must be a date YYYY-MM-DD, got {text!r}") from None


def _timezone(raw: Mapping[str, Any]) -> str:
    name = str(raw.get("timezone") or DEFAULT_TIMEZONE).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidField("timezone", f"unknown time zone {name!r}") from None
    return name
