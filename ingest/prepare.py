"""From a table's cells to normalised rows: header mapping (English and Swahili), the personal-data
guard, and per-row normalisation into the shape the validation suite and COPY expect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from ingest import normalise as n
from ingest.contract import COLUMNS, HEADER_ALIASES, REQUIRED_COLUMNS, normalise_header
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


# Order of the normalised row; the COPY into raw.route_reports follows it (after submission_id, row_number).
LOAD_COLUMNS = (
    "organisation_code", "reporting_period", "period_start", "period_end", "origin_country", "origin_county",
    "transit_points", "destination_country", "destination_county", "exploitation_type", "transport_modes",
    "carriers", "recruitment_methods", "means_of_control", "cases_estimated", "female_cases", "male_cases",
    "child_cases",
)
IDENTITY_COLUMNS = tuple(c for c in LOAD_COLUMNS if c not in ("organisation_code", "period_start", "period_end"))


def cells_by_column(cells: list[str], hm: HeaderMap) -> dict[str, str]:
    return {c: (cells[i].strip() if i < len(cells) else "") for c, i in hm.index.items()}


def columns_of(rows: list[list[str]], hm: HeaderMap) -> dict[str, list[str]]:
    """`cells_by_column` for many rows at once: canonical column -> its stripped cells, in row order."""
    width = max(hm.index.values(), default=-1) + 1
    padded = [cells if len(cells) >= width else [*cells, *[""] * (width - len(cells))] for cells in rows]
    columns = list(zip(*padded, strict=False)) if padded else [()] * width
    return {c: _shared(map(str.strip, columns[i])) for c, i in hm.index.items()}


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
        period, period_start, period_end, ordinal = map(list, zip(*map(_period, column("reporting_period")), strict=True))
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
        "origin_county": [_county(v) if c == "KE" else None for v, c in zip(column("origin_county"), origin_country, strict=True)],
        "transit_points": list(map(_transit_points, column("transit_points"))),
        "destination_country": destination_country,
        "destination_county": [_county(v) if c == "KE" else None
                               for v, c in zip(column("destination_county"), destination_country, strict=True)],
        "exploitation_type": [_code(v, "exploitation_types") for v in column("exploitation_type")],
        "transport_modes": [_transport_modes(v, bool(c)) for v, c in zip(column("transport_modes"), carriers, strict=True)],
        "carriers": carriers,
        "recruitment_methods": [_codes(v, "recruitment_methods") for v in column("recruitment_methods")],
        "means_of_control": [_codes(v, "means_of_control") for v in column("means_of_control")],
        **{name: counts[name][0] for name in COUNT_COLUMNS},
        "cases_number": counts["cases_estimated"][1],
        "female_plus_male": [(f or 0) + (m or 0) if f is not None or m is not None else None
                             for f, m in zip(female, male, strict=True)],
        "child_number": counts["child_cases"][1],
    }


def normalise_row(raw: dict[str, str], organisation: str) -> dict[str, object]:
    """`normalise_columns` for one row given as {column: stripped cell}."""
    return {k: v[0] for k, v in normalise_columns({c: [v] for c, v in raw.items()}, organisation, 1).items()}


def identity(row: dict[str, object]) -> tuple[object, ...]:
    """What makes two rows of a file the same route report (duplicate_row)."""
    return tuple(row[c] for c in IDENTITY_COLUMNS)


def column_names() -> list[str]:
    return [c.name for c in COLUMNS]
