"""Turn what organisations write into the contract's canonical codes (docs/contract.md §2-3).

Every lookup table is built from the dbt seeds (plus pycountry for countries), once per process.
A normaliser returns the canonical value, `None` for an empty cell, or the text prefixed with
`UNKNOWN` when it cannot be recognised: the validation suite flags those, so the rules stay in GX.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import pycountry

from ingest.contract import code_list, with_carrier_mode

UNKNOWN = "?"  # prefix of a value the normaliser could not recognise
LIST_SEPARATOR = ";"
_SPLIT = re.compile(r"[;,|]")

# Common English names CSOs write that are not ISO names (docs/contract.md §2.3 names the first four).
COMMON_COUNTRY_NAMES = {
    "turkey": "TR",
    "uae": "AE",
    "u.a.e.": "AE",
    "emirates": "AE",
    "tanzania": "TZ",
    "somaliland": "SO",
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "usa": "US",
    "u.s.a.": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "vietnam": "VN",
    "laos": "LA",
    "drc": "CD",
    "dr congo": "CD",
    "democratic republic of congo": "CD",
    "democratic republic of the congo": "CD",
    "congo": "CG",
    "ivory coast": "CI",
    "cote d'ivoire": "CI",
    "czech republic": "CZ",
    "palestine": "PS",
    "south sudan": "SS",
    "ksa": "SA",
    "saudi": "SA",
    "bolivia": "BO",
    "venezuela": "VE",
    "moldova": "MD",
    "taiwan": "TW",
    "swaziland": "SZ",
    "eswatini": "SZ",
    "burma": "MM",
    "myanmar": "MM",
}


def key(text: str) -> str:
    """Lookup key: case-folded, accents kept, curly apostrophes straightened, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split()).casefold()


def _without_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Lookups:
    counties: dict[str, str]
    countries: dict[str, str]
    airports: dict[str, str]
    borders: dict[str, str]
    airlines: dict[str, str]
    codes: dict[str, dict[str, str]]  # seed name -> key -> code


def _alias_keys(*names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        for part in name.split("|"):
            if part.strip():
                k = key(part)
                out += [k, k.replace("-", " "), _without_accents(k)]
    return out


@cache
def lookups() -> Lookups:
    counties: dict[str, str] = {}
    for row in code_list("counties"):
        code = row["county_code"]
        for k in _alias_keys(row["county_name"], row["aliases"]):
            counties[k] = code
        counties[str(int(code))] = counties[code] = counties[str(int(code)).zfill(2)] = code

    countries: dict[str, str] = {}
    for c in pycountry.countries:
        for name in (c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)):
            if name:
                for k in _alias_keys(name):
                    countries[k] = c.alpha_2
        countries[c.alpha_2.casefold()] = countries[c.alpha_3.casefold()] = c.alpha_2
    countries.update(COMMON_COUNTRY_NAMES)

    airports: dict[str, str] = {}
    for row in code_list("airports"):
        airports[row["iata_code"].casefold()] = airports[row["icao_code"].casefold()] = row["iata_code"]

    borders: dict[str, str] = {}
    for row in code_list("border_points"):
        for k in _alias_keys(row["border_point"], row["aliases"]):
            borders[k] = row["border_point"]

    airlines: dict[str, str] = {"other": "other"}
    for row in code_list("airlines"):
        for k in (row["iata_code"], row["icao_code"], row["airline_name"]):
            airlines[key(k)] = row["iata_code"]

    codes: dict[str, dict[str, str]] = {}
    for seed in ("exploitation_types", "transport_modes", "recruitment_methods", "means_of_control"):
        table: dict[str, str] = {}
        for row in code_list(seed):
            for k in _alias_keys(row["code"], row["label_en"], row["label_sw"]):
                table[k] = row["code"]
            table[key(row["code"]).replace("_", " ")] = row["code"]
        codes[seed] = table
    return Lookups(counties, countries, airports, borders, airlines, codes)


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def unknown(value: str) -> str:
    return UNKNOWN + value.strip()


def county(value: str | None) -> str | None:
    if _blank(value):
        return None
    k = key(value)
    found = lookups().counties.get(k) or lookups().counties.get(k.removesuffix(" county").strip())
    return found or unknown(value)


def country(value: str | None) -> str | None:
    if _blank(value):
        return None
    k = key(value)
    found = lookups().countries.get(k) or lookups().countries.get(_without_accents(k))
    return found or unknown(value)


def transit_point(value: str) -> str:
    """Typed location code, tried in the contract's order: airport, border point, county, country."""
    k = key(value)
    lk = lookups()
    if k in lk.airports:
        return f"airport:{lk.airports[k]}"
    if k in lk.borders or k.replace("-", " ") in lk.borders:
        return f"border:{lk.borders.get(k) or lk.borders[k.replace('-', ' ')]}"
    found = county(value)
    if found and not found.startswith(UNKNOWN):
        return f"county:{found}"
    found = country(value)
    if found and not found.startswith(UNKNOWN):
        return f"country:{found}"
    return unknown(value)


def split_list(value: str | None) -> list[str]:
    if _blank(value):
        return []
    return [item.strip() for item in _SPLIT.split(value) if item.strip()]


def _distinct(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def transit_points(value: str | None) -> str | None:
    # Order matters and a route may pass the same place twice, so items are kept as given.
    items = [transit_point(v) for v in split_list(value)]
    return LIST_SEPARATOR.join(items) or None


def code(value: str | None, seed: str) -> str | None:
    if _blank(value):
        return None
    return lookups().codes[seed].get(key(value)) or unknown(value)


def codes(value: str | None, seed: str) -> str | None:
    items = _distinct([code(v, seed) or "" for v in split_list(value)])
    return LIST_SEPARATOR.join(items) or None


def carriers(value: str | None) -> str | None:
    table = lookups().airlines
    items = _distinct([table.get(key(v)) or unknown(v) for v in split_list(value)])
    return LIST_SEPARATOR.join(items) or None


def transport_modes(value: str | None, carriers_given: bool) -> str | None:
    """Listed modes, with the one carriers imply (docs/contract.md §2.3)."""
    items = [code(v, "transport_modes") or "" for v in split_list(value)]
    return LIST_SEPARATOR.join(_distinct(with_carrier_mode(items, carriers_given))) or None


_GROUPED = re.compile(r"^\d{1,3}(?:[ ,\u00a0\u202f']\d{3})+$")
_DECIMAL_ZERO = re.compile(r"^(\d+)\.0{1,2}$")  # `12.0` from Excel; `1.000` is ambiguous (a European 1000)


def count(value: str | None) -> int | str | None:
    """A whole number from `1200`, `1,200`, `1 200` or `12.0`; anything else comes back as unknown text."""
    if _blank(value):
        return None
    text = value.strip()
    if _GROUPED.match(text):
        text = re.sub(r"\D", "", text)
    elif m := _DECIMAL_ZERO.match(text):
        text = m.group(1)
    return int(text) if text.isdigit() and text.isascii() else unknown(value)


@dataclass(frozen=True)
class Period:
    code: str  # canonical: YYYY, YYYY-Qn or YYYY-MM
    start: dt.date
    end: dt.date

    def overlaps(self, other: Period) -> bool:
        return self.code != other.code and self.start <= other.end and other.start <= self.end


_PERIOD_PATTERNS = (
    (re.compile(r"^(\d{4})$"), lambda m: (int(m[1]), None, None)),
    (re.compile(r"^(\d{4})\s*[-/ ]?\s*q([1-4])$"), lambda m: (int(m[1]), int(m[2]), None)),
    (re.compile(r"^q([1-4])\s*[-/ ]?\s*(\d{4})$"), lambda m: (int(m[2]), int(m[1]), None)),
    (re.compile(r"^(\d{4})\s*[-/]\s*(\d{1,2})$"), lambda m: (int(m[1]), None, int(m[2]))),
)
MIN_YEAR = 2010


@cache
def period(value: str) -> Period | None:
    """Parse a period in any accepted spelling; None when it is not one (invalid_period)."""
    text = key(value)
    for pattern, parts in _PERIOD_PATTERNS:
        if m := pattern.match(text):
            year, quarter, month = parts(m)
            break
    else:
        return None
    if year < MIN_YEAR or (month is not None and not 1 <= month <= 12):
        return None
    if quarter:
        start = dt.date(year, 3 * quarter - 2, 1)
        end = _month_end(year, 3 * quarter)
        return Period(f"{year}-Q{quarter}", start, end)
    if month:
        return Period(f"{year}-{month:02d}", dt.date(year, month, 1), _month_end(year, month))
    return Period(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31))


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)
