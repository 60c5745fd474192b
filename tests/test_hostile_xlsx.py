"""Hostile and careless workbooks: read as the person sees them in Excel, and at a
bounded cost. Every case goes through `ingest.pipeline.ingest` on a real PostgreSQL with GX validating rows,
and every outcome is checked against the contract's invariants (`check_outcome`: rows read = loaded +
quarantined, ledger, raw rows, quarantine, feedback).

Workbooks openpyxl cannot write (a stale `<dimension>`, formulas without cached values, zip bombs) are built
by writing the XML parts with zipfile. Memory is measured in a child process (peak RSS), never time.
"""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from ingest_helpers import (
    HEADER,
    check_outcome,
    grid,
    new_settings,
    raw_rows,
    read_feedback_csv,
    row,
    rows,
    submission,
    write_file,
    write_registry,
)

from ingest import validate
from ingest.pipeline import FileOutcome, ingest
from njia.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore:.*GX Core 2.0:DeprecationWarning")

ORG = "XLSXORG"

# --- workbooks from their XML parts --------------------------------------------------------------

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_xml(ref: str, value: object) -> str:
    """One `<c>`: numbers as numbers, text inline, `("=f", None)` a formula without a cached value,
    `("=f", v)` a formula with its cached value."""
    if isinstance(value, tuple):
        formula, cached = value
        f = f"<f>{escape(formula.lstrip('='))}</f>"
        if cached is None:
            return f'<c r="{ref}">{f}</c>'
        if isinstance(cached, int | float):
            return f'<c r="{ref}">{f}<v>{cached}</v></c>'
        return f'<c r="{ref}" t="str">{f}<v>{escape(str(cached))}</v></c>'
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def sheet_xml(
    table: Sequence[Sequence[object]],
    *,
    dimension: str | None = None,
    merges: Sequence[str] = (),
    hidden_rows: Sequence[int] = (),
    hidden_columns: Sequence[int] = (),
    first_row: int = 1,
) -> str:
    parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {_NS} {_R_NS}>']
    if dimension:
        parts.append(f'<dimension ref="{dimension}"/>')
    if hidden_columns:
        parts.append(
            "<cols>" + "".join(f'<col min="{c}" max="{c}" width="9" hidden="1"/>' for c in hidden_columns) + "</cols>"
        )
    parts.append("<sheetData>")
    for r, cells in enumerate(table, start=first_row):
        hidden = ' hidden="1"' if r in hidden_rows else ""
        body = "".join(
            cell_xml(f"{column_letter(c)}{r}", v) for c, v in enumerate(cells, start=1) if v not in (None, "")
        )
        parts.append(f'<row r="{r}"{hidden}>{body}</row>')
    parts.append("</sheetData>")
    if merges:
        parts.append(
            f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>"
        )
    parts.append("</worksheet>")
    return "".join(parts)


def workbook(
    sheets: Sequence[tuple[str, str, str]],
    *,
    macro: bool = False,
    extra: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
    shared_strings: bytes | None = None,
) -> bytes:
    """A workbook from (name, state, sheet XML) triples, in order (and a shared strings part if given)."""
    main = (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
        if macro
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>{overrides}</Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} {_R_NS}><sheets>'
            + "".join(
                f'<sheet name="{escape(name)}" sheetId="{i}" state="{state}" r:id="rId{i}"/>'
                for i, (name, state, _) in enumerate(sheets, start=1)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(sheets) + 1)
            )
            + (
                f'<Relationship Id="rIdS" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
                if shared_strings is not None
                else ""
            )
            + "</Relationships>"
        ),
    }
    for i, (_, _, xml) in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
        if shared_strings is not None:
            zf.writestr("xl/sharedStrings.xml", shared_strings)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out.getvalue()


def routes(table: Sequence[Sequence[object]], **kw: object) -> bytes:
    return workbook([("routes", "visible", sheet_xml(table, **kw))])


# --- the runner ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base(server_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("hostile_xlsx")
    write_registry(root / "organisations.csv", [ORG])
    validate.warm_up()
    return new_settings(server_home, root)


def run(base: Settings, tmp_path: Path, name: str, data: bytes, **settings: object) -> FileOutcome:
    inbox = tmp_path / "inbox"
    write_file(inbox, f"{ORG}/{name}", data)
    s = base.model_copy(update={"inbox": str(inbox), **settings})
    (outcome,) = ingest(s)
    check_outcome(s, outcome)
    assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    return outcome


def problems(o: FileOutcome) -> list[tuple[int | None, str | None, str]]:
    return sorted((p.row, p.column, p.code) for p in o.problems)


def distinct(n: int, start: int) -> list[dict[str, str]]:
    return rows(n, start=start)


# --- read as the person sees it ------------------------------------------------------------------------


def test_stale_dimension_drops_no_rows_or_columns(base: Settings, tmp_path: Path) -> None:
    # The sheet says A1:C3, but six data rows and all fifteen columns hold values.
    records = distinct(6, 101)
    data = routes(grid(records), dimension="A1:C3")
    o = run(base, tmp_path, "stale.xlsx", data)
    assert (o.status, o.rows_read, o.rows_loaded) == ("accepted", 6, 6), o.as_json()
    loaded = raw_rows(base, o.submission_id)
    assert [r["cases_estimated"] for r in loaded] == [101 + i for i in range(6)]
    assert {(r["destination_country"], r["carriers"], r["child_cases"]) for r in loaded} == {("QA", "KQ;QR", 0)}


def whole_sheet_dimension(records: list[dict[str, str]]) -> bytes:
    """A workbook declaring A1:XFD1048576, its last cell formatted but empty (openpyxl's read-only mode then
    padded a million rows to 16,384 cells each)."""
    sheet = sheet_xml(grid(records), dimension="A1:XFD1048576").replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>'
    )
    return workbook([("routes", "visible", sheet)])


def test_dimension_of_the_whole_sheet_costs_nothing(base: Settings, tmp_path: Path) -> None:
    data = whole_sheet_dimension(distinct(3, 111))
    assert len(data) < 5_000
    o = run(base, tmp_path, "huge_dimension.xlsx", data)
    assert (o.status, o.rows_read, o.rows_loaded) == ("accepted", 3, 3), o.as_json()


def test_merged_ugandan_origin_over_three_rows(base: Settings, tmp_path: Path) -> None:
    # Uganda typed once, merged over rows 2-4: Excel shows it in all three, so all three are from Uganda.
    origin = list(HEADER).index("origin_country") + 1
    records = [row(origin_country="UG", origin_county="", cases_estimated=121, female_cases="", male_cases="")]
    records += [
        row(origin_country="", origin_county="", cases_estimated=122 + i, female_cases="", male_cases="")
        for i in range(2)
    ]
    records.append(row(cases_estimated=124, female_cases="", male_cases=""))  # a Kenyan row after the merge
    col = column_letter(origin)
    data = routes(grid(records), merges=[f"{col}2:{col}4"])
    o = run(base, tmp_path, "merged_origin.xlsx", data)
    assert (o.status, o.rows_read, o.rows_loaded) == ("accepted", 4, 4), o.as_json()
    loaded = raw_rows(base, o.submission_id)
    assert [r["origin_country"] for r in loaded] == ["UG", "UG", "UG", "KE"]
    assert [r["origin_county"] for r in loaded] == [None, None, None, "047"]


def test_merged_count_is_set_aside(base: Settings, tmp_path: Path) -> None:
    # 30 cases merged over rows 2-3: each row's 30, or 30 for both? Neither is guessed.
    header = list(HEADER)
    cases = column_letter(header.index("cases_estimated") + 1)
    records = [
        row(cases_estimated=30, female_cases="", male_cases="", origin_county="Busia"),
        row(cases_estimated="", female_cases="", male_cases="", origin_county="Kisumu"),
        *distinct(3, 131),
    ]
    data = routes(grid(records), merges=[f"{cases}2:{cases}3"])
    o = run(base, tmp_path, "merged_count.xlsx", data)
    assert (o.status, o.rows_read, o.rows_loaded) == ("accepted_with_errors", 5, 3), o.as_json()
    assert problems(o) == [(2, "cases_estimated", "merged_count"), (3, "cases_estimated", "merged_count")]


def test_formula_without_cached_value_is_a_row_problem(base: Settings, tmp_path: Path) -> None:
    header = list(HEADER)
    records = grid(distinct(4, 141))
    cases, destination = header.index("cases_estimated"), header.index("destination_country")
    records[1][cases] = ("=B2*2", None)  # never calculated: no value to read
    records[2][destination] = ('=IF(1,"QA","SA")', None)
    records[3][cases] = ("=100+43", 143)  # calculated: its cached value is read
    o = run(base, tmp_path, "formulas.xlsx", routes(records))
    assert (o.status, o.rows_read, o.rows_loaded) == ("accepted_with_errors", 4, 2), o.as_json()
    assert problems(o) == [
        (2, "cases_estimated", "formula_without_value"),
        (3, "destination_country", "formula_without_value"),
    ]
    assert {p.value for p in o.problems} == {"B2*2", 'IF(1,"QA","SA")'}
    feedback = read_feedback_csv(next(f for f in o.feedback_files if f.endswith(".csv")))
    assert any(r["code"] == "formula_without_value" and "Excel" in r["message_en"] for r in feedback)
    assert [r["cases_estimated"] for r in raw_rows(base, o.submission_id)] == [143, 144]


def test_merged_formula_without_value(base: Settings, tmp_path: Path) -> None:
    # A destination computed by a formula never calculated, merged over rows 2-3: both rows lack it; what
    # the covered cell holds (here a formula too) is not shown, so not reported.
    header = list(HEADER)
    destination = header.index("destination_country")
    records = grid(distinct(4, 147))
    records[1][destination] = ("=VLOOKUP(A2,codes,2)", None)
    records[2][destination] = ("=OTHER()", None)
    col = column_letter(destination + 1)
    o = run(base, tmp_path, "merged_formula.xlsx", routes(records, merges=[f"{col}2:{col}3"]))
    assert (o.status, o.rows_loaded) == ("accepted_with_errors", 2), o.as_json()
    assert problems(o) == [
        (2, "destination_country", "formula_without_value"),
        (3, "destination_country", "formula_without_value"),
    ]
    assert {p.value for p in o.problems} == {"VLOOKUP(A2,codes,2)"}


def test_hidden_routes_sheet_behind_a_visible_one_is_rejected(base: Settings, tmp_path: Path) -> None:
    visible = sheet_xml(grid(distinct(2, 151)))
    hidden = sheet_xml(grid([row(destination_country="SA", cases_estimated=999)]))
    data = workbook([("Sheet1", "visible", visible), ("routes", "hidden", hidden)])
    o = run(base, tmp_path, "hidden_routes.xlsx", data)
    assert (o.status, o.reason, o.rows_loaded) == ("rejected", "hidden_routes_sheet", 0), o.as_json()
    for i, name in enumerate(("Routes ", "\uff32outes", "rou\u200btes")):  # case, fullwidth, zero-width
        very = workbook([("Sheet1", "visible", visible), (name, "veryHidden", hidden)])
        o = run(base, tmp_path / str(i), f"very_hidden_routes_{i}.xlsx", very)
        assert (o.status, o.reason) == ("rejected", "hidden_routes_sheet"), (name, o.as_json())


def test_hidden_sheet_before_the_visible_one_is_not_read(base: Settings, tmp_path: Path) -> None:
    # A hidden sheet of code lists (as the template has) first, the data on the first visible sheet.
    lists = sheet_xml([["counties"], ["Nairobi"]])
    data = workbook([("lists", "hidden", lists), ("Data", "visible", sheet_xml(grid(distinct(2, 161))))])
    o = run(base, tmp_path, "lists_first.xlsx", data)
    assert (o.status, o.rows_read, o.rows_loaded) == ("accepted", 2, 2), o.as_json()


def test_hidden_rows_and_columns_are_read(base: Settings, tmp_path: Path) -> None:
    # Hiding is a view (a filter, an outline): the values are still sent, and are all read.
    header = list(HEADER)
    data = routes(grid(distinct(5, 171)), hidden_rows=[3, 4], hidden_columns=[header.index("carriers") + 1])
    o = run(base, tmp_path, "hidden_rows.xlsx", data)
    assert (o.status, o.rows_read, o.rows_loaded) == ("accepted", 5, 5), o.as_json()
    assert {r["carriers"] for r in raw_rows(base, o.submission_id)} == {"KQ;QR"}


def test_hidden_personal_data_column_is_still_found(base: Settings, tmp_path: Path) -> None:
    table = grid([row(cases_estimated=181, phone="0722 000 181")], header=(*HEADER, "phone"))
    data = routes(table, hidden_columns=[len(HEADER) + 1])
    o = run(base, tmp_path, "hidden_phone.xlsx", data)
    assert (o.status, o.reason) == ("rejected", "pii_columns"), o.as_json()
    assert submission(base, o.submission_id)["archive_path"] is None  # its bytes are not kept


def test_every_sheets_header_is_exposed(tmp_path: Path) -> None:
    # For the personal-data check of every sheet: hidden ones and sheets after the one read included.
    from ingest.readers import open_table

    path = tmp_path / "book.xlsx"
    path.write_bytes(
        workbook(
            [
                ("routes", "visible", sheet_xml(grid(distinct(2, 195)))),
                (
                    "victims",
                    "visible",
                    sheet_xml([["Name of victim", "Phone No."], ["Fictional Person", "0700 000 000"]], first_row=3),
                ),
                ("lists", "veryHidden", sheet_xml([[], ["jina", "simu"]])),
            ]
        )
    )
    with open_table(path, ".xlsx") as table:
        assert table.sheet_headers == {
            "routes": list(HEADER),
            "victims": ["Name of victim", "Phone No."],
            "lists": ["jina", "simu"],
        }
        assert sum(1 for _ in table.rows) == 2


def test_xlsm_is_unsupported(base: Settings, tmp_path: Path) -> None:
    data = workbook(
        [("routes", "visible", sheet_xml(grid(distinct(1, 191))))],
        macro=True,
        extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0fictional macro"},
    )
    o = run(base, tmp_path, "macros.xlsm", data)
    assert (o.status, o.reason) == ("rejected", "unsupported_file_type"), o.as_json()
    renamed = workbook([("routes", "visible", sheet_xml(grid(distinct(1, 192))))], macro=True)
    o = run(base, tmp_path / "renamed", "macros_renamed.xlsx", renamed)
    assert (o.status, o.reason) == ("rejected", "unsupported_file_type"), o.as_json()


def test_xml_entities_are_refused(base: Settings, tmp_path: Path) -> None:
    # A billion laughs in the shared strings: XML with a DTD is not a workbook Excel writes.
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "lol">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        + f"]><sst {_NS}><si><t>&j;</t></si></sst>"
    ).encode()
    sheet = sheet_xml(grid(distinct(1, 281))).replace(
        '<c r="A2" t="inlineStr"><is><t xml:space="preserve">2020-Q1</t></is></c>', '<c r="A2" t="s"><v>0</v></c>'
    )
    o = run(base, tmp_path, "laughs.xlsx", workbook([("routes", "visible", sheet)], shared_strings=laughs))
    assert (o.status, o.reason) == ("rejected", "unreadable_file"), o.as_json()
    assert "DTD" in (o.detail or "")


def test_shared_strings_are_read(base: Settings, tmp_path: Path) -> None:
    strings = (
        f"<sst {_NS}><si><t>2020-Q1</t></si><si><r><t>Q</t></r><r><t>A</t></r><rPh><t>ignored</t></rPh></si></sst>"
    )
    sheet = sheet_xml(grid(distinct(2, 285)))
    sheet = sheet.replace(
        '<c r="A2" t="inlineStr"><is><t xml:space="preserve">2020-Q1</t></is></c>', '<c r="A2" t="s"><v>0</v></c>'
    )
    sheet = sheet.replace(
        '<c r="E3" t="inlineStr"><is><t xml:space="preserve">QA</t></is></c>', '<c r="E3" t="s"><v>1</v></c>'
    )
    assert "<v>1</v>" in sheet
    o = run(base, tmp_path, "shared.xlsx", workbook([("routes", "visible", sheet)], shared_strings=strings.encode()))
    assert (o.status, o.rows_loaded) == ("accepted", 2), o.as_json()
    assert [r["destination_country"] for r in raw_rows(base, o.submission_id)] == ["QA", "QA"]


# --- bounds -------------------------------------------------------------------------------------------


@functools.cache
def zip_bomb() -> bytes:
    """A 2-3 MB workbook whose sheet unpacks to about 2.7 GB of empty rows (what took 2.8 GB of memory)."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>'
    row_xml = "<row>" + "<c/>" * 1000 + "</row>"
    repeat = 2_700_000_000 // len(row_xml)
    out = io.BytesIO()
    base = workbook([("routes", "visible", sheet_xml(grid(distinct(1, 201))))])
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zf.writestr(info.filename, src.read(info))
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(head.encode())
            block = (row_xml * 1000).encode()
            for _ in range(repeat // 1000):
                fh.write(block)
            fh.write(b"</sheetData></worksheet>")
    return out.getvalue()


def lying_bomb(unpacked: int = 400 * 1024 * 1024) -> bytes:
    """A workbook whose zip directory says its sheet unpacks to 1 KB while it unpacks to `unpacked` bytes."""
    import struct
    import zlib

    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = b"<row><c/></row>" * (1 << 16)
    packed = [packer.compress(f'<?xml version="1.0"?><worksheet {_NS}><sheetData>'.encode())]
    packed += [packer.compress(body) for _ in range(unpacked // len(body))]
    packed.append(packer.compress(b"</sheetData></worksheet>") + packer.flush())
    sheet = b"".join(packed)
    real = workbook([("routes", "visible", sheet_xml(grid(distinct(1, 202))))])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zf.writestr(info.filename, src.read(info))
    archive = out.getvalue()
    eocd = archive.rindex(b"PK\x05\x06")
    entries, cd_size, cd_offset = struct.unpack("<HII", archive[eocd + 10 : eocd + 20])
    name, declared = b"xl/worksheets/sheet1.xml", 1024
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(sheet), declared, len(name), 0) + name
    central = (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            0,
            len(sheet),
            declared,
            len(name),
            0,
            0,
            0,
            0,
            0,
            cd_offset,
        )
        + name
    )
    body = archive[:cd_offset] + local + sheet
    directory = archive[cd_offset : cd_offset + cd_size] + central
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries + 1, entries + 1, len(directory), len(body), 0)
    return body + directory + end


def test_zip_bomb_is_rejected_from_its_directory(base: Settings, tmp_path: Path) -> None:
    data = zip_bomb()
    assert len(data) < 4 * 1024 * 1024
    o = run(base, tmp_path, "bomb.xlsx", data)
    assert (o.status, o.reason, o.rows_read) == ("rejected", "workbook_too_large", 0), o.as_json()


def test_zip_bomb_lying_about_its_size_is_stopped(base: Settings, tmp_path: Path) -> None:
    data = lying_bomb()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size == 1024  # the directory lies
    o = run(base, tmp_path, "lying_bomb.xlsx", data)
    # Unpacking stops at the declared size (zipfile) and the sheet then fails its check: a damaged file.
    assert (o.status, o.reason, o.rows_read) == ("rejected", "unreadable_file", 0), o.as_json()


def test_high_compression_ratio_is_rejected(base: Settings, tmp_path: Path) -> None:
    table = grid(distinct(2, 211))
    table[1].append("x" * 3_000_000)  # an ignored notes cell that packs two thousand times
    table[0].append("notes")
    o = run(base, tmp_path, "ratio.xlsx", routes(table))
    assert (o.status, o.reason) == ("rejected", "compression_ratio_too_high"), o.as_json()


def test_too_many_parts(base: Settings, tmp_path: Path) -> None:
    extra = {f"xl/media/image{i}.bin": b"." for i in range(40)}
    data = workbook([("routes", "visible", sheet_xml(grid(distinct(1, 221))))], extra=extra)
    o = run(base, tmp_path, "parts.xlsx", data, xlsx_max_parts=20)
    assert (o.status, o.reason) == ("rejected", "too_many_parts"), o.as_json()


def test_huge_zip_directory_is_refused_before_it_is_read(base: Settings, tmp_path: Path) -> None:
    # 200,000 empty parts: zipfile would build an object for each before any count could be checked.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for i in range(200_000):
            zf.writestr(f"x/{i}", b"")
    o = run(base, tmp_path, "many_parts.xlsx", out.getvalue())
    assert (o.status, o.reason) == ("rejected", "too_many_parts"), o.as_json()


def test_too_many_rows(base: Settings, tmp_path: Path) -> None:
    o = run(base, tmp_path, "rows.xlsx", routes(grid(distinct(30, 231))), xlsx_max_rows=20)
    assert (o.status, o.reason, o.rows_loaded) == ("rejected", "too_many_rows", 0), o.as_json()
    assert "20" in (o.detail or "")


def test_too_many_columns(base: Settings, tmp_path: Path) -> None:
    # One value far to the right (column XFD) of an otherwise normal sheet.
    sheet = sheet_xml(grid(distinct(2, 241))).replace(
        "</row></sheetData>", '<c r="XFD3" t="inlineStr"><is><t>far</t></is></c></row></sheetData>'
    )
    o = run(base, tmp_path, "columns.xlsx", workbook([("routes", "visible", sheet)]))
    assert (o.status, o.reason) == ("rejected", "too_many_columns"), o.as_json()
    # Formatted but empty cells out there are not values: nothing to reject.
    sheet = sheet_xml(grid(distinct(2, 245))).replace("</row></sheetData>", '<c r="XFD3" s="0"/></row></sheetData>')
    o = run(base, tmp_path / "b", "styled_far.xlsx", workbook([("routes", "visible", sheet)]))
    assert (o.status, o.rows_loaded) == ("accepted", 2), o.as_json()


def test_too_many_merged_cells(base: Settings, tmp_path: Path) -> None:
    merges = [f"Q{r}:R{r}" for r in range(2, 40)]
    o = run(base, tmp_path, "merges.xlsx", routes(grid(distinct(3, 251)), merges=merges), xlsx_max_merged_ranges=10)
    assert (o.status, o.reason) == ("rejected", "too_many_merged_cells"), o.as_json()


def test_two_hundred_kilobyte_coded_cell(base: Settings, tmp_path: Path) -> None:
    # 200 KB in a coded column (the contact-masking regex took 83 s over it, 114 s here).
    long = "KQ " + "KQ" * 100_000
    table = grid([row(carriers=long, cases_estimated=261), *distinct(3, 262)])
    o = run(base, tmp_path, "long_cell.xlsx", routes(table))
    assert (o.status, o.rows_read, o.rows_loaded) == ("accepted_with_errors", 4, 3), o.as_json()
    assert problems(o) == [(2, "carriers", "cell_too_long")]
    (p,) = o.problems
    assert len(p.value or "") < 100 and (p.value or "").endswith("...")


def test_two_hundred_kilobyte_coded_cell_with_a_phone(base: Settings, tmp_path: Path) -> None:
    # The same cell with a phone number in it: personal data, found in linear time; the bytes are not kept.
    long = "0722 123 456 " + "KQ" * 100_000
    table = grid([row(carriers=long, cases_estimated=261), *distinct(3, 262)])
    o = run(base, tmp_path, "long_cell.xlsx", routes(table))
    assert (o.status, o.reason, o.rows_read, o.rows_loaded) == ("rejected", "pii_columns", 0, 0), o.as_json()
    assert "722 123" not in (o.detail or "")
    assert not [p for p in base.archive_dir.rglob("*") if p.name == o.sha256]


def test_cell_length_bound_is_a_setting(base: Settings, tmp_path: Path) -> None:
    table = grid([row(transit_points="NBO;DOH;" * 4 + "NBO", cases_estimated=271), *distinct(2, 272)])
    o = run(base, tmp_path, "transit.xlsx", routes(table), max_cell_chars=20)
    assert problems(o) == [(2, "transit_points", "cell_too_long")], o.as_json()


# --- memory -------------------------------------------------------------------------------------------

_CHILD = r"""
import json, resource, sys, pathlib
from ingest.readers import open_table, UnreadableFile


def peak_kb():
    # The high-water mark of this process's own memory: ru_maxrss would carry the forking parent's over exec.
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


before = peak_kb()
outcome, rows = "read", 0
try:
    with open_table(pathlib.Path(sys.argv[1]), ".xlsx") as table:
        rows = sum(1 for _ in table.rows)
except UnreadableFile as exc:
    outcome = exc.reason
print(json.dumps({"outcome": outcome, "rows": rows, "peak_kb": peak_kb(), "before_kb": before}))
"""


def read_in_child(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(done.stdout)


_HOSTILE = {
    "huge_dimension": lambda: whole_sheet_dimension(distinct(3, 111)),
    "zip_bomb": zip_bomb,
    "lying_bomb": lying_bomb,
    "long_cell": lambda: routes(grid([row(carriers="KQ" * 100_000)])),
    "far_column": lambda: workbook(
        [
            (
                "routes",
                "visible",
                sheet_xml(grid(distinct(2, 241))).replace(
                    "</row></sheetData>", '<c r="XFD3" t="inlineStr"><is><t>far</t></is></c></row></sheetData>'
                ),
            )
        ]
    ),
    "merged_sheet": lambda: routes(grid(distinct(3, 1)), merges=["A2:P1048576"]),
    # Two million different shared strings (packed, not a Python object each).
    "shared_strings": lambda: workbook(
        [("routes", "visible", sheet_xml(grid(distinct(2, 1))))],
        shared_strings=(
            f"<sst {_NS}>" + "".join(f"<si><t>s{i:x}</t></si>" for i in range(2_000_000)) + "</sst>"
        ).encode(),
    ),
}


@pytest.mark.slow  # each workbook is read in a child process, to measure its peak memory
@pytest.mark.parametrize("name", sorted(_HOSTILE))
def test_hostile_workbooks_read_in_flat_memory(name: str, tmp_path: Path) -> None:
    reference = tmp_path / "reference.xlsx"
    reference.write_bytes(routes(grid(distinct(3, 1))))
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(_HOSTILE[name]())
    normal, hostile = read_in_child(reference), read_in_child(path)
    assert normal["outcome"] == "read"
    grown_mb = (int(hostile["peak_kb"]) - int(normal["peak_kb"])) / 1024
    # Reading a three-row workbook takes some tens of MB (Python and the imports); the bombs unpack to
    # gigabytes, and openpyxl took 2.8 GB for one of them.
    assert grown_mb < 100, (name, normal, hostile)
    print(
        f"\n{name}: {hostile['outcome']}, {hostile['rows']} rows, peak {int(hostile['peak_kb']) / 1024:.0f} MB"
        f" (a three-row workbook: {int(normal['peak_kb']) / 1024:.0f} MB)"
    )
