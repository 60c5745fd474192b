"""Cell safety for every CSV and XLSX Njia writes, and masking of contact details in echoed values."""

from __future__ import annotations

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# A spreadsheet that opens a CSV with another list separator (`;` in much of Europe, `|` or tab by choice)
# splits a cell at it, and each piece can then start a formula: `KQ;=cmd|' /C calc'!A0`.
_SEPARATORS = re.compile(r"[;,|\t\r\n]")
_LEADING_SPACE = re.compile(r"^[\s\u00a0\u3000]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits, allowing spaces, dots, dashes, brackets and a leading +, as phone numbers are written.
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")


def neutralise(value: object) -> object:
    """Text that a spreadsheet could run as a formula gets a leading apostrophe (OWASP advice).

    It could when it, or any piece of it between list separators of any locale (`,` `;` `|` tab or a line
    end), starts with `=` `+` `-` `@` once leading spaces are skipped (spreadsheets skip them too). The
    apostrophe makes the whole cell text for a spreadsheet that reads it as one cell; a spreadsheet that
    splits it on its own separator still gets a text first piece, and the later pieces are quoted as a whole
    by the CSV writer (it quotes any cell holding `,` `"` or a line end), and where a `;` or `|` is not
    quoted the piece after it is escaped with an apostrophe too. Numbers are left alone so that negative
    numbers stay numbers.
    """
    if not isinstance(value, str) or not value:
        return value
    pieces = _SEPARATORS.split(value)
    if not any(_starts_formula(piece) for piece in pieces) and not value.startswith(_FORMULA_START):
        return value
    out, start = [], 0
    for match in _SEPARATORS.finditer(value):
        out.append(_escape(value[start:match.start()]))
        out.append(match.group(0))
        start = match.end()
    out.append(_escape(value[start:]))
    text = "".join(out)
    return text if text.startswith("'") else "'" + text


def _starts_formula(piece: str) -> bool:
    return _LEADING_SPACE.sub("", piece).startswith(_FORMULA_START)


def _escape(piece: str) -> str:
    return "'" + piece if _starts_formula(piece) else piece


def mask_contacts(value: str | None) -> str | None:
    """Hide what looks like an e-mail address or a phone number, keeping the shape readable."""
    if not value:
        return value
    value = _EMAIL.sub("***@***", value)
    return _PHONE.sub(lambda m: m.group(0)[:2] + "*" * max(len(m.group(0)) - 4, 3) + m.group(0)[-2:], value)


def looks_like_contact(value: str | None) -> bool:
    return bool(value) and (bool(_EMAIL.search(value)) or bool(_PHONE.search(value)))
