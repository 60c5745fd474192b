"""The spool: a file's valid rows as the clean CSV that `load.copy_rows` streams into raw.route_reports
(`row_number` first, then LOAD_COLUMNS), encoded a column at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TextIO

from ingest.contract import LOAD_COLUMNS

LINES_PER_WRITE = 5_000  # spool lines joined into one write

_FIELD = io.StringIO()
_FIELD_WRITER = csv.writer(_FIELD, lineterminator="\n")
_MAX_FIELDS = 1 << 16  # distinct values whose spool text is remembered; past it they are forgotten


def _field(value: object) -> str:
    """One value as the spool's CSV writer writes it within a row (quoted when it must be)."""
    _FIELD.seek(0)
    _FIELD.truncate()
    _FIELD_WRITER.writerow((value, None))  # a second field, so that an empty value is not a lone `""`
    return _FIELD.getvalue()[:-2]


def lines(numbers: list[int], columns: dict[str, list[object]], known: dict[object, str]) -> Iterator[str]:
    """The chunk's rows (row_number, then LOAD_COLUMNS) as the lines `csv.writer(lineterminator="\n")`
    writes, without the line end. Built column by column: each distinct value is encoded once, by the CSV
    writer itself, and remembered in `known`."""
    cells = [list(map(str, numbers))]
    for name in LOAD_COLUMNS:
        values = columns[name]
        for value in dict.fromkeys(values):
            if value not in known:
                known[value] = _field(value)
        cells.append(list(map(known.__getitem__, values)))
    if len(known) > _MAX_FIELDS:
        known.clear()
    return map(",".join, zip(*cells, strict=True))


def write(out: TextIO, spooled: Iterable[str]) -> None:
    """The lines, each ended, a slice at a time: less memory than one join, fewer calls than one a line."""
    spooled = iter(spooled)
    while text := "\n".join(islice(spooled, LINES_PER_WRITE)):
        out.write(text)
        out.write("\n")
