"""Masking personal data wherever a person or a log sees it (DOMAIN.md)."""

import re

# Longest first: a bank card or ID number must not be half-masked as a phone number.
_BANK_CARD = re.compile(r"(?<!\d)\d{12,15}(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![\dX])\d{14}(\d{3}[\dX])(?![\dX])", re.IGNORECASE)
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_phone(phone: str) -> str:
    """138****8000: the first three and last four digits."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_id(id_number: str) -> str:
    """Only the last four characters of an ID number or bank card."""
    return "*" * max(len(id_number) - 4, 0) + id_number[-4:]


def mask_text(text: str) -> str:
    """Mask ID numbers, bank cards and mobile numbers inside free text."""
    text = _ID_NUMBER.sub(lambda m: "*" * 14 + m.group(1), text)
    text = _BANK_CARD.sub(lambda m: "*" * (len(m.group(0)) - 4) + m.group(1), text)
    return _MOBILE.sub(r"\1****\2", text)
