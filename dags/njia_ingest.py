"""
### njia_ingest

Every 15 minutes (cron in `NJIA_INGEST_SCHEDULE`, read by the dag-processor), look for new files in the
inbox (`NJIA_INBOX`) and process each organisation's in its own mapped task: archive, validate against the
contract, load the good rows, quarantine the rest, write feedback to the organisation's folder.

- `discover` lists the new files (a file already in the ledger with the same bytes is not new), grouped by
  organisation folder, each group in delivery order.
- `process_organisation` runs once per organisation, organisations at the same time (as many as there are
  worker slots), and processes that organisation's files one after another in delivery order, through the
  function the parallel `njia ingest` runs in its workers. It returns each file's outcome (the
  `njia ingest --json` object). A rejected file is a normal outcome, not a task failure: the organisation
  gets feedback; so is a file that makes processing fail (`internal_error`). A task fails only when the
  environment does (the warehouse down, a bad registry): that organisation's later files are left for its
  retry, which starts again at the file that failed (the ones before it are in the ledger).
- `publish` records the files' outcomes in `ops.runs` (a retried task reports the files of its last try)
  and updates the asset `njia://raw/route_reports` when any row was loaded, which starts `njia_transform`.
  It runs even when some organisation's task failed, so the files that did load are not held back.
- `fail_if_a_file_failed` fails the run when `discover` or any organisation's task failed (after its
  retries), so that is seen although `publish` succeeded.
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
    def discover() -> list[list[str]]:
        from ingest.pipeline import discover_by_organisation

        groups = discover_by_organisation(settings())
        log.info("%d new file(s) from %d organisation(s)", sum(map(len, groups)), len(groups))
        return groups

    @task(map_index_template="{{ organisation_folder }}")
    def process_organisation(files: list[str]) -> list[dict[str, Any]]:
        from ingest.pipeline import process_organisation

        get_current_context()["organisation_folder"] = files[0].rsplit("/", 2)[-2]  # type: ignore[typeddict-unknown-key]
        # None: another run processed the file first.
        return [o.as_json() for o in process_organisation(settings(), files) if o is not None]

    @task(outlets=[RAW_ROUTE_REPORTS], trigger_rule=TriggerRule.ALL_DONE)
    def publish(outcomes: list[list[dict[str, Any]] | None], *, outlet_events: Any = None) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from ingest.pipeline import record_ingest_run

        # A slice is fetched in one request. None: that organisation's task failed.
        done = [o for group in outcomes[:] if group for o in group]
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

        raise AirflowFailException(
            "not every new file was processed: see the failed discover/process_organisation task(s)"
        )

    outcomes = process_organisation.expand(files=discover())
    publish(outcomes)
    outcomes >> fail_if_a_file_failed()


njia_ingest()
