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
import itertools
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

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
        raise UnreadableFile("the text encoding is not UTF-8, UTF-16 or Windows-1252",
                             "usimbaji wa maandishi si UTF-8, UTF-16 wala Windows-1252")
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
_NAMES = {",": ("commas (,)", "koma (,)"), ";": ("semicolons (;)", "nukta-mkato (;)"), "\t": ("tabs", "tab"),
          "|": ("vertical bars (|)", "mistari wima (|)"), " ": ("spaces", "nafasi"), ":": ("colons (:)", "nukta pacha (:)"),
          "^": ("carets (^)", "alama ^"), "~": ("tildes (~)", "alama ~"), "#": ("hashes (#)", "alama #")}
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
    return UnreadableFile(f"{en}. Njia reads cells separated by commas, semicolons or tabs, quoted with "
                          f"double quotes (\"). {_HOW_TO_EXPORT[0]}",
                          f"{sw}. Njia inasoma visanduku vilivyotenganishwa kwa koma, nukta-mkato au tab, "
                          f"vilivyonukuliwa kwa alama za nukuu (\"). {_HOW_TO_EXPORT[1]}")


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
    rows = csv.reader(lines, delimiter=delimiter, quotechar='"', strict=False) if delimiter != " " else (
        [c for c in line.split(" ") if c] for line in lines)
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
    except Exception:  # noqa: BLE001 - no guess is handled below like a wrong one
        dialect = None
    guess = dialect.delimiter if dialect else None
    if guess in _DELIMITERS:
        _refuse_foreign_quoting(sample, guess)
        return guess
    if guess in _NAMES:
        en, sw = _NAMES[guess]
        raise _foreign(f"the cells seem to be separated by {en}", f"visanduku vinaonekana kutenganishwa kwa {sw}")
    raise _foreign("the character that separates the cells could not be told",
                   "herufi inayotenganisha visanduku haikuweza kutambuliwa")


def _refuse_foreign_quoting(sample: str, delimiter: str) -> None:
    """A sample that is irregular with double quotes but regular with apostrophe quoting or backslash escapes
    was written in that other dialect: its quoted delimiters would split cells."""
    if _consistent(sample, delimiter):
        return
    if "'" in sample and _quoted_delimiter(sample, delimiter, quotechar="'") and _consistent(
            sample, delimiter, quotechar="'"):
        raise _foreign("cells are quoted with apostrophes (')", "visanduku vimenukuliwa kwa apostrofi (')")
    if "\\" in sample and _consistent(sample, delimiter, escapechar="\\", doublequote=False):
        raise _foreign('quotes inside cells are escaped with a backslash (\\")',
                       'nukuu ndani ya visanduku zimetanguliwa na backslash (\\")')


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
                raise UnreadableFile(f"a cell of row {number + 1} is larger than {mb} MB",
                                     f"kisanduku cha safu {number + 1} ni kikubwa kuliko MB {mb}") from exc
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
            f"ulitume tena")
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
        raise UnreadableFile("the file holds binary data, not text (is it a PDF or a spreadsheet saved as .csv?)",
                             "faili lina data ya binary, si maandishi (je, ni PDF au kitabu cha Excel "
                             "kilichohifadhiwa kama .csv?)")
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
                f"mbili")
        ahead = after + list(itertools.islice(records, _WIDTH_ROWS))
        width, other_widths = _row_width(header, ahead)
        yield Table(header, header_row, itertools.chain(ahead, records), f"csv {encoding} {delimiter!r}",
                    delimiter=delimiter, width=width, other_widths=other_widths, malformed=malformed)


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
