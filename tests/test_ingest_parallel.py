"""Organisations ingested in parallel worker processes (`NJIA_INGEST_WORKERS`, `njia ingest --workers`) end
exactly as one process doing one file at a time: the same ledger, raw rows, periods and quarantine, outcomes
in discovery order, progress once per file in the calling process, and a file's exception raised as is.

Workers are started with "spawn" and import Great Expectations, so each parallel run costs a few seconds:
the inboxes are small and there are two workers.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest
from ingest_helpers import HEADER, csv_bytes, grid, new_settings, query, row, rows, write_file, write_registry

from ingest import parallel as parallel_ingest
from ingest import pipeline
from njia import warehouse
from njia.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore:.*GX Core 2.0:DeprecationWarning")

ORGS = ["ALPHA", "BETA", "GAMMA"]


def _inbox_files() -> list[tuple[str, bytes]]:
    """(relative path, bytes) in delivery order: three organisations, corrections of earlier files (same
    organisation and period, delivered later), quarantined rows, a rejected file and a period clash."""
    bad_county = row(origin_county="Atlantis", cases_estimated=7)
    return [
        ("ALPHA/2020-q1.csv", csv_bytes(grid(rows(40, reporting_period="2020-Q1")))),
        ("BETA/2021.csv", csv_bytes(grid([bad_county, *rows(30, start=500, reporting_period="2021")]))),
        ("GAMMA/no_type.csv", csv_bytes(grid(rows(3), header=[h for h in HEADER if h != "exploitation_type"]))),
        ("ALPHA/2020-q2.csv", csv_bytes(grid(rows(25, start=100, reporting_period="2020-Q2")))),
        ("GAMMA/2019-03.csv", csv_bytes(grid(rows(12, start=900, reporting_period="2019-03")))),
        # Corrections: the same periods again, with other rows.
        (
            "ALPHA/2020-q1 corrected.csv",
            csv_bytes(grid([bad_county, *rows(45, start=200, reporting_period="2020-Q1")])),
        ),
        ("BETA/2021 corrected.csv", csv_bytes(grid(rows(31, start=600, reporting_period="2021")))),
        # A quarter inside BETA's accepted year: rejected, whichever of BETA's files came first.
        ("BETA/2021-q3.csv", csv_bytes(grid(rows(5, start=700, reporting_period="2021-Q3")))),
        ("GAMMA/2019-03 corrected.csv", csv_bytes(grid(rows(13, start=950, reporting_period="2019-03")))),
    ]


def _deliver(settings: Settings, files: list[tuple[str, bytes]], clock: float) -> None:
    for i, (relative, data) in enumerate(files):
        # Delivery order is modification time: the order listed.
        write_file(Path(settings.inbox_url), relative, data, mtime=clock + 10 * i)


def _warehouse(settings: Settings) -> dict[str, object]:
    """Everything ingest wrote, keyed by file path relative to the inbox (submission ids differ by run)."""
    inbox = settings.inbox_url.rstrip("/") + "/"
    ledger = query(
        settings,
        "select submission_id, file_path, status, reason, rows_read, rows_loaded,"
        " rows_quarantined, sha256, duplicate_of is not null from ops.submissions",
    )
    name = {sid: path.removeprefix(inbox) for sid, path, *_ in ledger}
    periods = query(
        settings, "select submission_id, reporting_period, period_start, period_end from ops.submission_periods"
    )
    raw = query(settings, "select * from raw.route_reports")  # loaded_at (last) differs by run
    quarantine = query(
        settings, "select submission_id, row_number, column_name, value, problem_code, message from ops.quarantine"
    )
    return {
        "ledger": sorted((name[sid], *rest) for sid, _, *rest in ledger),
        "periods": sorted((name[sid], *rest) for sid, *rest in periods),
        "raw": sorted((name[r[0]], *r[1:-1]) for r in raw),
        "quarantine": sorted((name[q[0]], *q[1:]) for q in quarantine),
        # Per organisation, its files in submission order: a correction never lands before what it corrects.
        "order": sorted(name[sid] for sid, *_ in sorted(ledger)),
        "order_by_org": {
            org: [name[sid] for sid, *_ in sorted(ledger) if name[sid].startswith(org + "/")] for org in ORGS
        },
    }


def _run(settings: Settings, workers: int) -> tuple[list[str], list[pipeline.FileOutcome], list[tuple]]:
    discovered = pipeline.discover(settings)
    calls: list[tuple] = []
    outcomes = pipeline.ingest(
        settings, workers=workers, progress=lambda i, n, o: calls.append((i, n, o.file if o else None, os.getpid()))
    )
    return discovered, outcomes, calls


def test_parallel_ingest_ends_as_sequential(server_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _inbox_files()
    clock = time.time() - 10_000
    runs = {}
    parallel: list[int] = []
    original = parallel_ingest.ingest_in_parallel
    monkeypatch.setattr(
        parallel_ingest, "ingest_in_parallel", lambda *a, **k: parallel.append(a[4]) or original(*a, **k)
    )
    for workers in (1, 2):
        root = tmp_path / f"workers{workers}"
        write_registry(root / "organisations.csv", ORGS)
        settings = new_settings(server_home, root)
        _deliver(settings, files, clock)
        discovered, outcomes, calls = _run(settings, workers)
        assert parallel == ([2] if workers > 1 else []), "the parallel path runs (2 workers) only with workers > 1"
        # (b) outcomes in discovery order; progress once per file, in this process.
        assert [o.file for o in outcomes] == discovered
        assert len(discovered) == len(files)
        assert sorted(c[0] for c in calls) == list(range(1, len(files) + 1))
        assert sorted(c[2] for c in calls) == sorted(discovered)
        assert {(c[1], c[3]) for c in calls} == {(len(files), os.getpid())}
        assert query(settings, "select command, detail from ops.runs") == [
            ("ingest", "9 file(s) accepted=5, accepted_with_errors=2, rejected=2")
        ]
        runs[workers] = (
            _warehouse(settings),
            [
                (
                    o.file.removeprefix(settings.inbox_url),
                    o.as_json()
                    | {
                        "file": None,
                        "problems": [(p.row, p.column, p.code, p.value) for p in o.problems],
                        "periods": o.periods,
                    },
                )
                for o in outcomes
            ],
        )
    # (a) the same ledger, periods, raw rows and quarantine; the same outcomes.
    assert runs[2][0] == runs[1][0]
    assert runs[2][1] == runs[1][1]
    by_org = runs[1][0]["order_by_org"]
    assert by_org["ALPHA"] == ["ALPHA/2020-q1.csv", "ALPHA/2020-q2.csv", "ALPHA/2020-q1 corrected.csv"]
    assert by_org["BETA"] == ["BETA/2021.csv", "BETA/2021 corrected.csv", "BETA/2021-q3.csv"]
    statuses = {path: (status, reason) for path, status, reason, *_ in runs[2][0]["ledger"]}
    assert statuses["BETA/2021-q3.csv"] == ("rejected", "period_overlap")
    assert statuses["ALPHA/2020-q1 corrected.csv"] == ("accepted_with_errors", None)


def test_worker_error_propagates(server_home: Path, tmp_path: Path) -> None:
    """A failure of the environment, not of the file (here the warehouse refusing GAMMA's ledger rows for
    want of a privilege), fails its transaction: the run raises that error, with the worker's traceback as
    its cause, as a sequential run does; the files before it in discovery order are processed, the failing
    file is not recorded. (A failure caused by a file is that file's outcome: tests/test_hostile_isolation.py.)"""
    files = _inbox_files()[:5]
    clock = time.time() - 10_000
    results = {}
    for workers in (1, 2):
        root = tmp_path / f"workers{workers}"
        write_registry(root / "organisations.csv", ORGS)
        settings = new_settings(server_home, root)
        _deliver(settings, files, clock)
        with psycopg.connect(warehouse.url(settings)) as conn:
            conn.execute(
                "create function refuse_gamma() returns trigger language plpgsql as $$ begin"
                " if new.organisation_code = 'GAMMA' then raise exception 'GAMMA may not write the ledger'"
                " using errcode = 'insufficient_privilege'; end if; return new; end $$;"
                " create trigger refuse_gamma before insert on ops.submissions"
                " for each row execute function refuse_gamma()"
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege) as raised:
            pipeline.ingest(settings, workers=workers)
        if workers > 1:
            assert isinstance(raised.value.__cause__, parallel_ingest.WorkerTraceback)
            assert "GAMMA may not write the ledger" in str(raised.value.__cause__)
        ledger = {
            path.removeprefix(settings.inbox_url): status
            for path, status in query(settings, "select file_path, status from ops.submissions")
        }
        assert query(settings, "select count(*) from ops.runs") == [(0,)]
        results[workers] = (str(raised.value).replace(str(root), "ROOT"), ledger)
    assert results[2][0] == results[1][0]
    # GAMMA's first file fails: everything before it (in discovery order) was processed; the rest of GAMMA
    # was not started. Other organisations' later files may or may not have been, in parallel.
    assert not any(path.startswith("/GAMMA/") for path in results[1][1])
    assert not any(path.startswith("/GAMMA/") for path in results[2][1])
    # Folders are discovered in name order, so GAMMA's files come last.
    before = {f"/{p}" for p, _ in files if not p.startswith("GAMMA/")}
    assert set(results[1][1]) == set(results[2][1]) == before


def test_an_organisation_stops_at_the_file_that_raises(server_home: Path, tmp_path: Path) -> None:
    """`pipeline.process_organisation`, what a worker here and a mapped task of `njia_ingest` run: a failure
    of the environment on one file (the warehouse refusing its ledger row) propagates; the organisation's
    files before it are processed, the ones after it are not started (left for the next try)."""
    write_registry(tmp_path / "organisations.csv", ORGS)
    settings = new_settings(server_home, tmp_path)
    _deliver(settings, _inbox_files(), time.time() - 10_000)
    alpha = [f for f in pipeline.discover(settings) if "/ALPHA/" in f]
    assert [f.rsplit("/", 1)[1] for f in alpha] == ["2020-q1.csv", "2020-q2.csv", "2020-q1 corrected.csv"]
    with psycopg.connect(warehouse.url(settings)) as conn:
        conn.execute(
            "create function refuse_q2() returns trigger language plpgsql as $$ begin"
            " if new.file_name = '2020-q2.csv' then raise exception 'no room for 2020-q2'"
            " using errcode = 'insufficient_privilege'; end if; return new; end $$;"
            " create trigger refuse_q2 before insert on ops.submissions for each row execute function refuse_q2()"
        )
    done: list[tuple[int, str]] = []
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="no room for 2020-q2"):
        pipeline.process_organisation(settings, alpha, done=lambda i, o: done.append((i, o.status)))
    assert done == [(0, "accepted")]
    assert query(settings, "select file_name from ops.submissions") == [("2020-q1.csv",)]
    # A stop asked for from outside (an earlier file raised in another worker) starts nothing more.
    assert pipeline.process_organisation(settings, alpha[1:], may_start=lambda i: False) == []
