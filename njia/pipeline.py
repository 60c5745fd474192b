"""One pass of the whole pipeline, `ingest` then `build`: what `njia run` does and what the DAGs do
in two steps."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.pipeline import FileOutcome, ingest
from njia.settings import Settings


@dataclass
class RunResult:
    outcomes: list[FileOutcome]
    build_ok: bool
    build_summary: str

    @property
    def ok(self) -> bool:
        files_ok = all(o.status in ("accepted", "duplicate") for o in self.outcomes)
        return files_ok and self.build_ok


def run(settings: Settings, sources: list[str] | None = None, progress=None) -> RunResult:  # noqa: ANN001
    from njia import transform

    outcomes = ingest(settings, sources, progress=progress)
    result = transform.build(settings)
    return RunResult(outcomes, result.ok, result.summary)
