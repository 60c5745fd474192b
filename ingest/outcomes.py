"""What processing a delivered file comes to: its outcome (status, reason, counts, the row problems) as
the ledger records it, `njia ingest --json` prints it and the feedback tells it (docs/contract.md §4)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ingest import feedback
from ingest.normalise import Period


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
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def visible(value: str | None) -> str | None:
    if not value or not CONTROL.search(value):
        return value
    return CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", value)


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

    def summary(self) -> dict[str, object]:
        """The file's counts without its problems: what a run's line in ops.runs and its alerts need (a file
        with 500,000 quarantined rows would otherwise build 500,000 dicts for them)."""
        return {
            "file": self.file,
            "organisation": self.organisation,
            "sha256": self.sha256,
            "status": self.status,
            "reason": self.reason,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
        }

    def as_json(self) -> dict[str, object]:
        """The object `njia ingest --json` prints (docs/interfaces.md §1.3)."""
        return {
            **self.summary(),
            "problems": [{"row": p.row, "column": p.column, "code": p.code} for p in self.problems],
            "ignored_columns": list(self.ignored_columns),
        }


def run_summary(statuses: Iterable[str]) -> str:
    """The detail of an ingest run's line in ops.runs, as `njia status` shows it: `3 file(s) accepted=2,
    rejected=1`. One function, so the CLI's run and the DAG's read the same."""
    counts = Counter(statuses)
    tally = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    return f"{sum(counts.values())} file(s) {tally}".strip()
