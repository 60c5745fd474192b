"""Tolerant, streaming readers for what organisations send: CSV in the contract's encodings and
dialects, and XLSX. They sit in front of COPY, which cannot read messy files (docs/decisions.md §7).

A reader yields `(row_number, cells)` with the row numbers a spreadsheet shows (header = row 1),
so feedback points at the row a person sees. Memory stays flat: files are read as streams.

XLSX is read as the person sees it in Excel, within bounds (docs/xlsx.md, and the XLSX section below):
`<dimension>` ignored; the visible `routes` sheet, else the first visible one, and a hidden `routes`
sheet rejects the file; hidden rows and columns read; merged ranges filled with their top-left value
(a merged count is a row problem); a formula without a cached value a row problem, never an empty cell.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import posixpath
import re
import struct
import unicodedata
import zipfile
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from xml.parsers.expat import ExpatError

import charset_normalizer
import clevercsv

from ingest.contract import HEADER_ALIASES, normalise_header

SUPPORTED_SUFFIXES = (".csv", ".xlsx")
_SAMPLE_BYTES = 64 * 1024
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0", b"\x7fELF")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
csv.field_size_limit(16 * 1024 * 1024)


class UnreadableFile(Exception):
    """The bytes cannot be read as a table of the supported kinds. `sw` is the Swahili of the message, for the
    feedback, when there is one (the English is the exception's text)."""

    def __init__(self, message: str, sw: str | None = None) -> None:
        super().__init__(message)
        self.sw = sw

    reason = "unreadable_file"  # the file reason (docs/contract.md §4) the pipeline records


@dataclass
class Table:
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[str]]]
    description: str  # e.g. "csv utf-8 ';'" or "xlsx sheet routes", for the ledger and feedback
    # CSV only (None for XLSX, whose cells cannot shift): the delimiter, and the number of cells a row of
    # this file has (the header's, or what nearly every data row has when they all end the same other way).
    delimiter: str | None = None
    width: int | None = None
    other_widths: frozenset[int] = frozenset()  # widths that may be the file's too, when its rows disagree
    # Rows whose quotes do not pair up (CSV), filled as the rows are read: their cells are the row's line
    # split at every delimiter, as a text editor shows it, and must not be loaded.
    malformed: set[int] = field(default_factory=set)
    # Row number -> (cell position, code, value) of cells the reader could not give as plain values
    # (XLSX: "formula_without_value", "merged"); filled as rows are read, taken by the pipeline.
    flagged: dict[int, list[tuple[int, str, str | None]]] = field(default_factory=dict)
    # XLSX: every worksheet's name -> its first row holding values (hidden sheets too), for checks that
    # must see the whole workbook (personal-data headers on any sheet).
    sheet_headers: dict[str, list[str]] = field(default_factory=dict)


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
        raise UnreadableFile(
            "the text encoding is not UTF-8, UTF-16 or Windows-1252",
            "usimbaji wa maandishi si UTF-8, UTF-16 wala Windows-1252",
        )
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
# What other tools put between cells: recognised only to say so when a file is refused.
_FOREIGN = ("|", " ", ":", "^", "~", "#")
_NAMES = {
    ",": ("commas (,)", "koma (,)"),
    ";": ("semicolons (;)", "nukta-mkato (;)"),
    "\t": ("tabs", "tab"),
    "|": ("vertical bars (|)", "mistari wima (|)"),
    " ": ("spaces", "nafasi"),
    ":": ("colons (:)", "nukta pacha (:)"),
    "^": ("carets (^)", "alama ^"),
    "~": ("tildes (~)", "alama ~"),
    "#": ("hashes (#)", "alama #"),
}
_HOW_TO_EXPORT = (
    "In Excel use File > Save As and choose 'CSV UTF-8 (Comma delimited) (*.csv)' (or send the .xlsx workbook "
    "itself); in LibreOffice choose 'Text CSV' with field delimiter ',' and string delimiter '\"'.",
    "Katika Excel tumia File > Save As na uchague 'CSV UTF-8 (Comma delimited) (*.csv)' (au tuma kitabu cha "
    ".xlsx chenyewe); katika LibreOffice chagua 'Text CSV' chenye kitenganishi ',' na alama ya maandishi '\"'.",
)
_HEADER_SEARCH = 10  # non-blank rows looked at for the header (a title or notes may stand above it)
_HEADER_CELLS = 1000  # cells of a row looked at for column names (a hostile row may hold millions)
_WIDTH_ROWS = 200  # data rows that tell the width rows of this file have


def _foreign(en: str, sw: str) -> UnreadableFile:
    return UnreadableFile(
        f"{en}. Njia reads cells separated by commas, semicolons or tabs, quoted with "
        f'double quotes ("). {_HOW_TO_EXPORT[0]}',
        f"{sw}. Njia inasoma visanduku vilivyotenganishwa kwa koma, nukta-mkato au tab, "
        f'vilivyonukuliwa kwa alama za nukuu ("). {_HOW_TO_EXPORT[1]}',
    )


def _parse(sample: str, delimiter: str, **dialect: object) -> list[list[str]] | None:
    """The sample's complete records (the last may be cut short by the sample's end and is dropped), or None
    when the sample does not parse in this dialect."""
    options = {"quotechar": '"', "doublequote": True, "strict": True, **dialect}
    try:
        return list(csv.reader(io.StringIO(sample), delimiter=delimiter, **options))[:-1]
    except csv.Error:
        return None


def _consistent(sample: str, delimiter: str, **dialect: object) -> bool:
    """Whether the sample's complete records all have the same number (at least 2) of cells with this
    delimiter, blank lines aside. The last record may be cut short by the sample's end and is not counted."""
    records = _parse(sample, delimiter, **dialect)
    if records is None:
        return False
    widths = {len(r) for r in records if any(c.strip() for c in r)}
    return len(widths) == 1 and widths.pop() >= 2


def _named_cells(cells: list[str]) -> int:
    """How many cells are column names of the contract (English or Swahili, in any spelling it accepts)."""
    return sum(normalise_header(c) in HEADER_ALIASES for c in cells[:_HEADER_CELLS])


def _header_names(sample: str, delimiter: str) -> int:
    """The most contract column names one of the sample's first rows holds when split at this delimiter."""
    lines = [line for line in sample.splitlines() if line.strip()][:_HEADER_SEARCH]
    rows = (
        csv.reader(lines, delimiter=delimiter, quotechar='"', strict=False)
        if delimiter != " "
        else ([c for c in line.split(" ") if c] for line in lines)
    )
    return max((_named_cells(r) for r in rows), default=0)


def _sniff_delimiter(sample: str) -> str:
    """The file's delimiter, one of the contract's; raises UnreadableFile naming what the file seems to use
    when that is something else (never a silent default)."""
    cut = max(sample.rfind("\n"), sample.rfind("\r"))
    sample = sample[: cut + 1] if cut > 0 else sample
    if not sample.strip():
        return ","  # no cells at all: the header checks say the file is empty
    # Most files are unambiguous: exactly one delimiter gives a regular table. Only the others need a closer
    # look (clevercsv's detection costs about 0.09 s a file, most of a small file's reading).
    fitting = [d for d in _DELIMITERS if _consistent(sample, d)]
    if len(fitting) == 1:
        return fitting[0]
    # The header names the contract's columns: the delimiter that splits a row into those names is the
    # file's, even when the rows are ragged, a title stands above the header or a quote is stray.
    named = {d: _header_names(sample, d) for d in (*_DELIMITERS, *_FOREIGN)}
    most = max(named.values())
    winners = [d for d, k in named.items() if k == most]
    if most >= 2 and len(winners) == 1:
        delimiter = winners[0]
        if delimiter not in _DELIMITERS:
            en, sw = _NAMES[delimiter]
            raise _foreign(f"the cells seem to be separated by {en}", f"visanduku vinaonekana kutenganishwa kwa {sw}")
        _refuse_foreign_quoting(sample, delimiter)
        return delimiter
    if not fitting:
        # A regular table with another delimiter is that other dialect.
        regular = [d for d in _FOREIGN if _consistent(sample, d)]
        if regular:
            en, sw = _NAMES[regular[0]]
            raise _foreign(f"the cells seem to be separated by {en}", f"visanduku vinaonekana kutenganishwa kwa {sw}")
        if not any(d in sample for d in _DELIMITERS):
            return ","  # one column whatever the delimiter (the header checks say what is missing)
    candidates = fitting or [*_DELIMITERS, *_FOREIGN]
    try:
        dialect = clevercsv.Detector().detect(sample, delimiters=list(candidates))
    except Exception:  # no guess is handled below like a wrong one
        dialect = None
    guess = dialect.delimiter if dialect else None
    if guess in _DELIMITERS:
        _refuse_foreign_quoting(sample, guess)
        return guess
    if guess in _NAMES:
        en, sw = _NAMES[guess]
        raise _foreign(f"the cells seem to be separated by {en}", f"visanduku vinaonekana kutenganishwa kwa {sw}")
    raise _foreign(
        "the character that separates the cells could not be told",
        "herufi inayotenganisha visanduku haikuweza kutambuliwa",
    )


def _refuse_foreign_quoting(sample: str, delimiter: str) -> None:
    """A sample that is irregular with double quotes but regular with apostrophe quoting or backslash escapes
    was written in that other dialect: its quoted delimiters would split cells."""
    if _consistent(sample, delimiter):
        return
    if (
        "'" in sample
        and _quoted_delimiter(sample, delimiter, quotechar="'")
        and _consistent(sample, delimiter, quotechar="'")
    ):
        raise _foreign("cells are quoted with apostrophes (')", "visanduku vimenukuliwa kwa apostrofi (')")
    if "\\" in sample and _consistent(sample, delimiter, escapechar="\\", doublequote=False):
        raise _foreign(
            'quotes inside cells are escaped with a backslash (\\")',
            'nukuu ndani ya visanduku zimetanguliwa na backslash (\\")',
        )


def _quoted_delimiter(sample: str, delimiter: str, **dialect: object) -> bool:
    records = _parse(sample, delimiter, **dialect) or []
    return any(delimiter in c for r in records for c in r)


def _first_nonblank(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]] | None:
    for number, cells in records:
        if any(c.strip() for c in cells):
            return number, cells
    return None


def _tap(lines: Iterator[str], kept: list[str]) -> Iterator[str]:
    """The lines, each also kept (the caller clears `kept` after every record: it holds one record's lines)."""
    keep = kept.append
    for line in lines:
        keep(line)
        yield line


def _records(fh: Iterator[str], delimiter: str, malformed: set[int]) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every record. A record whose quotes do not pair up (a stray quote that opened a
    cell and swallowed delimiters, line ends, even the following rows, up to the end or the cell size limit)
    comes back as its first line split at every delimiter, its number in `malformed`, and the lines it
    swallowed are read again as rows of their own.
    Each record's lines are kept only until the next record: memory stays flat."""
    kept: list[str] = []
    number = 0
    source: Iterator[str] = fh
    while True:
        reader = csv.reader(_tap(source, kept), delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
        try:
            for cells in reader:
                number += 1
                yield number, cells
                kept.clear()
            return
        except csv.Error as exc:
            lines = kept[:]
            kept.clear()
            if "field larger than field limit" in str(exc) and len(lines) < 2:
                mb = csv.field_size_limit() >> 20
                raise UnreadableFile(
                    f"a cell of row {number + 1} is larger than {mb} MB",
                    f"kisanduku cha safu {number + 1} ni kikubwa kuliko MB {mb}",
                ) from exc
            if not lines:  # pragma: no cover - an error is always raised on a line read
                raise UnreadableFile(f"the CSV cannot be parsed: {exc}") from exc
            number += 1
            malformed.add(number)
            yield number, lines[0].rstrip("\r\n").split(delimiter)
            source = itertools.chain(lines[1:], fh)


def _find_header(records: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(header row, header, rows read past the header). The header is the first of the first rows that names
    contract columns; above it there may only be blank lines and title rows (a few cells, such as a report's
    title, the organisation or a date). Without such a row the first non-blank row is the header, and the
    header checks say what is missing."""
    seen: list[tuple[int, list[str]]] = []
    for number, cells in records:
        if any(c.strip() for c in cells):
            seen.append((number, cells))
            if _named_cells(cells) >= 2 or len(seen) >= _HEADER_SEARCH:
                break
    found = next((i for i, (_, cells) in enumerate(seen) if _named_cells(cells) >= 2), None)
    if found is None:
        return (*seen[0], seen[1:]) if seen else (1, [], [])
    above = [n for n, cells in seen[:found] if sum(bool(c.strip()) for c in cells) > 3]
    header_row = seen[found][0]
    if above:
        rows = ", ".join(map(str, above))
        raise UnreadableFile(
            f"row {header_row} holds the column names, but row(s) {rows} above it hold data, not a title: make "
            f"row {header_row} the first row of the file (delete the rows above it) and send it again",
            f"safu {header_row} ina majina ya safu wima, lakini safu {rows} zilizo juu yake zina data, si kichwa "
            f"cha habari: fanya safu {header_row} kuwa safu ya kwanza ya faili (futa safu zilizo juu yake) kisha "
            f"ulitume tena",
        )
    return header_row, seen[found][1], []


def _row_width(header: list[str], rows: list[tuple[int, list[str]]]) -> tuple[int, frozenset[int]]:
    """(cells a row of this file has, the other widths it may have). The width is the header's, unless more
    than half of the first data rows (two at least) have one width that still covers every named header cell:
    a tool that ends every line with a delimiter more than the header's (or the header with fewer than its
    lines) is not broken; a row unlike the others is. Rows narrower than the named header never set the
    width: they are short rows, or the header names a column too many. Without such a majority, the widths of
    the first rows that cover the header are all possible (two rows of 15 and 16 cells under a 15-cell header:
    either may be the damaged one)."""
    named = max((i + 1 for i, h in enumerate(header) if h.strip()), default=0)
    widths = Counter(len(cells) for _, cells in rows if any(c.strip() for c in cells))
    if widths:
        width, count = widths.most_common(1)[0]
        if count >= 2 and count * 2 > sum(widths.values()) and width >= named:
            return width, frozenset()
    return len(header), frozenset(w for w in widths if w >= named and w != len(header))


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
        raise UnreadableFile(
            "the file holds binary data, not text (is it a PDF or a spreadsheet saved as .csv?)",
            "faili lina data ya binary, si maandishi (je, ni PDF au kitabu cha Excel kilichohifadhiwa kama .csv?)",
        )
    delimiter = _sniff_delimiter(text_sample.lstrip("\ufeff"))
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        malformed: set[int] = set()
        records = _records(fh, delimiter, malformed)
        header_row, header, after = _find_header(records)
        if header_row in malformed:
            raise UnreadableFile(
                f"a double quote in the header (row {header_row}) does not pair up, so its column names run "
                f"together: remove the quote, or write the name in double quotes with each quote inside it twice",
                f"alama ya nukuu katika kichwa (safu {header_row}) haina jozi yake, kwa hiyo majina ya safu wima "
                f"yanaungana: ondoa nukuu hiyo, au andika jina ndani ya alama za nukuu na kila nukuu ndani yake mara "
                f"mbili",
            )
        ahead = after + list(itertools.islice(records, _WIDTH_ROWS))
        width, other_widths = _row_width(header, ahead)
        yield Table(
            header,
            header_row,
            itertools.chain(ahead, records),
            f"csv {encoding} {delimiter!r}",
            delimiter=delimiter,
            width=width,
            other_widths=other_widths,
            malformed=malformed,
        )


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


# --- XLSX ------------------------------------------------------------------------------------------
#
# Workbooks are read with a streaming parser of their own (pyexpat over the zip members), not openpyxl:
# openpyxl's read-only mode trusts the sheet's `<dimension>` (a stale one drops rows and columns, a lying
# `A1:XFD1048576` makes it pad a million rows of 16,384 cells), does not expose merged cells, and gives a
# formula without a cached value as an empty cell; its normal mode holds the whole workbook in memory.
#
# The rules (docs/xlsx.md):
# - bounds first, from the zip directory, then counted while decompressing (a zip can lie about sizes):
#   unpacked bytes, compression ratio, number of parts; then rows and columns holding values, and merged
#   ranges. Each is a file reason (`XlsxLimits`, set from NJIA_XLSX_* settings).
# - `<dimension>` is ignored: rows and columns are those that hold values, wherever they are.
# - the sheet read is the visible sheet named `routes`, else the first visible sheet. A hidden (or very
#   hidden) sheet named `routes` rejects the file (`hidden_routes_sheet`): what the person sees and what
#   the contract names differ. Other hidden sheets (the template's code lists) are not read.
# - hidden rows and columns are read like the others: hiding is a view (filters, outlines), the values
#   are still what the organisation sent, and dropping them would lose rows silently.
# - a merged range shows its top-left value across the whole range, so every cell of the range gets it
#   (in the rows that hold values of their own: none is made up). Its cells are also flagged (`Table.flagged`, code "merged"): a count merged over several cells is
#   ambiguous (each row's, or their total?), and the pipeline sets such rows aside (`merged_count`).
# - a formula without a cached value (a workbook written by a program and never opened in Excel) has no
#   value to read: the cell is flagged `formula_without_value` (a row problem), never an empty cell.
# - a macro-enabled workbook is `unsupported_file_type`, whatever its name ends with.

_MAIN_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_RATIO_FLOOR = 1 << 20  # parts that unpack to less are too small for their compression ratio to matter
_READ_BLOCK = 1 << 16


@dataclass(frozen=True)
class XlsxLimits:
    """The bounds on one workbook (settings `xlsx_*`; the defaults are the settings' defaults)."""

    max_unpacked_bytes: int = 256 * 1024 * 1024
    max_ratio: float = 100.0
    max_parts: int = 1_000
    max_rows: int = 1_048_576
    max_columns: int = 256
    max_merged_ranges: int = 10_000

    @classmethod
    def of(cls, settings: object) -> XlsxLimits:
        return cls(**{f: getattr(settings, f"xlsx_{f}") for f in cls.__dataclass_fields__})


class _Rejected(UnreadableFile):
    """A readable workbook outside a bound or a rule: the file reason says which."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _names(local: str) -> frozenset[str]:
    return frozenset(f"{ns}}}{local}" for ns in _MAIN_NS)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


class _Counted:
    """A zip member's stream that counts the bytes it really unpacks (the directory may lie)."""

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: XlsxLimits) -> None:
        self._stream = zf.open(info)
        self._name, self._packed = info.filename, max(info.compress_size, 1)
        self._limits, self.unpacked = limits, 0

    def read(self, size: int = _READ_BLOCK) -> bytes:
        data = self._stream.read(_READ_BLOCK if size is None or size < 0 else min(size, _READ_BLOCK))
        self.unpacked += len(data)
        if self.unpacked > self._limits.max_unpacked_bytes:
            raise _Rejected(
                "workbook_too_large", f"{self._name} unpacks to more than {self._limits.max_unpacked_bytes} bytes"
            )
        if self.unpacked > _RATIO_FLOOR and self.unpacked / self._packed > self._limits.max_ratio:
            raise _Rejected(
                "compression_ratio_too_high",
                f"{self._name} unpacks to more than {self._limits.max_ratio:g} times its packed size",
            )
        return data

    def close(self) -> None:
        self._stream.close()


def _expat(handlers: dict[str, object]):  # a pyexpat parser
    """A namespace-aware expat parser that refuses DTDs (no entity tricks) and collects text in blocks."""
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.buffer_size = _READ_BLOCK

    def no_dtd(*_: object) -> None:
        raise ValueError("the workbook's XML declares a DTD")

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    for name, handler in handlers.items():
        setattr(parser, name, handler)
    return parser


_ENTRY_BYTES = 1024  # of the zip directory per part: 46 bytes and a name (a workbook's are short)


def _directory_size(fh: object) -> tuple[int, int] | None:
    """(entries, bytes) of the zip directory as its end record states them, read before zipfile builds an
    object per entry (millions of tiny entries would take gigabytes); None when there is no end record."""
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(max(0, size - (22 + 0xFFFF + 20)))
    tail = fh.read()
    fh.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":  # zip64: the sizes are in another record
        (offset,) = struct.unpack("<Q", tail[at - 12 : at - 4])
        fh.seek(offset)
        record = fh.read(56)
        fh.seek(0)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            entries, directory = struct.unpack("<QQ", record[32:48])
    return entries, directory


class _Book:
    """The zip container of a workbook, with its bounds checked and its parts found."""

    def __init__(self, fh: object, limits: XlsxLimits) -> None:
        self.limits = limits
        stated = _directory_size(fh)
        if stated is not None and (stated[0] > limits.max_parts or stated[1] > limits.max_parts * _ENTRY_BYTES):
            raise _Rejected(
                "too_many_parts",
                f"the workbook's directory lists {stated[0]} parts in {stated[1]} "
                f"bytes; the limit is {limits.max_parts} parts",
            )
        self.zf = zipfile.ZipFile(fh)
        infos = self.zf.infolist()
        if len(infos) > limits.max_parts:
            raise _Rejected("too_many_parts", f"the workbook has {len(infos)} parts; the limit is {limits.max_parts}")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_unpacked_bytes:
            raise _Rejected(
                "workbook_too_large",
                f"the workbook unpacks to {declared} bytes; the limit is {limits.max_unpacked_bytes}",
            )
        for i in infos:
            if i.file_size > _RATIO_FLOOR and i.file_size / max(i.compress_size, 1) > limits.max_ratio:
                raise _Rejected(
                    "compression_ratio_too_high",
                    f"{i.filename} is packed {i.file_size / max(i.compress_size, 1):.0f} "
                    f"times; the limit is {limits.max_ratio:g}",
                )
        self.infos = {i.filename.lstrip("/"): i for i in infos}

    def parse(self, part: str, handlers: dict[str, object], *, stop: Callable[[], bool] | None = None) -> None:
        """Feed a whole part to a parser with these handlers (`stop` ends it early)."""
        for _ in self.feed(part, handlers):
            if stop is not None and stop():
                return

    def feed(self, part: str, handlers: dict[str, object]) -> Iterator[None]:
        """Feed a part block by block, yielding after each block (handlers collect what they need)."""
        info = self.infos.get(part)
        if info is None:
            raise KeyError(f"the workbook has no part {part}")
        parser = _expat(handlers)
        stream = _Counted(self.zf, info, self.limits)
        try:
            while block := stream.read(_READ_BLOCK):
                parser.Parse(block, False)
                yield
            parser.Parse(b"", True)
            yield
        finally:
            stream.close()

    def text(self, part: str) -> bytes | None:
        """A small part's bytes (content types, relationships), bounded like every read."""
        if part not in self.infos:
            return None
        stream, out = _Counted(self.zf, self.infos[part], self.limits), []
        try:
            while block := stream.read(_READ_BLOCK):
                out.append(block)
        finally:
            stream.close()
        return b"".join(out)

    def relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Id -> (type, target part) of a part's relationships."""
        folder, name = posixpath.split(part)
        found: dict[str, tuple[str, str]] = {}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), posixpath.normpath(path).lstrip("/"))

        rels = posixpath.join(folder, "_rels", f"{name}.rels")
        if rels in self.infos:
            self.parse(rels, {"StartElementHandler": start})
        return found


@dataclass
class _Sheet:
    name: str
    hidden: bool
    part: str


def _workbook(book: _Book) -> tuple[str, list[_Sheet], bool]:
    """(workbook part, its sheets in order, whether dates count from 1904)."""
    types = book.text("[Content_Types].xml") or b""
    if b"macroEnabled" in types or "xl/vbaProject.bin" in book.infos:
        raise _Rejected("unsupported_file_type", "a macro-enabled workbook (.xlsm); save it as .xlsx without macros")
    office = [t for kind, t in book.relationships("").values() if kind.endswith("/officeDocument")]
    part = office[0] if office else "xl/workbook.xml"
    rels = book.relationships(part)
    sheets: list[_Sheet] = []
    date1904 = [False]

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = _local(tag)
        if local == "sheet":
            rid = next((v for k, v in attrs.items() if k.endswith("}id")), "")
            kind, target = rels.get(rid, ("", ""))
            if kind.endswith("/worksheet"):  # chart sheets and dialog sheets hold no table
                sheets.append(_Sheet(attrs.get("name", ""), attrs.get("state", "visible") != "visible", target))
        elif local == "workbookPr":
            date1904[0] = attrs.get("date1904", "0").lower() in ("1", "true")

    book.parse(part, {"StartElementHandler": start})
    return part, sheets, date1904[0]


def _sheet_key(name: str) -> str:
    """A sheet name as compared: case, width variants, surrounding spaces and invisible characters aside."""
    return "".join(c for c in unicodedata.normalize("NFKC", name) if unicodedata.category(c) != "Cf").strip().casefold()


def _choose_sheet(sheets: list[_Sheet]) -> _Sheet:
    routes = [s for s in sheets if _sheet_key(s.name) == "routes"]
    if any(s.hidden for s in routes):
        raise _Rejected(
            "hidden_routes_sheet", "the sheet named routes is hidden; unhide it (or rename it) and send the file again"
        )
    if len(routes) > 1:
        raise UnreadableFile("more than one sheet is named routes")
    visible = [s for s in sheets if not s.hidden]
    if not visible:
        raise UnreadableFile("the workbook has no visible sheet")
    return routes[0] if routes else visible[0]


def _date_styles(book: _Book, part: str | None) -> frozenset[int]:
    """Positions of the cell formats that show numbers as dates."""
    if part is None or part not in book.infos:
        return frozenset()
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    custom: dict[int, str] = {}
    formats: list[int] = []
    depth = {"cellXfs": False}

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = _local(tag)
        if local == "numFmt":
            custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif local == "cellXfs":
            depth["cellXfs"] = True
        elif local == "xf" and depth["cellXfs"]:
            formats.append(int(attrs.get("numFmtId", "0")))

    def end(tag: str) -> None:
        if _local(tag) == "cellXfs":
            depth["cellXfs"] = False

    book.parse(part, {"StartElementHandler": start, "EndElementHandler": end})
    dates = set()
    for position, fmt in enumerate(formats):
        code = custom.get(fmt) or BUILTIN_FORMATS.get(fmt)
        if code and is_date_format(code) and not is_timedelta_format(code):
            dates.add(position)
    return frozenset(dates)


class _SharedStrings:
    """The workbook's shared strings, packed in blocks of text with offsets (a few bytes a string, not
    the fifty or so of a Python string each: a workbook can hold millions)."""

    _BLOCK = 4096

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.offsets: list[array] = []
        self._pending: list[str] = []

    def add(self, text: str) -> None:
        self._pending.append(text)
        if len(self._pending) == self._BLOCK:
            self._pack()

    def _pack(self) -> None:
        offsets = array("q", [0])
        for text in self._pending:
            offsets.append(offsets[-1] + len(text))
        self.blocks.append("".join(self._pending))
        self.offsets.append(offsets)
        self._pending = []

    def finish(self) -> _SharedStrings:
        if self._pending:
            self._pack()
        return self

    def __getitem__(self, index: int) -> str:
        block, at = divmod(index, self._BLOCK)
        if index < 0 or block >= len(self.blocks) or at >= len(self.offsets[block]) - 1:
            raise ValueError(f"shared string {index} does not exist")
        offsets = self.offsets[block]
        return self.blocks[block][offsets[at] : offsets[at + 1]]


def _shared_strings(book: _Book, part: str | None) -> _SharedStrings:
    strings = _SharedStrings()
    if part is None or part not in book.infos:
        return strings.finish()
    si, t, rph = _names("si"), _names("t"), _names("rPh")
    state = {"text": None, "in_t": False, "phonetic": 0}
    parts: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag in si:
            parts.clear()
        elif tag in t and not state["phonetic"]:
            state["in_t"] = True
        elif tag in rph:
            state["phonetic"] += 1

    def end(tag: str) -> None:
        if tag in si:
            strings.add("".join(parts))
        elif tag in t:
            state["in_t"] = False
        elif tag in rph:
            state["phonetic"] -= 1

    def data(text: str) -> None:
        if state["in_t"]:
            parts.append(text)

    book.parse(part, {"StartElementHandler": start, "EndElementHandler": end, "CharacterDataHandler": data})
    return strings.finish()


_COLUMN_CACHE: dict[str, int] = {}


def _column_index(letters: str) -> int:
    """1 for A, 27 for AA; 0 for what is not a column reference."""
    index = _COLUMN_CACHE.get(letters)
    if index is None:
        index = 0
        for ch in letters.upper():
            if not "A" <= ch <= "Z":
                return 0
            index = index * 26 + ord(ch) - 64
        if len(_COLUMN_CACHE) < 20_000:
            _COLUMN_CACHE[letters] = index
    return index


def _reference(ref: str) -> tuple[int, int]:
    """(row, column) of a cell reference such as `B12`."""
    letters = ref.rstrip("0123456789")
    digits = ref[len(letters) :]
    return (int(digits) if digits else 0), _column_index(letters.replace("$", ""))


def _merged_ranges(book: _Book, part: str) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges (first row, first column, last row, last column) by first row. The sheet
    lists them after its rows, so they are read first; a sheet that never names them is not parsed twice."""
    info = book.infos[part]
    stream, tail, seen = _Counted(book.zf, info, book.limits), b"", False
    try:
        while block := stream.read(_READ_BLOCK):
            if b"mergeCell" in tail + block:
                seen = True
                break
            tail = block[-16:]
    finally:
        stream.close()
    if not seen:
        return []
    names = _names("mergeCell")
    ranges: list[tuple[int, int, int, int]] = []
    limit = book.limits.max_merged_ranges

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag in names:
            first, _, last = attrs.get("ref", "").partition(":")
            r1, c1 = _reference(first)
            r2, c2 = _reference(last or first)
            if min(r1, c1, r2, c2) < 1 or r2 < r1 or c2 < c1:
                raise ValueError(f"a merged range {attrs.get('ref', '')!r} is not a range")
            if (r1, c1) != (r2, c2):
                ranges.append((r1, c1, r2, c2))
            if len(ranges) > limit:
                raise _Rejected("too_many_merged_cells", f"the sheet has more than {limit} merged ranges")

    book.parse(part, {"StartElementHandler": start})
    return sorted(ranges)


class _SheetRows:
    """The handlers that turn a sheet's XML into rows of cells as Excel shows them."""

    def __init__(
        self, strings: _SharedStrings, date_styles: frozenset[int], date1904: bool, limits: XlsxLimits
    ) -> None:
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        self.strings, self.date_styles, self.limits = strings, date_styles, limits
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self.done: list[tuple[int, dict[int, str]]] = []  # finished rows, with their cells by column
        self.formulas: dict[tuple[int, int], str] = {}  # cells whose formula has no cached value
        self.row = 0
        self.cells: dict[int, str] = {}
        self.column = 0
        self.kind = self.style = None
        self.formula: list[str] | None = None
        self.value: list[str] | None = None
        self.inline = False
        self.collect = False
        self.phonetic = 0
        self.tags = {n: _names(n) for n in ("row", "c", "v", "f", "is", "t", "rPh")}

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        tags = self.tags
        if tag in tags["c"]:
            ref = attrs.get("r")
            self.column = _reference(ref)[1] if ref else self.column + 1
            if self.column < 1:
                raise ValueError(f"a cell reference {ref!r} is not a cell")
            self.kind, self.style = attrs.get("t", "n"), attrs.get("s")
            self.formula = self.value = None
            self.inline = False
        elif tag in tags["v"]:
            self.value, self.collect = [], True
        elif tag in tags["f"]:
            self.formula, self.collect = [], True
        elif tag in tags["is"]:
            self.inline, self.value = True, []
        elif tag in tags["t"] and self.inline and not self.phonetic:
            self.collect = True
        elif tag in tags["rPh"]:
            self.phonetic += 1
        elif tag in tags["row"]:
            ref = attrs.get("r")
            number = int(ref) if ref else self.row + 1
            if number <= self.row:
                raise ValueError(f"row {number} comes after row {self.row}")
            self.row, self.cells, self.column = number, {}, 0

    def data(self, text: str) -> None:
        if self.collect:
            target = self.formula if self.formula is not None and self.value is None else self.value
            if target is not None:
                target.append(text)

    def end(self, tag: str) -> None:
        tags = self.tags
        if tag in tags["v"] or tag in tags["f"] or tag in tags["t"]:
            self.collect = False
        elif tag in tags["rPh"]:
            self.phonetic -= 1
        elif tag in tags["c"]:
            self._cell()
        elif tag in tags["row"]:
            if self.cells:
                self.done.append((self.row, self.cells))

    def _cell(self) -> None:
        if self.value is None and self.formula is not None:
            text = "".join(self.formula)
            self.formulas[(self.row, self.column)] = text
            self._put("=" + text)  # a value no normaliser recognises; the pipeline reports the formula
            return
        if self.value is None:
            return  # a formatted empty cell
        raw = "".join(self.value)
        kind = self.kind
        if kind == "s":
            text = self.strings[int(raw)]
        elif kind in ("str", "inlineStr", "e") or self.inline:
            text = raw
        elif kind == "b":
            text = "TRUE" if raw.strip() in ("1", "true") else "FALSE"
        elif kind == "d":
            try:
                text = excel_text(dt.datetime.fromisoformat(raw.strip()))
            except ValueError:
                text = raw
        else:
            text = self._number(raw.strip())
        if text:
            self._put(text)

    def _number(self, raw: str) -> str:
        if not raw:
            return ""
        try:
            number: float | int = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
        except ValueError:
            return raw
        if self.style is not None and self.date_styles and int(self.style) in self.date_styles:
            from openpyxl.utils.datetime import from_excel

            try:
                return excel_text(from_excel(number, self.epoch))
            except (ValueError, OverflowError, TypeError):
                pass
        return excel_text(number)

    def _put(self, text: str) -> None:
        if self.column > self.limits.max_columns:
            raise _Rejected(
                "too_many_columns",
                f"a value in column {self.column} of row {self.row}; the limit is {self.limits.max_columns} columns",
            )
        self.cells[self.column] = text


def _xlsx_rows(
    book: _Book,
    part: str,
    reader: _SheetRows,
    merges: list[tuple[int, int, int, int]],
    flagged: dict[int, list[tuple[int, str, str | None]]],
) -> Iterator[tuple[int, list[str]]]:
    """The sheet's rows as Excel shows them, merged ranges filled, each row holding values counted against
    the bound. A merged range fills the rows it covers that hold values of their own; rows it alone would
    fill are not made up (they would hold nothing else, and a tiny file could make a million of them)."""
    limits = book.limits
    pending = iter(merges)
    upcoming = next(pending, None)
    active: list[tuple[int, int, int, str, str | None]] = []  # (last row, first column, last column, value, formula)
    count = 0

    def emit(number: int, cells: dict[int, str]) -> tuple[int, list[str]]:
        nonlocal upcoming, count, active
        while upcoming is not None and upcoming[0] <= number:
            r1, c1, r2, c2 = upcoming
            value = cells.get(c1, "") if r1 == number else ""  # a range whose first row is missing shows nothing
            if value:
                if c2 > limits.max_columns:
                    raise _Rejected(
                        "too_many_columns",
                        f"a merged range reaches column {c2}; the limit is {limits.max_columns} columns",
                    )
                active.append((r2, c1, c2, value, reader.formulas.get((number, c1))))
            upcoming = next(pending, None)
        if active:
            active = [m for m in active if m[0] >= number]
            filled: set[int] = set()
            marks = flagged.setdefault(number, [])
            for _, c1, c2, value, formula in active:
                for column in range(c1, c2 + 1):
                    if column in filled:
                        raise UnreadableFile("two merged ranges overlap")
                    filled.add(column)
                    cells[column] = value
                    marks.append((column - 1, "merged", None))
                    # What a covered cell holds is not shown; a top-left formula without a value is, everywhere.
                    reader.formulas.pop((number, column), None)
                    if formula is not None:
                        marks.append((column - 1, "formula_without_value", formula))
        if reader.formulas:
            for column in cells:
                if (number, column) in reader.formulas:
                    flagged.setdefault(number, []).append(
                        (column - 1, "formula_without_value", reader.formulas.pop((number, column)))
                    )
        count += 1
        if count > limits.max_rows:
            raise _Rejected(
                "too_many_rows", f"more than {limits.max_rows} rows hold values; the limit is {limits.max_rows}"
            )
        row = [""] * max(cells)
        for column, text in cells.items():
            row[column - 1] = text
        return number, row

    for _ in book.feed(
        part,
        {"StartElementHandler": reader.start, "EndElementHandler": reader.end, "CharacterDataHandler": reader.data},
    ):
        done, reader.done = reader.done, []
        for number, cells in done:
            yield emit(number, cells)


def _leading_rows(
    book: _Book,
    sheet: _Sheet,
    strings: _SharedStrings,
    limits: XlsxLimits,
    count: int,
) -> list[list[str]]:
    """A sheet's first `count` rows holding values; its parsing stops there."""
    if sheet.part not in book.infos:
        return []
    reader = _SheetRows(strings, frozenset(), False, limits)
    rows: list[list[str]] = []
    for _ in book.feed(
        sheet.part,
        {"StartElementHandler": reader.start, "EndElementHandler": reader.end, "CharacterDataHandler": reader.data},
    ):
        for _, cells in reader.done:
            if any(c.strip() for c in cells.values()):
                row = [""] * max(cells)
                for column, text in cells.items():
                    row[column - 1] = text
                rows.append(row)
                if len(rows) >= count:
                    return rows
        reader.done = []
    return rows


def _first_row(book: _Book, sheet: _Sheet, strings: _SharedStrings, limits: XlsxLimits) -> list[str]:
    """A sheet's first row holding values."""
    rows = _leading_rows(book, sheet, strings, limits, 1)
    return rows[0] if rows else []


# What a damaged workbook raises (a broken zip member, truncated or invalid XML, a missing part): the file
# is unreadable, rather than the run crashing on it again and again.
_XLSX_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    OSError,
    ValueError,
    SyntaxError,
    NotImplementedError,
    RuntimeError,
    ExpatError,
    IndexError,
)


def _xlsx_guard(records: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    try:
        yield from records
    except UnreadableFile:
        raise
    except _XLSX_ERRORS as exc:
        raise UnreadableFile(f"the .xlsx workbook is damaged: {exc}") from exc


@contextmanager
def _open_xlsx(path: Path, limits: XlsxLimits | None = None) -> Iterator[Table]:
    limits = limits or XlsxLimits()
    with path.open("rb") as fh:
        try:
            book = _Book(fh, limits)
            part, sheets, date1904 = _workbook(book)
            sheet = _choose_sheet(sheets)
            rels = book.relationships(part)
            by_kind = {kind.rsplit("/", 1)[-1]: target for kind, target in rels.values()}
            strings = _shared_strings(book, by_kind.get("sharedStrings"))
            reader = _SheetRows(strings, _date_styles(book, by_kind.get("styles")), date1904, limits)
            if sheet.part not in book.infos:
                raise UnreadableFile(f"the sheet {sheet.name!r} has no content")
            merges = _merged_ranges(book, sheet.part)
            headers = {s.name: _first_row(book, s, strings, limits) for s in sheets if s is not sheet}
        except UnreadableFile:
            raise
        except _XLSX_ERRORS as exc:
            raise UnreadableFile(f"the file is not a readable .xlsx workbook: {exc}") from exc
        flagged: dict[int, list[tuple[int, str, str | None]]] = {}
        records = _xlsx_guard(_xlsx_rows(book, sheet.part, reader, merges, flagged))
        first = _first_nonblank(records)
        header_row, header = first if first else (1, [])
        headers[sheet.name] = header
        yield Table(header, header_row, records, f"xlsx sheet {sheet.name!r}", flagged=flagged, sheet_headers=headers)


@contextmanager
def open_table(path: Path, suffix: str, xlsx_limits: XlsxLimits | None = None) -> Iterator[Table]:
    """Open a delivered file (already copied locally) as a table; raises UnreadableFile."""
    opener = (lambda p: _open_xlsx(p, xlsx_limits)) if suffix == ".xlsx" else _open_csv
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
    # The same bounded parser as the reading (limits on the unpacked size, parts, rows and columns), never a
    # library that trusts the workbook's own metadata.
    limits = XlsxLimits()
    with path.open("rb") as fh:
        try:
            book = _Book(fh, limits)
            part, sheets, _ = _workbook(book)
            by_kind = {kind.rsplit("/", 1)[-1]: target for kind, target in book.relationships(part).values()}
            strings = _shared_strings(book, by_kind.get("sharedStrings"))
            return [(s.name, _leading_rows(book, s, strings, limits, limit)) for s in sheets]
        except UnreadableFile:
            raise
        except _XLSX_ERRORS as exc:
            raise UnreadableFile(f"the .xlsx workbook is damaged: {exc}") from exc


def text_head(path: Path) -> str | None:
    """The file's first bytes as text, or None when they are not text (for files no reader opens)."""
    with path.open("rb") as fh:
        head = fh.read(_SAMPLE_BYTES)
    text = head.decode("utf-8", errors="replace")
    return None if _looks_binary(head, text) or b"\x00" in head else text
