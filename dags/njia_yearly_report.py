"""
### njia_yearly_report

Every 15 January at 06:00 Nairobi time: writes the yearly report pack for the **year before** (CSV files,
the Excel workbook and the bilingual HTML page) into `<reports outbox>/<year>/` (`NJIA_REPORTS_OUTBOX`,
default `$NJIA_HOME/reports`). The figures are the `reporting` tables as published, suppressed with the
warehouse's k (`NJIA_MIN_CELL`), exactly what `njia report --year YYYY` writes.

**Manual runs**: trigger with the param `year` (e.g. `{"year": 2024}`) to (re)write another year's pack;
without it the year before the run's date is used. A year with no figures, or a pack that would show a
count below k, fails the run without retries: fix the data or the build, then trigger again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, task
from njia_common import DEFAULT_ARGS, START_DATE, settings

log = logging.getLogger(__name__)


def report_year(params: dict[str, Any] | None, run_after: datetime) -> int:
    """The `year` param when given, else the calendar year before the run."""
    year = (params or {}).get("year")
    return int(year) if year not in (None, "") else run_after.year - 1


@dag(
    dag_id="njia_yearly_report",
    # A trigger timetable: the run of 15 January 2026 has that date as its logical date (not a year earlier,
    # as an interval timetable would), so "the year before" is the year just closed.
    schedule=CronTriggerTimetable("0 6 15 1 *", timezone="Africa/Nairobi"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "retries": 2, "retry_delay": timedelta(minutes=15)},
    params={
        "year": Param(
            None,
            type=["null", "integer"],
            minimum=2010,
            maximum=2100,
            description="Year of the pack; empty = the year before the run",
        ),
    },
    doc_md=__doc__,
    tags=["njia", "report"],
)
def njia_yearly_report() -> None:
    @task
    def write_report_pack(params: dict[str, Any] | None = None, dag_run: Any = None) -> str:
        from airflow.sdk.exceptions import AirflowFailException

        from njia.report import ReportError, write_pack

        year = report_year(params, dag_run.run_after)
        s = settings()
        out = s.outbox_dir / str(year)
        try:
            written = write_pack(s, year, out)
        except ReportError as exc:  # the data's verdict: retrying cannot change it
            raise AirflowFailException(f"no report pack for {year}: {exc}") from exc
        log.info("report pack for %s written to %s", year, written)
        return str(written)

    write_report_pack()


njia_yearly_report()
