"""The one transaction per file (docs/contract.md §6): ledger row, COPY of the valid rows into raw with
lineage, the periods it replaces, and the quarantined problems. All of it or none of it."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ingest.contract import LOAD_COLUMNS
from ingest.normalise import Period
from ingest.outcomes import Problem


def text(value: object) -> object:
    """A value as PostgreSQL can store it: NUL (which text refuses) shown as `\\x00`, and a name that is
    not valid UTF-8 (a lone surrogate from the file system) with the bad bytes escaped; lists item by item.
    Deterministic, so a lookup finds what an insert stored."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\\x00")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return value
    if isinstance(value, (list, tuple)):
        return [text(v) for v in value]
    return value


@dataclass(frozen=True)
class Delivery:
    """When a file (path and bytes) was first discovered: `seq` orders an organisation's deliveries (the
    rows in force are the latest delivery's), whatever order they are committed in."""

    seq: int
    source_mtime: dt.datetime | None


def register_deliveries(conn: psycopg.Connection, files: Iterable[tuple[str, str, dt.datetime | None]]) -> None:
    """Give each (path, sha256, source mtime) not seen before the next delivery sequence, in the order given
    (discovery order: by modification time within an organisation's folder)."""
    values = [(text(file_path), sha256, mtime) for file_path, sha256, mtime in files]
    if values:  # one statement per file, in this order, in one round trip
        conn.cursor().executemany(
            "insert into ops.deliveries (file_path, sha256, source_mtime) values (%s, %s, %s)"
            " on conflict (file_path, sha256) do nothing",
            values,
        )


def delivery(conn: psycopg.Connection, file_path: str, sha256: str, mtime: dt.datetime | None) -> Delivery:
    """The file's delivery (registered now if it was never discovered, as when `process` is called alone)."""
    register_deliveries(conn, [(file_path, sha256, mtime)])
    seq, source_mtime = conn.execute(
        "select delivery_seq, source_mtime from ops.deliveries where file_path = %s and sha256 = %s",
        (text(file_path), sha256),
    ).fetchone()
    return Delivery(int(seq), source_mtime)


def lock(conn: psycopg.Connection, *names: str) -> None:
    """Transaction-scoped advisory locks, taken in a fixed order so two loaders cannot deadlock."""
    for name in sorted(set(names)):
        conn.execute("select pg_advisory_xact_lock(%s, %s)", (7311, zlib.crc32(name.encode()) - 2**31))


def already_processed(conn: psycopg.Connection, file_path: str, sha256: str) -> bool:
    row = conn.execute(
        "select 1 from ops.submissions where file_path = %s and sha256 = %s", (text(file_path), sha256)
    ).fetchone()
    return row is not None


def first_receipt(conn: psycopg.Connection, sha256: str) -> int | None:
    row = conn.execute(
        "select submission_id from ops.submissions where sha256 = %s and status <> 'duplicate'", (sha256,)
    ).fetchone()
    return row[0] if row else None


def bytes_kept(conn: psycopg.Connection, submission_id: int) -> bool:
    """Whether a received file's bytes were archived (not when they held personal data)."""
    row = conn.execute(
        "select archive_path is not null from ops.submissions where submission_id = %s", (submission_id,)
    ).fetchone()
    return bool(row and row[0])


def accepted_periods(conn: psycopg.Connection, organisation: str) -> list[Period]:
    rows = conn.execute(
        "select distinct p.reporting_period, p.period_start, p.period_end from ops.submission_periods p"
        " where p.organisation_code = %s",
        (organisation,),
    ).fetchall()
    return [Period(code, start, end) for code, start, end in rows]


def insert_submission(conn: psycopg.Connection, **values: object) -> int:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    row = conn.execute(
        f"insert into ops.submissions ({columns}) values ({marks}) returning submission_id",
        [text(v) for v in values.values()],
    ).fetchone()
    return int(row[0])


def copy_rows(conn: psycopg.Connection, submission_id: int, spool: Path) -> None:
    """Stream the spooled CSV (row_number first) into raw.route_reports, prefixing the submission id."""
    columns = ", ".join(("submission_id", "row_number", *LOAD_COLUMNS))
    prefix = f"{submission_id},".encode()
    with conn.cursor().copy(f"copy raw.route_reports ({columns}) from stdin with (format csv)") as copy:
        with spool.open("rb") as fh:
            # A quoted newline inside a cell continues the previous record; the spool never writes one
            # (values are codes), so each line is a record, and every line gets the prefix: a block of whole
            # lines at a time, prefixed in C.
            rest = b""
            while block := fh.read(1 << 20):
                block = rest + block
                end = block.rfind(b"\n") + 1
                block, rest = block[:end], block[end:]
                if block:
                    copy.write(prefix + block[:-1].replace(b"\n", b"\n" + prefix) + b"\n")
            if rest:
                copy.write(prefix + rest)


def insert_periods(conn: psycopg.Connection, submission_id: int, organisation: str, periods: Iterable[Period]) -> None:
    with conn.cursor().copy(
        "copy ops.submission_periods (submission_id, organisation_code, reporting_period, period_start, period_end)"
        " from stdin"
    ) as copy:
        for p in periods:
            copy.write_row((submission_id, organisation, text(p.code), p.start, p.end))


def insert_problems(conn: psycopg.Connection, submission_id: int, problems: Iterable[Problem]) -> None:
    with conn.cursor().copy(
        "copy ops.quarantine (submission_id, row_number, column_name, value, problem_code, message) from stdin"
    ) as copy:
        for p in problems:
            copy.write_row((submission_id, p.row, text(p.column), text(p.value), p.code, p.message))
