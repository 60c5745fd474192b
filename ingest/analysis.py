"""Everything about one file that needs no database: read it, check its header and personal data, then a
chunk of rows at a time normalise, validate (GX), collect the row problems and spool the valid rows."""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain, compress, islice
from pathlib import Path, PurePosixPath

import ingest.spool
from ingest import registry
from ingest.contract import COLUMN_BY_NAME, IDENTITY_COLUMNS
from ingest.normalise import Period
from ingest.outcomes import CONTROL, FileOutcome, Problem
from ingest.personal_data import SCAN_ROWS, first_contact_cell, personal_data_in
from ingest.prepare import (
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
from njia.cells import mask_contacts
from njia.settings import Settings

CHUNK_ROWS = 50_000


def _frame(columns: dict[str, list[object]]):  # pandas is imported lazily
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


def _analyse_rows(
    table_rows: Iterator[tuple[int, list[str]]],
    hm,
    outcome: FileOutcome,
    spool: Path,
    today: dt.date,
    table: Table | None = None,
    max_cell_chars: int = 1_000,
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
    fit = (
        (named_width(table.header), table.width, table.delimiter, table.malformed, table.other_widths)
        if table and table.width
        else None
    )
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
                    outcome.reject(
                        "pii_columns", f"row {contact[0]}, column {contact[1]}: a phone number or e-mail address"
                    )
                    return
                odd = misfits(numbers, rows, hm, *fit) if fit else {}
                raw = columns_of(rows, hm)
                del rows  # only the mapped columns' cells are kept from here: ignored columns (notes) can be long
                early = screen_cells(numbers, raw, table.flagged if table else {}, hm, max_cell_chars)
                columns = normalise_columns(raw, outcome.organisation, len(numbers))
            if not numbers:
                continue
            if mismatch is None:
                mismatch = next(
                    (
                        c
                        for n, c in zip(numbers, raw.get("organisation", ()), strict=False)
                        if c and c.casefold() != organisation and n not in odd
                    ),
                    None,
                )
            columns["row_number"] = numbers
            identities = zip(*(columns[c] for c in IDENTITY_COLUMNS), strict=True)
            if odd:  # a row that does not fit is nobody's first: its values are not what was meant
                identities = [(n,) if n in odd else i for n, i in zip(numbers, identities, strict=True)]
            columns["duplicate_of"] = seen.mark(numbers, identities)
            outcome.rows_read += len(numbers)
            findings = validate(_frame(columns), today)
            bad: dict[int, list[Problem]] = {
                number: [Problem(number, column, code, mask_contacts(value)) for column, (code, value) in cells.items()]
                for number, cells in early.items()
            }
            if findings:
                position = {number: i for i, number in enumerate(numbers)}
                for f in findings:
                    if f.column in early.get(f.row_number, ()):
                        continue  # the cell was emptied for its earlier problem
                    value = raw[f.column][position[f.row_number]] if f.column in raw else None
                    bad.setdefault(f.row_number, []).append(
                        Problem(f.row_number, f.column, f.code, mask_contacts(value))
                    )
            _flag_control_characters(raw, numbers, bad)
            if odd or bad:
                _shape_problems(numbers, raw, columns, hm, odd, bad)
            with _no_gc():
                period_columns = (columns["reporting_period"], columns["period_start"], columns["period_end"])
                for code, start, end in dict.fromkeys(zip(*period_columns, strict=True)):
                    if start:
                        periods[code] = Period(code, start, end)
                lines = ingest.spool.lines(numbers, columns, spooled)
                good_periods: Iterable[tuple[object, ...]] = zip(*period_columns, strict=True)
                if bad:
                    for number in numbers:
                        if number in bad:
                            outcome.problems.extend(sorted(bad[number], key=_problem_order))
                    good = [number not in bad for number in numbers]
                    lines, good_periods = compress(lines, good), compress(good_periods, good)
                    outcome.rows_quarantined += len(bad)
                ingest.spool.write(out, lines)
                for code, start, end in dict.fromkeys(good_periods):
                    loaded_periods[code] = Period(code, start, end)
                outcome.rows_loaded += len(numbers) - len(bad)
    outcome.periods = sorted(loaded_periods.values(), key=lambda p: (p.start, p.end))
    if mismatch is not None:
        outcome.reject("organisation_mismatch", f"organisation column says {mask_contacts(mismatch)!r}")
    elif overlap := overlapping(list(periods.values())):
        outcome.reject("period_overlap", f"{overlap[0].code} overlaps {overlap[1].code} in this file")


def _shape_problems(
    numbers: list[int],
    raw: dict[str, list[str]],
    columns: dict[str, list[object]],
    hm,
    odd: dict[int, tuple[str, str]],
    bad: dict[int, list[Problem]],
) -> None:
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
                    f"safu {number} ni kichwa cha jedwali jingine ({cells}): tuma kila jedwali kama faili lake",
                )
        if number in odd:
            code, text = odd[number]
            bad[number] = [Problem(number, None, code, mask_contacts(text))]


def _flag_control_characters(raw: dict[str, list[str]], numbers: list[int], bad: dict[int, list[Problem]]) -> None:
    for name, values in raw.items():
        if CONTROL.search("".join(values)) is None:  # one linear scan of the chunk's column
            continue
        for number, value in zip(numbers, values, strict=True):
            if CONTROL.search(value):
                bad.setdefault(number, []).append(Problem(number, name, "control_character", mask_contacts(value)))


_COLUMN_ORDER = {name: i for i, name in enumerate(COLUMN_BY_NAME)}


def _problem_order(p: Problem) -> int:
    return _COLUMN_ORDER.get(p.column or "", len(_COLUMN_ORDER))


def overlapping(periods: list[Period], existing: list[Period] = ()) -> tuple[Period, Period] | None:
    for i, a in enumerate(periods):
        for b in [*periods[i + 1 :], *existing]:
            if a.overlaps(b):
                return a, b
    return None


def _too_many_invalid(outcome: FileOutcome, share: float) -> bool:
    return outcome.rows_read > 0 and outcome.rows_quarantined / outcome.rows_read > share


_TEMPLATE_SHEETS = ("instructions", "lists")


def _personal_data(
    local: Path,
    suffix: str,
    description: str | None = None,
    skip: Iterable[int] = (),
    header_row: int = 1,
    table: Table | None = None,
) -> str | None:
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
    settings: Settings,
    local: Path,
    outcome: FileOutcome,
    orgs: dict[str, registry.Organisation],
    spool: Path,
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
            hm = map_header([CONTROL.sub("", h) for h in table.header])  # as a spreadsheet shows them
            if hm.pii:
                outcome.reject("pii_columns", ", ".join(hm.pii))
                return False
            outcome.ignored_columns = hm.ignored
            known = bool(table.header) and not hm.duplicated and not hm.missing
            # Every sheet's first rows; the contract's columns of the table read are validated instead.
            if found := _personal_data(
                local, suffix, table.description, hm.index.values() if known else (), table.header_row, table
            ):
                outcome.reject("pii_columns", found)
                return False
            if not table.header:
                outcome.reject("empty_file")
            elif outcome.organisation not in orgs:
                outcome.reject("unknown_organisation", f"folder {outcome.organisation!r} is not registered")
            elif not orgs[outcome.organisation].active:
                outcome.reject("inactive_organisation", f"{outcome.organisation!r} is marked inactive in the registry")
            elif damaged := [i + 1 for i, h in enumerate(table.header) if CONTROL.search(h)]:
                outcome.reject(
                    "unreadable_file",
                    f"the header of column(s) {', '.join(map(str, damaged))} holds "
                    "an invisible control character: save the file again as CSV UTF-8 or .xlsx",
                )
            elif hm.duplicated:
                outcome.reject("duplicate_columns", ", ".join(hm.duplicated))
            elif hm.missing:
                outcome.reject("missing_columns", ", ".join(hm.missing))
            else:
                _analyse_rows(table.rows, hm, outcome, spool, today or dt.date.today(), table, settings.max_cell_chars)
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
