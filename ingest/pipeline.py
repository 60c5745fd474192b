"""One file from an organisation's folder to the warehouse: the path `njia ingest`, `njia run`, the DAGs
and the tests share. The spine, in the order a file goes:

discover (new path+bytes, delivery order fixed) → process (local copy and hash; duplicate?; `analysis.analyse`:
read, check, normalise, validate, spool; archive) → commit (one transaction: ledger, COPY, periods,
quarantine, feedback) → ingest (every new file, organisations in parallel when asked; the run's line).

The plumbing lives in modules named for it: `discovery` (the inbox), `workspace` (private temporary folders),
`analysis` and `spool` (a file's rows), `load` (the statements), `failures` (whose fault), `parallel`
(worker processes), `outcomes` (what a file comes to).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ingest import archive, feedback, load, parallel, registry
from ingest.analysis import analyse, overlapping
from ingest.discovery import files_in, hash_or_none, organisation_of, source_mtime, use_settings
from ingest.failures import environment_failure, failed
from ingest.outcomes import FileOutcome, Problem, run_summary
from ingest.workspace import local_copy, tmp_dir
from njia import warehouse
from njia.alerts import check_quarantine_rates
from njia.cells import mask_contacts
from njia.runlog import record_run
from njia.settings import Settings

__all__ = [
    "FileOutcome",
    "Problem",
    "commit",
    "discover",
    "discover_by_organisation",
    "ingest",
    "process",
    "process_organisation",
    "record_ingest_run",
]

log = logging.getLogger(__name__)


def discover(settings: Settings, sources: list[str] | None = None) -> list[str]:
    """Files in the inbox(es) not yet processed (same path and same bytes); refreshes the registry and
    removes the temporary copies of processes that died."""
    use_settings(settings)
    orgs = registry.read_registry(settings.organisations_path)
    tmp_dir(settings)  # removes what processes that died left behind
    candidates = [f for source in (sources or [settings.inbox_url]) for f in files_in(source, orgs)]
    with warehouse.connect(settings) as conn:
        registry.sync_registry(conn, orgs)
        hashed = [(f, h) for f in candidates if (h := hash_or_none(f)) is not None]
        new = [(f, h) for f, h in hashed if not load.already_processed(conn, f, h)]
        # Delivery order is fixed here, at first discovery, not by whoever commits first.
        load.register_deliveries(conn, [(f, h, source_mtime(f)) for f, h in new])
    return [f for f, _ in new]


def discover_by_organisation(settings: Settings, sources: list[str] | None = None) -> list[list[str]]:
    """`discover`'s new files, one list per organisation folder, each in delivery order; organisations in
    the order of their first file. What the DAG `njia_ingest` maps `process_organisation` over."""
    return [[file for _, file in group] for group in parallel.by_organisation(discover(settings, sources)).values()]


def process_organisation(
    settings: Settings,
    files: Sequence[str],
    orgs: dict[str, registry.Organisation] | None = None,
    *,
    may_start: Callable[[int], bool] | None = None,
    done: Callable[[int, FileOutcome | None], None] | None = None,
) -> list[FileOutcome | None]:
    """One organisation's files (`files`, in delivery order), one after another, so a correction never lands
    before the file it corrects: what a worker of the parallel path (`parallel.ingest_in_parallel`) and a
    mapped task of the DAG `njia_ingest` both run. Returns `process`'s outcome for each file started.

    `may_start(i)` is asked before `files[i]`: False stops here (the parallel path's shared stop position:
    a file earlier in discovery order raised in another worker). `done(i, outcome)` is called as each file
    ends. A file that raises (a failure of the environment, see `process`) stops the organisation: the
    exception propagates and the files after it are left for the next run.
    """
    orgs = orgs if orgs is not None else registry.read_registry(settings.organisations_path)
    outcomes: list[FileOutcome | None] = []
    for i, file in enumerate(files):
        if may_start is not None and not may_start(i):
            break
        try:
            outcomes.append(process(settings, file, orgs=orgs))
        except Exception:
            log.error(
                "%s: not processed; %d later file(s) of its organisation left for the next try",
                file,
                len(files) - i - 1,
            )
            raise
        if done is not None:
            done(i, outcomes[-1])
    return outcomes


def process(
    settings: Settings, file: str, *, orgs: dict[str, registry.Organisation] | None = None, today: dt.date | None = None
) -> FileOutcome | None:
    """Process one delivered file end to end. Returns None when it was already processed (or vanished).

    A failure caused by the file (its bytes, a bug they trigger, a database error about its data) is the
    file's outcome: `rejected` / `internal_error`, recorded once with an error id that the log explains, and
    the run goes on. A failure of the environment (the warehouse unreachable or refusing, a full disk) is
    raised: it is nobody's file's fault, and recording files as rejected would lose them.
    """
    use_settings(settings)
    orgs = orgs if orgs is not None else registry.read_registry(settings.organisations_path)
    organisation, folder = organisation_of(file)
    try:
        local, sha256, size = local_copy(file, tmp_dir(settings))
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
            delivery = load.delivery(conn, file, sha256, source_mtime(file))
        archived, analysed = None, seen_before is not None
        try:
            if seen_before is None:
                keep_bytes = analyse(settings, local, outcome, orgs, spool, today)
                analysed = True
            archived = archive.keep(settings.archive_dir, sha256, local) if keep_bytes else None
            committed = commit(settings, outcome, spool, archived, folder, delivery)
        except Exception as exc:
            if environment_failure(exc):
                raise
            outcome = failed(outcome, exc, analysed)
            committed = commit(settings, outcome, spool, archived, folder, delivery)
        if not committed:
            return None
    finally:
        local.unlink(missing_ok=True)
        spool.unlink(missing_ok=True)
    log.info(
        "%s: %s %s (%d read, %d loaded)",
        file,
        outcome.status,
        outcome.reason or "",
        outcome.rows_read,
        outcome.rows_loaded,
    )
    return outcome


def commit(
    settings: Settings, outcome: FileOutcome, spool: Path, archived: Path | None, folder: str, delivery: load.Delivery
) -> bool:
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
            clash := overlapping(outcome.periods, load.accepted_periods(conn, outcome.organisation))
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
            if outcome.reason != "internal_error" or environment_failure(exc):
                raise
            # Recording the failure must not fail in turn: the ledger row still tells the file's outcome.
            log.error(
                "%s: no feedback written for its internal error (%s: %s)",
                outcome.file,
                type(exc).__name__,
                mask_contacts(str(exc)),
            )
            outcome.feedback_files = []
    return True


def ingest(
    settings: Settings,
    sources: list[str] | None = None,
    progress: Callable[[int, int, FileOutcome | None], None] | None = None,
    workers: int | None = None,
) -> list[FileOutcome]:
    """Process every new file of the inbox(es); the registry is read once for the whole run.

    With `workers` (default: the setting `ingest_workers`) above 1 and files from more than one organisation,
    organisations are processed in parallel worker processes (`parallel.ingest_in_parallel`); otherwise
    every file is processed here, one after another (so small runs and single-organisation runs are unchanged).
    Either way an organisation's files are processed in delivery order, one after another; the outcomes
    come back in discovery order; the progress callback is called once per file, in this process; a file
    that makes processing fail is recorded as its outcome (`process`), while a failure of the environment
    propagates; and this process writes the run's line in ops.runs.
    """
    started = dt.datetime.now(dt.UTC)
    files = discover(settings, sources)
    orgs = registry.read_registry(settings.organisations_path)
    workers = settings.ingest_workers if workers is None else workers
    by_organisation = parallel.by_organisation(files)
    if workers > 1 and len(by_organisation) > 1:
        found = parallel.ingest_in_parallel(
            settings, files, by_organisation, orgs, min(workers, len(by_organisation)), progress, process_organisation
        )
    else:
        found = []
        for i, file in enumerate(files, start=1):
            outcome = process(settings, file, orgs=orgs)
            found.append(outcome)
            if progress:
                progress(i, len(files), outcome)
    outcomes = [o for o in found if o is not None]
    record_ingest_run(settings, started, [o.summary() for o in outcomes])
    return outcomes


def record_ingest_run(settings: Settings, started: dt.datetime, outcomes: Sequence[Mapping[str, Any]]) -> None:
    """What follows a run, from its files' outcomes (`FileOutcome.summary()`, or the `as_json()` the DAG's
    tasks return, which holds it): the run's line in ops.runs that
    `njia status` shows, and an alert per organisation whose share of quarantined rows is too high. `njia
    ingest` and the DAG's `publish` both end here."""
    with warehouse.connect(settings) as conn:
        record_run(conn, "ingest", started, True, run_summary(o["status"] for o in outcomes))
    rows: dict[str, tuple[int, int]] = {}
    for o in outcomes:
        read, quarantined = rows.get(o["organisation"], (0, 0))
        rows[o["organisation"]] = (read + o["rows_read"], quarantined + o["rows_quarantined"])
    check_quarantine_rates(settings, rows)
