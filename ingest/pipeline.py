"""One file from an organisation's folder to the warehouse: the path `njia ingest`, `njia run`, the DAGs
and the tests share.

discover → copy locally while hashing → (duplicate?) → read → header checks → archive → normalise
→ validate (GX) → spool valid rows → one transaction (ledger, COPY, periods, quarantine) → feedback.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import fcntl
import gc
import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, compress, islice
from pathlib import Path, PurePosixPath

import fsspec
import psycopg

from ingest import archive, feedback, load, registry
from ingest.contract import COLUMN_BY_NAME
from ingest.normalise import Period
from ingest.personal_data import SCAN_ROWS, first_contact_cell, personal_data_in
from ingest.prepare import (
    IDENTITY_COLUMNS,
    LOAD_COLUMNS,
    columns_of,
    header_like,
    map_header,
    misfits,
    named_width,
    normalise_columns,
    screen_cells,
)
from ingest.readers import SUPPORTED_SUFFIXES, Table, UnreadableFile, XlsxLimits, first_rows, open_table, text_head
from ingest.validate import validate
from njia import warehouse
from njia.alerts import check_quarantine_rates
from njia.cells import mask_contacts
from njia.settings import Settings

log = logging.getLogger(__name__)

CHUNK_ROWS = 50_000
SPOOL_LINES = 5_000  # spool lines joined into one write
FEEDBACK_FOLDER = "feedback"


@dataclass
class Problem:
    row: int | None
    column: str | None
    code: str
    value: str | None = None

    def __post_init__(self) -> None:
        self.value = visible(self.value)

    @property
    def message(self) -> str:
        return feedback.message(self.code)


# Control characters a person cannot see or type (tab, CR and LF excepted): PostgreSQL refuses NUL in text,
# and a spreadsheet shows none of them, so a cell holding one is a row problem and its value is echoed with
# each shown as \xNN.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def visible(value: str | None) -> str | None:
    if not value or not _CONTROL.search(value):
        return value
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", value)


@dataclass
class FileOutcome:
    file: str
    organisation: str
    sha256: str
    status: str = "accepted"
    reason: str | None = None
    detail: str | None = None
    detail_sw: str | None = None  # the detail in Swahili, when it has one
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    header_names: list[str] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    size_bytes: int = 0
    submission_id: int | None = None
    duplicate_of: int | None = None
    feedback_files: list[str] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.file).name

    def reject(self, reason: str, detail: str | None = None) -> FileOutcome:
        self.status, self.reason, self.detail = "rejected", reason, visible(detail)
        self.detail_sw = None  # a Swahili detail belongs to the reason it was given with
        self.rows_loaded, self.rows_quarantined = 0, self.rows_read
        return self

    def as_json(self) -> dict[str, object]:
        """The object `njia ingest --json` prints (docs/interfaces.md §1.3)."""
        return {
            "file": self.file,
            "organisation": self.organisation,
            "sha256": self.sha256,
            "status": self.status,
            "reason": self.reason,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "problems": [{"row": p.row, "column": p.column, "code": p.code} for p in self.problems],
            "ignored_columns": list(self.ignored_columns),
        }


# --- discovery -------------------------------------------------------------------------------------

def _is_candidate(name: str) -> bool:
    # Skip hidden files and the lock files Excel and LibreOffice leave beside an open workbook.
    return not name.startswith((".", "~$", ".~lock"))


def _files_in(source: str, known_orgs: Iterable[str]) -> Iterator[str]:
    fs, root = fsspec.core.url_to_fs(source)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]

    def url(path: str) -> str:
        return path if protocol in ("file", "local") else f"{protocol}://{path}"

    if fs.isfile(root):
        yield url(root)
        return
    if not fs.isdir(root):
        raise FileNotFoundError(f"inbox {source} does not exist")
    entries = fs.ls(root, detail=True)
    # A folder named like a registered organisation that holds files is one organisation's folder.
    if PurePosixPath(root).name in known_orgs and any(e["type"] == "file" for e in entries):
        folders = [root]
    else:
        folders = sorted(e["name"] for e in entries if e["type"] == "directory")
    for folder in folders:
        # Delivery order is modification time: a correction is processed after the file it corrects.
        for entry in sorted(fs.ls(folder, detail=True), key=_delivery_order):
            name = PurePosixPath(entry["name"]).name
            if entry["type"] == "file" and _is_candidate(name):
                yield url(entry["name"])


def _delivery_order(entry: dict) -> tuple[float, str]:
    stamp = entry.get("mtime") or entry.get("LastModified") or entry.get("created") or 0
    return (stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp), entry["name"])


def _open_delivered(file: str):  # an fsspec file object
    """Open a delivered file for reading. Only its folder is parsed as a URL: a name such as
    `routes::2024.csv` would otherwise be taken for fsspec's URL chaining and crash the whole run."""
    folder, name = file.rsplit("/", 1)
    fs, path = fsspec.core.url_to_fs(folder)
    return fs.open(f"{path.rstrip('/')}/{name}", "rb")


def _hash(file: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with _open_delivered(file) as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def discover(settings: Settings, sources: list[str] | None = None) -> list[str]:
    """Files in the inbox(es) not yet processed (same path and same bytes); refreshes the registry and
    removes the temporary copies of processes that died."""
    orgs = registry.read_registry(settings.organisations_path)
    _tmp_dir(settings)  # removes what processes that died left behind
    candidates = [f for source in (sources or [settings.inbox_url]) for f in _files_in(source, orgs)]
    with warehouse.connect(settings) as conn:
        registry.sync_registry(conn, orgs)
        hashed = [(f, h) for f in candidates if (h := _hash_or_none(f)) is not None]
        new = [(f, h) for f, h in hashed if not load.already_processed(conn, f, h)]
        # Delivery order is fixed here, at first discovery, not by whoever commits first.
        load.register_deliveries(conn, [(f, h, _source_mtime(f)) for f, h in new])
    return [f for f, _ in new]


def _hash_or_none(file: str) -> str | None:
    """The file's SHA-256, or None (logged) when it vanished or cannot be read: one such file must not
    stop the discovery of the others; it is looked at again by the next run."""
    try:
        return _hash(file)[0]
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        log.warning("%s: cannot be read (%s); skipped until the next run", file, type(exc).__name__)
        return None


# --- one file --------------------------------------------------------------------------------------

_TMP_DIRS: dict[tuple[Path, int], tuple[Path, int]] = {}


def _tmp_dir(settings: Settings) -> Path:
    """This process's folder for local copies and spools, under NJIA_HOME/tmp.

    A process killed mid-file leaves its copy of the delivered bytes behind, personal data included
    (docs/contract.md §2.4: those bytes are not kept). Each process holds a lock on its own folder while it lives,
    so a folder whose lock is free belongs to a process that died, and is removed with what it holds.
    """
    root = settings.home_dir / "tmp"
    key = (root, os.getpid())
    if key not in _TMP_DIRS or not _TMP_DIRS[key][0].is_dir():
        if key in _TMP_DIRS:
            os.close(_TMP_DIRS.pop(key)[1])
        root.mkdir(parents=True, exist_ok=True)
        new = Path(tempfile.mkdtemp(dir=root, prefix=".new-"))  # not swept until locked and renamed
        fd = os.open(new, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _TMP_DIRS[key] = (new.rename(root / f"ingest-{new.name.removeprefix('.new-')}"), fd)
    own = _TMP_DIRS[key][0]
    for other in root.iterdir():
        if other == own:
            continue
        if other.is_dir() and other.name.startswith("ingest-"):
            _remove_if_dead(other)
        elif other.is_file() and other.name.startswith("incoming-"):
            other.unlink(missing_ok=True)  # left by a version that shared the folder
    return own


def _remove_if_dead(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)  # its process is alive
        return
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        os.close(fd)


def _local_copy(file: str, tmp_dir: Path) -> tuple[Path, str, int]:
    """Copy the delivered bytes to local disk while hashing them, so every later step reads the same bytes."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="incoming-")
    with os.fdopen(fd, "wb") as out, _open_delivered(file) as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            out.write(block)
            size += len(block)
    return Path(name), digest.hexdigest(), size


def _organisation_of(file: str) -> tuple[str, str]:
    """The folder is the authority on who submitted (docs/contract.md §1): (organisation, folder URL)."""
    parent = file.rsplit("/", 1)[0]
    return parent.rsplit("/", 1)[-1], parent


def _frame(columns: dict[str, list[object]]):  # noqa: ANN202 - pandas is imported lazily
    import pandas as pd

    return pd.DataFrame(columns)


class _FirstSeen:
    """For each row, the number of the first row of the file with the same identity (None for that first
    row itself): `duplicate_of`. Keeps a 64-bit hash of each distinct identity and its first row number, as
    one pair of sorted arrays per chunk: 16 bytes a row whatever the rows hold, and nothing copied later."""

    def __init__(self) -> None:
        self.chunks: list[tuple[object, object]] = []  # (sorted hashes, first row numbers), oldest first

    def mark(self, numbers: list[int], identities: Iterable[tuple[object, ...]]) -> list[int | None]:
        import numpy as np

        hashes = np.fromiter(map(hash, identities), dtype=np.int64, count=len(numbers))
        rows = np.asarray(numbers, dtype=np.int64)
        distinct, first, inverse = np.unique(hashes, return_index=True, return_inverse=True)
        firsts = rows[first]
        new = np.ones(len(distinct), dtype=bool)
        for seen, seen_firsts in self.chunks:  # an earlier chunk's row comes first
            at = np.minimum(np.searchsorted(seen, distinct), len(seen) - 1)
            found = new & (seen[at] == distinct)
            firsts[found] = seen_firsts[at[found]]
            new &= ~found
        if new.any():
            self.chunks.append((distinct[new], firsts[new]))
        marked = firsts[inverse.reshape(-1)].tolist()
        return [f if f != n else None for f, n in zip(marked, numbers, strict=True)]


def _nonblank(chunk: Iterable[tuple[int, list[str]]]) -> tuple[list[int], list[list[str]] | None]:
    """Row numbers and cells of the rows that are not blank (blank lines are not rows, but keep the
    numbering a spreadsheet shows); cells are None when the chunk was empty (the table has ended)."""
    numbers, rows, read = [], [], False
    for number, cells in chunk:
        read = True
        if "".join(cells).strip():  # some cell holds more than whitespace
            numbers.append(number)
            rows.append(cells)
    return numbers, (rows if read else None)


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a chunk's plain rows are built: they hold no cycles, and
    with hundreds of thousands of live lists each collection would walk them all again (half the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_FIELD = io.StringIO()
_FIELD_WRITER = csv.writer(_FIELD, lineterminator="\n")
_MAX_FIELDS = 1 << 16  # distinct values whose spool text is remembered; past it they are forgotten


def _spool_field(value: object) -> str:
    """One value as the spool's CSV writer writes it within a row (quoted when it must be)."""
    _FIELD.seek(0)
    _FIELD.truncate()
    _FIELD_WRITER.writerow((value, None))  # a second field, so that an empty value is not a lone `""`
    return _FIELD.getvalue()[:-2]


def _spool_lines(numbers: list[int], columns: dict[str, list[object]], known: dict[object, str]) -> Iterator[str]:
    """The chunk's rows (row_number, then LOAD_COLUMNS) as the lines `csv.writer(lineterminator="\n")`
    writes, without the line end. Built column by column: each distinct value is encoded once, by the CSV
    writer itself, and remembered in `known`."""
    cells = [list(map(str, numbers))]
    for name in LOAD_COLUMNS:
        values = columns[name]
        for value in dict.fromkeys(values):
            if value not in known:
                known[value] = _spool_field(value)
        cells.append(list(map(known.__getitem__, values)))
    if len(known) > _MAX_FIELDS:
        known.clear()
    return map(",".join, zip(*cells, strict=True))


def _analyse_rows(
    table_rows: Iterator[tuple[int, list[str]]], hm, outcome: FileOutcome, spool: Path, today: dt.date,
    table: Table | None = None, max_cell_chars: int = 1_000,
) -> None:
    """Normalise, validate and spool valid rows; collects problems and periods on the outcome.

    A chunk of rows is handled column by column: each column's distinct spellings are normalised once
    (prepare.normalise_columns) and GX sees each distinct combination of values once (validate.validate).
    """
    seen = _FirstSeen()
    periods: dict[str, Period] = {}
    loaded_periods: dict[str, Period] = {}
    mismatch: str | None = None
    organisation = outcome.organisation.casefold()
    spooled: dict[object, str] = {}
    # CSV rows that do not fit the header are set aside, never mapped by position (prepare.misfits).
    fit = ((named_width(table.header), table.width, table.delimiter, table.malformed, table.other_widths)
           if table and table.width else None)
    with spool.open("w", encoding="utf-8", newline="") as out:
        while True:
            with _no_gc():
                numbers, rows = _nonblank(islice(table_rows, CHUNK_ROWS))
                if rows is None:
                    break
                if (contact := first_contact_cell(numbers, rows)) is not None:
                    # Personal data in any cell, any column: the file is refused and its bytes not kept.
                    outcome.rows_read = 0
                    outcome.problems.clear()
                    outcome.reject("pii_columns", f"row {contact[0]}, column {contact[1]}: a phone number or "
                                   "e-mail address")
                    return
                odd = misfits(numbers, rows, hm, *fit) if fit else {}
                raw = columns_of(rows, hm)
                del rows  # only the mapped columns' cells are kept from here: ignored columns (notes) can be long
                early = screen_cells(numbers, raw, table.flagged if table else {}, hm, max_cell_chars)
                columns = normalise_columns(raw, outcome.organisation, len(numbers))
            if not numbers:
                continue
            if mismatch is None:
                mismatch = next((c for n, c in zip(numbers, raw.get("organisation", ()), strict=False)
                                 if c and c.casefold() != organisation and n not in odd), None)
            columns["row_number"] = numbers
            identities = zip(*(columns[c] for c in IDENTITY_COLUMNS), strict=True)
            if odd:  # a row that does not fit is nobody's first: its values are not what was meant
                identities = [(n,) if n in odd else i for n, i in zip(numbers, identities, strict=True)]
            columns["duplicate_of"] = seen.mark(numbers, identities)
            outcome.rows_read += len(numbers)
            findings = validate(_frame(columns), today)
            bad: dict[int, list[Problem]] = {
                number: [Problem(number, column, code, mask_contacts(value)) for column, (code, value) in cells.items()]
                for number, cells in early.items()}
            if findings:
                position = {number: i for i, number in enumerate(numbers)}
                for f in findings:
                    if f.column in early.get(f.row_number, ()):
                        continue  # the cell was emptied for its earlier problem
                    value = raw[f.column][position[f.row_number]] if f.column in raw else None
                    bad.setdefault(f.row_number, []).append(
                        Problem(f.row_number, f.column, f.code, mask_contacts(value)))
            _flag_control_characters(raw, numbers, bad)
            if odd or bad:
                _shape_problems(numbers, raw, columns, hm, odd, bad)
            with _no_gc():
                period_columns = (columns["reporting_period"], columns["period_start"], columns["period_end"])
                for code, start, end in dict.fromkeys(zip(*period_columns, strict=True)):
                    if start:
                        periods[code] = Period(code, start, end)
                lines = _spool_lines(numbers, columns, spooled)
                good_periods: Iterable[tuple[object, ...]] = zip(*period_columns, strict=True)
                if bad:
                    for number in numbers:
                        if number in bad:
                            outcome.problems.extend(sorted(bad[number], key=_problem_order))
                    good = [number not in bad for number in numbers]
                    lines, good_periods = compress(lines, good), compress(good_periods, good)
                    outcome.rows_quarantined += len(bad)
                while text := "\n".join(islice(lines, SPOOL_LINES)):  # a slice at a time: less memory
                    out.write(text)
                    out.write("\n")
                for code, start, end in dict.fromkeys(good_periods):
                    loaded_periods[code] = Period(code, start, end)
                outcome.rows_loaded += len(numbers) - len(bad)
    outcome.periods = sorted(loaded_periods.values(), key=lambda p: (p.start, p.end))
    if mismatch is not None:
        outcome.reject("organisation_mismatch", f"organisation column says {mask_contacts(mismatch)!r}")
    elif overlap := _overlapping(list(periods.values())):
        outcome.reject("period_overlap", f"{overlap[0].code} overlaps {overlap[1].code} in this file")


def _shape_problems(numbers: list[int], raw: dict[str, list[str]], columns: dict[str, list[object]], hm,
                    odd: dict[int, tuple[str, str]], bad: dict[int, list[Problem]]) -> None:
    """A row that does not fit the header, or repeats it, gets that one problem (its other values are not
    what was meant); a row that is another table's header makes the file unreadable as one table. A header
    row never holds a period, so only rows without one are looked at."""
    position = {number: i for i, number in enumerate(numbers)}
    for number in [*odd, *(n for n in bad if n not in odd)]:
        k = position[number]
        if columns["period_start"][k] is None and hm.index:
            names, own = header_like(raw, k, hm)
            if names >= 2 and own:
                cells = ", ".join(raw[c][k] for c in hm.index)
                bad[number] = [Problem(number, None, "repeated_header", mask_contacts(cells[:500]))]
                continue
            if names >= 2:
                cells = ", ".join(mask_contacts(raw[c][k][:60]) for c in hm.index if raw[c][k].strip())[:300]
                raise UnreadableFile(
                    f"row {number} is the header of another table ({cells}): send each table as a file of its own",
                    f"safu {number} ni kichwa cha jedwali jingine ({cells}): tuma kila jedwali kama faili lake")
        if number in odd:
            code, text = odd[number]
            bad[number] = [Problem(number, None, code, mask_contacts(text))]


def _flag_control_characters(raw: dict[str, list[str]], numbers: list[int], bad: dict[int, list[Problem]]) -> None:
    for name, values in raw.items():
        if _CONTROL.search("".join(values)) is None:  # one linear scan of the chunk's column
            continue
        for number, value in zip(numbers, values, strict=True):
            if _CONTROL.search(value):
                bad.setdefault(number, []).append(Problem(number, name, "control_character", mask_contacts(value)))


_COLUMN_ORDER = {name: i for i, name in enumerate(COLUMN_BY_NAME)}


def _problem_order(p: Problem) -> int:
    return _COLUMN_ORDER.get(p.column or "", len(_COLUMN_ORDER))


def _overlapping(periods: list[Period], existing: list[Period] = ()) -> tuple[Period, Period] | None:
    for i, a in enumerate(periods):
        for b in [*periods[i + 1:], *existing]:
            if a.overlaps(b):
                return a, b
    return None


def _too_many_invalid(outcome: FileOutcome, share: float) -> bool:
    return outcome.rows_read > 0 and outcome.rows_quarantined / outcome.rows_read > share


_TEMPLATE_SHEETS = ("instructions", "lists")


def _personal_data(local: Path, suffix: str, description: str | None = None, skip: Iterable[int] = (),
                   header_row: int = 1, table: Table | None = None) -> str | None:
    """Where personal data shows in the first rows of any sheet (docs/contract.md §2.4), or None. In the table
    `description` names, the cells at `skip` below its header are not looked at. An open CSV `table` gives
    its first rows itself (and gets them back), rather than the file being read a second time."""
    sheets = _first_rows_of(table) if table is not None and suffix != ".xlsx" else first_rows(local, suffix, SCAN_ROWS)
    for sheet, rows in sheets:
        main = sheet == description or description == f"xlsx sheet {sheet!r}"
        # The template's own sheets list code names (a `name` column): only their values are looked at.
        headers = main or sheet.strip().casefold() not in _TEMPLATE_SHEETS
        if found := personal_data_in(rows, skip if main else (), header_row if main else 0, headers=headers):
            return f"sheet {sheet!r} {found}" if suffix == ".xlsx" else found
    return None


def _first_rows_of(table: Table) -> list[tuple[str, list[list[str]]]]:
    """An open CSV table's first rows as `readers.first_rows` gives them; the rows read are put back in front
    of the table's rows."""
    rows = [[""]] * (table.header_row - 1) + [table.header]
    head = list(islice(table.rows, max(SCAN_ROWS - len(rows), 0)))
    table.rows = chain(head, table.rows)
    return [(table.description, (rows + [cells for _, cells in head])[:SCAN_ROWS])]


def _keep_unless_personal(outcome: FileOutcome, local: Path, suffix: str, *, read: bool) -> bool:
    """For a file rejected before its columns are known: whether its bytes may be kept. Personal data in
    its first rows (or, for a file no reader opens, its first bytes as text) makes it `pii_columns`."""
    found = None
    try:
        found = _personal_data(local, suffix) if read else None
    except (UnreadableFile, UnicodeError):
        pass
    if found is None and (head := text_head(local)) is not None:
        lines = head.splitlines()[:SCAN_ROWS]
        found = personal_data_in([re.split(r"[,;\t|]", line) for line in lines])
    if found is None:
        return True
    outcome.reject("pii_columns", found)
    return False


def analyse(
    settings: Settings, local: Path, outcome: FileOutcome, orgs: dict[str, registry.Organisation], spool: Path,
    today: dt.date | None = None,
) -> bool:
    """Everything that needs no database. Returns whether the bytes may be kept (False for personal data)."""
    suffix = PurePosixPath(outcome.file).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        outcome.reject("unsupported_file_type", f"{suffix or 'no extension'}; send .csv or .xlsx")
        return _keep_unless_personal(outcome, local, suffix, read=False)
    if outcome.size_bytes > settings.max_file_bytes:
        outcome.reject("file_too_large", f"{outcome.size_bytes} bytes; the limit is {settings.max_file_bytes}")
        return _keep_unless_personal(outcome, local, suffix, read=False)
    try:
        with open_table(local, suffix, XlsxLimits.of(settings)) as table:
            outcome.header_names = [mask_contacts(h.strip()) for h in table.header]
            hm = map_header([_CONTROL.sub("", h) for h in table.header])  # as a spreadsheet shows them
            if hm.pii:
                outcome.reject("pii_columns", ", ".join(hm.pii))
                return False
            outcome.ignored_columns = hm.ignored
            known = bool(table.header) and not hm.duplicated and not hm.missing
            # Every sheet's first rows; the contract's columns of the table read are validated instead.
            if found := _personal_data(local, suffix, table.description, hm.index.values() if known else (),
                                       table.header_row, table):
                outcome.reject("pii_columns", found)
                return False
            if not table.header:
                outcome.reject("empty_file")
            elif outcome.organisation not in orgs:
                outcome.reject("unknown_organisation", f"folder {outcome.organisation!r} is not registered")
            elif not orgs[outcome.organisation].active:
                outcome.reject("inactive_organisation", f"{outcome.organisation!r} is marked inactive in the registry")
            elif damaged := [i + 1 for i, h in enumerate(table.header) if _CONTROL.search(h)]:
                outcome.reject("unreadable_file", f"the header of column(s) {', '.join(map(str, damaged))} holds "
                               "an invisible control character: save the file again as CSV UTF-8 or .xlsx")
            elif hm.duplicated:
                outcome.reject("duplicate_columns", ", ".join(hm.duplicated))
            elif hm.missing:
                outcome.reject("missing_columns", ", ".join(hm.missing))
            else:
                _analyse_rows(table.rows, hm, outcome, spool, today or dt.date.today(), table,
                              settings.max_cell_chars)
                if outcome.reason == "pii_columns":
                    return False
    except UnreadableFile as exc:
        outcome.problems.clear()
        outcome.rows_read = outcome.rows_loaded = outcome.rows_quarantined = 0
        outcome.reject(exc.reason, mask_contacts(str(exc)))
        outcome.detail_sw = mask_contacts(exc.sw)
        return _keep_unless_personal(outcome, local, suffix, read=True)
    if outcome.status == "rejected":
        return True
    if outcome.rows_read == 0:
        outcome.reject("empty_file")
    elif _too_many_invalid(outcome, settings.max_invalid_share):
        outcome.reject(
            "too_many_invalid_rows",
            f"{outcome.rows_quarantined} of {outcome.rows_read} rows invalid; "
            f"the limit is {settings.max_invalid_share:.0%}",
        )
    elif outcome.rows_quarantined:
        outcome.status = "accepted_with_errors"
    return True


def process(settings: Settings, file: str, *, orgs: dict[str, registry.Organisation] | None = None,
            today: dt.date | None = None) -> FileOutcome | None:
    """Process one delivered file end to end. Returns None when it was already processed (or vanished).

    A failure caused by the file (its bytes, a bug they trigger, a database error about its data) is the
    file's outcome: `rejected` / `internal_error`, recorded once with an error id that the log explains, and
    the run goes on. A failure of the environment (the warehouse unreachable or refusing, a full disk) is
    raised: it is nobody's file's fault, and recording files as rejected would lose them.
    """
    orgs = orgs if orgs is not None else registry.read_registry(settings.organisations_path)
    organisation, folder = _organisation_of(file)
    try:
        local, sha256, size = _local_copy(file, _tmp_dir(settings))
    except FileNotFoundError:
        log.warning("%s: removed before it could be read; left for the next run", file)
        return None
    spool = local.with_suffix(".rows.csv")
    try:
        outcome = FileOutcome(file=file, organisation=organisation, sha256=sha256, size_bytes=size)
        with warehouse.connect(settings) as conn:
            if load.already_processed(conn, file, sha256):
                return None
            seen_before = load.first_receipt(conn, sha256)
            # Identical bytes are kept only if the first receipt's were (never when they held personal data).
            keep_bytes = seen_before is None or load.bytes_kept(conn, seen_before)
            delivery = load.delivery(conn, file, sha256, _source_mtime(file))
        archived, analysed = None, seen_before is not None
        try:
            if seen_before is None:
                keep_bytes = analyse(settings, local, outcome, orgs, spool, today)
                analysed = True
            archived = archive.keep(settings.archive_dir, sha256, local) if keep_bytes else None
            committed = _commit(settings, outcome, spool, archived, folder, delivery)
        except Exception as exc:
            if _environment_failure(exc):
                raise
            outcome = _failed(outcome, exc, analysed)
            committed = _commit(settings, outcome, spool, archived, folder, delivery)
        if not committed:
            return None
    finally:
        local.unlink(missing_ok=True)
        spool.unlink(missing_ok=True)
    log.info("%s: %s %s (%d read, %d loaded)", file, outcome.status, outcome.reason or "",
             outcome.rows_read, outcome.rows_loaded)
    return outcome


# OSError numbers that say the machine, not the file, is at fault.
_ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENOMEM, errno.EMFILE,
                                 errno.ENFILE})


def _environment_failure(exc: BaseException) -> bool:
    """Whether a failure is the environment's (raised, the run fails) rather than the file's (recorded).

    Of the database's errors only data exceptions (SQLSTATE class 22, psycopg.DataError) and integrity
    violations (class 23) are about the data sent; a connection lost, a privilege missing, a server shutting
    down, a full disk or a deadlock is not."""
    if isinstance(exc, (warehouse.WarehouseError, registry.RegistryError, ImportError)):  # a broken install
        return True
    if isinstance(exc, psycopg.Error):
        return not isinstance(exc, (psycopg.DataError, psycopg.IntegrityError))
    return isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS


_TRACE_CHARS = 20_000  # a traceback logged is cut to this


def _failed(outcome: FileOutcome, exc: Exception, analysed: bool) -> FileOutcome:
    """The outcome of a file whose processing raised: rejected, `internal_error`, with an error id; the
    traceback goes to the log (contacts masked), never to the organisation."""
    error_id = uuid.uuid4().hex[:12]
    # Masked a line at a time: masking cuts a text to its first MAX_MASKED characters, and a traceback's
    # last lines (the error itself) matter most.
    text = "".join(traceback.format_exception(exc))[-_TRACE_CHARS:]
    trace = "\n".join(mask_contacts(line) or "" for line in text.splitlines())
    log.error("%s: internal error %s (%s); the file is recorded as rejected:\n%s",
              outcome.file, error_id, type(exc).__name__, trace)
    failed = FileOutcome(file=outcome.file, organisation=outcome.organisation, sha256=outcome.sha256,
                         size_bytes=outcome.size_bytes)
    failed.rows_read = outcome.rows_read if analysed else 0  # what was read, when all of it was
    return failed.reject("internal_error", f"error id {error_id}")


def _source_mtime(file: str) -> dt.datetime | None:
    """The delivered file's modification time where its storage gives one (None otherwise)."""
    folder, name = file.rsplit("/", 1)
    try:
        fs, path = fsspec.core.url_to_fs(folder)
        info = fs.info(f"{path.rstrip('/')}/{name}")
    except (OSError, ValueError):
        return None
    return _as_time(info.get("mtime") or info.get("LastModified") or info.get("created"))


def _as_time(stamp: object) -> dt.datetime | None:
    if isinstance(stamp, dt.datetime):
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    if isinstance(stamp, (int, float)) and stamp > 0:
        return dt.datetime.fromtimestamp(stamp, dt.UTC)
    return None


def _commit(settings: Settings, outcome: FileOutcome, spool: Path, archived: Path | None, folder: str,
            delivery: load.Delivery) -> bool:
    """The one transaction of docs/contract.md §6, and the feedback; False when another process got there first."""
    with warehouse.connect(settings) as conn, conn.transaction():
        load.lock(conn, f"sha:{outcome.sha256}", f"org:{outcome.organisation}")
        if load.already_processed(conn, outcome.file, outcome.sha256):
            return False
        if (first := load.first_receipt(conn, outcome.sha256)) is not None:
            # Identical bytes already received: recorded and reported once, nothing else changes.
            outcome.status, outcome.reason, outcome.detail = "duplicate", None, None
            outcome.problems, outcome.periods = [], []
            outcome.rows_read = outcome.rows_loaded = outcome.rows_quarantined = 0
            outcome.duplicate_of = first
        elif outcome.status != "rejected" and (
            clash := _overlapping(outcome.periods, load.accepted_periods(conn, outcome.organisation))
        ):
            outcome.reject("period_overlap", f"{clash[0].code} overlaps the accepted period {clash[1].code}")
        outcome.submission_id = load.insert_submission(
            conn,
            organisation_code=outcome.organisation,
            file_path=outcome.file,
            file_name=outcome.file_name,
            sha256=outcome.sha256,
            size_bytes=outcome.size_bytes,
            status=outcome.status,
            reason=outcome.reason,
            rows_read=outcome.rows_read,
            rows_loaded=outcome.rows_loaded,
            rows_quarantined=outcome.rows_quarantined,
            header_names=outcome.header_names,
            ignored_columns=outcome.ignored_columns,
            archive_path=str(archived) if archived else None,
            duplicate_of=outcome.duplicate_of,
            detail=outcome.detail,
            delivery_seq=delivery.seq,
            delivered_at=delivery.source_mtime,
        )
        if outcome.status in ("accepted", "accepted_with_errors"):
            load.copy_rows(conn, outcome.submission_id, spool)
            load.insert_periods(conn, outcome.submission_id, outcome.organisation, outcome.periods)
        load.insert_problems(conn, outcome.submission_id, outcome.problems)
        # Written before the commit (docs/contract.md §7): a crash in between leaves the file unprocessed, and the
        # rerun rewrites the same feedback files; after the commit it would leave a processed file without any.
        try:
            outcome.feedback_files = feedback.write(outcome, folder)
        except Exception as exc:
            if outcome.reason != "internal_error" or _environment_failure(exc):
                raise
            # Recording the failure must not fail in turn: the ledger row still tells the file's outcome.
            log.error("%s: no feedback written for its internal error (%s: %s)", outcome.file,
                      type(exc).__name__, mask_contacts(str(exc)))
            outcome.feedback_files = []
    return True


def ingest(settings: Settings, sources: list[str] | None = None,
           progress: Callable[[int, int, FileOutcome | None], None] | None = None,
           workers: int | None = None) -> list[FileOutcome]:
    """Process every new file of the inbox(es); the registry is read once for the whole run.

    With `workers` (default: the setting `ingest_workers`) above 1 and files from more than one organisation,
    organisations are processed in parallel worker processes (`_ingest_in_parallel`); otherwise every file is
    processed here, one after another, as always (so small runs and single-organisation runs are unchanged).
    Either way an organisation's files are processed in delivery order, one after another; the outcomes
    come back in discovery order; the progress callback is called once per file, in this process; a file
    that makes processing fail is recorded as its outcome (`process`), while a failure of the environment
    propagates; and this process writes the run's line in ops.runs.
    """
    started = dt.datetime.now(dt.UTC)
    files = discover(settings, sources)
    orgs = registry.read_registry(settings.organisations_path)
    workers = settings.ingest_workers if workers is None else workers
    by_organisation = _by_organisation(files)
    if workers > 1 and len(by_organisation) > 1:
        found = _ingest_in_parallel(settings, files, by_organisation, orgs, min(workers, len(by_organisation)),
                                    progress)
    else:
        found = []
        for i, file in enumerate(files, start=1):
            outcome = process(settings, file, orgs=orgs)
            found.append(outcome)
            if progress:
                progress(i, len(files), outcome)
    outcomes = [o for o in found if o is not None]
    with warehouse.connect(settings) as conn:
        statuses = ", ".join(f"{k}={v}" for k, v in sorted(Counter(o.status for o in outcomes).items()))
        load.record_run(conn, "ingest", started, True, f"{len(outcomes)} file(s) {statuses}".strip())
    rows: dict[str, tuple[int, int]] = {}
    for o in outcomes:
        read, quarantined = rows.get(o.organisation, (0, 0))
        rows[o.organisation] = (read + o.rows_read, quarantined + o.rows_quarantined)
    check_quarantine_rates(settings, rows)
    return outcomes


# --- organisations in parallel ---------------------------------------------------------------------

def _by_organisation(files: list[str]) -> dict[str, list[tuple[int, str]]]:
    """Each organisation folder's files with their discovery positions, in delivery order."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for index, file in enumerate(files):
        groups.setdefault(_organisation_of(file)[1], []).append((index, file))
    return groups


class _WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker process (its __cause__ when it is raised here)."""

    def __str__(self) -> str:
        return f"\n\"\"\"\n{self.args[0]}\"\"\""


@dataclass
class _Failure:
    index: int  # discovery position of the file that raised
    error: BaseException
    traceback: str


def _ingest_in_parallel(
    settings: Settings, files: list[str], by_organisation: dict[str, list[tuple[int, str]]],
    orgs: dict[str, registry.Organisation], workers: int,
    progress: Callable[[int, int, FileOutcome | None], None] | None,
) -> list[FileOutcome | None]:
    """`process` for every file, an organisation's files in one worker process, in delivery order, one
    after another (a correction never lands before the file it corrects); organisations in parallel.

    Workers are started by multiprocessing's fork server ("forkserver", never a fork of this process), so
    nothing of this process (database connections, the GX context) is inherited. The fork server imports
    the pipeline and Great Expectations once (`_WORKER_PRELOAD`) and lives as long as this process, so a
    worker starts in milliseconds instead of the seconds of a cold import, and later runs in the same
    process (tests, a long-lived caller) pay nothing. Workers commit through `_commit`, whose advisory
    locks (per organisation and per SHA-256) and per-process temporary folders (`_tmp_dir`) already make
    concurrent loaders safe.

    Identical bytes delivered by two organisations in one run: whichever commits first is the original and
    the other is recorded as its `duplicate` (in a sequential run, the first in discovery order is the
    original), so which of the two files is the duplicate may differ from run to run.

    Progress is reported here as each organisation's files are done (i counts the files done so far).

    When a file raises, no worker starts a file that comes after it in discovery order; files before it
    are still processed, as they would have been sequentially; then its exception is raised here, with the
    worker's traceback as its cause (the earliest such file's, if several raised). Files after it that
    other workers had already finished stay processed; the others are left for the next run.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # the fork server's environment is this one's
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_WORKER_PRELOAD)  # used when the fork server starts (once per process)
    stop_at = context.Value("q", len(files))  # no worker starts a file at or after this position
    found: list[FileOutcome | None] = [None] * len(files)
    failures: list[_Failure] = []
    done = 0
    # Workers wait on this pipe's reading end: it ends when this process does, however it does (SIGKILL too).
    alive_r, alive_w = context.Pipe(duplex=False)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_start,
                                 initargs=(stop_at, alive_r, logging.getLogger().level)) as pool:
            # Organisations in the order of their first file, so the run follows discovery order where it can.
            pending = {pool.submit(_ingest_organisation, settings, group, orgs) for group in by_organisation.values()}
            try:
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        outcomes, failure = future.result()  # a broken pool (a worker killed) raises here
                        for index, outcome in outcomes:
                            found[index] = outcome
                            done += 1
                            if progress:
                                progress(done, len(files), outcome)
                        if failure is not None:
                            failures.append(failure)
            except BaseException:
                with stop_at.get_lock():
                    stop_at.value = -1  # start nothing more
                for future in pending:
                    future.cancel()
                raise
    finally:
        alive_w.close()
        alive_r.close()
    if failures:
        first = min(failures, key=lambda f: f.index)
        first.error.__cause__ = _WorkerTraceback(first.traceback)
        raise first.error
    return found


# What the fork server imports before it forks any worker: the seconds of a cold start (mostly GX's import).
_WORKER_PRELOAD = ["ingest.pipeline", "ingest.validate", "pandas", "great_expectations"]
_STOP_AT = None  # a worker's shared position (multiprocessing.Value) past which it starts no file


def _worker_start(stop_at, alive, log_level: int) -> None:  # noqa: ANN001 - multiprocessing objects
    """A worker's start: remember the shared stop position, log as the calling process does, and exit as
    soon as the calling process has gone (`alive` reaches its end): a killed `njia ingest` must not leave
    loaders running on their own. An open transaction is then rolled back by the server, and the worker's
    temporary folder is swept by the next run (`_tmp_dir`)."""
    import threading

    global _STOP_AT
    _STOP_AT = stop_at
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")

    def watch() -> None:
        try:
            alive.recv_bytes()  # nothing is ever sent: returns only at the end
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="njia-parent-watch", daemon=True).start()


def _ingest_organisation(settings: Settings, group: list[tuple[int, str]], orgs: dict[str, registry.Organisation]
                         ) -> tuple[list[tuple[int, FileOutcome | None]], _Failure | None]:
    """In a worker: one organisation's files, in delivery order. Returns each processed file's outcome by
    discovery position, and the failure of the file that raised (the files after it are not started)."""
    import pickle
    import traceback

    outcomes: list[tuple[int, FileOutcome | None]] = []
    for index, file in group:
        if index >= _STOP_AT.value:  # an earlier file (in discovery order) raised
            break
        try:
            outcomes.append((index, process(settings, file, orgs=orgs)))
        except Exception as exc:  # noqa: BLE001 - raised again in the parent process
            with _STOP_AT.get_lock():
                _STOP_AT.value = min(_STOP_AT.value, index)
            text = "".join(traceback.format_exception(exc))
            try:
                pickle.loads(pickle.dumps(exc))
            except Exception:  # noqa: BLE001 - an exception that cannot cross processes is described instead
                exc = RuntimeError(f"{type(exc).__name__}: {exc}")
            return outcomes, _Failure(index, exc, text)
    return outcomes, None
