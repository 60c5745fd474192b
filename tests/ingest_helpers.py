"""Shared helpers for the ingest tests: valid rows, files in every supported shape, an organisation
registry, settings on a real database, and the checks every processed file must pass (docs/contract.md §4-§7)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ingest.contract import COLUMNS, FILE_REASONS, ROW_PROBLEMS, STATUSES
from njia import warehouse
from njia.settings import Settings, get_settings

# The data columns of a route report, in the template's order (no `organisation`).
HEADER: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.name != "organisation")
SWAHILI: dict[str, str] = {c.name: c.swahili for c in COLUMNS}

BASE_ROW: dict[str, str] = {
    "reporting_period": "2020-Q1",
    "origin_country": "KE",
    "origin_county": "Nairobi",
    "transit_points": "NBO;DOH",
    "destination_country": "QA",
    "destination_county": "",
    "exploitation_type": "domestic_servitude",
    "transport_modes": "",
    "carriers": "KQ;QR",
    "recruitment_methods": "social_media",
    "means_of_control": "withholds_documents",
    "cases_estimated": "30",
    "female_cases": "25",
    "male_cases": "5",
    "child_cases": "0",
}

REGISTRY_HEADER = "organisation_code,organisation_name,organisation_type,county_code,active"


def row(**values: object) -> dict[str, str]:
    """A valid route row (2020-Q1, Nairobi → Doha) with some values replaced."""
    out = dict(BASE_ROW)
    out.update({k: "" if v is None else str(v) for k, v in values.items()})
    return out


def rows(n: int, start: int = 1, **values: object) -> list[dict[str, str]]:
    """n distinct valid rows (cases_estimated start, start+1, ...; female and male cases cleared)."""
    return [row(cases_estimated=start + i, female_cases="", male_cases="", **values) for i in range(n)]


def grid(records: Sequence[dict[str, str]], header: Sequence[str] = HEADER) -> list[list[str]]:
    """Header line plus one list of cells per record; `header` may rename columns (same order as HEADER
    or any subset): a header item `a=b` (split at the last `=`) writes column b's value under the header text a."""
    names = [h.rsplit("=", 1) if "=" in h else (h, h) for h in header]
    return [[text for text, _ in names]] + [[r.get(col, "") for _, col in names] for r in records]


def rfc4180(
    table: Sequence[Sequence[object]], *, delimiter: str = ",", newline: str = "\n", quote_all: bool = False
) -> str:
    """CSV text as RFC 4180 (and Excel) write it: a cell holding the delimiter, a quote, CR or LF is quoted,
    whatever the line ending (Python's csv.writer leaves LF unquoted when the line ending is a lone CR)."""

    def cell(value: object) -> str:
        text = "" if value is None else str(value)
        if quote_all or any(ch in text for ch in (delimiter, '"', "\r", "\n")):
            return '"' + text.replace('"', '""') + '"'
        return text

    return "".join(delimiter.join(cell(v) for v in line) + newline for line in table)


def csv_bytes(
    table: Sequence[Sequence[object]],
    *,
    delimiter: str = ",",
    newline: str = "\n",
    encoding: str = "utf-8",
    quoting: int = csv.QUOTE_MINIMAL,
) -> bytes:
    return rfc4180(table, delimiter=delimiter, newline=newline, quote_all=quoting == csv.QUOTE_ALL).encode(encoding)


def xlsx_bytes(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    """A workbook with the given sheets in order (cells keep their Python types: int, float, date...)."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, table in sheets.items():
        ws = wb.create_sheet(title)
        for r, cells in enumerate(table, start=1):
            for c, value in enumerate(cells, start=1):
                if value not in (None, ""):
                    ws.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_registry(path: Path, codes: Iterable[str]) -> Path:
    lines = [REGISTRY_HEADER, *(f"{c},{c.title()} Fictional Trust,ngo,047,true" for c in codes)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_file(inbox: Path, relative: str, data: bytes, mtime: float | None = None) -> Path:
    path = inbox / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        import os

        os.utime(path, (mtime, mtime))
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_database(server_home: Path) -> str:
    """A fresh database on the session's embedded server (as conftest's `settings` makes one)."""
    admin = warehouse.admin_conninfo(get_settings(home=server_home))
    name = f"njia_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return make_conninfo(**{**conninfo_to_dict(admin), "dbname": name})


def new_settings(server_home: Path, root: Path, **overrides: object) -> Settings:
    """Settings with their own NJIA_HOME, inbox and registry under `root`, on a fresh migrated database."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    s = get_settings(
        home=home,
        warehouse_url=new_database(server_home),
        inbox=str(root / "inbox"),
        organisations=root / "organisations.csv",
        **overrides,
    )
    warehouse.migrate(s)
    return s


def environment(settings: Settings) -> dict[str, str]:
    """The NJIA_* variables a subprocess needs to see the same warehouse, home, inbox and registry."""
    return {
        "NJIA_HOME": str(settings.home_dir),
        "NJIA_WAREHOUSE_URL": warehouse.url(settings),
        "NJIA_ORGANISATIONS": str(settings.organisations_path),
        "NJIA_INBOX": settings.inbox_url,
        "GX_ANALYTICS_ENABLED": "false",
    }


# --- reading the warehouse -------------------------------------------------------------------------


def query(settings: Settings, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    with warehouse.connect(settings) as conn:
        return conn.execute(sql, params).fetchall()


def scalar(settings: Settings, sql: str, params: Sequence[object] = ()) -> object:
    return query(settings, sql, params)[0][0]


def submission(settings: Settings, submission_id: int) -> dict[str, object]:
    with warehouse.connect(settings) as conn:
        cur = conn.execute("select * from ops.submissions where submission_id = %s", (submission_id,))
        names = [d.name for d in cur.description]
        found = cur.fetchone()
    assert found is not None, f"no ledger row {submission_id}"
    return dict(zip(names, found, strict=True))


def raw_rows(settings: Settings, submission_id: int) -> list[dict[str, object]]:
    with warehouse.connect(settings) as conn:
        cur = conn.execute(
            "select * from raw.route_reports where submission_id = %s order by row_number", (submission_id,)
        )
        names = [d.name for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def archive_entries(settings: Settings) -> dict[str, Path]:
    """Every file under the archive, by name; each must be named by the SHA-256 of its bytes."""
    root = settings.archive_dir
    return {p.name: p for p in root.rglob("*") if p.is_file()} if root.exists() else {}


def read_feedback_csv(path: str | Path) -> list[dict[str, str]]:
    text = Path(path).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# --- the checks every processed file must pass -----------------------------------------------------


def check_outcome(settings: Settings, outcome) -> dict[str, object]:
    """Statuses and codes are the contract's; rows are conserved; ledger, raw, periods, quarantine,
    archive and feedback agree with the outcome. Returns the ledger row."""
    assert outcome.status in STATUSES, outcome.status
    assert (outcome.reason is None) == (outcome.status != "rejected"), (outcome.status, outcome.reason)
    if outcome.reason is not None:
        assert outcome.reason in FILE_REASONS, outcome.reason
    assert {p.code for p in outcome.problems} <= set(ROW_PROBLEMS), outcome.problems
    assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    if outcome.status in ("rejected", "duplicate"):
        assert outcome.rows_loaded == 0
    if outcome.status == "accepted":
        assert outcome.rows_quarantined == 0 and not outcome.problems
    if outcome.status == "accepted_with_errors":
        assert outcome.rows_quarantined > 0 and outcome.rows_loaded > 0

    ledger = submission(settings, outcome.submission_id)
    assert ledger["status"] == outcome.status
    assert ledger["reason"] == outcome.reason
    assert ledger["file_path"] == outcome.file
    assert ledger["sha256"] == outcome.sha256
    assert ledger["organisation_code"] == outcome.organisation
    assert (ledger["rows_read"], ledger["rows_loaded"], ledger["rows_quarantined"]) == (
        outcome.rows_read,
        outcome.rows_loaded,
        outcome.rows_quarantined,
    )
    assert ledger["rows_read"] == ledger["rows_loaded"] + ledger["rows_quarantined"]
    assert list(ledger["ignored_columns"]) == list(outcome.ignored_columns)

    loaded = raw_rows(settings, outcome.submission_id)
    assert len(loaded) == outcome.rows_loaded
    if outcome.status in ("accepted", "accepted_with_errors"):
        bad_rows = {p.row for p in outcome.problems}
        assert not bad_rows & {r["row_number"] for r in loaded}, "a quarantined row was loaded"
        assert len(bad_rows) == outcome.rows_quarantined
        periods = query(
            settings,
            "select reporting_period from ops.submission_periods where submission_id = %s",
            (outcome.submission_id,),
        )
        assert sorted(p for (p,) in periods) == sorted({r["reporting_period"] for r in loaded})
    else:
        assert (
            scalar(
                settings,
                "select count(*) from ops.submission_periods where submission_id = %s",
                (outcome.submission_id,),
            )
            == 0
        )

    quarantined = query(
        settings,
        "select row_number, column_name, problem_code, value from ops.quarantine where submission_id = %s",
        (outcome.submission_id,),
    )
    assert sorted((r or 0, c or "", code) for r, c, code, _ in quarantined) == sorted(
        (p.row or 0, p.column or "", p.code) for p in outcome.problems
    )

    entries = archive_entries(settings)
    first = submission(settings, outcome.duplicate_of) if outcome.status == "duplicate" else ledger
    if outcome.status == "duplicate":
        assert ledger["duplicate_of"] == outcome.duplicate_of and first["sha256"] == outcome.sha256
    if first["reason"] == "pii_columns":
        assert ledger["archive_path"] is None
        assert outcome.sha256 not in entries, "personal data kept in the archive"
    else:
        assert outcome.sha256 in entries, "received bytes not archived"
        assert Path(ledger["archive_path"]) == entries[outcome.sha256]
        assert sha256(entries[outcome.sha256].read_bytes()) == outcome.sha256

    # Feedback (docs/contract.md §7): a CSV and an HTML page in <inbox>/<org>/feedback/.
    folder = Path(outcome.file).parent / "feedback"
    assert len(outcome.feedback_files) == 2
    csv_path, html_path = sorted(outcome.feedback_files)
    assert csv_path.endswith(".csv") and html_path.endswith(".html")
    for path in outcome.feedback_files:
        assert Path(path).parent == folder and Path(path).stat().st_size > 0
    lines = read_feedback_csv(csv_path)
    assert lines[0]["item"] == "status" and lines[0]["code"] == outcome.status
    if outcome.reason:
        assert lines[1]["item"] == "reason" and lines[1]["code"] == outcome.reason
    listed = sorted((int(x["row"]) if x["row"] else 0, x["column"], x["code"]) for x in lines if x["item"] == "problem")
    assert listed == sorted((p.row or 0, p.column or "", p.code) for p in outcome.problems)
    html = Path(html_path).read_text(encoding="utf-8")
    assert outcome.status in html and "Maoni" in html
    return ledger


def next_year() -> int:
    return dt.date.today().year + 1


def leaks(settings: Settings, inbox: Path, secrets: Iterable[str]) -> list[str]:
    """Planted secrets found in any file under NJIA_HOME (but the embedded server's data files), in any
    feedback file of the inbox, or in the ledger, quarantine, run log and raw tables: where, for each."""
    files = [p for p in settings.home_dir.rglob("*") if p.is_file() and "pgdata" not in p.parts]
    files += [p for p in inbox.rglob("*") if p.is_file() and any("feedback" in part for part in p.parts)]
    texts = [(str(p), p.read_bytes().decode("utf-8", "replace")) for p in files]
    for table in ("ops.submissions", "ops.quarantine", "ops.runs", "raw.route_reports"):
        texts += [(table, str(r)) for r in query(settings, f"select * from {table}")]
    return [f"{s} in {where}" for s in secrets for where, t in texts if s in t]
