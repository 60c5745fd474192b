"""From a table's cells to normalised rows: header mapping (English and Swahili), the personal-data
guard, and per-row normalisation into the shape the validation suite and COPY expect."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest import normalise as n
from ingest.contract import COLUMNS, HEADER_ALIASES, PII_HEADERS, REQUIRED_COLUMNS, normalise_header


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
        if name in PII_HEADERS:
            hm.pii.append(raw.strip())
        elif name in HEADER_ALIASES:
            canonical = HEADER_ALIASES[name]
            if canonical in hm.index:
                hm.duplicated.append(raw.strip())
            else:
                hm.index[canonical] = position
        else:
            hm.ignored.append(raw.strip())
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


def _count_text(value: int | str | None) -> str | None:
    return None if value is None else str(value)


def normalise_row(raw: dict[str, str], organisation: str) -> dict[str, object]:
    """Canonical values (or `?text` for what was not recognised) plus the helpers the suite checks."""
    get = raw.get
    period = n.period(get("reporting_period", "")) if get("reporting_period") else None
    origin_country = n.country(get("origin_country")) or "KE"
    destination_country = n.country(get("destination_country"))
    carriers = n.carriers(get("carriers"))
    counts = {c: n.count(get(c)) for c in ("cases_estimated", "female_cases", "male_cases", "child_cases")}
    numbers = {c: v if isinstance(v, int) else None for c, v in counts.items()}
    female, male = numbers["female_cases"], numbers["male_cases"]
    return {
        "organisation_code": organisation,
        "reporting_period": period.code if period else (n.unknown(get("reporting_period")) if get("reporting_period") else None),
        "period_start": period.start if period else None,
        "period_end": period.end if period else None,
        "period_start_ordinal": period.start.toordinal() if period else None,
        "origin_country": origin_country,
        # A county only means something on the Kenyan side of a route.
        "origin_county": n.county(get("origin_county")) if origin_country == "KE" else None,
        "transit_points": n.transit_points(get("transit_points")),
        "destination_country": destination_country,
        "destination_county": n.county(get("destination_county")) if destination_country == "KE" else None,
        "exploitation_type": n.code(get("exploitation_type"), "exploitation_types"),
        "transport_modes": n.transport_modes(get("transport_modes"), carriers_given=bool(carriers)),
        "carriers": carriers,
        "recruitment_methods": n.codes(get("recruitment_methods"), "recruitment_methods"),
        "means_of_control": n.codes(get("means_of_control"), "means_of_control"),
        **{c: _count_text(v) for c, v in counts.items()},
        "cases_number": numbers["cases_estimated"],
        "female_plus_male": (female or 0) + (male or 0) if female is not None or male is not None else None,
        "child_number": numbers["child_cases"],
    }


def identity(row: dict[str, object]) -> tuple[object, ...]:
    """What makes two rows of a file the same route report (duplicate_row)."""
    return tuple(row[c] for c in IDENTITY_COLUMNS)


def column_names() -> list[str]:
    return [c.name for c in COLUMNS]
