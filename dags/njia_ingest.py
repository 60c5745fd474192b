"""
### njia_ingest

Every 15 minutes (cron in `NJIA_INGEST_SCHEDULE`, read by the dag-processor), look for new files in the
inbox (`NJIA_INBOX`) and process each one in its own mapped task: archive, validate against the contract,
load the good rows, quarantine the rest, write feedback to the organisation's folder.

- `discover` lists the new files (a file already in the ledger with the same bytes is not new).
- `process_file` runs once per file, one at a time in delivery order, and returns the file's outcome (the `njia ingest --json` object). A rejected file is a
  normal outcome, not a task failure: the organisation gets feedback; so is a file that makes processing
  fail (`internal_error`). A task fails only when the environment does (the warehouse down, a bad registry).
  Which file is in force does not depend on the order the tasks commit in (a retry can land after a later
  file): `discover` fixes each file's delivery sequence, and the latest delivery wins.
- `publish` records the files' outcomes in `ops.runs` and updates the asset `njia://raw/route_reports` when any row
  was loaded, which starts `njia_transform`. It runs even when some file's task failed, so the files that
  did load are not held back.
- `fail_if_a_file_failed` fails the run when `discover` or any file's task failed (after its retries), so
  that is seen although `publish` succeeded.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from airflow.sdk import TriggerRule, dag, get_current_context, task
from njia_common import DEFAULT_ARGS, RAW_ROUTE_REPORTS, START_DATE, settings

log = logging.getLogger(__name__)

SCHEDULE = os.environ.get("NJIA_INGEST_SCHEDULE") or "*/15 * * * *"


@dag(
    dag_id="njia_ingest",
    schedule=SCHEDULE,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["njia", "ingest"],
)
def njia_ingest() -> None:
    @task
    def discover() -> list[str]:
        from ingest.pipeline import discover as new_files

        files = new_files(settings())
        log.info("%d new file(s)", len(files))
        return files

    # One file at a time, in discovery order (the scheduler queues mapped instances by map index). Not what
    # keeps a correction in force (a retry can run after a later file): the delivery sequence is.
    @task(map_index_template="{{ file_label }}", max_active_tis_per_dagrun=1)
    def process_file(file: str) -> dict[str, Any] | None:
        from ingest.pipeline import process

        get_current_context()["file_label"] = "/".join(file.rstrip("/").split("/")[-2:])  # type: ignore[typeddict-unknown-key]
        outcome = process(settings(), file)
        return None if outcome is None else outcome.as_json()  # None: another run processed it first

    @task(outlets=[RAW_ROUTE_REPORTS], trigger_rule=TriggerRule.ALL_DONE)
    def publish(outcomes: list[dict[str, Any] | None], *, outlet_events: Any = None) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from ingest.pipeline import record_ingest_run

        # A slice is fetched in one request. No outcome: the file's task failed, or another run processed it.
        done = [o for o in outcomes[:] if o]
        if not done:
            raise AirflowSkipException("no new files")
        # The line `njia status` shows, written as `njia ingest` writes it.
        record_ingest_run(settings(), get_current_context()["dag_run"].start_date, done)
        loaded = [o for o in done if o["rows_loaded"]]
        if not loaded:
            raise AirflowSkipException("no rows loaded: the raw asset did not change")
        summary = {
            "files": len(loaded),
            "rows_loaded": sum(o["rows_loaded"] for o in loaded),
            "organisations": sorted({o["organisation"] for o in loaded}),
        }
        outlet_events[RAW_ROUTE_REPORTS].extra = summary
        return summary

    @task(trigger_rule=TriggerRule.ONE_FAILED, retries=0, on_failure_callback=None)
    def fail_if_a_file_failed() -> None:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("not every new file was processed: see the failed discover/process_file task(s)")

    outcomes = process_file.expand(file=discover())
    publish(outcomes)
    outcomes >> fail_if_a_file_failed()


njia_ingest()
