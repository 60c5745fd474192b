"""The bad-input catalogue: what organisations really send, one named case each, through
`ingest.pipeline.ingest` on a real PostgreSQL, with GX validating the rows.

Every case states the status, the file-level reason or the row problems (row numbers as a spreadsheet shows
them: the header is row 1), and every processed file is checked against the contract's invariants by
`ingest_helpers.check_outcome`: rows read = loaded + quarantined, the ledger, raw rows, periods, quarantine,
archive and feedback agree with the outcome.

The cases share one warehouse (the module's), each with its own inbox and organisation codes, so the
expensive parts (the database, the GX context) are paid once. Identical bytes across cases would make the
later one a duplicate delivery, so the runner refuses them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import pytest
from ingest_helpers import (
    HEADER,
    SWAHILI,
    archive_entries,
    check_outcome,
    csv_bytes,
    grid,
    new_settings,
    next_year,
    query,
    raw_rows,
    read_feedback_csv,
    row,
    rows,
    scalar,
    sha256,
    write_file,
    write_registry,
    xlsx_bytes,
)

from ingest import validate
from ingest.pipeline import FileOutcome, ingest
from njia.settings import Settings

Problems = list[tuple[int, str | None, str]]

# GX 1.24 warns on every run that the suite's string row conditions go away in GX 2.0 (not this module's concern).
pytestmark = pytest.mark.filterwarnings("ignore:.*GX Core 2.0:DeprecationWarning")


@dataclass
class Expect:
    status: str
    reason: str | None = None
    problems: Problems | None = None  # exact list of (row, column, code) when given
    read: int | None = None
    loaded: int | None = None
    raw: dict[str, list[object]] | None = None  # raw column -> values of the loaded rows, by row number
    detail: str | None = None  # a substring of the outcome's detail


@dataclass
class Step:
    files: dict[str, bytes]  # "ORG/name.csv" (ORG, OTHER or GHOST are replaced by the case's codes)
    expect: dict[str, Expect]  # file name -> outcome; exactly these files are processed in the step


@dataclass
class Case:
    id: str
    steps: list[Step]
    settings: dict[str, object] = field(default_factory=dict)
    check: Callable[[Run], None] | None = None


@dataclass
class Run:
    settings: Settings
    inbox: Path
    org: str
    outcomes: list[dict[str, FileOutcome]]  # per step, by file name

    def one(self, name: str, step: int = -1) -> FileOutcome:
        return self.outcomes[step][name]


def csv_file(records: list[dict[str, str]], header=HEADER, **kw: object) -> bytes:
    return csv_bytes(grid(records, header), **kw)


def one_step(name: str, data: bytes, expect: Expect) -> list[Step]:
    return [Step({f"ORG/{name}": data}, {name: expect})]


def bad(n_valid: int, *bad_rows: dict[str, str], start: int = 1000) -> list[dict[str, str]]:
    """Bad rows first (rows 2, 3, ...), then n_valid distinct valid rows."""
    return [*bad_rows, *rows(n_valid, start=start)]


def case(id: str, name: str, data: bytes, expect: Expect, **kw: object) -> Case:
    return Case(id, one_step(name, data, expect), **kw)


# --- checks beyond the status ------------------------------------------------------------------------


def _no_personal_bytes(run: Run) -> None:
    for outcomes in run.outcomes:
        for o in outcomes.values():
            ledger = query(
                run.settings,
                "select header_names, archive_path from ops.submissions where submission_id = %s",
                (o.submission_id,),
            )[0]
            if o.reason == "pii_columns":
                assert ledger[1] is None
                assert o.header_names and list(ledger[0]) == o.header_names
                kept = [
                    p for p in run.settings.home_dir.rglob("*") if p.is_file() and sha256(p.read_bytes()) == o.sha256
                ]
                assert not kept, f"personal data kept under NJIA_HOME: {kept}"
            if o.status == "duplicate":
                assert o.sha256 not in archive_entries(run.settings), "duplicate of personal data archived"
            for path in o.feedback_files:
                text = Path(path).read_text(encoding="utf-8")
                assert "Wanjiru" not in text and "0722" not in text


def _pii_headers_recorded(*names: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        _no_personal_bytes(run)
        o = next(iter(run.outcomes[0].values()))
        assert set(names) <= set(o.header_names)
        assert all(n in (o.detail or "") for n in names)

    return check


def _formula_neutralised(run: Run) -> None:
    o = next(iter(run.outcomes[0].values()))
    lines = read_feedback_csv(o.feedback_files[0] if o.feedback_files[0].endswith(".csv") else o.feedback_files[1])
    values = [x["value"] for x in lines if x["item"] == "problem"] + [x["column"] for x in lines]
    assert '\'=HYPERLINK("http://evil.example/","click")' in values
    assert "'=1+2" in values
    assert not [v for v in values if v.startswith(("=", "+", "@"))]
    html = next(Path(p) for p in o.feedback_files if p.endswith(".html")).read_text(encoding="utf-8")
    assert "=HYPERLINK(&#34;http://evil.example/&#34;" in html or "=HYPERLINK(&quot;" in html


def _html_escaped(run: Run) -> None:
    o = next(iter(run.outcomes[0].values()))
    html = next(Path(p) for p in o.feedback_files if p.endswith(".html")).read_text(encoding="utf-8")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def _ignored(run: Run, columns: list[str]) -> None:
    o = next(iter(run.outcomes[0].values()))
    assert o.ignored_columns == columns
    lines = read_feedback_csv(next(p for p in o.feedback_files if p.endswith(".csv")))
    assert [x["column"] for x in lines if x["item"] == "ignored_column"] == columns


def _tables_intact(run: Run) -> None:
    o = next(iter(run.outcomes[0].values()))
    assert o.ignored_columns == ["'); drop table raw.route_reports; --"]
    assert scalar(run.settings, "select to_regclass('raw.route_reports') is not null")
    assert scalar(run.settings, "select to_regclass('ops.submissions') is not null")
    assert (
        scalar(run.settings, "select count(*) from raw.route_reports where submission_id = %s", (o.submission_id,)) == 2
    )


def _replaces(run: Run) -> None:
    first, second = run.one("a.csv", 0), run.one("b.csv", 1)
    periods = query(
        run.settings,
        "select submission_id, reporting_period from ops.submission_periods"
        " where organisation_code = %s order by submission_id",
        (run.org,),
    )
    assert periods == [(first.submission_id, "2020-Q1"), (second.submission_id, "2020-Q1")]
    assert len(raw_rows(run.settings, first.submission_id)) == 2  # history stays
    assert len(raw_rows(run.settings, second.submission_id)) == 3


def _new_delivery(run: Run) -> None:
    first, second = run.one("a.csv", 0), run.one("a.csv", 1)
    assert first.file == second.file and first.sha256 != second.sha256
    ledger = query(run.settings, "select status from ops.submissions where file_path = %s", (first.file,))
    assert sorted(s for (s,) in ledger) == ["accepted", "accepted"]
    assert set(first.feedback_files).isdisjoint(second.feedback_files)
    assert all(Path(p).exists() for p in [*first.feedback_files, *second.feedback_files])


def _duplicate(run: Run) -> None:
    first, dup = run.one("a.csv", 0), run.one("copy of a.csv", 1)
    assert dup.sha256 == first.sha256 and dup.duplicate_of == first.submission_id
    ledger = query(
        run.settings,
        "select status, duplicate_of from ops.submissions where organisation_code = %s order by submission_id",
        (run.org,),
    )
    assert ledger == [("accepted", None), ("duplicate", first.submission_id)]
    assert scalar(run.settings, "select count(*) from raw.route_reports where organisation_code = %s", (run.org,)) == 2
    feedback = sorted(p.name for p in (run.inbox / run.org / "feedback").iterdir())
    assert len(feedback) == 4  # two files, each reported once


def _nothing_again(run: Run) -> None:
    assert run.outcomes[1] == {}
    assert scalar(run.settings, "select count(*) from ops.submissions where organisation_code = %s", (run.org,)) == 1
    assert len(list((run.inbox / run.org / "feedback").iterdir())) == 2


# --- the catalogue -----------------------------------------------------------------------------------

NY = next_year()
SQL = "'); drop table raw.route_reports; --"
FORMULA = '=HYPERLINK("http://evil.example/","click")'
LONG_ROW = [*grid([row(cases_estimated=41)])[1], "extra", "cells"]
SHORT_ROW = grid([row(cases_estimated=42)])[1][:12]  # up to cases_estimated
SHORTER_ROW = grid([row(cases_estimated=43)])[1][:7]  # up to exploitation_type: no count
FULL_ROW = grid([row(cases_estimated=44)])[1]
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + bytes(range(256)) * 8
GARBAGE = random.Random(20240301).randbytes(6000)


def damaged_xlsx(member: str, mutate: Callable[[bytes], bytes], records: list[dict[str, str]]) -> bytes:
    """A workbook with one part damaged (as a broken download or a crashed save leaves it)."""
    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes({"routes": grid(records)})))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in good.namelist():
            data = good.read(name)
            z.writestr(name, mutate(data) if name == member else data)
    return out.getvalue()


# What people name files (colons come from Linux and macOS uploads; Windows forbids them).
UNUSUAL_NAMES = [
    "routes::2024.csv",
    "report #1.csv",
    "a[1] (copy).csv",
    "ripoti ya Murang’a.csv",
    "why?.csv",
    "50%.csv",
    "UPPER.CSV",
    "book.XLSX",
]

CASES: list[Case] = [
    # Encodings (docs/contract.md §1: UTF-8, UTF-8 with BOM, UTF-16 with BOM, Windows-1252).
    case(
        "utf8-bom",
        "bom.csv",
        csv_file(rows(2, start=101), encoding="utf-8-sig"),
        Expect("accepted", read=2, raw={"cases_estimated": [101, 102]}),
    ),
    case(
        "utf16-bom",
        "utf16.csv",
        csv_file(
            [row(origin_county="Murang’a", cases_estimated=111), row(origin_county="Kirinyaga")], encoding="utf-16"
        ),
        Expect("accepted", read=2, raw={"origin_county": ["021", "020"]}),
    ),
    case(
        "utf16-big-endian-bom",
        "utf16be.csv",
        b"\xfe\xff" + csv_file([row(origin_county="Murang’a", cases_estimated=116)], encoding="utf-16-be"),
        Expect("accepted", read=1, raw={"origin_county": ["021"]}),
    ),
    case(
        "cp1252-curly-apostrophe",
        "windows.csv",
        csv_file(
            [
                row(origin_county="Murang’a", cases_estimated=121),
                row(origin_county="Murang’a", destination_country="Côte d’Ivoire", cases_estimated=122),
            ],
            encoding="cp1252",
        ),
        Expect("accepted", read=2, raw={"origin_county": ["021", "021"], "destination_country": ["QA", "CI"]}),
    ),
    # Dialects: delimiters, line endings, quoting.
    case(
        "semicolon-delimiter",
        "semi.csv",
        csv_file(
            [
                row(carriers="KQ,QR", cases_estimated=131),
                row(transit_points="NBO;DOH", cases_estimated=132),
                row(cases_estimated="1,200", female_cases="", male_cases=""),
            ],
            delimiter=";",
        ),
        Expect(
            "accepted",
            read=3,
            raw={
                "carriers": ["KQ;QR"] * 3,
                "transit_points": ["airport:NBO;airport:DOH"] * 3,
                "cases_estimated": [131, 132, 1200],
            },
        ),
    ),
    case(
        "tab-delimiter",
        "tabs.tsv.csv",
        csv_file([row(carriers="KQ, QR", cases_estimated=141), row(origin_county="Taita Taveta")], delimiter="\t"),
        Expect("accepted", read=2, raw={"origin_county": ["047", "006"], "carriers": ["KQ;QR", "KQ;QR"]}),
    ),
    case(
        "crlf-line-endings",
        "crlf.csv",
        csv_file(rows(3, start=151), newline="\r\n"),
        Expect("accepted", read=3, raw={"cases_estimated": [151, 152, 153]}),
    ),
    case(
        "lone-cr-line-endings",
        "mac.csv",
        csv_file([*rows(1, start=161), row(origin_county="Narnia"), *rows(1, start=163)], newline="\r"),
        Expect("accepted_with_errors", problems=[(3, "origin_county", "unknown_county")], read=3, loaded=2),
    ),
    case(
        "quote-all-cells", "quoted.csv", csv_file(rows(2, start=171), quoting=csv.QUOTE_ALL), Expect("accepted", read=2)
    ),
    # A row with cells beyond the header is set aside (extra_cells); a row short by more than one cell is read
    # with its last cells empty (docs/csv-dialects.md).
    case(
        "ragged-rows",
        "ragged.csv",
        csv_bytes([list(HEADER), LONG_ROW, SHORT_ROW, SHORTER_ROW, FULL_ROW]),
        Expect(
            "accepted_with_errors",
            problems=[(2, None, "extra_cells"), (4, "cases_estimated", "missing_value")],
            read=4,
            loaded=2,
            raw={"cases_estimated": [42, 44], "female_cases": [None, 25]},
        ),
    ),
    case(
        "quoted-newlines",
        "newlines.csv",
        csv_file(
            [
                row(origin_county="Nairobi\nCity", cases_estimated=181, notes="line one\nline two\r\nthree"),
                row(notes='she said "wait",\nthen left', cases_estimated=182),
                row(origin_county="Narnia", notes="x"),
            ],
            header=(*HEADER, "notes"),
        ),
        Expect(
            "accepted_with_errors",
            problems=[(4, "origin_county", "unknown_county")],
            loaded=2,
            raw={"origin_county": ["047", "047"]},
        ),
    ),
    case(
        "blank-lines-keep-row-numbers",
        "gaps.csv",
        csv_bytes(
            [
                list(HEADER),
                grid([row(cases_estimated=191)])[1],
                [],
                [""] * 15,
                grid([row(origin_county="Narnia")])[1],
                grid([row(cases_estimated=193)])[1],
            ]
        ),
        Expect(
            "accepted_with_errors",
            problems=[(5, "origin_county", "unknown_county")],
            read=3,
            loaded=2,
            raw={"row_number": [2, 6]},
        ),
    ),
    # Empty and unreadable files.
    case("header-only", "header.csv", csv_bytes([list(HEADER)]), Expect("rejected", "empty_file", read=0)),
    case("empty-0-bytes", "empty.csv", b"", Expect("rejected", "empty_file", read=0)),
    case(
        "header-then-blank-lines",
        "blanks.csv",
        csv_bytes([list(HEADER), [], [" "] * 15, []]),
        Expect("rejected", "empty_file", read=0),
    ),
    case("binary-garbage", "garbage.csv", GARBAGE, Expect("rejected", "unreadable_file", read=0)),
    case("pdf-named-csv", "report.csv", PDF, Expect("rejected", "unreadable_file")),
    case(
        "xlsx-saved-as-csv",
        "book.csv",
        xlsx_bytes({"routes": grid(rows(1, start=201))}),
        Expect("rejected", "unreadable_file"),
    ),
    case("csv-named-xlsx", "table.xlsx", csv_file(rows(1, start=211)), Expect("rejected", "unreadable_file")),
    case("docx-file", "routes.docx", b"PK\x03\x04 a word document", Expect("rejected", "unsupported_file_type")),
    case("no-extension", "routes", csv_file(rows(1, start=221)), Expect("rejected", "unsupported_file_type")),
    case(
        "file-too-large",
        "big.csv",
        csv_file(rows(5, start=231)),
        Expect("rejected", "file_too_large"),
        settings={"max_file_bytes": 300},
    ),
    # XLSX.
    case(
        "xlsx-decoy-first-sheet-and-routes-sheet",
        "book.xlsx",
        xlsx_bytes(
            {
                "Instructions": [["How to fill in"], *grid([row(origin_county="Narnia")])],
                "Routes": grid(rows(2, start=241)),
            }
        ),
        Expect("accepted", read=2, raw={"cases_estimated": [241, 242]}),
    ),
    case(
        "xlsx-first-sheet-without-routes-sheet",
        "sheet1.xlsx",
        xlsx_bytes({"Sheet1": grid(rows(2, start=251)), "Notes": [["nothing", "here"]]}),
        Expect("accepted", read=2, raw={"cases_estimated": [251, 252]}),
    ),
    case(
        "xlsx-excel-stored-numbers-and-dates",
        "typed.xlsx",
        xlsx_bytes(
            {
                "routes": [
                    list(HEADER),
                    [
                        dt.datetime(2024, 3, 1),
                        "KE",
                        47,
                        "NBO",
                        "QA",
                        None,
                        "forced_labour",
                        None,
                        "KQ",
                        None,
                        None,
                        12.0,
                        5,
                        7.0,
                        0,
                    ],
                    [
                        2023,
                        "KE",
                        1.0,
                        None,
                        "KE",
                        "047",
                        "child_labour",
                        "road",
                        None,
                        None,
                        None,
                        100000,
                        0.0,
                        None,
                        3,
                    ],
                    [
                        dt.date(2022, 4, 1),
                        "KE",
                        "Nairobi",
                        None,
                        "SA",
                        None,
                        "forced_labour",
                        None,
                        None,
                        None,
                        None,
                        "1,200",
                        None,
                        None,
                        None,
                    ],
                ]
            }
        ),
        Expect(
            "accepted",
            read=3,
            raw={
                "reporting_period": ["2024-03", "2023", "2022-04"],
                "cases_estimated": [12, 100000, 1200],
                "male_cases": [7, None, None],
                "origin_county": ["047", "001", "047"],
                "female_cases": [5, 0, None],
            },
        ),
    ),
    case(
        "xlsx-blank-rows-above-header",
        "offset.xlsx",
        xlsx_bytes({"routes": [[], [], *grid([row(cases_estimated=261), row(origin_county="Narnia")])]}),
        Expect(
            "accepted_with_errors", problems=[(5, "origin_county", "unknown_county")], loaded=1, raw={"row_number": [4]}
        ),
    ),
    case(
        "xlsx-truncated-sheet-xml",
        "cut.xlsx",
        damaged_xlsx("xl/worksheets/sheet1.xml", lambda d: d[: len(d) * 2 // 3], rows(40, start=271)),
        Expect("rejected", "unreadable_file", read=0, loaded=0),
    ),
    case(
        "xlsx-broken-styles-part",
        "styles.xlsx",
        damaged_xlsx("xl/styles.xml", lambda d: b"<styleSheet", rows(2, start=275)),
        Expect("rejected", "unreadable_file"),
    ),
    # Headers.
    case(
        "duplicate-headers-english",
        "dup.csv",
        csv_file(rows(2, start=271), header=(*HEADER, "cases_estimated")),
        Expect("rejected", "duplicate_columns", detail="cases_estimated"),
    ),
    case(
        "duplicate-headers-english-and-swahili",
        "dupsw.csv",
        csv_file(rows(2, start=281), header=(*HEADER, "idadi_ya_visa=cases_estimated")),
        Expect("rejected", "duplicate_columns", detail="idadi_ya_visa"),
    ),
    case(
        "missing-required-column",
        "missing.csv",
        csv_file(rows(2, start=291), header=[h for h in HEADER if h != "exploitation_type"]),
        Expect("rejected", "missing_columns", detail="exploitation_type"),
    ),
    case(
        "swahili-headers",
        "kiswahili.csv",
        csv_file(
            [row(exploitation_type="Kazi ya kulazimishwa", cases_estimated=301)],
            header=[f"{SWAHILI[h]}={h}" for h in HEADER],
        ),
        Expect("accepted", read=1, raw={"exploitation_type": ["forced_labour"], "origin_county": ["047"]}),
    ),
    case(
        "header-spelling-variants",
        "spelling.csv",
        csv_file(
            rows(1, start=311),
            header=[
                " Reporting Period =reporting_period",
                "ORIGIN-COUNTRY=origin_country",
                "Kaunti ya Asili=origin_county",
                *[h for h in HEADER if h not in ("reporting_period", "origin_country", "origin_county")],
            ],
        ),
        Expect("accepted", read=1),
    ),
    # Code styles (docs/contract.md §2.3).
    case(
        "county-code-styles",
        "counties.csv",
        csv_file(
            [
                row(
                    origin_county=c,
                    destination_country="KE",
                    destination_county=d,
                    cases_estimated=321 + i,
                    female_cases="",
                    male_cases="",
                    transit_points="",
                    carriers="",
                )
                for i, (c, d) in enumerate(
                    [
                        ("1", "47"),
                        ("001", "047"),
                        ("01", "Nairobi City"),
                        ("Mombasa", "nairobi"),
                        ("MOMBASA COUNTY", "Kiambu county"),
                        ("Muranga", "Murang'a"),
                        ("Taita Taveta", "Taita-Taveta"),
                        ("Tharaka", "Homabay"),
                    ]
                )
            ]
        ),
        Expect(
            "accepted",
            read=8,
            raw={
                "origin_county": ["001", "001", "001", "001", "001", "021", "006", "013"],
                "destination_county": ["047", "047", "047", "047", "022", "021", "006", "043"],
            },
        ),
    ),
    case(
        "country-styles",
        "countries.csv",
        csv_file(
            [
                row(
                    origin_country=o,
                    origin_county="Nairobi" if o in ("", "KE", "KEN", "Kenya") else "",
                    destination_country=d,
                    cases_estimated=331 + i,
                )
                for i, (o, d) in enumerate(
                    [
                        ("KE", "QA"),
                        ("KEN", "QAT"),
                        ("Kenya", "Qatar"),
                        ("", "UAE"),
                        ("UG", "United Arab Emirates"),
                        ("UGA", "Somaliland"),
                        ("Uganda", "Turkey"),
                        ("ethiopia", "Tanzania"),
                        ("", "saudi arabia"),
                        ("", "KSA"),
                    ]
                )
            ]
        ),
        Expect(
            "accepted",
            read=10,
            raw={
                "origin_country": ["KE", "KE", "KE", "KE", "UG", "UG", "UG", "ET", "KE", "KE"],
                "destination_country": ["QA", "QA", "QA", "AE", "AE", "SO", "TR", "TZ", "SA", "SA"],
                "origin_county": ["047"] * 4 + [None] * 4 + ["047"] * 2,
            },
        ),
    ),
    case(
        "airport-and-border-styles",
        "transit.csv",
        csv_file(
            [
                row(transit_points=t, cases_estimated=341 + i)
                for i, t in enumerate(
                    [
                        "NBO;DOH",
                        "HKJK;OTHH",
                        "Sirari",
                        "Holili|Namanga",
                        "Lungalunga",
                        "Busia",
                        "Nairobi, Uganda",
                        "Lokichoggio;JRO",
                    ]
                )
            ]
        ),
        Expect(
            "accepted",
            read=8,
            raw={
                "transit_points": [
                    "airport:NBO;airport:DOH",
                    "airport:NBO;airport:DOH",
                    "border:Isebania",
                    "border:Taveta;border:Namanga",
                    "border:Lunga Lunga",
                    "border:Busia",
                    "county:047;country:UG",
                    "border:Lokichogio;airport:JRO",
                ]
            },
        ),
    ),
    case(
        "airline-styles",
        "airlines.csv",
        csv_file(
            [
                row(carriers=c, cases_estimated=351 + i)
                for i, c in enumerate(
                    [
                        "KQ",
                        "KQA",
                        "Kenya Airways",
                        "emirates",
                        "UAE",
                        "other",
                        "Qatar Airways|ET",
                        "kq; kqa; Kenya Airways",
                    ]
                )
            ]
        ),
        Expect("accepted", read=8, raw={"carriers": ["KQ", "KQ", "KQ", "EK", "EK", "other", "QR;ET", "KQ"]}),
    ),
    case(
        "labels-english-and-swahili",
        "labels.csv",
        csv_file(
            [
                row(
                    exploitation_type=e,
                    recruitment_methods=r,
                    means_of_control=m,
                    transport_modes=t,
                    carriers="",
                    cases_estimated=361 + i,
                )
                for i, (e, r, m, t) in enumerate(
                    [
                        ("Forced labour", "Online social networks", "Debt bondage", "Road"),
                        ("Kazi ya kulazimishwa", "Mitandao ya kijamii", "Utumwa wa madeni", "Barabara"),
                        ("forced labour", "social media", "debt_bondage", "road"),
                        (
                            "Utumwa wa kazi za nyumbani",
                            "Kupitia familia;Wakala wa ajira aliyesajiliwa",
                            "Kunyang’anywa pasipoti au kitambulisho",
                            "Ndege; Kwa miguu",
                        ),
                    ]
                )
            ]
        ),
        Expect(
            "accepted",
            read=4,
            raw={
                "exploitation_type": ["forced_labour"] * 3 + ["domestic_servitude"],
                "recruitment_methods": ["social_media"] * 3 + ["family;registered_agency"],
                "means_of_control": ["debt_bondage"] * 3 + ["withholds_documents"],
                "transport_modes": ["road", "road", "road", "air;on_foot"],
            },
        ),
    ),
    case(
        "carriers-imply-air",
        "air.csv",
        csv_file(
            [
                row(transport_modes="road", carriers="KQ", cases_estimated=371),
                row(transport_modes="", carriers="ET", cases_estimated=372),
                row(transport_modes="road", carriers="", cases_estimated=373),
            ]
        ),
        Expect("accepted", raw={"transport_modes": ["road;air", "air", "road"]}),
    ),
    case(
        "list-separators",
        "lists.csv",
        csv_file(
            [
                row(carriers="KQ|QR", recruitment_methods="family|social_media", cases_estimated=381),
                row(carriers="KQ, QR", recruitment_methods="family, social_media", cases_estimated=382),
                row(carriers=" KQ ;; QR ", recruitment_methods="family;social_media;family", cases_estimated=383),
            ]
        ),
        Expect("accepted", raw={"carriers": ["KQ;QR"] * 3, "recruitment_methods": ["family;social_media"] * 3}),
    ),
    case(
        "foreign-origin-ignores-county",
        "foreign.csv",
        csv_file([row(origin_country="UG", origin_county="Busia", cases_estimated=391)]),
        Expect("accepted", raw={"origin_country": ["UG"], "origin_county": [None]}),
    ),
    # Counts.
    case(
        "thousands-separators",
        "thousands.csv",
        csv_file(
            [
                row(cases_estimated="1,200", female_cases="1 000", male_cases="200", exploitation_type="forced_labour"),
                row(cases_estimated="1 200", female_cases="", male_cases="", exploitation_type="child_labour"),
                row(cases_estimated="100,000", female_cases="", male_cases="", exploitation_type="forced_begging"),
                row(cases_estimated="2\u00a0500", female_cases="", male_cases="", exploitation_type="other"),
            ]
        ),
        Expect(
            "accepted",
            read=4,
            raw={"cases_estimated": [1200, 1200, 100000, 2500], "female_cases": [1000, None, None, None]},
        ),
    ),
    case(
        "whole-numbers-written-as-decimals",
        "decimals.csv",
        csv_file(
            [
                row(cases_estimated="12.0", female_cases="5.0", male_cases="7.00", child_cases="0.0"),
                row(cases_estimated="13.00", female_cases="", male_cases="", child_cases=""),
            ]
        ),
        Expect("accepted", raw={"cases_estimated": [12, 13], "female_cases": [5, None], "male_cases": [7, None]}),
    ),
    case(
        "invalid-counts",
        "counts.csv",
        csv_file(
            bad(
                7,
                row(cases_estimated="12.5", female_cases="", male_cases=""),
                row(cases_estimated="-1", female_cases="", male_cases=""),
                row(cases_estimated="0", female_cases="", male_cases=""),
                row(cases_estimated="100001", female_cases="", male_cases=""),
                row(cases_estimated="twelve", female_cases="", male_cases=""),
                row(female_cases="-1", cases_estimated=401),
                row(child_cases="2.5", cases_estimated=402),
            )
        ),
        Expect(
            "accepted_with_errors",
            read=14,
            loaded=7,
            problems=[
                (2, "cases_estimated", "invalid_count"),
                (3, "cases_estimated", "invalid_count"),
                (4, "cases_estimated", "invalid_count"),
                (5, "cases_estimated", "invalid_count"),
                (6, "cases_estimated", "invalid_count"),
                (7, "female_cases", "invalid_count"),
                (8, "child_cases", "invalid_count"),
            ],
        ),
    ),
    # `1.000` may be a European thousand: never silently read as 1.
    case(
        "ambiguous-decimal-count",
        "ambiguous.csv",
        csv_file(bad(1, row(cases_estimated="1.000", female_cases="", male_cases=""))),
        Expect("accepted_with_errors", loaded=1, problems=[(2, "cases_estimated", "invalid_count")]),
    ),
    case(
        "inconsistent-counts",
        "inconsistent.csv",
        csv_file(
            bad(
                2,
                row(cases_estimated=30, female_cases=20, male_cases=15),
                row(cases_estimated=30, female_cases="", male_cases="", child_cases=31),
            )
        ),
        Expect(
            "accepted_with_errors",
            loaded=2,
            problems=[(2, "male_cases", "inconsistent_counts"), (3, "child_cases", "inconsistent_counts")],
        ),
    ),
    # Periods.
    case(
        "future-period",
        "future.csv",
        csv_file(bad(2, row(reporting_period=f"{NY}-06"))),
        Expect("accepted_with_errors", loaded=2, problems=[(2, "reporting_period", "future_period")]),
    ),
    case(
        "pre-2010-period",
        "old.csv",
        csv_file(
            bad(3, row(reporting_period="2009"), row(reporting_period="2009-Q4"), row(reporting_period="2009-12"))
        ),
        Expect(
            "accepted_with_errors",
            loaded=3,
            problems=[
                (2, "reporting_period", "invalid_period"),
                (3, "reporting_period", "invalid_period"),
                (4, "reporting_period", "invalid_period"),
            ],
        ),
    ),
    case(
        "invalid-period-spellings",
        "periods_bad.csv",
        csv_file(bad(4, *(row(reporting_period=p) for p in ("2020-13", "2020-Q5", "March 2020", "20-Q1")))),
        Expect(
            "accepted_with_errors", loaded=4, problems=[(r, "reporting_period", "invalid_period") for r in range(2, 6)]
        ),
    ),
    case(
        "every-period-spelling",
        "periods.csv",
        csv_file(
            [
                row(reporting_period=p, cases_estimated=411 + i)
                for i, p in enumerate(
                    [
                        "2011",
                        "2012-Q2",
                        "2013 Q3",
                        "Q4 2014",
                        "2015-05",
                        "2016/06",
                        "2017-7",
                        "q1 2018",
                        "2019q2",
                        "2019 - Q3",
                        "2020-q4",
                    ]
                )
            ]
        ),
        Expect(
            "accepted",
            read=11,
            raw={
                "reporting_period": [
                    "2011",
                    "2012-Q2",
                    "2013-Q3",
                    "2014-Q4",
                    "2015-05",
                    "2016-06",
                    "2017-07",
                    "2018-Q1",
                    "2019-Q2",
                    "2019-Q3",
                    "2020-Q4",
                ]
            },
        ),
    ),
    case(
        "overlapping-periods-inside-one-file",
        "overlap.csv",
        csv_file([row(reporting_period="2020", cases_estimated=421), row(reporting_period="2020-Q1")]),
        Expect("rejected", "period_overlap", read=2, loaded=0),
    ),
    Case(
        "overlap-with-accepted-period",
        [
            Step(
                {"ORG/a.csv": csv_file([row(reporting_period="2020", cases_estimated=431)])},
                {"a.csv": Expect("accepted")},
            ),
            Step(
                {"ORG/b.csv": csv_file([row(reporting_period="2020-Q1", cases_estimated=432)])},
                {"b.csv": Expect("rejected", "period_overlap", read=1, loaded=0)},
            ),
        ],
    ),
    Case(
        "overlap-with-accepted-month",
        [
            Step(
                {"ORG/a.csv": csv_file([row(reporting_period="2021-03", cases_estimated=441)])},
                {"a.csv": Expect("accepted")},
            ),
            Step(
                {"ORG/b.csv": csv_file([row(reporting_period="2021", cases_estimated=442)])},
                {"b.csv": Expect("rejected", "period_overlap")},
            ),
        ],
    ),
    Case(
        "equal-period-later-replaces",
        [
            Step({"ORG/a.csv": csv_file(rows(2, start=451))}, {"a.csv": Expect("accepted", loaded=2)}),
            Step({"ORG/b.csv": csv_file(rows(3, start=461))}, {"b.csv": Expect("accepted", loaded=3)}),
        ],
        check=_replaces,
    ),
    # Deliveries.
    Case(
        "new-bytes-under-an-old-name",
        [
            Step(
                {"ORG/a.csv": csv_file(rows(1, start=471, reporting_period="2020-Q2"))}, {"a.csv": Expect("accepted")}
            ),
            Step(
                {"ORG/a.csv": csv_file(rows(2, start=481, reporting_period="2020-Q2"))},
                {"a.csv": Expect("accepted", loaded=2)},
            ),
        ],
        check=_new_delivery,
    ),
    Case(
        "duplicate-delivery-other-name-then-rerun",
        [
            Step({"ORG/a.csv": csv_file(rows(2, start=491))}, {"a.csv": Expect("accepted")}),
            Step(
                {"ORG/copy of a.csv": csv_file(rows(2, start=491))},
                {"copy of a.csv": Expect("duplicate", read=0, loaded=0)},
            ),
            Step({}, {}),
        ],
        check=_duplicate,
    ),
    Case(
        "rerun-of-same-path-processes-nothing",
        [
            Step(
                {"ORG/a.csv": csv_file([row(origin_county="Narnia"), *rows(1, start=501)])},
                {"a.csv": Expect("accepted_with_errors")},
            ),
            Step({}, {}),
        ],
        check=_nothing_again,
    ),
    Case(
        "duplicate-bytes-in-one-run",
        [
            Step(
                {"ORG/one.csv": csv_file(rows(1, start=511)), "ORG/two.csv": csv_file(rows(1, start=511))},
                {"one.csv": Expect("accepted"), "two.csv": Expect("duplicate")},
            )
        ],
    ),
    Case(
        "hidden-lock-and-feedback-files-skipped",
        [
            Step(
                {
                    "ORG/~$routes.xlsx": b"lock",
                    "ORG/.routes.csv": csv_file(rows(1, start=521)),
                    "ORG/feedback/old.csv": csv_file(rows(1, start=522)),
                    "ORG/real.csv": csv_file(rows(1, start=523)),
                },
                {"real.csv": Expect("accepted")},
            )
        ],
    ),
    Case(
        "unusual-file-names",
        [
            Step(
                {
                    f"ORG/{name}": (
                        xlsx_bytes({"routes": grid(rows(1, start=700 + i, reporting_period=str(2011 + i)))})
                        if name.endswith("XLSX")
                        else csv_file(rows(1, start=700 + i, reporting_period=str(2011 + i)))
                    )
                    for i, name in enumerate(UNUSUAL_NAMES)
                },
                {name: Expect("accepted", read=1) for name in UNUSUAL_NAMES},
            )
        ],
    ),
    # Organisations.
    case(
        "organisation-mismatch",
        "theirs.csv",
        csv_file([row(organisation="SOMEONE_ELSE", cases_estimated=531)], header=(*HEADER, "organisation")),
        Expect("rejected", "organisation_mismatch", read=1),
    ),
    case(
        "organisation-column-matches-folder",
        "ours.csv",
        csv_file([row(organisation="@org@", cases_estimated=541)], header=(*HEADER, "shirika=organisation")),
        Expect("accepted"),
    ),
    Case(
        "unknown-organisation",
        [
            Step(
                {"GHOST/ghost.csv": csv_file(rows(1, start=551))},
                {"ghost.csv": Expect("rejected", "unknown_organisation")},
            )
        ],
    ),
    # Personal data (docs/contract.md §2.4): rejected and not kept.
    case(
        "pii-victim-name",
        "names.csv",
        csv_file([row(victim_name="Wanjiru Kamau", cases_estimated=561)], header=(*HEADER, "victim_name")),
        Expect("rejected", "pii_columns", read=0),
        check=_pii_headers_recorded("victim_name"),
    ),
    case(
        "pii-simu",
        "simu.csv",
        csv_file([row(simu="0722 000 111", cases_estimated=562)], header=(*HEADER, "Simu")),
        Expect("rejected", "pii_columns"),
        check=_pii_headers_recorded("Simu"),
    ),
    case(
        "pii-mwathiriwa-jina-swahili-file",
        "jina.csv",
        csv_file(
            [row(jina="Wanjiru", cases_estimated=563)],
            header=[*(f"{SWAHILI[h]}={h}" for h in HEADER), "Mwathiriwa Jina=jina"],
        ),
        Expect("rejected", "pii_columns"),
        check=_pii_headers_recorded("Mwathiriwa Jina"),
    ),
    case(
        "pii-in-xlsx",
        "names.xlsx",
        xlsx_bytes(
            {"routes": grid([row(phone="0722 123 456", cases_estimated=564)], header=(*HEADER, "Phone Number=phone"))}
        ),
        Expect("rejected", "pii_columns"),
        check=_pii_headers_recorded("Phone Number"),
    ),
    Case(
        "pii-delivered-twice-is-never-kept",
        [
            Step(
                {
                    "ORG/names.csv": csv_file(
                        [row(survivor_dob="2001-01-01", cases_estimated=565)], header=(*HEADER, "survivor_dob")
                    )
                },
                {"names.csv": Expect("rejected", "pii_columns")},
            ),
            Step(
                {
                    "ORG/names again.csv": csv_file(
                        [row(survivor_dob="2001-01-01", cases_estimated=565)], header=(*HEADER, "survivor_dob")
                    )
                },
                {"names again.csv": Expect("duplicate")},
            ),
        ],
        check=_no_personal_bytes,
    ),
    case(
        "not-personal-data-lookalikes",
        "lookalikes.csv",
        csv_file(
            [row(organisation_name="Fictional Trust", airline_name="Kenya Airways", cases_estimated=571)],
            header=(*HEADER, "organisation_name", "Airline Name=airline_name"),
        ),
        Expect("accepted"),
        check=lambda run: _ignored(run, ["organisation_name", "Airline Name"]),
    ),
    # A contact-looking value in any cell, a contract column included, is personal data: the file is refused
    # and its bytes are not kept (docs/contract.md §2.4).
    case(
        "phone-number-in-coded-cell",
        "phone.csv",
        csv_file(
            bad(2, row(origin_county="+254 722 345 678"), row(destination_country="0722345678", cases_estimated=581))
        ),
        Expect("rejected", "pii_columns"),
        check=_no_personal_bytes,
    ),
    case(
        "email-in-coded-cell",
        "email.csv",
        csv_file(bad(1, row(carriers="wanjiru@example.org"))),
        Expect("rejected", "pii_columns"),
        check=_no_personal_bytes,
    ),
    # Hostile cells.
    case(
        "formula-in-cell",
        "formula.csv",
        csv_file(bad(1, row(exploitation_type=FORMULA, formula="x")), header=(*HEADER, "=1+2=formula")),
        Expect("accepted_with_errors", problems=[(2, "exploitation_type", "unknown_exploitation_type")]),
        check=_formula_neutralised,
    ),
    case(
        "sql-in-header-and-cell",
        "sql.csv",
        csv_file(bad(2, row(destination_country=SQL, sql=SQL)), header=(*HEADER, f"{SQL}=sql")),
        Expect("accepted_with_errors", problems=[(2, "destination_country", "unknown_country")]),
        check=_tables_intact,
    ),
    case(
        "html-in-header-and-cell",
        "html.csv",
        csv_file(
            bad(1, row(carriers="<script>alert(1)</script>", html="<b>x</b>")),
            header=(*HEADER, "<img src=x onerror=alert(1)>=html"),
        ),
        Expect("accepted_with_errors", problems=[(2, "carriers", "unknown_carrier")]),
        check=_html_escaped,
    ),
    # Row rules and the invalid share.
    case(
        "too-many-invalid-rows",
        "mostly_bad.csv",
        csv_file(
            bad(2, row(origin_county="Narnia"), row(destination_country="Atlantis"), row(exploitation_type="magic"))
        ),
        Expect(
            "rejected",
            "too_many_invalid_rows",
            read=5,
            loaded=0,
            problems=[
                (2, "origin_county", "unknown_county"),
                (3, "destination_country", "unknown_country"),
                (4, "exploitation_type", "unknown_exploitation_type"),
            ],
        ),
    ),
    case(
        "exactly-half-invalid",
        "half_bad.csv",
        csv_file(bad(2, row(origin_county="Narnia"), row(destination_country="Atlantis"))),
        Expect(
            "accepted_with_errors",
            read=4,
            loaded=2,
            problems=[(2, "origin_county", "unknown_county"), (3, "destination_country", "unknown_country")],
        ),
    ),
    case(
        "configured-invalid-share",
        "strict.csv",
        csv_file(bad(3, row(origin_county="Narnia"), start=2000)),
        Expect("rejected", "too_many_invalid_rows", read=4, problems=[(2, "origin_county", "unknown_county")]),
        settings={"max_invalid_share": 0.2},
    ),
    case(
        "duplicate-rows",
        "dups.csv",
        csv_file(
            [
                row(cases_estimated=601),
                row(cases_estimated=602),
                row(origin_county="047", cases_estimated=601),
                row(origin_county="nairobi city", cases_estimated=601, carriers="KQA|QTR"),
                row(cases_estimated=603),
            ]
        ),
        Expect(
            "accepted_with_errors",
            read=5,
            loaded=3,
            problems=[(4, None, "duplicate_row"), (5, None, "duplicate_row")],
            raw={"row_number": [2, 3, 6]},
        ),
    ),
    case(
        "county-required",
        "county.csv",
        csv_file(
            bad(2, row(origin_county=""), row(destination_country="Kenya", destination_county="", cases_estimated=611))
        ),
        Expect(
            "accepted_with_errors",
            problems=[(2, "origin_county", "county_required"), (3, "destination_county", "county_required")],
        ),
    ),
    case(
        "unknown-codes",
        "unknown.csv",
        csv_file(
            bad(
                8,
                row(transit_points="NBO;Narnia"),
                row(carriers="ZZ"),
                row(recruitment_methods="magic"),
                row(means_of_control="spell"),
                row(transport_modes="teleport"),
                row(exploitation_type="unknown"),
                row(origin_country="Atlantis"),
                row(destination_country="KE", destination_county="Gotham"),
            )
        ),
        Expect(
            "accepted_with_errors",
            loaded=8,
            problems=[
                (2, "transit_points", "unknown_transit_point"),
                (3, "carriers", "unknown_carrier"),
                (4, "recruitment_methods", "unknown_recruitment_method"),
                (5, "means_of_control", "unknown_means_of_control"),
                (6, "transport_modes", "unknown_transport_mode"),
                (7, "exploitation_type", "unknown_exploitation_type"),
                (8, "origin_country", "unknown_country"),
                (9, "destination_county", "unknown_county"),
            ],
        ),
    ),
    case(
        "missing-values",
        "empty_cells.csv",
        csv_file(
            bad(
                4,
                row(reporting_period=""),
                row(destination_country=" "),
                row(exploitation_type=""),
                row(cases_estimated="", female_cases="", male_cases=""),
            )
        ),
        Expect(
            "accepted_with_errors",
            loaded=4,
            problems=[
                (2, "reporting_period", "missing_value"),
                (3, "destination_country", "missing_value"),
                (4, "exploitation_type", "missing_value"),
                (5, "cases_estimated", "missing_value"),
            ],
        ),
    ),
]


# --- the runner --------------------------------------------------------------------------------------

ORG_WORDS = ("ORG", "OTHER", "GHOST")


def _codes(index: int) -> dict[str, str]:
    return {w: f"{w}{index:03d}" for w in ORG_WORDS}


@pytest.fixture(scope="module")
def shared(server_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One warehouse for the whole catalogue; every case registers its own organisation codes."""
    root = tmp_path_factory.mktemp("catalogue")
    codes = [c for i in range(len(CASES)) for w, c in _codes(i).items() if w != "GHOST"]
    write_registry(root / "organisations.csv", codes)
    validate.warm_up()  # GX's first import takes seconds: pay it once, outside the cases' timings
    return new_settings(server_home, root)


_SEEN_BYTES: dict[str, str] = {}


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_catalogue(c: Case, shared: Settings, tmp_path: Path) -> None:
    index = CASES.index(c)
    codes = _codes(index)
    inbox = tmp_path / "inbox"
    settings = shared.model_copy(update={"inbox": str(inbox), **c.settings})
    run = Run(settings, inbox, codes["ORG"], [])
    clock = time.time() - 10_000
    for step in c.steps:
        for relative, data in step.files.items():
            word, rest = relative.split("/", 1)
            data = data.replace(b"@org@", codes["ORG"].lower().encode())
            digest = sha256(data)
            assert _SEEN_BYTES.setdefault(digest, c.id) == c.id, f"same bytes as case {_SEEN_BYTES[digest]}"
            clock += 10  # delivery order is modification time: the order the case lists its files
            write_file(inbox, f"{codes[word]}/{rest}", data, mtime=clock)
        outcomes = ingest(settings)
        by_name = {o.file_name: o for o in outcomes}
        assert len(by_name) == len(outcomes)
        assert sorted(by_name) == sorted(step.expect), [o.as_json() for o in outcomes]
        for name, expect in step.expect.items():
            _check(settings, by_name[name], expect)
        run.outcomes.append(by_name)
    if c.check:
        c.check(run)


def _check(settings: Settings, o: FileOutcome, e: Expect) -> None:
    summary = o.as_json() | {"detail": o.detail}
    assert (o.status, o.reason) == (e.status, e.reason), summary
    if e.problems is not None:
        assert sorted((p.row, p.column or "", p.code) for p in o.problems) == sorted(
            (r, col or "", code) for r, col, code in e.problems
        ), summary
    if e.read is not None:
        assert o.rows_read == e.read, summary
    if e.loaded is not None:
        assert o.rows_loaded == e.loaded, summary
    if e.detail is not None:
        assert e.detail in (o.detail or ""), summary
    check_outcome(settings, o)
    if e.raw:
        loaded = raw_rows(settings, o.submission_id)
        for column, values in e.raw.items():
            assert [r[column] for r in loaded] == values, (column, summary)


def test_catalogue_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


# --- a 50 MB file ------------------------------------------------------------------------------------

BIG_BYTES = 50 * 1024 * 1024
MEMORY_LIMIT = 256 * 1024 * 1024


def write_big_csv(path: Path, target_bytes: int, *, notes: int = 380) -> int:
    """Stream a valid file of about `target_bytes`: distinct rows over 120 months of 2011-2020, with an
    ignored `notes` column (CSOs' free text) so that rows are realistically wide. Returns the row count."""
    counties = [f"{i:03d}" for i in range(1, 48)]
    kinds = ["forced_labour", "domestic_servitude", "sexual_exploitation", "child_labour", "forced_begging"]
    filler = ("Seen at the bus park; recruited with a promise of hotel work; " * 10)[:notes]
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([*HEADER, "notes"])
        while fh.tell() < target_bytes:
            batch = []
            for _ in range(2000):
                i = count
                month = 2011 * 12 + (i % 120)
                cases = 1 + (i // 120) % 99_999
                batch.append(
                    [
                        f"{month // 12}-{month % 12 + 1:02d}",
                        "KE",
                        counties[i % 47],
                        "NBO;DOH" if i % 3 else "Busia",
                        "QA" if i % 2 else "SA",
                        "",
                        kinds[i % 5],
                        "",
                        "KQ" if i % 4 else "",
                        "social_media",
                        "",
                        cases,
                        "",
                        "",
                        "",
                        filler,
                    ]
                )
                count += 1
            writer.writerows(batch)
    return count


class _PeakRss:
    """Samples this process's resident memory while a block runs (ru_maxrss only ever grows)."""

    def __init__(self) -> None:
        self.peak = self.start = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as fh:
            import os

            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_fifty_megabyte_file_loads_in_flat_memory(shared: Settings, tmp_path: Path) -> None:
    org = _codes(0)["OTHER"]
    inbox = tmp_path / "inbox"
    started = time.monotonic()
    path = inbox / org / "national_2011_2020.csv"
    count = write_big_csv(path, BIG_BYTES)
    size = path.stat().st_size
    assert size >= BIG_BYTES
    generated = time.monotonic() - started
    settings = shared.model_copy(update={"inbox": str(inbox)})
    with _PeakRss() as rss:
        (outcome,) = ingest(settings)
    took = time.monotonic() - started
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("accepted", count, count), outcome.as_json()
    assert outcome.ignored_columns == ["notes"]
    check_outcome(settings, outcome)
    assert (
        scalar(
            settings,
            "select count(distinct reporting_period) from raw.route_reports where submission_id = %s",
            (outcome.submission_id,),
        )
        == 120
    )
    grown = rss.peak - rss.start
    # The file is read as a stream and validated 20,000 rows at a time, so memory follows the chunk, not the
    # file (about 100 MB for pandas and GX here). Reading the whole file into a frame would take several
    # times its size.
    assert grown < MEMORY_LIMIT, f"resident memory grew by {grown / 2**20:.0f} MB for a {size / 2**20:.0f} MB file"
    print(
        f"\n50 MB file: {count} rows, generated in {generated:.1f} s, ingested in {took - generated:.1f} s,"
        f" peak RSS +{grown / 2**20:.0f} MB"
    )
    assert re.fullmatch(r"[0-9a-f]{64}", outcome.sha256)
