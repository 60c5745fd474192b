"""Tolerant, streaming readers for what organisations send: CSV in the contract's encodings and
dialects, and XLSX. They sit in front of COPY, which cannot read messy files (STACK-NOTES.md).

A reader yields `(row_number, cells)` with the row numbers a spreadsheet shows (header = row 1),
so feedback points at the row a person sees. Memory stays flat: files are read as streams.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import charset_normalizer
import clevercsv

SUPPORTED_SUFFIXES = (".csv", ".xlsx")
_SAMPLE_BYTES = 64 * 1024
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0", b"\x7fELF")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
csv.field_size_limit(16 * 1024 * 1024)


class UnreadableFile(Exception):
    """The bytes cannot be read as a table of the supported kinds."""


@dataclass
class Table:
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[str]]]
    description: str  # e.g. "csv utf-8 ';'" or "xlsx sheet routes", for the ledger and feedback


def _detect_encoding(path: Path, head: bytes) -> str:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                decoder.decode(block)
                offset += len(block)
            decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError as exc:
        bad = max(0, offset + exc.start - 1024)
    # Not UTF-8: let charset-normalizer confirm it is text in a single-byte encoding the contract
    # allows, looking at the stretch that failed as UTF-8.
    with path.open("rb") as fh:
        fh.seek(bad)
        sample = fh.read(_SAMPLE_BYTES)
    best = charset_normalizer.from_bytes(sample, cp_isolation=["cp1252", "latin_1"]).best()
    if best is None:
        raise UnreadableFile("the text encoding is not UTF-8, UTF-16 or Windows-1252")
    return "cp1252"


def _looks_binary(head: bytes, text: str) -> bool:
    if head.startswith(_BINARY_MAGIC):
        return True
    if not text:
        return False
    controls = len(_CONTROLS.findall(text))
    return controls > max(2, len(text) // 100)


# Control characters other than tab and line ends, and the replacement character of undecodable bytes.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


_DELIMITERS = (",", ";", "\t")


def _consistent(sample: str, delimiter: str) -> bool:
    """Whether the sample's complete records all have the same number (at least 2) of cells with this
    delimiter, blank lines aside. The last record may be cut short by the sample's end and is not counted."""
    try:
        records = list(csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar='"', doublequote=True,
                                  strict=True))
    except csv.Error:
        return False
    widths = {len(r) for r in records[:-1] if any(c.strip() for c in r)}
    return len(widths) == 1 and widths.pop() >= 2


def _sniff_delimiter(sample: str) -> str:
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    sample = sample[: cut + 1] if cut > 0 else sample
    # Most files are unambiguous: exactly one delimiter gives a regular table. Only the others need
    # clevercsv's detection, which costs about 0.09 s a file (most of a small file's reading).
    fitting = [d for d in _DELIMITERS if _consistent(sample, d)]
    if len(fitting) == 1:
        return fitting[0]
    try:
        dialect = clevercsv.Detector().detect(sample, delimiters=list(_DELIMITERS))
    except Exception:  # noqa: BLE001 - a failed guess falls back to the contract's default
        dialect = None
    return dialect.delimiter if dialect and dialect.delimiter in _DELIMITERS else ","


def _first_nonblank(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]] | None:
    for number, cells in records:
        if any(c.strip() for c in cells):
            return number, cells
    return None


@contextmanager
def _open_csv(path: Path) -> Iterator[Table]:
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    encoding = _detect_encoding(path, head)
    try:
        text_sample = head.decode(encoding, errors="replace")
    except LookupError as exc:  # pragma: no cover - encodings above are all known
        raise UnreadableFile(str(exc)) from exc
    if _looks_binary(head, text_sample.lstrip("\ufeff")[: len(text_sample) - 4]):
        raise UnreadableFile("the file holds binary data, not text (is it a PDF or a spreadsheet saved as .csv?)")
    delimiter = _sniff_delimiter(text_sample.lstrip("\ufeff"))
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
        records = enumerate(reader, start=1)
        try:
            first = _first_nonblank(records)
        except csv.Error as exc:
            raise UnreadableFile(f"the CSV cannot be parsed: {exc}") from exc
        header_row, header = first if first else (1, [])
        yield Table(header, header_row, _guard(records), f"csv {encoding} {delimiter!r}")


def _guard(records: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    try:
        yield from records
    except csv.Error as exc:
        raise UnreadableFile(f"the CSV cannot be parsed: {exc}") from exc


def excel_text(value: object) -> str:
    """A cell as Excel shows it: whole numbers without `.0`, month dates as YYYY-MM."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date):
        # Excel turns a typed `2024-03` into 1 March 2024; give the month back.
        if value.day == 1 and (not isinstance(value, dt.datetime) or value.time() == dt.time()):
            return f"{value.year:04d}-{value.month:02d}"
        return value.strftime("%Y-%m-%d")
    return str(value)


# What a damaged workbook raises (a broken zip member, truncated or invalid XML, a missing part): the file
# is unreadable, rather than the run crashing on it again and again.
_XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError, SyntaxError)


def _xlsx_guard(records: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    try:
        yield from records
    except _XLSX_ERRORS as exc:
        raise UnreadableFile(f"the .xlsx workbook is damaged: {exc}") from exc


@contextmanager
def _open_xlsx(path: Path) -> Iterator[Table]:
    import openpyxl  # imported here: only XLSX files need it

    # Opened as a file object: the local copy has no suffix, and openpyxl refuses a path without one.
    fh = path.open("rb")
    try:
        workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        fh.close()
        raise UnreadableFile(f"the file is not a readable .xlsx workbook: {exc}") from exc
    try:
        by_name = {ws.title.strip().casefold(): ws for ws in workbook.worksheets}
        sheet = by_name.get("routes") or (workbook.worksheets[0] if workbook.worksheets else None)
        if sheet is None:
            raise UnreadableFile("the workbook has no sheets")
        records = _xlsx_guard(
            (number, [excel_text(v) for v in values])
            # iter_rows starts at row 1 (filling missing rows), whatever the sheet's stored dimension says.
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        )
        first = _first_nonblank(records)
        header_row, header = first if first else (1, [])
        yield Table(header, header_row, records, f"xlsx sheet {sheet.title!r}")
    finally:
        workbook.close()
        fh.close()


@contextmanager
def open_table(path: Path, suffix: str) -> Iterator[Table]:
    """Open a delivered file (already copied locally) as a table; raises UnreadableFile."""
    opener = _open_xlsx if suffix == ".xlsx" else _open_csv
    try:
        with opener(path) as table:
            yield table
    except UnicodeError as exc:
        raise UnreadableFile(f"the text cannot be decoded: {exc}") from exc


def first_rows(path: Path, suffix: str, limit: int) -> list[tuple[str, list[list[str]]]]:
    """The first `limit` rows of every sheet (a CSV is one sheet), as text, for the personal-data check;
    raises UnreadableFile."""
    if suffix != ".xlsx":
        with open_table(path, suffix) as table:
            rows = [[""]] * (table.header_row - 1) + [table.header]
            rows += [cells for _, cells in islice(table.rows, max(limit - len(rows), 0))]
            return [(table.description, rows[:limit])]
    import openpyxl

    with path.open("rb") as fh:
        try:
            workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
            try:
                return [(ws.title, [[excel_text(v) for v in values] for values in
                                    ws.iter_rows(min_row=1, max_row=limit, max_col=256, values_only=True)])
                        for ws in workbook.worksheets]
            finally:
                workbook.close()
        except _XLSX_ERRORS as exc:
            raise UnreadableFile(f"the .xlsx workbook is damaged: {exc}") from exc


def text_head(path: Path) -> str | None:
    """The file's first bytes as text, or None when they are not text (for files no reader opens)."""
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    text = head.decode("utf-8", errors="replace")
    return None if _looks_binary(head, text) or b"\x00" in head else text
