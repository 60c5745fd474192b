"""
### njia_submission_monitor

Every Monday at 06:00 UTC (09:00 in Nairobi): list the active organisations of the registry
(`NJIA_ORGANISATIONS`, and `raw.organisations` as of the last ingest) that have no accepted submission for
any period overlapping the last closed quarter. Each one is logged as a warning and the list is recorded in
`ops.runs` (command `submission_monitor`), where `njia status` and the engineers' dashboards read it.
Missing submissions are a finding, not a failure: the run succeeds and returns the list.

`source_freshness` runs `dbt source freshness` each week too, so `njia status` shows how long ago raw data
last arrived even when nothing arrives (the transform DAG, which also checks it, only runs on new data).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, get_current_context, task
from njia_common import DEFAULT_ARGS, START_DATE, check_source_freshness, settings


@dag(
    dag_id="njia_submission_monitor",
    schedule="0 6 * * 1",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["njia", "monitor"],
)
def njia_submission_monitor() -> None:
    @task
    def find_missing_submissions() -> list[dict[str, Any]]:
        from njia import monitor

        quarter = monitor.last_closed_quarter(get_current_context()["dag_run"].run_after.date())
        s = settings()
        missing = monitor.missing_submissions(s, quarter)
        monitor.alert(s, quarter, missing)
        return [m.as_json() for m in missing]

    @task
    def source_freshness() -> str:
        return check_source_freshness()

    find_missing_submissions()
    source_freshness()


njia_submission_monitor()
