"""From a table's cells to normalised rows: header mapping (English and Swahili), the personal-data
guard, and per-row normalisation into the shape the validation suite and COPY expect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from ingest import normalise as n
from ingest.contract import COLUMN_BY_NAME, HEADER_ALIASES, REQUIRED_COLUMNS, normalise_header
from ingest.personal_data import is_personal_header
from njia.cells import mask_contacts


@dataclass
class HeaderMap:
    index: dict[str, int] = field(default_factory=dict)  # canonical column -> cell position
    ignored: list[str] = field(default_factory=list)
    pii: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [c for c in REQUIRED_COLUMNS if c not in self.index]


def map_header(header: list[str]) -> HeaderMap:
    hm = HeaderMap()
    for position, raw in enumerate(header):
        name = normalise_header(raw)
        if not name:
            continue
        if name in HEADER_ALIASES:
            canonical = HEADER_ALIASES[name]
            if canonical in hm.index:
                hm.duplicated.append(raw.strip())
            else:
                hm.index[canonical] = position
        elif is_personal_header(raw):  # the contract's own columns above are never personal data
            hm.pii.append(mask_contacts(raw.strip()))
        else:
            hm.ignored.append(mask_contacts(raw.strip()))  # a header-less file's first row may hold contacts
    return hm


def cells_by_column(cells: list[str], hm: HeaderMap) -> dict[str, str]:
    return {c: (cells[i].strip() if i < len(cells) else "") for c, i in hm.index.items()}


def columns_of(rows: list[list[str]], hm: HeaderMap) -> dict[str, list[str]]:
    """`cells_by_column` for many rows at once: canonical column -> its stripped cells, in row order."""
    width = max(hm.index.values(), default=-1) + 1
    padded = [cells if len(cells) >= width else [*cells, *[""] * (width - len(cells))] for cells in rows]
    columns = list(zip(*padded, strict=False)) if padded else [()] * width
    return {c: _shared(map(str.strip, columns[i])) for c, i in hm.index.items()}


def named_width(header: list[str]) -> int:
    """Cells up to the header's last named column (empty header cells after it name nothing)."""
    return max((i + 1 for i, h in enumerate(header) if h.strip()), default=0)


def misfits(
    numbers: list[int],
    rows: list[list[str]],
    hm: HeaderMap,
    named: int,
    width: int,
    delimiter: str,
    malformed: set[int] = frozenset(),
    other_widths: frozenset[int] = frozenset(),
) -> dict[int, tuple[str, str]]:
    """Rows that do not fit the header, which are never mapped to columns by position: row number ->
    (problem code, the row as written). `named` is the header's named width, `width` the cells a row of the
    file has (usually equal). Rows the reader found with quotes that do not pair up are `malformed_quotes`.
    A row with a value beyond the header, or exactly one cell more than the file's rows, is `extra_cells`
    (the value then also gives, after ` || `, the cells beyond the header); a row exactly one cell short is
    `missing_cells` (what a lost delimiter leaves). A row shorter by more is read with its last cells empty.
    When the first rows disagree on the width (`other_widths`), a row one cell off any of those widths is
    flagged the same way: which of them lost or gained a delimiter cannot be told.
    Costs one len() a row when every row has the file's width."""
    found: dict[int, tuple[str, str]] = {}
    if malformed:
        for number, cells in zip(numbers, rows, strict=True):
            if number in malformed:
                found[number] = ("malformed_quotes", row_text(cells, hm, named, delimiter, quote=False))
    lengths = set(map(len, rows))
    if lengths == {width} and width <= named:
        return found
    for number, cells in zip(numbers, rows, strict=True):
        size = len(cells)
        if number in found or (size == width and size <= named and not other_widths):
            continue
        beyond = [c for c in cells[named:] if c.strip()]
        if beyond or size == width + 1 or size - 1 in other_widths:
            text = row_text(cells, hm, named, delimiter)
            found[number] = ("extra_cells", f"{text} || {_joined(beyond, delimiter)[:_SHOWN_ROW]}" if beyond else text)
        elif size == width - 1 or size + 1 in other_widths:
            found[number] = ("missing_cells", row_text(cells, hm, named, delimiter))
    return found


_SHOWN_CELL = 60
_SHOWN_ROW = 500


def row_text(cells: list[str], hm: HeaderMap, named: int, delimiter: str, *, quote: bool = True) -> str:
    """A row as its line reads (cells quoted where they must be), for feedback: the contract's columns and
    the cells beyond the header, each cut to a readable length; an ignored column's text (free notes) is
    shown as `…`, never echoed. Without `quote`, cells are joined as they are (a line split at every
    delimiter joins back to itself)."""
    mapped = set(hm.index.values())
    shown = [c if i in mapped or i >= named or not c.strip() else "…" for i, c in enumerate(cells)]
    return _joined(shown, delimiter, quote)[:_SHOWN_ROW]


def _joined(cells: list[str], delimiter: str, quote: bool = True) -> str:
    def cell(text: str) -> str:
        text = text if len(text) <= _SHOWN_CELL else text[:_SHOWN_CELL] + "…"
        if quote and (delimiter in text or '"' in text or "\n" in text or "\r" in text):
            return '"' + text.replace('"', '""') + '"'
        return text

    # A tab would not show, and digits between tabs would look like a phone number to the masking.
    return (" ⇥ " if delimiter == "\t" else delimiter).join(map(cell, cells))


def header_like(raw: dict[str, list[str]], position: int, hm: HeaderMap) -> tuple[int, bool]:
    """(how many of a row's mapped cells are contract column names, whether it repeats this file's header:
    every mapped cell names its own column)."""
    names = [_column_named(raw[c][position]) for c in hm.index]
    return sum(n is not None for n in names), all(n == c for n, c in zip(names, hm.index, strict=True))


def _excerpt(text: str | None, keep: int = 40) -> str | None:
    return text if text is None or len(text) <= keep else f"{text[:keep]}..."


def screen_cells(
    numbers: list[int],
    raw: dict[str, list[str]],
    flagged: dict[int, list[tuple[int, str, str | None]]],
    hm: HeaderMap,
    max_chars: int,
) -> dict[int, dict[str, tuple[str, str | None]]]:
    """Row problems found before any normaliser runs: cells longer than `max_chars` (`cell_too_long`) and
    cells the reader flagged (`formula_without_value`; a count in merged cells, `merged_count`). Returns
    row number -> column -> (code, value excerpt); those cells are emptied in `raw`, so no pattern ever
    runs over them and they raise no second problem. Takes the chunk's rows out of `flagged`."""
    found: dict[int, dict[str, tuple[str, str | None]]] = {}
    for column, values in raw.items():
        if values and max(map(len, values)) > max_chars:  # one pass in C; the loop only for a chunk with some
            for i, value in enumerate(values):
                if len(value) > max_chars:
                    found.setdefault(numbers[i], {})[column] = ("cell_too_long", _excerpt(value))
                    values[i] = ""
    if flagged:
        column_at = {i: c for c, i in hm.index.items()}
        for i, number in enumerate(numbers):
            for position, code, value in flagged.pop(number, ()):
                column = column_at.get(position)
                if column is None:
                    continue  # a column the contract does not read
                if code == "merged":
                    if COLUMN_BY_NAME[column].kind != "count":
                        continue  # a merged code or place is shown, and read, in every cell of the range
                    code, value = "merged_count", raw[column][i]
                found.setdefault(number, {}).setdefault(column, (code, _excerpt(value)))
                raw[column][i] = ""
    return found


def _shared(values: Iterable[str]) -> list[str]:
    """The values, equal ones as one object: a column repeats a few spellings, so a chunk's cells then take
    little memory (and each distinct spelling's hash is computed once)."""
    seen: dict[str, str] = {}
    return [seen.setdefault(v, v) for v in values]


# Organisations repeat their spellings (the same counties, carriers and lists in every row), so each cell
# normaliser runs once per distinct raw value and its answer is remembered. The caches are bounded, so a
# file of all-different values costs time, not memory; every normaliser is a pure function of its value.
_MEMO_SIZE = 1 << 16
_memo = lru_cache(maxsize=_MEMO_SIZE)
_country = _memo(n.country)
_county = _memo(n.county)
_transit_points = _memo(n.transit_points)
_carriers = _memo(n.carriers)
_transport_modes = _memo(n.transport_modes)
_code = _memo(n.code)
_codes = _memo(n.codes)


@_memo
def _column_named(value: str) -> str | None:
    return HEADER_ALIASES.get(normalise_header(value))


@_memo
def _period(value: str | None) -> tuple[str | None, dt.date | None, dt.date | None, int | None]:
    """(reporting_period, period_start, period_end, period_start_ordinal) of a period cell."""
    period = n.period(value) if value else None
    if period:
        return period.code, period.start, period.end, period.start.toordinal()
    return (n.unknown(value) if value else None), None, None, None


@_memo
def _count(value: str | None) -> tuple[str | None, int | None]:
    """(text, number) of a count cell: the canonical digits or `?text`, and the number when it is one."""
    counted = n.count(value)
    return (None if counted is None else str(counted)), (counted if isinstance(counted, int) else None)


COUNT_COLUMNS = ("cases_estimated", "female_cases", "male_cases", "child_cases")


def normalise_columns(raw: dict[str, list[str]], organisation: str, size: int) -> dict[str, list[object]]:
    """Canonical values (or `?text` for what was not recognised) plus the helpers the suite checks, for
    `size` rows given column by column (a column missing from `raw` is a column the file does not have).
    The same as `normalise_row` on each row; this is the form the pipeline uses."""
    absent: list[str | None] = [None] * size

    def column(name: str) -> list[str | None]:
        return raw.get(name, absent)  # type: ignore[return-value]

    if size:
        period, period_start, period_end, ordinal = map(
            list, zip(*map(_period, column("reporting_period")), strict=True)
        )
    else:
        period, period_start, period_end, ordinal = [], [], [], []
    origin_country = [c or "KE" for c in map(_country, column("origin_country"))]
    destination_country = list(map(_country, column("destination_country")))
    carriers = list(map(_carriers, column("carriers")))
    counts: dict[str, tuple[list[str | None], list[int | None]]] = {}
    for name in COUNT_COLUMNS:
        pairs = list(map(_count, column(name)))
        counts[name] = ([p[0] for p in pairs], [p[1] for p in pairs])
    female, male = counts["female_cases"][1], counts["male_cases"][1]
    return {
        "organisation_code": [organisation] * size,
        "reporting_period": period,
        "period_start": period_start,
        "period_end": period_end,
        "period_start_ordinal": ordinal,
        "origin_country": origin_country,
        # A county only means something on the Kenyan side of a route.
        "origin_county": [
            _county(v) if c == "KE" else None for v, c in zip(column("origin_county"), origin_country, strict=True)
        ],
        "transit_points": list(map(_transit_points, column("transit_points"))),
        "destination_country": destination_country,
        "destination_county": [
            _county(v) if c == "KE" else None
            for v, c in zip(column("destination_county"), destination_country, strict=True)
        ],
        "exploitation_type": [_code(v, "exploitation_types") for v in column("exploitation_type")],
        "transport_modes": [
            _transport_modes(v, bool(c)) for v, c in zip(column("transport_modes"), carriers, strict=True)
        ],
        "carriers": carriers,
        "recruitment_methods": [_codes(v, "recruitment_methods") for v in column("recruitment_methods")],
        "means_of_control": [_codes(v, "means_of_control") for v in column("means_of_control")],
        **{name: counts[name][0] for name in COUNT_COLUMNS},
        "cases_number": counts["cases_estimated"][1],
        "female_plus_male": [
            (f or 0) + (m or 0) if f is not None or m is not None else None for f, m in zip(female, male, strict=True)
        ],
        "child_number": counts["child_cases"][1],
    }


def normalise_row(raw: dict[str, str], organisation: str) -> dict[str, object]:
    """`normalise_columns` for one row given as {column: stripped cell}."""
    return {k: v[0] for k, v in normalise_columns({c: [v] for c, v in raw.items()}, organisation, 1).items()}
