"""Cell safety for every CSV and XLSX Njia writes, and masking of contact details in echoed values."""

from __future__ import annotations

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits, allowing spaces, dots, dashes, brackets and a leading +, as phone numbers are written.
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP advice).

    Numbers are left alone so that negative numbers stay numbers.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def mask_contacts(value: str | None) -> str | None:
    """Hide what looks like an e-mail address or a phone number, keeping the shape readable."""
    if not value:
        return value
    value = _EMAIL.sub("***@***", value)
    return _PHONE.sub(lambda m: m.group(0)[:2] + "*" * max(len(m.group(0)) - 4, 3) + m.group(0)[-2:], value)


def looks_like_contact(value: str | None) -> bool:
    return bool(value) and (bool(_EMAIL.search(value)) or bool(_PHONE.search(value)))
