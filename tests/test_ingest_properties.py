"""Property tests: the same valid rows, written in any supported dialect, encoding or format,
read back (`ingest.readers.open_table` + `ingest.prepare`) to the same normalised rows; and the
normalisers give one canonical value for every spelling the contract accepts."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import os
import tempfile
from pathlib import Path

import pycountry
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ingest_helpers import HEADER, SWAHILI, csv_bytes, xlsx_bytes

from ingest import normalise as n
from ingest.contract import code_list
from ingest.prepare import cells_by_column, map_header, normalise_row
from ingest.readers import open_table

# 40 examples keep the suite fast; NJIA_PROPERTY_EXAMPLES=1000 for a deeper search.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("NJIA_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- the spellings a CSO may use -----------------------------------------------------------------------

TODAY = dt.date.today()
YEARS = st.integers(2010, TODAY.year - 1)


@st.composite
def periods(draw) -> tuple[str, object]:
    """(text, typed XLSX cell) of a period in one of the contract's spellings."""
    year = draw(YEARS)
    kind = draw(st.sampled_from(["year", "quarter", "month"]))
    if kind == "year":
        return str(year), year
    if kind == "quarter":
        q = draw(st.integers(1, 4))
        text = draw(
            st.sampled_from(
                [
                    f"{year}-Q{q}",
                    f"{year} Q{q}",
                    f"Q{q} {year}",
                    f"{year}q{q}",
                    f"q{q} {year}",
                    f"{year}/Q{q}",
                    f"{year} - Q{q}",
                ]
            )
        )
        return text, text
    m = draw(st.integers(1, 12))
    text = draw(st.sampled_from([f"{year}-{m:02d}", f"{year}/{m:02d}", f"{year}-{m}", f"{year} / {m}"]))
    return text, dt.datetime(year, m, 1)  # Excel turns a typed month into its first day


def _county_spellings() -> list[str]:
    out = ["Nairobi\nCity", "Murang’a", "mombasa county"]
    for r in code_list("counties"):
        code = r["county_code"]
        out += [
            code,
            str(int(code)),
            r["county_name"],
            r["county_name"].upper(),
            *filter(None, r["aliases"].split("|")),
        ]
    return out


COUNTIES = _county_spellings()
AIRPORTS = [v for r in code_list("airports") for v in (r["iata_code"], r["icao_code"].lower())]
BORDERS = [v for r in code_list("border_points") for v in (r["border_point"], *filter(None, r["aliases"].split("|")))]
AIRLINES = [v for r in code_list("airlines") for v in (r["iata_code"], r["icao_code"], r["airline_name"])] + ["other"]
COUNTRIES = [
    "KE",
    "KEN",
    "Kenya",
    "UG",
    "Uganda",
    "TZ",
    "Tanzania",
    "Somaliland",
    "QA",
    "QAT",
    "Qatar",
    "UAE",
    "United Arab Emirates",
    "SA",
    "Saudi Arabia",
    "KSA",
    "Turkey",
    "TR",
    "Côte d’Ivoire",
    "oman",
    "LBN",
]


def _labels(seed: str) -> list[str]:
    return [v for r in code_list(seed) for v in (r["code"], r["label_en"], r["label_sw"])]


SEPARATORS = st.sampled_from([";", ",", "|", ", ", " ; ", " | "])


def lists(pool: list[str], max_size: int = 3):
    return st.tuples(st.lists(st.sampled_from(pool), max_size=max_size), SEPARATORS).map(lambda t: t[1].join(t[0]))


@st.composite
def counts(draw) -> tuple[dict[str, str], dict[str, object]]:
    """cases, female, male and child counts that add up, as text and as typed XLSX cells."""
    cases = draw(st.integers(1, 100_000))
    female = draw(st.none() | st.integers(0, cases))
    male = draw(st.none() | st.integers(0, cases - (female or 0)))
    child = draw(st.none() | st.integers(0, cases))
    text, typed = {}, {}
    for name, value in (
        ("cases_estimated", cases),
        ("female_cases", female),
        ("male_cases", male),
        ("child_cases", child),
    ):
        if value is None:
            text[name], typed[name] = "", None
            continue
        style = draw(st.sampled_from(["plain", "comma", "space", "decimal", "int", "float"]))
        text[name] = {
            "plain": str(value),
            "comma": f"{value:,}",
            "space": f"{value:,}".replace(",", " "),
            "decimal": f"{value}.0",
        }.get(style, str(value))
        typed[name] = {"int": value, "float": float(value)}.get(style, text[name])
    return text, typed


NOTES = st.text(alphabet=st.sampled_from(list("ab ,;|\t\"'\n\r-éô’€ā")), max_size=30)


@st.composite
def route_rows(draw) -> tuple[dict[str, str], dict[str, object]]:
    """One valid route row: (text cells, typed cells for XLSX), keyed by canonical column."""
    period_text, period_typed = draw(periods())
    count_text, count_typed = draw(counts())
    origin = draw(st.sampled_from(["", *COUNTRIES]))
    destination = draw(st.sampled_from(COUNTRIES))
    text = {
        "reporting_period": period_text,
        "origin_country": origin,
        "origin_county": draw(st.sampled_from(COUNTIES)),
        "transit_points": draw(lists(AIRPORTS + BORDERS + COUNTIES[:20] + COUNTRIES)),
        "destination_country": destination,
        "destination_county": draw(st.sampled_from(["", *COUNTIES])),
        "exploitation_type": draw(st.sampled_from(_labels("exploitation_types"))),
        "transport_modes": draw(lists(_labels("transport_modes"), 2)),
        "carriers": draw(lists(AIRLINES, 2)),
        "recruitment_methods": draw(lists(_labels("recruitment_methods"), 2)),
        "means_of_control": draw(lists(_labels("means_of_control"), 2)),
        **count_text,
        "notes": draw(NOTES),
    }
    typed: dict[str, object] = {**text, "reporting_period": period_typed, **count_typed}
    if text["origin_county"].isdigit() and draw(st.booleans()):
        typed["origin_county"] = int(text["origin_county"])
    return text, typed


@st.composite
def headers(draw) -> list[tuple[str, str]]:
    """(header text, canonical column) in any order, English or Swahili, in any case and spacing."""
    required = ["reporting_period", "destination_country", "exploitation_type", "cases_estimated"]
    optional = draw(st.lists(st.sampled_from([*(h for h in HEADER if h not in required), "notes"]), unique=True))
    columns = draw(st.permutations([*required, *optional]))
    out = []
    for col in columns:
        name = SWAHILI.get(col, col) if draw(st.booleans()) else col
        style = draw(st.sampled_from(["plain", "upper", "title", "padded"]))
        text = {"plain": name, "upper": name.upper(), "padded": f"  {name} ", "title": name.replace("_", " ").title()}[
            style
        ]
        out.append((text, col))
    return out


def _read_back(data: bytes, suffix: str) -> list[tuple[int, dict[str, object]]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "incoming-copy"  # as the pipeline's local copy: no suffix on disk
        path.write_bytes(data)
        with open_table(path, suffix) as table:
            hm = map_header(table.header)
            assert not hm.missing and not hm.duplicated and not hm.pii, hm
            assert hm.ignored == [h for h in map(str.strip, table.header) if h.lower() == "notes"]
            return [
                (number, normalise_row(cells_by_column(cells, hm), "ORG"))
                for number, cells in table.rows
                if any(c.strip() for c in cells)
            ]


def _expected(records: list[dict[str, str]], header: list[tuple[str, str]]) -> list[tuple[int, dict[str, object]]]:
    """The rows normalised straight from the values written (only the columns the header has)."""
    written = {col for _, col in header} - {"notes"}
    return [
        (i, normalise_row({k: v.strip() for k, v in r.items() if k in written}, "ORG"))
        for i, r in enumerate(records, start=2)
    ]


ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"])


@PROPERTY_SETTINGS
@given(
    table=st.tuples(headers(), st.lists(route_rows(), min_size=1, max_size=6)),
    delimiter=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    encoding=ENCODINGS,
)
def test_csv_in_any_dialect_and_encoding_reads_back_to_the_same_rows(table, delimiter, newline, quoting, encoding):
    header, generated = table
    records = [text for text, _ in generated]
    lines = [[h for h, _ in header], *([r[col] for _, col in header] for r in records)]
    try:
        data = csv_bytes(lines, delimiter=delimiter, newline=newline, quoting=quoting, encoding=encoding)
    except UnicodeEncodeError:
        assume(False)  # cp1252 only when every character is representable
    assert _read_back(data, ".csv") == _expected(records, header)


@PROPERTY_SETTINGS
@given(
    table=st.tuples(headers(), st.lists(route_rows(), min_size=1, max_size=6)),
    typed=st.booleans(),
    sheet=st.sampled_from(["routes", "first"]),
)
def test_xlsx_with_text_or_excel_typed_cells_reads_back_to_the_same_rows(table, typed, sheet):
    header, generated = table
    records = [text for text, _ in generated]
    cells = [[(t if typed else r)[col] for _, col in header] for r, t in generated]
    cells = [[c.replace("\r", "") if isinstance(c, str) else c for c in line] for line in cells]
    grid = [[h for h, _ in header], *cells]
    sheets = {"routes": grid} if sheet == "routes" else {"Sheet1": grid, "Notes": [["not", "this"]]}
    if sheet == "routes":
        sheets = {"Instructions": [["reporting_period", "decoy"], ["1999", "x"]], **sheets}
    assert _read_back(xlsx_bytes(sheets), ".xlsx") == _expected(records, header)


def test_bom_and_encodings_cover_the_contract() -> None:
    """UTF-16 as Python writes it starts with a BOM, which is what the reader recognises."""
    assert "x".encode("utf-16").startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


# --- the normalisers ------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(value=st.integers(1, 100_000), style=st.sampled_from(["plain", "comma", "space", "nbsp", "decimal", "pad"]))
def test_every_accepted_count_spelling_is_the_same_number(value, style):
    text = {
        "plain": str(value),
        "comma": f"{value:,}",
        "space": f"{value:,}".replace(",", " "),
        "nbsp": f"{value:,}".replace(",", "\u00a0"),
        "decimal": f"{value}.00",
        "pad": f"  {value} ",
    }[style]
    assert n.count(text) == value


@PROPERTY_SETTINGS
@given(year=st.integers(2010, 2099), q=st.integers(1, 4), m=st.integers(1, 12))
def test_every_period_spelling_has_one_canonical_code(year, q, m):
    quarter = {f"{year}-Q{q}", f"{year} Q{q}", f"Q{q} {year}", f"{year}q{q}", f"q{q}-{year}", f"{year}/q{q}"}
    month = {f"{year}-{m:02d}", f"{year}/{m}", f"{year} - {m:02d}", f"{year}/{m:02d}"}
    assert {n.period(t).code for t in quarter} == {f"{year}-Q{q}"}
    assert {n.period(t).code for t in month} == {f"{year}-{m:02d}"}
    assert n.period(str(year)).code == str(year)
    for code in (f"{year}-Q{q}", f"{year}-{m:02d}", str(year)):
        p = n.period(code)
        assert n.period(p.code) == p and p.start <= p.end and p.start.year == p.end.year == year


@PROPERTY_SETTINGS
@given(
    county=st.sampled_from(code_list("counties")),
    style=st.sampled_from(["code", "int", "two", "name", "upper", "suffix", "alias"]),
)
def test_every_county_spelling_is_its_code(county, style):
    code = county["county_code"]
    aliases = [a for a in county["aliases"].split("|") if a] or [county["county_name"]]
    text = {
        "code": code,
        "int": str(int(code)),
        "two": code[1:],
        "name": county["county_name"],
        "upper": county["county_name"].upper(),
        "suffix": f"{county['county_name']} County",
        "alias": aliases[0],
    }[style]
    assert n.county(text) == code
    # As a transit point it is the county, unless a border point has that name (Busia, Mandera...).
    assert n.transit_point(text) == f"county:{code}" or n.transit_point(text).startswith("border:")


@PROPERTY_SETTINGS
@given(country=st.sampled_from(list(pycountry.countries)), style=st.sampled_from(["a2", "a3", "name", "lower"]))
def test_every_country_code_and_iso_name_is_its_alpha2(country, style):
    text = {"a2": country.alpha_2, "a3": country.alpha_3.lower(), "name": country.name, "lower": country.name.lower()}[
        style
    ]
    assert n.country(text) == country.alpha_2


@PROPERTY_SETTINGS
@given(generated=route_rows(), pad=st.sampled_from(["", " ", "  "]), case=st.sampled_from(["lower", "upper", "same"]))
def test_normalised_rows_ignore_case_and_surrounding_spaces(generated, pad, case):
    text, _ = generated
    text = {k: v for k, v in text.items() if k != "notes"}
    changed = {k: pad + {"lower": v.lower(), "upper": v.upper(), "same": v}[case] + pad for k, v in text.items()}

    def strip(r: dict[str, str]) -> dict[str, str]:  # as cells_by_column does
        return {k: v.strip() for k, v in r.items()}

    assert normalise_row(strip(changed), "ORG") == normalise_row(strip(text), "ORG")
