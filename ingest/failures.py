"""Whose fault a failure is: the file's (recorded as its outcome, `internal_error`, and the run goes on) or
the environment's (raised: the run fails and the file is left for the next one)."""

from __future__ import annotations

import errno
import logging
import traceback
import uuid

import psycopg

from ingest import registry
from ingest.outcomes import FileOutcome
from njia import warehouse
from njia.cells import mask_contacts

log = logging.getLogger("ingest.pipeline")  # where an operator looks for a file's internal error

# OSError numbers that say the machine, not the file, is at fault.
_ENVIRONMENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ENOMEM, errno.EMFILE, errno.ENFILE}
)


def environment_failure(exc: BaseException) -> bool:
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


def failed(outcome: FileOutcome, exc: Exception, analysed: bool) -> FileOutcome:
    """The outcome of a file whose processing raised: rejected, `internal_error`, with an error id; the
    traceback goes to the log (contacts masked), never to the organisation."""
    error_id = uuid.uuid4().hex[:12]
    # Masked a line at a time: masking cuts a text to its first MAX_MASKED characters, and a traceback's
    # last lines (the error itself) matter most.
    text = "".join(traceback.format_exception(exc))[-_TRACE_CHARS:]
    trace = "\n".join(mask_contacts(line) or "" for line in text.splitlines())
    log.error(
        "%s: internal error %s (%s); the file is recorded as rejected:\n%s",
        outcome.file,
        error_id,
        type(exc).__name__,
        trace,
    )
    failed = FileOutcome(
        file=outcome.file, organisation=outcome.organisation, sha256=outcome.sha256, size_bytes=outcome.size_bytes
    )
    failed.rows_read = outcome.rows_read if analysed else 0  # what was read, when all of it was
    return failed.reject("internal_error", f"error id {error_id}")
