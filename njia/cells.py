"""Cell safety for every CSV and XLSX Njia writes, and masking of contact details in echoed values."""

from __future__ import annotations

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# A spreadsheet that opens a CSV with another list separator (`;` in much of Europe, `|` or tab by choice)
# splits a cell at it, and each piece can then start a formula: `KQ;=cmd|' /C calc'!A0`.
_SEPARATORS = re.compile(r"[;,|\t\r\n]")
_LEADING_SPACE = re.compile(r"^[\s\u00a0\u3000]+")

# Every scan below is linear in the text: a run of number characters is found by one greedy class (no
# nested repetition to backtrack over), and an e-mail address is grown outwards from each `@` by a bounded
# number of characters. Text past MAX_MASKED characters is cut before it is scanned.
MAX_MASKED = 2_000
_NUMBER_RUN = re.compile(r"\+?\(?\d[\d .()\-]*")
_DATE = re.compile(
    r"(?<!\d)\d{4}-\d{2}(?:-\d{2})?(?!\d)|\s\("
)  # a period or a date (`2027-01`), or ` (`: a new number starts
_PHONE_DIGITS = 9  # a Kenyan number without its 0 (722 345 678); periods and counts have fewer
_LOCAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_MAX_LOCAL, _MAX_DOMAIN = 64, 255


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
        out.append(_escape(value[start : match.start()]))
        out.append(match.group(0))
        start = match.end()
    out.append(_escape(value[start:]))
    text = "".join(out)
    return text if text.startswith("'") else "'" + text


def _starts_formula(piece: str) -> bool:
    return _LEADING_SPACE.sub("", piece).startswith(_FORMULA_START)


def _escape(piece: str) -> str:
    return "'" + piece if _starts_formula(piece) else piece


def _emails(text: str) -> list[tuple[int, int]]:
    """(start, end) of what looks like an e-mail address: local part, `@`, a domain with a dot."""
    spans: list[tuple[int, int]] = []
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and at - start < _MAX_LOCAL and text[start - 1] in _LOCAL:
            start -= 1
        end = at + 1
        while end < len(text) and end - at <= _MAX_DOMAIN and text[end] in _DOMAIN:
            end += 1
        domain = text[at + 1 : end].rstrip(".-")
        if start < at and "." in domain.strip("."):
            spans.append((start, at + 1 + len(domain)))
            at = text.find("@", at + 1 + len(domain))
        else:
            at = text.find("@", at + 1)
    return spans


def _phones(text: str) -> list[tuple[int, int]]:
    """(start, end) of runs of digits and phone separators holding at least nine digits; a date or
    period inside a run (`2027-01 2027-02`) splits it and is never part of a phone number."""
    spans: list[tuple[int, int]] = []
    for run in _NUMBER_RUN.finditer(text):
        start = run.start()
        pieces = [(d.start(), d.end()) for d in _DATE.finditer(run.group(0))] + [(len(run.group(0)),) * 2]
        cursor = 0
        for date_start, date_end in pieces:
            part = run.group(0)[cursor:date_start]
            stripped = part.rstrip(" .()-")
            if sum(ch.isdigit() for ch in stripped) >= _PHONE_DIGITS:
                lead = len(part) - len(part.lstrip(" .-)"))
                spans.append((start + cursor + lead, start + cursor + len(stripped)))
            cursor = date_end
    return spans


def _bounded(value: str) -> str:
    return value if len(value) <= MAX_MASKED else value[:MAX_MASKED] + "…"


def mask_contacts(value: str | None) -> str | None:
    """Hide what looks like an e-mail address or a phone number, keeping the shape readable; periods
    (`2027-01`, `2027-Q1`) and counts (`1,200`) are left as they are. Long text is cut to MAX_MASKED."""
    if not value:
        return value
    value = _bounded(value)
    out, cursor = [], 0
    for start, end in _emails(value):
        out += [value[cursor:start], "***@***"]
        cursor = end
    value = "".join([*out, value[cursor:]])
    out, cursor = [], 0
    for start, end in _phones(value):
        found = value[start:end]
        out += [value[cursor:start], found[:2] + "*" * max(len(found) - 4, 3) + found[-2:]]
        cursor = end
    return "".join([*out, value[cursor:]])


def looks_like_contact(value: str | None) -> bool:
    if not value:
        return False
    value = _bounded(value)
    return bool(_emails(value)) or bool(_phones(value))
