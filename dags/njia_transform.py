"""
### njia_transform

Runs when `njia_ingest` updates the asset `njia://raw/route_reports`: `dbt build` of the project (seeds,
models, tests, snapshots). The marts change only when every test passes; a failed build fails this run
without retries (rerunning the same models on the same rows fails the same way), while errors that are not
the build's verdict (the warehouse unreachable, say) are retried.

After a successful build, `source_freshness`: `dbt source freshness` on the raw sources, recorded in
`ops.source_freshness` and shown by `njia status`. A stale source is a finding (logged and recorded), not a
failure; a source that could not be checked fails the task.
"""

from __future__ import annotations

import logging

from airflow.sdk import dag, task
from njia_common import DEFAULT_ARGS, RAW_ROUTE_REPORTS, START_DATE, check_source_freshness, settings

log = logging.getLogger(__name__)


@dag(
    dag_id="njia_transform",
    schedule=[RAW_ROUTE_REPORTS],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["njia", "dbt"],
)
def njia_transform() -> None:
    @task
    def build() -> str:
        from airflow.sdk.exceptions import AirflowFailException

        from njia.transform import build as dbt_build

        result = dbt_build(settings())
        if not result.ok:
            raise AirflowFailException(f"dbt build failed: {result.summary}")
        log.info("dbt build: %s", result.summary)
        return result.summary

    @task
    def source_freshness() -> str:
        return check_source_freshness()

    build() >> source_freshness()


njia_transform()
