"""Fictional route reports, written the way real CSOs write them, with the answers kept beside them.

Everything here is invented: the organisations carry "(fictional)" in their names, rows hold counts only
(never a person), and every figure comes from a seeded `random.Random`. The same seed gives the same
files byte for byte (XLSX included) and the same manifest.

Why a manifest: each generated row is produced twice, once *spelled* the way an organisation would write
it (county `47`, `Nairobi` or `047`; `UAE`; `HKJK`; `Utumwa wa kazi za nyumbani`; `1,200`) and once
*normalised* to the canonical codes of docs/contract.md §3 (the shape of `raw.route_reports`). Tests and the
benchmarks compare what the platform loads with the normalised side without re-implementing the
normaliser.

The row generator (`iter_rows`) and the writers (`write_csv`, `write_xlsx`, `write_submission`) stream,
so `bench/generate.py` builds million-row files with them in flat memory.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import json
import os
import random
import shutil
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from pathlib import Path

import pycountry

from ingest.contract import COLUMN_BY_NAME, COLUMNS, LOAD_COLUMNS, code_list, with_carrier_mode

# ---------------------------------------------------------------------------------------------------
# Organisations and the registry
# ---------------------------------------------------------------------------------------------------

REGISTRY_FIELDS = ("organisation_code", "organisation_name", "organisation_type", "county_code", "active")


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    type: str
    county_code: str
    active: bool = True


def write_registry(path: Path, organisations: Iterable[Organisation]) -> Path:
    """The organisation registry CSV a deployment provides (docs/contract.md §1)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(REGISTRY_FIELDS)
        for org in organisations:
            writer.writerow([org.code, org.name, org.type, org.county_code, "true" if org.active else "false"])
    return path


# ---------------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------------

# Every spelling docs/contract.md §2 accepts, per granularity; `{y}` year, `{n}` quarter or month number.
PERIOD_SPELLINGS: dict[str, tuple[str, ...]] = {
    "year": ("{y}",),
    "quarter": ("{y}-Q{n}", "{y} Q{n}", "Q{n} {y}"),
    "month": ("{y}-{n:02d}", "{y}/{n:02d}"),
}


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: str  # year | quarter | month
    n: int = 0  # quarter 1-4 or month 1-12; 0 for a year

    @property
    def code(self) -> str:
        """Canonical spelling: `2024`, `2024-Q1`, `2024-03`."""
        return PERIOD_SPELLINGS[self.kind][0].format(y=self.year, n=self.n)

    @property
    def start(self) -> date:
        month = {"year": 1, "quarter": 3 * self.n - 2, "month": self.n}[self.kind]
        return date(self.year, month, 1)

    @property
    def end(self) -> date:
        month = {"year": 12, "quarter": 3 * self.n, "month": self.n}[self.kind]
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def spell(self, spelling: str) -> str:
        return spelling.format(y=self.year, n=self.n)


def periods_of(kind: str, years: Iterable[int], today: date | None = None) -> list[Period]:
    """All periods of one granularity in `years` whose start is not in the future."""
    today = today or date.today()
    count = {"year": 1, "quarter": 4, "month": 12}[kind]
    out = [Period(y, kind, 0 if kind == "year" else n) for y in sorted(years) for n in range(1, count + 1)]
    return [p for p in out if p.start <= today]


# ---------------------------------------------------------------------------------------------------
# Spellings of codes, built once from the seeds (the contract's single source of codes)
# ---------------------------------------------------------------------------------------------------

# Country spellings docs/contract.md §2.3 names besides the ISO ones.
COMMON_COUNTRY_NAMES = {"AE": ("UAE",), "TR": ("Turkey",), "TZ": ("Tanzania",), "SO": ("Somaliland",)}
_COUNTRIES = (
    "KE",
    "UG",
    "TZ",
    "ET",
    "SO",
    "SS",
    "RW",
    "BI",
    "CD",
    "SA",
    "AE",
    "QA",
    "OM",
    "KW",
    "BH",
    "LB",
    "JO",
    "TR",
    "MM",
    "KH",
    "TH",
    "LA",
    "ZA",
    "IN",
    "NP",
)


@dataclass(frozen=True)
class _Spellings:
    county: dict[str, dict[str, tuple[str, ...]]]
    country: dict[str, dict[str, tuple[str, ...]]]
    airport: dict[str, dict[str, tuple[str, ...]]]
    border: dict[str, dict[str, tuple[str, ...]]]
    airline: dict[str, dict[str, tuple[str, ...]]]
    labels: dict[str, dict[str, dict[str, tuple[str, ...]]]]  # seed -> code -> kind -> spellings


@cache
def spellings() -> _Spellings:
    county = {}
    for row in code_list("counties"):
        code = row["county_code"]
        aliases = tuple(a for a in row["aliases"].split("|") if a)
        county[code] = {
            "code": (str(int(code)),),
            "two_digit": (f"{int(code):02d}",),
            "padded": (code,),
            "name": (row["county_name"],),
            "alias": aliases or (row["county_name"],),
        }
    country = {}
    for a2 in _COUNTRIES:
        c = pycountry.countries.get(alpha_2=a2)
        common = ((c.common_name,) if hasattr(c, "common_name") else ()) + COMMON_COUNTRY_NAMES.get(a2, ())
        common = tuple(dict.fromkeys(common))
        country[a2] = {"alpha2": (a2,), "alpha3": (c.alpha_3,), "name": (c.name,), "common": common or (c.name,)}
    airport = {r["iata_code"]: {"iata": (r["iata_code"],), "icao": (r["icao_code"],)} for r in code_list("airports")}
    border = {}
    for r in code_list("border_points"):
        aliases = tuple(a for a in r["aliases"].split("|") if a)
        border[r["border_point"]] = {"name": (r["border_point"],), "alias": aliases or (r["border_point"],)}
    airline = {
        r["iata_code"]: {"iata": (r["iata_code"],), "icao": (r["icao_code"],), "name": (r["airline_name"],)}
        for r in code_list("airlines")
    }
    airline["other"] = {"iata": ("other",), "icao": ("other",), "name": ("other",)}
    labels = {
        seed: {
            r["code"]: {"code": (r["code"],), "label_en": (r["label_en"],), "label_sw": (r["label_sw"],)}
            for r in code_list(seed)
        }
        for seed in ("exploitation_types", "transport_modes", "recruitment_methods", "means_of_control")
    }
    return _Spellings(county, country, airport, border, airline, labels)


# ---------------------------------------------------------------------------------------------------
# How one organisation writes its files
# ---------------------------------------------------------------------------------------------------

ALL_COLUMNS = tuple(c.name for c in COLUMNS if c.name != "organisation")


@dataclass(frozen=True)
class Style:
    """An organisation's habits. Each tuple lists the spellings it uses; one is picked per value."""

    lang: str = "en"  # header language: en | sw
    header_case: str = "snake"  # snake (origin_county) | title (Origin County) | spaced (origin county) | upper
    columns: tuple[str, ...] = ALL_COLUMNS  # canonical names, in file order
    organisation_column: bool = False
    extra_columns: tuple[tuple[str, str], ...] = ()  # (header as written, serial | notes): ignored columns
    period_spelling: str = "{y}-Q{n}"
    county: tuple[str, ...] = ("padded",)
    country: tuple[str, ...] = ("alpha2",)
    kenya_origin: tuple[str, ...] = ("", "KE")  # how a Kenyan origin is written ("" = left empty)
    airport: tuple[str, ...] = ("iata",)
    border: tuple[str, ...] = ("name",)
    airline: tuple[str, ...] = ("iata",)
    labels: tuple[str, ...] = ("code",)
    separator: str = ";"
    counts: tuple[str, ...] = ("plain",)  # plain | thousands (1,200) | spaced (1 200) | decimal (12.0)
    native_numbers: bool = False  # XLSX: counts and county codes as numbers, a year period as a number
    routes: tuple[tuple[str, int], ...] = (
        ("gulf", 5),
        ("domestic", 3),
        ("cross_border", 2),
        ("inbound", 1),
        ("scam", 1),
    )

    def header(self) -> list[str]:
        names = [*self.columns, *(["organisation"] if self.organisation_column else [])]
        out = [self._case(COLUMN_BY_NAME[n].name if self.lang == "en" else COLUMN_BY_NAME[n].swahili) for n in names]
        return out + [h for h, _ in self.extra_columns]

    def _case(self, name: str) -> str:
        if self.header_case == "title":
            return name.replace("_", " ").title()
        if self.header_case == "spaced":
            return name.replace("_", " ")
        if self.header_case == "upper":
            return name.upper()
        return name


# Spelled everything every way the contract allows: the benchmark's default.
MESSY_STYLE = Style(
    county=("code", "two_digit", "padded", "name", "alias"),
    country=("alpha2", "alpha3", "name", "common"),
    kenya_origin=("", "KE", "KEN", "Kenya"),
    airport=("iata", "icao"),
    border=("name", "alias"),
    airline=("iata", "icao", "name"),
    labels=("code", "label_en", "label_sw"),
    separator="; ",
    counts=("plain", "plain", "plain", "thousands", "spaced", "decimal"),
    period_spelling="{y}-{n:02d}",
)


# ---------------------------------------------------------------------------------------------------
# Routes (canonical), after the patterns CSOs and the TIP reports describe for Kenya
# ---------------------------------------------------------------------------------------------------


def _weights(spec: Mapping[str, int], default_keys: Iterable[str] = (), default: int = 0) -> tuple[list, list]:
    table = {k: default for k in default_keys} | dict(spec)
    keys = [k for k, w in table.items() if w > 0]
    return keys, [table[k] for k in keys]


ALL_COUNTIES = tuple(r["county_code"] for r in code_list("counties"))
COAST = {"001", "002", "003", "004", "005"}

_GULF_ORIGINS = _weights(
    {
        "047": 14,
        "022": 9,
        "001": 7,
        "037": 6,
        "039": 5,
        "045": 5,
        "016": 4,
        "032": 4,
        "021": 4,
        "042": 4,
        "012": 3,
        "003": 3,
        "043": 3,
        "040": 3,
        "019": 3,
        "015": 3,
        "041": 2,
        "027": 2,
        "038": 2,
        "044": 2,
    },
    ALL_COUNTIES,
    1,
)
# Destination -> itineraries: (carriers, airports after the departure airport).
_GULF = {
    "SA": (
        (("SV",), ("JED",)),
        (("SV",), ("RUH",)),
        (("XY",), ("RUH",)),
        (("KQ",), ("JED",)),
        (("ET",), ("ADD", "JED")),
        (("QR",), ("DOH", "RUH")),
        (("EK",), ("DXB", "DMM")),
    ),
    "AE": ((("EK",), ("DXB",)), (("KQ",), ("DXB",)), (("FZ",), ("DXB",)), (("G9",), ("SHJ",)), (("EY",), ("AUH",))),
    "QA": ((("QR",), ("DOH",)), (("KQ",), ("DOH",))),
    "OM": ((("WY",), ("MCT",)), (("ET",), ("ADD", "MCT")), (("EK",), ("DXB", "MCT"))),
    "KW": ((("KU",), ("KWI",)), (("QR",), ("DOH", "KWI")), (("ET",), ("ADD", "KWI"))),
    "BH": ((("GF",), ("BAH",)), (("QR",), ("DOH", "BAH"))),
    "LB": ((("ET",), ("ADD", "BEY")), (("KQ", "FZ"), ("DXB", "BEY")), (("MS",), ("CAI", "BEY"))),
    "JO": ((("RJ",), ()), (("QR",), ("DOH",))),
    "TR": ((("TK",), ("IST",)),),
}
_GULF_DEST = _weights({"SA": 35, "AE": 20, "QA": 12, "OM": 8, "KW": 6, "BH": 3, "LB": 8, "JO": 3, "TR": 5})
_GULF_EXPLOIT = _weights(
    {"domestic_servitude": 55, "forced_labour": 30, "sexual_exploitation": 10, "organ_removal": 1, "other": 2}
)
_GULF_RECRUIT = {
    "registered_agency": 25,
    "unregistered_agent": 35,
    "online_advert": 15,
    "social_media": 15,
    "friend_or_acquaintance": 10,
    "family": 5,
}
_GULF_CONTROL = {
    "withholds_documents": 40,
    "takes_earnings": 30,
    "excessive_working_hours": 30,
    "restricts_movement": 25,
    "physical_abuse": 15,
    "sexual_abuse": 10,
    "debt_bondage": 20,
    "false_promises": 35,
    "withholds_necessities": 15,
    "threats": 10,
    "psychological_abuse": 15,
}

_DOMESTIC_ORIGINS = _weights(
    {
        "015": 6,
        "017": 5,
        "037": 6,
        "039": 5,
        "040": 4,
        "041": 5,
        "043": 5,
        "044": 4,
        "045": 4,
        "023": 4,
        "010": 3,
        "024": 3,
        "002": 4,
        "003": 4,
        "004": 3,
        "038": 3,
        "033": 3,
        "030": 2,
    },
    ALL_COUNTIES,
    1,
)
_DOMESTIC_DEST = _weights(
    {"047": 30, "001": 15, "003": 12, "002": 6, "022": 8, "032": 6, "034": 5, "044": 4, "042": 4, "027": 3, "016": 3}
)
_DOMESTIC_EXPLOIT = _weights(
    {
        "child_labour": 25,
        "domestic_servitude": 25,
        "sexual_exploitation": 25,
        "forced_begging": 8,
        "forced_labour": 10,
        "forced_marriage": 7,
    }
)
_DOMESTIC_RECRUIT = {
    "family": 30,
    "friend_or_acquaintance": 30,
    "intimate_partner": 10,
    "unregistered_agent": 15,
    "social_media": 10,
    "at_school": 5,
    "abduction": 3,
}
_DOMESTIC_CONTROL = {
    "takes_earnings": 25,
    "excessive_working_hours": 25,
    "physical_abuse": 20,
    "sexual_abuse": 15,
    "restricts_movement": 15,
    "withholds_necessities": 15,
    "threats": 15,
    "psychoactive_substances": 8,
    "false_promises": 20,
    "psychological_abuse": 10,
}

# Outbound by road: destination -> (border points, extra transit countries after the border).
_CROSS = {
    "UG": (("Busia", "Malaba", "Lwakhakha", "Suam"), ()),
    "TZ": (("Namanga", "Isebania", "Taveta", "Lunga Lunga"), ()),
    "ET": (("Moyale",), ()),
    "SO": (("Mandera", "Liboi"), ()),
    "SS": (("Lokichogio",), ()),
    "ZA": (("Namanga",), ("TZ",)),
    "RW": (("Malaba", "Busia"), ("UG",)),
}
_CROSS_DEST = _weights({"UG": 30, "TZ": 30, "SS": 10, "SO": 8, "ET": 6, "ZA": 8, "RW": 5})
_CROSS_ORIGINS = _weights(
    {
        "040": 8,
        "039": 6,
        "037": 5,
        "044": 6,
        "034": 5,
        "006": 3,
        "002": 3,
        "010": 3,
        "009": 3,
        "007": 3,
        "023": 4,
        "047": 6,
        "026": 3,
    }
)
_CROSS_EXPLOIT = _weights(
    {
        "forced_labour": 30,
        "sexual_exploitation": 30,
        "forced_marriage": 10,
        "child_labour": 15,
        "forced_criminal_activity": 5,
    }
)
# Inbound by road or air: origin country -> (transit typed codes, destination counties).
_INBOUND = {
    "UG": ((("border:Busia",), ("border:Malaba",)), ("047", "040", "042")),
    "TZ": (
        (("border:Namanga",), ("border:Isebania",), ("border:Lunga Lunga",), ("border:Taveta",)),
        ("047", "001", "044"),
    ),
    "ET": ((("border:Moyale",),), ("047", "010")),
    "SO": ((("border:Mandera",), ("border:Liboi",)), ("047", "007")),
    "SS": ((("border:Lokichogio",),), ("023", "047")),
    "BI": ((("country:UG", "border:Malaba"),), ("047",)),
    "CD": ((("country:UG", "border:Busia"),), ("047",)),
    "NP": ((("airport:DOH", "airport:NBO"), ("airport:DXB", "airport:NBO")), ("047", "001")),
    "IN": ((("airport:NBO",), ("airport:MBA",)), ("047", "001")),
}
_INBOUND_ORIGIN = _weights({"UG": 20, "TZ": 20, "ET": 15, "SO": 12, "SS": 8, "BI": 6, "CD": 5, "NP": 4, "IN": 3})
_INBOUND_EXPLOIT = _weights(
    {"sexual_exploitation": 35, "domestic_servitude": 25, "forced_labour": 20, "forced_begging": 10, "child_labour": 10}
)
_SCAM_ORIGINS = _weights({"047": 10, "022": 5, "042": 3, "027": 3, "032": 3, "001": 3, "012": 2})
_SCAM_DEST = _weights({"MM": 70, "KH": 20, "LA": 10})
_SCAM_LEGS = (
    (("ET",), ("airport:NBO", "airport:ADD", "country:TH")),
    (("QR",), ("airport:NBO", "airport:DOH", "country:TH")),
    (("EK",), ("airport:NBO", "airport:DXB", "country:TH")),
)
_SCAM_RECRUIT = {"online_advert": 40, "social_media": 40, "friend_or_acquaintance": 15, "unregistered_agent": 10}
_SCAM_CONTROL = {
    "withholds_documents": 35,
    "restricts_movement": 35,
    "physical_abuse": 25,
    "threats": 25,
    "debt_bondage": 20,
    "false_promises": 35,
}

_FEMALE_SHARE = {
    "domestic_servitude": 0.9,
    "sexual_exploitation": 0.85,
    "forced_marriage": 1.0,
    "forced_labour": 0.4,
    "child_labour": 0.5,
    "forced_begging": 0.5,
    "armed_conflict": 0.1,
    "forced_criminal_activity": 0.35,
    "organ_removal": 0.3,
    "other": 0.5,
}
_CHILD_SHARE = {
    "child_labour": 1.0,
    "forced_marriage": 0.9,
    "forced_begging": 0.8,
    "sexual_exploitation": 0.3,
    "armed_conflict": 0.5,
    "domestic_servitude": 0.15,
}


def _pick(rng: random.Random, table: tuple[list, list]) -> str:
    return rng.choices(table[0], table[1])[0]


def _some(rng: random.Random, weights: Mapping[str, int], most: int = 3) -> list[str]:
    """1..most distinct items, weighted, in the order they were drawn."""
    keys, ws = list(weights), list(weights.values())
    out: list[str] = []
    for _ in range(rng.randint(1, most)):
        k = rng.choices(keys, ws)[0]
        if k not in out:
            out.append(k)
    return out


@dataclass(frozen=True, slots=True)
class Route:
    """A route in canonical codes: transit points typed (`airport:NBO`), lists in the order given."""

    origin_country: str
    origin_county: str | None
    transit: list[str]
    destination_country: str
    destination_county: str | None
    exploitation_type: str
    modes: list[str]
    carriers: list[str]
    recruitment: list[str]
    control: list[str]


def _route(rng: random.Random, pattern: str) -> Route:
    """A canonical route: origin, typed transit codes, destination, exploitation and the lists."""
    if pattern == "gulf":
        origin = _pick(rng, _GULF_ORIGINS)
        dest = _pick(rng, _GULF_DEST)
        carriers, airports = rng.choice(_GULF[dest])
        depart = "MBA" if origin in COAST and rng.random() < 0.7 else "NBO"
        hops = [depart, *airports]
        if airports and rng.random() < 0.2:
            hops = hops[:-1] or hops  # only the departure or the hub is known
        return Route(
            origin_country="KE",
            origin_county=origin,
            transit=[f"airport:{a}" for a in hops],
            destination_country=dest,
            destination_county=None,
            exploitation_type=_pick(rng, _GULF_EXPLOIT),
            modes=["air"],
            carriers=list(carriers) if rng.random() < 0.85 else [],
            recruitment=_some(rng, _GULF_RECRUIT),
            control=_some(rng, _GULF_CONTROL),
        )
    if pattern == "domestic":
        origin = _pick(rng, _DOMESTIC_ORIGINS)
        dest = _pick(rng, _DOMESTIC_DEST)
        while dest == origin:
            dest = _pick(rng, _DOMESTIC_DEST)
        transit: list[str] = []
        if rng.random() < 0.4:
            if dest in COAST:
                transit = [f"county:{rng.choice(('016', '006'))}"]
            elif dest in {"047", "022"} and origin in {"037", "039", "040", "041", "042", "043", "044", "045"}:
                transit = ["county:032"]
        modes = ["rail"] if dest in COAST and origin in {"047", "022", "016"} and rng.random() < 0.5 else ["road"]
        if rng.random() < 0.05:
            modes = ["on_foot"]
        return Route(
            origin_country="KE",
            origin_county=origin,
            transit=transit,
            destination_country="KE",
            destination_county=dest,
            exploitation_type=_pick(rng, _DOMESTIC_EXPLOIT),
            modes=modes,
            carriers=[],
            recruitment=_some(rng, _DOMESTIC_RECRUIT),
            control=_some(rng, _DOMESTIC_CONTROL),
        )
    if pattern == "cross_border":
        dest = _pick(rng, _CROSS_DEST)
        borders, via = _CROSS[dest]
        exploit = _pick(rng, _CROSS_EXPLOIT)
        if dest in {"SO", "SS"} and rng.random() < 0.2:
            exploit = "armed_conflict"
        return Route(
            origin_country="KE",
            origin_county=_pick(rng, _CROSS_ORIGINS),
            transit=[f"border:{rng.choice(borders)}", *(f"country:{c}" for c in via)],
            destination_country=dest,
            destination_county=None,
            exploitation_type=exploit,
            modes=["road"],
            carriers=[],
            recruitment=_some(rng, _DOMESTIC_RECRUIT),
            control=_some(rng, _DOMESTIC_CONTROL),
        )
    if pattern == "inbound":
        origin = _pick(rng, _INBOUND_ORIGIN)
        legs, dests = _INBOUND[origin]
        transit = list(rng.choice(legs))
        by_air = transit[-1].startswith("airport:")
        return Route(
            origin_country=origin,
            origin_county=None,
            transit=transit,
            destination_country="KE",
            destination_county=rng.choice(dests),
            exploitation_type="sexual_exploitation" if by_air else _pick(rng, _INBOUND_EXPLOIT),
            modes=["air"] if by_air else ["road"],
            carriers=[rng.choice(("QR", "EK", "KQ"))] if by_air and rng.random() < 0.7 else [],
            recruitment=_some(rng, _GULF_RECRUIT if by_air else _DOMESTIC_RECRUIT),
            control=_some(rng, _DOMESTIC_CONTROL),
        )
    if pattern == "scam":
        carriers, transit = rng.choice(_SCAM_LEGS)
        return Route(
            origin_country="KE",
            origin_county=_pick(rng, _SCAM_ORIGINS),
            transit=list(transit),
            destination_country=_pick(rng, _SCAM_DEST),
            destination_county=None,
            exploitation_type="forced_criminal_activity" if rng.random() < 0.9 else "forced_labour",
            modes=["air"],
            carriers=list(carriers),
            recruitment=_some(rng, _SCAM_RECRUIT),
            control=_some(rng, _SCAM_CONTROL),
        )
    raise ValueError(f"unknown route pattern {pattern!r}")


@cache
def _case_sizes() -> tuple[int, ...]:
    """Cases per row: log-normal (median 6), drawn once; rows index into it (much faster than a draw)."""
    r = random.Random(0)
    return tuple(min(900, max(1, int(r.lognormvariate(1.8, 1.0)))) for _ in range(1 << 14))


def _counts(rng: random.Random, exploitation: str) -> tuple[int, int | None, int | None, int | None]:
    """cases, female, male, child: heavy-tailed totals, splits that keep the inequalities of docs/contract.md §2.2."""
    rand = rng.random
    if rand() < 0.01:
        cases = 1000 + int(rand() * 2000)
    else:
        sizes = _case_sizes()
        cases = sizes[int(rand() * len(sizes))]
    female = male = child = None
    r = rand()
    if r < 0.7:
        share = _FEMALE_SHARE.get(exploitation, 0.5) + 0.3 * rand() - 0.15
        female = min(cases, max(0, round(cases * share)))
        male = cases - female
        if r < 0.1 and male:  # some of the sexes unknown
            male = int(rand() * (male + 1))
        elif r > 0.6:  # only the female count given
            male = None
    if rand() < 0.6:
        child = min(cases, round(cases * _CHILD_SHARE.get(exploitation, 0.05) * (0.7 + 0.3 * rand())))
    return cases, female, male, child


# ---------------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------------

# The normalised row: the columns of raw.route_reports that come from the file (plus the organisation).
EXPECTED_FIELDS = LOAD_COLUMNS
LIST_FIELDS = ("transit_points", "transport_modes", "carriers", "recruitment_methods", "means_of_control")
COUNT_FIELDS = ("cases_estimated", "female_cases", "male_cases", "child_cases")

# Deliberately invalid rows: kind -> (column, problem code) the feedback must show.
INVALID_KINDS: dict[str, tuple[str, str]] = {
    "unknown_county": ("origin_county", "unknown_county"),
    "invalid_period": ("reporting_period", "invalid_period"),
    "inconsistent_counts": ("male_cases", "inconsistent_counts"),
    "unknown_country": ("destination_country", "unknown_country"),
    "unknown_carrier": ("carriers", "unknown_carrier"),
    "missing_value": ("exploitation_type", "missing_value"),
}
_INVALID_NEEDS = {"inconsistent_counts": ("female_cases", "male_cases"), "unknown_carrier": ("carriers",)}
_NOTES = (
    "figures from outreach desk (fictional)",
    "hotline summary, demo only",
    "",
    "verified with partner (demo)",
    "",
)


@dataclass(slots=True)
class GeneratedRow:
    cells: list  # values as the organisation wrote them, in `Style.header()` order
    expected: dict | None  # normalised (EXPECTED_FIELDS); None for a deliberately invalid row
    problem: tuple[str, str] | None = None  # (column, problem code) of an invalid row


class _SeenFilter:
    """Remembers normalised rows in a fixed bit array, so a file never repeats one (`duplicate_row`).

    Membership is approximate in one direction only: a row seen before is always caught; a rare new row
    that collides is merely drawn again. Memory is 4 bytes per row at most, and the hash (CRC-32) is
    stable across processes, so the output stays deterministic.
    """

    def __init__(self, n: int) -> None:
        self.bits = max(1 << 16, min(1 << 30, 1 << (max(n, 1) * 32).bit_length()))
        self.array = bytearray(self.bits // 8)

    def add(self, key: str) -> bool:
        byte, bit = divmod(zlib.crc32(key.encode()) % self.bits, 8)
        if self.array[byte] >> bit & 1:
            return False
        self.array[byte] |= 1 << bit
        return True


@dataclass(slots=True)
class _Draft:
    """A route drawn and spelled once; rows reuse it with their own period and counts."""

    route: Route
    values: dict  # spelled cells by column, period and counts excluded
    expected: dict  # normalised, period and counts excluded
    key: str  # identity of `expected`, for duplicate detection
    cells: list  # `values` in column order


POOL_SIZE = 4096  # distinct drafts per file; beyond that, rows draw from the pool


def iter_rows(
    rng: random.Random,
    n: int,
    *,
    organisation_code: str,
    periods: Sequence[Period],
    style: Style = Style(),
    invalid_share: float = 0.0,
    invalid_rows: Mapping[int, str] | None = None,
    serial_start: int = 1,
) -> Iterator[GeneratedRow]:
    """`n` rows of one file, spread over `periods` in order, each spelled per `style`.

    Valid rows are distinct after normalisation. A row becomes deliberately invalid when its index is in
    `invalid_rows` (index -> a key of INVALID_KINDS) or, with probability `invalid_share`, at random.
    The first POOL_SIZE rows each get a freshly drawn route; later rows reuse one of those routes (as
    real reports repeat a route across periods) with new counts, which keeps big files fast.
    """
    if not periods:
        raise ValueError("no periods to report on")
    cols = set(style.columns)
    patterns = [(p, w) for p, w in style.routes if _pattern_fits(p, cols)]
    if not patterns:
        raise ValueError("the style's columns cannot carry any route pattern")
    names, weights = [p for p, _ in patterns], [w for _, w in patterns]
    invalid_kinds = [k for k in INVALID_KINDS if all(c in cols for c in _INVALID_NEEDS.get(k, ()))]
    invalid_rows = invalid_rows or {}
    speller = _Speller(rng, style, spellings())
    seen = _SeenFilter(n)
    pool: list[_Draft] = []
    where = {c: i for i, c in enumerate(style.columns)}
    period_at = where["reporting_period"]
    count_at = [(where.get(c), c) for c in COUNT_FIELDS]
    all_counts = all(at is not None for at, _ in count_at)
    spelled = [p.year if style.native_numbers and p.kind == "year" else p.spell(style.period_spelling) for p in periods]
    known = [(p.code, p.start, p.end) for p in periods]
    tail = [organisation_code] if style.organisation_column else []
    count, random_ = speller.count, rng.random  # hot loop
    formats = speller.count_formats
    n_formats = len(formats)

    def draft(avoid_inbound: bool = False) -> _Draft:
        pattern = rng.choices(names, weights)[0]
        while avoid_inbound and pattern == "inbound":
            pattern = rng.choices(names, weights)[0]
        route = _route(rng, pattern)
        expected = _normalise(organisation_code, route, cols)
        values = speller.route(route, expected)
        return _Draft(
            route, values, expected, "|".join(map(str, expected.values())), [values.get(c) for c in style.columns]
        )

    n_periods = len(periods)
    for i in range(n):
        at_period = i * n_periods // n
        period = periods[at_period]
        kind = invalid_rows.get(i)
        if kind is None and invalid_share and random_() < invalid_share:
            kind = invalid_kinds[int(random_() * len(invalid_kinds))]
        if kind:
            d = draft(avoid_inbound=kind == "unknown_county")
            counts = _counts(rng, d.route.exploitation_type)
            values = dict(d.values, reporting_period=spelled[at_period])
            values.update((c, count(v)) for c, v in zip(COUNT_FIELDS, counts, strict=True))
            problem = INVALID_KINDS[kind]
            values[problem[0]] = _make_invalid(rng, kind, style, period, values, counts)
            cells = [values.get(c) for c in style.columns]
            expected = None
        else:
            while True:
                d = pool[int(random_() * POOL_SIZE)] if len(pool) >= POOL_SIZE else draft()
                if len(pool) < POOL_SIZE:
                    pool.append(d)
                counts = _counts(rng, d.route.exploitation_type)
                if not all_counts:  # a count the file has no column for is no value
                    counts = tuple(v if at is not None else None for (at, _), v in zip(count_at, counts, strict=True))
                code, start, end = known[at_period]
                if seen.add(f"{d.key}|{code}|{counts}"):
                    break
            cells = d.cells.copy()
            cells[period_at] = spelled[at_period]
            expected = d.expected.copy()
            expected["reporting_period"] = code
            expected["period_start"] = start
            expected["period_end"] = end
            for (at, name), value in zip(count_at, counts, strict=True):
                if value is not None:
                    expected[name] = value
                    cells[at] = formats[int(random_() * n_formats)](value)
            problem = None
        cells += tail
        for _, extra in style.extra_columns:
            cells.append(serial_start + i if extra == "serial" else _NOTES[int(random_() * len(_NOTES))])
        yield GeneratedRow(cells, expected, problem)


def _pattern_fits(pattern: str, cols: set[str]) -> bool:
    if pattern == "domestic":
        return "destination_county" in cols
    if pattern == "inbound":
        return {"destination_county", "origin_country"} <= cols
    return True


def _normalise(org: str, route: Route, cols: set[str]) -> dict:
    """What docs/contract.md §2-3 make of the route's cells; period and counts are filled in per row."""
    carriers = route.carriers if "carriers" in cols else []
    modes = route.modes if "transport_modes" in cols else []
    modes = with_carrier_mode(modes, bool(carriers))
    return {
        "organisation_code": org,
        "reporting_period": None,
        "period_start": None,
        "period_end": None,
        "origin_country": route.origin_country,
        "origin_county": route.origin_county,
        "transit_points": ";".join(route.transit) if "transit_points" in cols and route.transit else None,
        "destination_country": route.destination_country,
        "destination_county": route.destination_county,
        "exploitation_type": route.exploitation_type,
        "transport_modes": ";".join(modes) or None,
        "carriers": ";".join(carriers) or None,
        "recruitment_methods": (";".join(route.recruitment) or None) if "recruitment_methods" in cols else None,
        "means_of_control": (";".join(route.control) or None) if "means_of_control" in cols else None,
        "cases_estimated": None,
        "female_cases": None,
        "male_cases": None,
        "child_cases": None,
    }


_COUNT_FORMATS = {
    "plain": str,
    "thousands": "{:,}".format,
    "spaced": lambda v: f"{v:,}".replace(",", " "),
    "decimal": "{}.0".format,
}
_NATIVE_COUNT_FORMATS = {"plain": int, "thousands": int, "spaced": int, "decimal": float}


class _Speller:
    """Writes canonical values the way the style says (one spelling drawn per value)."""

    def __init__(self, rng: random.Random, style: Style, sp: _Spellings) -> None:
        self.rng, self.style, self.sp = rng, style, sp
        self.choice = rng.choice
        # One formatter per entry of `style.counts` (a repeated entry weights that spelling).
        table = _NATIVE_COUNT_FORMATS if style.native_numbers else _COUNT_FORMATS
        self.count_formats = [table[k] for k in style.counts]

    def _one(self, table: dict[str, tuple[str, ...]], kinds: tuple[str, ...]) -> str:
        return self.choice(table[self.choice(kinds)])

    def county(self, code: str | None) -> object:
        if code is None:
            return None
        kind = self.choice(self.style.county)
        if self.style.native_numbers and kind in ("code", "two_digit", "padded"):
            return int(code)
        return self.choice(self.sp.county[code][kind])

    def country(self, a2: str, *, in_list: bool = False) -> str:
        kinds = self.style.country
        if in_list:  # never a spelling with a list separator in it; no alpha-3 among airport codes
            kinds = tuple(k for k in kinds if k != "alpha3") or ("alpha2",)
        value = self._one(self.sp.country[a2], kinds)
        if in_list and ("," in value or ";" in value):
            return a2
        return value

    def transit(self, typed: str) -> str:
        kind, code = typed.split(":", 1)
        if kind == "airport":
            return self._one(self.sp.airport[code], self.style.airport)
        if kind == "border":
            return self._one(self.sp.border[code], self.style.border)
        if kind == "county":  # by name, as a route is told; numbers are for the county columns
            return self._one(
                self.sp.county[code], tuple(k for k in self.style.county if k in ("name", "alias")) or ("name",)
            )
        return self.country(code, in_list=True)

    def label(self, seed: str, code: str) -> str:
        return self._one(self.sp.labels[seed][code], self.style.labels)

    def count(self, value: int | None) -> object:
        if value is None:
            return None
        return self.count_formats[int(self.rng.random() * len(self.count_formats))](value)

    def join(self, items: list[str]) -> str | None:
        return self.style.separator.join(items) if items else None

    def route(self, route: Route, expected: dict) -> dict:
        style = self.style
        origin = route.origin_country
        modes = route.modes
        if expected["carriers"] and self.rng.random() < 0.25:
            modes = []  # left empty: the carriers imply air
        return {
            "origin_country": self.choice(style.kenya_origin) if origin == "KE" else self.country(origin),
            "origin_county": self.county(route.origin_county),
            "transit_points": self.join([self.transit(t) for t in route.transit]),
            "destination_country": self.country(route.destination_country),
            "destination_county": self.county(route.destination_county),
            "exploitation_type": self.label("exploitation_types", route.exploitation_type),
            "transport_modes": self.join([self.label("transport_modes", m) for m in modes]),
            "carriers": self.join([self._one(self.sp.airline[c], style.airline) for c in route.carriers]),
            "recruitment_methods": self.join([self.label("recruitment_methods", c) for c in route.recruitment]),
            "means_of_control": self.join([self.label("means_of_control", c) for c in route.control]),
        }


def _make_invalid(rng: random.Random, kind: str, style: Style, period: Period, values: dict, counts: tuple) -> object:
    """The one bad value of a deliberately invalid row (everything else in it stays valid)."""
    if kind == "unknown_county":
        return rng.choice(("Atlantis", "Gotham County", "Kaunti ya Mfano"))
    if kind == "invalid_period":
        if period.kind == "year":
            return f"FY{period.year}/{(period.year + 1) % 100:02d}"
        return style.period_spelling.format(y=period.year, n=13 if period.kind == "month" else 5)
    if kind == "inconsistent_counts":  # female = male = cases: each fine alone, together too many
        cases = counts[0]
        values["female_cases"] = cases if style.native_numbers else str(cases)
        return values["female_cases"]
    if kind == "unknown_country":
        return rng.choice(("Wakanda", "Zamunda", "Genovia"))
    if kind == "unknown_carrier":
        return rng.choice(("Air Zamunda (fictional)", "ZZ9"))
    if kind == "missing_value":
        return None
    raise ValueError(f"unknown invalid kind {kind!r}")


# ---------------------------------------------------------------------------------------------------
# Writers (streaming)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileFormat:
    kind: str = "csv"  # csv | xlsx
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | utf-16 | cp1252
    delimiter: str = ","
    lineterminator: str = "\r\n"
    sheet: str = "routes"
    sheets_before: tuple[str, ...] = ()  # XLSX: sheets placed before the data sheet (a cover page)

    @property
    def suffix(self) -> str:
        return "." + self.kind


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    lineterminator: str = "\r\n",
) -> int:
    """Streams rows (None = empty cell) to a CSV with RFC 4180 quoting; returns the number of data rows."""
    count = 0
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator=lineterminator)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence],
    *,
    sheet: str = "routes",
    sheets_before: Sequence[str] = (),
) -> int:
    """Streams rows into the `sheet` of a new workbook (write-only mode); returns the number of data rows."""
    from openpyxl import Workbook

    from njia.template import save_workbook

    wb = Workbook(write_only=True)
    for title in sheets_before:
        cover = wb.create_sheet(title)
        cover.append(["Route report (fictional demo data)"])
        cover.append(["The figures are on the sheet named " + sheet])
    ws = wb.create_sheet(sheet)
    ws.append(list(header))
    count = 0
    for row in rows:
        ws.append(list(row))
        count += 1
    save_workbook(wb, path)
    return count


# ---------------------------------------------------------------------------------------------------
# The manifest
# ---------------------------------------------------------------------------------------------------


@dataclass
class DemoFile:
    """One generated file and what the platform must make of it."""

    path: Path
    organisation_code: str
    format: FileFormat
    header: tuple[str, ...]
    lang: str
    rows_read: int
    rows: list[dict]  # normalised valid rows with `row_number` (empty when not kept, see `write_submission`)
    problems: list[tuple[int, str, str]]  # (row number, column, problem code) of the invalid rows
    cases_total: int  # over the valid rows
    periods: tuple[str, ...]  # canonical periods of the valid rows
    ignored_columns: tuple[str, ...] = ()
    duplicate_of: Path | None = None  # identical bytes delivered earlier under this path
    corrects: Path | None = None  # an earlier file of the same periods this one replaces
    sha256: str = ""

    @property
    def rows_valid(self) -> int:
        return self.rows_read - len(self.problems)

    @property
    def expected_status(self) -> str:
        if self.duplicate_of is not None:
            return "duplicate"
        return "accepted_with_errors" if self.problems else "accepted"

    def to_json(self, root: Path | None = None) -> dict:
        def rel(p: Path | None) -> str | None:
            return None if p is None else (str(p.relative_to(root)) if root else str(p))

        return {
            "path": rel(self.path),
            "organisation_code": self.organisation_code,
            "format": self.format.kind,
            "encoding": self.format.encoding if self.format.kind == "csv" else None,
            "delimiter": self.format.delimiter if self.format.kind == "csv" else None,
            "header": list(self.header),
            "lang": self.lang,
            "sha256": self.sha256,
            "expected_status": self.expected_status,
            "rows_read": self.rows_read,
            "rows_valid": self.rows_valid,
            "cases_total": self.cases_total,
            "periods": list(self.periods),
            "ignored_columns": list(self.ignored_columns),
            "duplicate_of": rel(self.duplicate_of),
            "corrects": rel(self.corrects),
            "problems": [{"row": r, "column": c, "code": k} for r, c, k in self.problems],
            "rows": [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()} for row in self.rows],
        }


@dataclass
class DemoManifest:
    """Every generated file in delivery order, with the registry, so expected figures can be derived (by the
    tests' oracle, tests/demo_oracle.py)."""

    inbox: Path
    registry: Path
    seed: int
    organisations: tuple[Organisation, ...]
    files: list[DemoFile] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "inbox": str(self.inbox),
            "registry": str(self.registry),
            "seed": self.seed,
            "organisations": [o.__dict__ for o in self.organisations],
            "files": [f.to_json(self.inbox) for f in self.files],
        }

    def write_json(self, path: Path) -> Path:
        Path(path).write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False), encoding="utf-8")
        return Path(path)


def write_submission(
    path: Path,
    rows: Iterable[GeneratedRow],
    *,
    organisation_code: str,
    style: Style,
    fmt: FileFormat = FileFormat(),
    keep_rows: bool = True,
) -> DemoFile:
    """Writes one submission file and records what is in it (rows only when `keep_rows`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kept: list[dict] = []
    problems: list[tuple[int, str, str]] = []
    cases = 0
    periods: set[str] = set()

    def cells() -> Iterator[list]:
        nonlocal cases
        for row_number, row in enumerate(rows, 2):  # the header is spreadsheet row 1
            if row.expected is None:
                problems.append((row_number, *row.problem))
            else:
                cases += row.expected["cases_estimated"]
                periods.add(row.expected["reporting_period"])
                if keep_rows:
                    kept.append({"row_number": row_number, **row.expected})
            yield row.cells

    header = style.header()
    if fmt.kind == "xlsx":
        count = write_xlsx(path, header, cells(), sheet=fmt.sheet, sheets_before=fmt.sheets_before)
    else:
        count = write_csv(
            path, header, cells(), encoding=fmt.encoding, delimiter=fmt.delimiter, lineterminator=fmt.lineterminator
        )
    return DemoFile(
        path=path,
        organisation_code=organisation_code,
        format=fmt,
        header=tuple(header),
        lang=style.lang,
        rows_read=count,
        rows=kept,
        problems=problems,
        cases_total=cases,
        periods=tuple(sorted(periods)),
        ignored_columns=tuple(h for h, _ in style.extra_columns),
        sha256=_sha256(path),
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------
# The demo inbox
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """One fictional organisation's reporting habits."""

    organisation: Organisation
    style: Style
    granularity: str  # year | quarter | month
    periods_per_file: int  # 1 = one file per period; 3 months = a quarterly file of monthly rows; ...
    rows_per_period: tuple[int, int]
    file_name: str  # `{first}`, `{last}` (canonical periods) and `{year}` available
    fmt: FileFormat = FileFormat()
    formats_by_year: tuple[tuple[int, FileFormat], ...] = ()  # a change of tools in some year
    invalid: tuple[tuple[int, int, str], ...] = ()  # (file index, row index, invalid kind)
    correct_file: int | None = None  # index of a file later corrected
    resend_file: int | None = None  # index of a file delivered twice


def _org(code: str, name: str, type_: str, county: str, active: bool = True) -> Organisation:
    return Organisation(code, f"{name} (fictional)", type_, county, active)


DEMO_PROFILES: tuple[Profile, ...] = (
    Profile(  # a Nairobi NGO: quarterly files, tidy codes, UTF-8
        _org("MWANGAZA", "Mwangaza Test Trust", "trust", "047"),
        Style(
            period_spelling="{y}-Q{n}",
            county=("padded",),
            country=("alpha2",),
            separator=";",
            routes=(("gulf", 6), ("domestic", 2), ("scam", 2), ("cross_border", 1), ("inbound", 1)),
        ),
        "quarter",
        1,
        (12, 22),
        "mwangaza_{first}.csv",
        fmt=FileFormat(lineterminator="\n"),
        invalid=((2, 4, "unknown_county"),),
        correct_file=1,
        resend_file=0,
    ),
    Profile(  # a Mombasa CBO: Swahili, Windows-1252 with ';' from a French-locale Excel, monthly rows
        _org("TUMAINI", "Tumaini Demo Initiative", "cbo", "001"),
        Style(
            lang="sw",
            period_spelling="{y}/{n:02d}",
            county=("name", "alias"),
            country=("name", "common"),
            kenya_origin=("", "Kenya"),
            labels=("label_sw",),
            separator=", ",
            counts=("plain", "decimal"),
            organisation_column=True,
            airline=("name",),
            routes=(("domestic", 6), ("gulf", 4), ("inbound", 2), ("cross_border", 1)),
        ),
        "month",
        3,
        (3, 6),
        "ripoti_{first}_hadi_{last}.csv",
        fmt=FileFormat(encoding="cp1252", delimiter=";"),
        invalid=((3, 2, "invalid_period"),),
    ),
    Profile(  # a Busia network: one workbook a year, a cover sheet before `routes`, numbers as numbers
        _org("SAUTI", "Sauti Sample Network", "network", "040"),
        Style(
            header_case="title",
            period_spelling="{y}",
            county=("code",),
            country=("alpha3", "name"),
            kenya_origin=("KEN",),
            border=("name", "alias"),
            airline=("name",),
            labels=("label_en",),
            separator="|",
            native_numbers=True,
            routes=(("cross_border", 6), ("inbound", 4), ("domestic", 3), ("gulf", 2)),
        ),
        "year",
        1,
        (40, 60),
        "Sauti route report {year}.xlsx",
        fmt=FileFormat(kind="xlsx", sheets_before=("summary",)),
        invalid=((1, 7, "inconsistent_counts"),),
    ),
    Profile(  # a Kisumu faith-based group: half-yearly files, BOM, Swahili spaced headers, extra columns
        _org("UHURU", "Uhuru Mock Foundation", "faith_based", "042"),
        Style(
            lang="sw",
            header_case="spaced",
            period_spelling="Q{n} {y}",
            county=("code", "two_digit", "name"),
            country=("alpha2", "name"),
            labels=("code", "label_en", "label_sw"),
            separator=" | ",
            counts=("plain", "plain", "thousands", "spaced", "decimal"),
            extra_columns=(("S/No", "serial"), ("maelezo", "notes")),
            routes=(("domestic", 5), ("gulf", 4), ("cross_border", 2), ("scam", 1)),
        ),
        "quarter",
        2,
        (15, 25),
        "uhuru-{first}-{last}.csv",
        fmt=FileFormat(encoding="utf-8-sig"),
    ),
    Profile(  # a Nakuru centre: yearly workbooks of monthly rows, everything mixed
        _org("NURU", "Nuru Example Centre", "ngo", "032"),
        replace(
            MESSY_STYLE,
            period_spelling="{y}-{n:02d}",
            separator=",",
            routes=(("gulf", 4), ("domestic", 4), ("scam", 2), ("inbound", 1), ("cross_border", 1)),
        ),
        "month",
        12,
        (6, 10),
        "nuru_routes_{year}.xlsx",
        fmt=FileFormat(kind="xlsx"),
        invalid=((0, 30, "unknown_country"), (1, 11, "unknown_carrier")),
    ),
    Profile(  # a Garissa CBO: yearly CSVs of quarters, no carrier or control columns
        _org("AMANI", "Amani Placeholder Alliance", "cbo", "007"),
        Style(
            period_spelling="{y} Q{n}",
            header_case="upper",
            columns=(
                "reporting_period",
                "origin_country",
                "origin_county",
                "transit_points",
                "destination_country",
                "destination_county",
                "exploitation_type",
                "transport_modes",
                "recruitment_methods",
                "cases_estimated",
                "female_cases",
                "male_cases",
                "child_cases",
            ),
            county=("padded", "name"),
            country=("alpha2", "alpha3", "common"),
            border=("name",),
            labels=("code",),
            separator=",",
            routes=(("inbound", 5), ("cross_border", 4), ("domestic", 3), ("gulf", 2)),
        ),
        "quarter",
        4,
        (10, 18),
        "amani_{year}.csv",
        invalid=((1, 9, "missing_value"),),
    ),
    Profile(  # a Kiambu outreach: quarters in yearly files, first a UTF-8 CSV then Excel's "Unicode text"
        _org("FARAJA", "Faraja Imaginary Outreach", "ngo", "022"),
        Style(
            period_spelling="{y}-Q{n}",
            county=("name",),
            country=("name", "alpha2"),
            airline=("iata", "icao"),
            airport=("iata", "icao"),
            labels=("label_en",),
            separator="; ",
            counts=("plain", "thousands"),
            routes=(("gulf", 8), ("domestic", 2), ("scam", 1)),
        ),
        "quarter",
        4,
        (15, 25),
        "faraja-{year}.csv",
        formats_by_year=((2025, FileFormat(encoding="utf-16", delimiter="\t")),),
        invalid=((0, 3, "unknown_carrier"), (1, 5, "inconsistent_counts")),
    ),
)

# Registered but never submitting: one active (the submission monitor lists it), one inactive.
SILENT_ORGANISATIONS = (
    _org("JAMII", "Jamii Sandbox Watch", "cbo", "045"),
    _org("BIDII", "Bidii Dummy Collective", "ngo", "037", active=False),
)
DEMO_ORGANISATIONS = tuple(p.organisation for p in DEMO_PROFILES) + SILENT_ORGANISATIONS


def _chunks(periods: list[Period], size: int) -> list[list[Period]]:
    """Consecutive periods of one year, `size` per file, aligned to the year (never crossing it)."""
    groups: dict[tuple[int, int], list[Period]] = {}
    for p in periods:
        groups.setdefault((p.year, (max(p.n, 1) - 1) // size), []).append(p)
    return [groups[k] for k in sorted(groups)]


def generate_inbox(
    inbox: Path,
    registry: Path,
    *,
    years: Sequence[int] = (2024, 2025),
    organisations: int = len(DEMO_PROFILES),
    seed: int = 20240601,
    today: date | None = None,
) -> DemoManifest:
    """Writes fictional submissions into `<inbox>/<organisation_code>/` and the registry CSV.

    `organisations` submitting organisations (all profiles by default) report over `years`; the
    registry also lists two organisations that never submit. Files are returned in delivery order, and
    their modification times follow it, so a correction comes after the file it corrects.
    """
    if not 1 <= organisations <= len(DEMO_PROFILES):
        raise ValueError(f"organisations must be 1-{len(DEMO_PROFILES)}")
    inbox, registry = Path(inbox), Path(registry)
    profiles = DEMO_PROFILES[:organisations]
    orgs = tuple(p.organisation for p in profiles) + SILENT_ORGANISATIONS
    write_registry(registry, orgs)
    manifest = DemoManifest(inbox=inbox, registry=registry, seed=seed, organisations=orgs)
    later: list[DemoFile] = []  # corrections and re-sends arrive after all regular files
    for profile in profiles:
        code = profile.organisation.code
        rng = random.Random(f"{seed}:{code}")
        chunks = _chunks(periods_of(profile.granularity, years, today), profile.periods_per_file)
        for index, chunk in enumerate(chunks):
            fmt = dict(profile.formats_by_year).get(chunk[0].year, profile.fmt)
            name = profile.file_name.format(first=chunk[0].code, last=chunk[-1].code, year=chunk[0].year)
            name = name.rsplit(".", 1)[0] + fmt.suffix
            path = inbox / code / name
            invalid = {row: kind for i, row, kind in profile.invalid if i == index}
            f = _write_chunk(path, rng, profile, chunk, fmt, invalid)
            manifest.files.append(f)
            if index == profile.correct_file:
                fix_rng = random.Random(f"{seed}:{code}:correction")
                fixed = _write_chunk(
                    path.with_name(path.stem + "_corrected" + path.suffix), fix_rng, profile, chunk, fmt, {}
                )
                fixed.corrects = path
                later.append(fixed)
            if index == profile.resend_file:
                copy = path.with_name(path.stem + "_resent" + path.suffix)
                shutil.copyfile(path, copy)
                later.append(replace(f, path=copy, rows=[], duplicate_of=path))
    manifest.files.extend(later)
    base = time.time() - 60 * len(manifest.files)
    for i, f in enumerate(manifest.files):
        os.utime(f.path, (base + 60 * i, base + 60 * i))
    return manifest


def _write_chunk(
    path: Path, rng: random.Random, profile: Profile, chunk: list[Period], fmt: FileFormat, invalid: Mapping[int, str]
) -> DemoFile:
    n = sum(rng.randint(*profile.rows_per_period) for _ in chunk)
    rows = iter_rows(
        rng, n, organisation_code=profile.organisation.code, periods=chunk, style=profile.style, invalid_rows=invalid
    )
    return write_submission(path, rows, organisation_code=profile.organisation.code, style=profile.style, fmt=fmt)
