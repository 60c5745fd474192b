"""Organisations in parallel worker processes: a fork server (never a fork of the calling process), a pipe
that ends the workers when the caller dies, a shared stop position, and the worker's exception raised back
in the caller."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from ingest import registry
from ingest.discovery import organisation_of
from ingest.outcomes import FileOutcome
from njia.settings import Settings

Progress = Callable[[int, int, FileOutcome | None], None]
ProcessOrganisation = Callable[..., list[FileOutcome | None]]  # `pipeline.process_organisation`


def by_organisation(files: list[str]) -> dict[str, list[tuple[int, str]]]:
    """Each organisation folder's files with their discovery positions, in delivery order."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for index, file in enumerate(files):
        groups.setdefault(organisation_of(file)[1], []).append((index, file))
    return groups


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a worker process (its __cause__ when it is raised here)."""

    def __str__(self) -> str:
        return f'\n"""\n{self.args[0]}"""'


@dataclass
class _Failure:
    index: int  # discovery position of the file that raised
    error: BaseException
    traceback: str


def ingest_in_parallel(
    settings: Settings,
    files: list[str],
    by_organisation: dict[str, list[tuple[int, str]]],
    orgs: dict[str, registry.Organisation],
    workers: int,
    progress: Progress | None,
    process_organisation: ProcessOrganisation,
) -> list[FileOutcome | None]:
    """Every file: an organisation's files in one worker process, through `process_organisation` (in delivery
    order, one after another: a correction never lands before the file it corrects); organisations in parallel.

    Workers are started by multiprocessing's fork server ("forkserver", never a fork of this process), so
    nothing of this process (database connections, the GX context) is inherited. The fork server imports
    the pipeline and Great Expectations once (`_WORKER_PRELOAD`) and lives as long as this process, so a
    worker starts in milliseconds instead of the seconds of a cold import, and later runs in the same
    process (tests, a long-lived caller) pay nothing. Workers commit through `pipeline.commit`, whose advisory
    locks (per organisation and per SHA-256) and per-process temporary folders (`workspace.tmp_dir`) already make
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
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_worker_start,
            initargs=(stop_at, alive_r, logging.getLogger().level),
        ) as pool:
            # Organisations in the order of their first file, so the run follows discovery order where it can.
            pending = {
                pool.submit(_ingest_organisation, process_organisation, settings, group, orgs)
                for group in by_organisation.values()
            }
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
        first.error.__cause__ = WorkerTraceback(first.traceback)
        raise first.error
    return found


# What the fork server imports before it forks any worker: the seconds of a cold start (mostly GX's import).
_WORKER_PRELOAD = ["ingest.pipeline", "ingest.validate", "pandas", "great_expectations"]
_STOP_AT = None  # a worker's shared position (multiprocessing.Value) past which it starts no file


def _worker_start(stop_at, alive, log_level: int) -> None:  # multiprocessing objects
    """A worker's start: remember the shared stop position, log as the calling process does, and exit as
    soon as the calling process has gone (`alive` reaches its end): a killed `njia ingest` must not leave
    loaders running on their own. An open transaction is then rolled back by the server, and the worker's
    temporary folder is swept by the next run (`workspace.tmp_dir`)."""
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


def _ingest_organisation(
    process_organisation: ProcessOrganisation,
    settings: Settings,
    group: list[tuple[int, str]],
    orgs: dict[str, registry.Organisation],
) -> tuple[list[tuple[int, FileOutcome | None]], _Failure | None]:
    """In a worker: one organisation's files, in delivery order. Returns each processed file's outcome by
    discovery position, and the failure of the file that raised (the files after it are not started)."""
    import pickle
    import traceback

    outcomes: list[tuple[int, FileOutcome | None]] = []
    try:
        process_organisation(
            settings,
            [file for _, file in group],
            orgs,
            may_start=lambda i: group[i][0] < _STOP_AT.value,  # else an earlier file raised
            done=lambda i, outcome: outcomes.append((group[i][0], outcome)),
        )
    except Exception as exc:  # raised again in the parent process
        index = group[len(outcomes)][0]  # the file after the last one done
        with _STOP_AT.get_lock():
            _STOP_AT.value = min(_STOP_AT.value, index)
        text = "".join(traceback.format_exception(exc))
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # an exception that cannot cross processes is described instead
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return outcomes, _Failure(index, exc, text)
    return outcomes, None
