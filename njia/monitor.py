"""Watching the platform: which registered organisations have gone quiet, and which pipeline steps failed.

The submission monitor exists because silence is the commonest data problem in a network of small CSOs:
a partner that stops reporting looks, in the marts, exactly like a route that stopped being used. Someone
has to ask them, and this module says whom.

Only the standard library is imported at module level: every Airflow task failure loads this module.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from njia.settings import Settings

log = logging.getLogger(__name__)

ACCEPTED = ("accepted", "accepted_with_errors")


@dataclass(frozen=True)
class Quarter:
    label: str  # `YYYY-Qn`, as organisations write periods
    start: date
    last_day: date


@dataclass(frozen=True)
class MissingSubmission:
    organisation_code: str
    organisation_name: str
    period: str  # the quarter nothing was received for
    last_period: str | None  # the latest period ever accepted from the organisation, for the follow-up call

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def last_closed_quarter(today: date) -> Quarter:
    """The calendar quarter that ended most recently before `today` (on 1 January: Q4 of the year before)."""
    current_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last_day = current_start - timedelta(days=1)
    start = date(last_day.year, last_day.month - 2, 1)
    return Quarter(f"{start.year}-Q{(start.month - 1) // 3 + 1}", start, last_day)


def registered_organisations(settings: Settings, conn: Any) -> dict[str, str]:
    """Active registered organisations, code -> name.

    raw.organisations is the registry as of the last ingest; the CSV, when this process can see it, is the
    registry as of now and wins for the organisations it lists (a partner marked inactive today is not chased).
    """
    from ingest.registry import RegistryError, read_registry

    registry = {
        code: (name, active)
        for code, name, active in conn.execute(
            "select organisation_code, organisation_name, active from raw.organisations"
        ).fetchall()
    }
    try:
        registry.update({o.code: (o.name, o.active) for o in read_registry(settings.organisations_path).values()})
    except RegistryError as exc:
        if not registry:
            raise
        log.warning("%s; using raw.organisations as of the last ingest", exc)
    return {code: name for code, (name, active) in sorted(registry.items()) if active}


def missing_submissions(settings: Settings, quarter: Quarter | None = None) -> list[MissingSubmission]:
    """Active registered organisations with no accepted submission for any period overlapping `quarter`.

    `quarter` defaults to the last closed quarter. A yearly, quarterly or monthly period that overlaps the
    quarter counts: the monitor chases partners that sent nothing, not monthly reporters missing one month.
    """
    from njia import warehouse

    quarter = quarter or last_closed_quarter(date.today())
    with warehouse.connect(settings) as conn:
        registered = registered_organisations(settings, conn)
        rows = conn.execute(
            """
            select p.organisation_code,
                   bool_or(p.period_start <= %(last_day)s and p.period_end >= %(start)s) as covered,
                   (array_agg(p.reporting_period order by p.period_start desc, p.period_end desc))[1]
            from ops.submission_periods as p
            join ops.submissions as s on s.submission_id = p.submission_id
            where s.status = any(%(accepted)s)
            group by p.organisation_code
            """,
            {"start": quarter.start, "last_day": quarter.last_day, "accepted": list(ACCEPTED)},
        ).fetchall()
    seen = {code: (covered, last) for code, covered, last in rows}
    missing = []
    for code, name in registered.items():
        covered, last = seen.get(code, (False, None))
        if not covered:
            missing.append(MissingSubmission(code, name, quarter.label, last))
    return missing


def alert(settings: Settings, quarter: Quarter, missing: list[MissingSubmission]) -> None:
    """Say it where the engineers look: a warning per organisation in the task log, and one ops.runs row
    (command `submission_monitor`, ok false when someone is missing) that `njia status` shows."""
    from njia import warehouse
    from njia.runlog import record_run

    started = dt.datetime.now(dt.UTC)
    for m in missing:
        log.warning(
            "no submission from %s (%s) for %s; last accepted period: %s",
            m.organisation_code,
            m.organisation_name,
            m.period,
            m.last_period or "never",
        )
    if missing:
        detail = f"{quarter.label}: no submission from {', '.join(m.organisation_code for m in missing)}"
    else:
        detail = f"{quarter.label}: every active registered organisation has submitted"
    log.info("%s", detail)
    with warehouse.connect(settings) as conn:
        record_run(conn, "submission_monitor", started, not missing, detail)
    if missing:
        from njia.alerts import Alert, notify

        notify(
            settings,
            Alert(
                "submissions_missing",
                detail,
                tuple(
                    f"{m.organisation_code} ({m.organisation_name}): last accepted period {m.last_period or 'never'}"
                    for m in missing
                ),
                # The DAG runs daily; people are told again only when the set of missing organisations changes.
                key=f"missing:{detail}",
            ),
        )


def task_failed(context: Mapping[str, Any]) -> None:
    """Airflow's on_failure_callback for every Njia task: log loudly, and record the failure in ops.runs.

    Best effort by design: the warehouse being down is a common reason for the failure being reported,
    and a callback that raises would hide the original error.
    """
    ti = context.get("task_instance") or context.get("ti")
    where = f"{getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')}"
    map_index = getattr(ti, "map_index", -1)
    if map_index is not None and map_index >= 0:
        # The mapped task's label (njia_ingest: the organisation's folder) says more than its position.
        where += f"[{getattr(ti, 'rendered_map_index', None) or map_index}]"
    detail = f"run {context.get('run_id')}, try {getattr(ti, 'try_number', '?')}: {context.get('exception')}"[:1000]
    log.error("Njia task %s failed: %s", where, detail)
    try:
        from njia.settings import get_settings

        settings = get_settings()
    except Exception:  # best effort: see the docstring
        log.exception("could not read the settings to record the failure")
        return
    try:
        from njia import warehouse
        from njia.runlog import record_run

        with warehouse.connect(settings) as conn:
            record_run(conn, f"airflow:{where}", dt.datetime.now(dt.UTC), False, detail)
    except Exception:  # best effort: see the docstring
        log.exception("could not record the failure in ops.runs")
    from njia.alerts import Alert, notify

    try:
        link = getattr(ti, "log_url", None)
    except Exception:  # the log URL needs Airflow's configuration, which a broken worker may not have
        link = None
    notify(settings, Alert("task_failed", f"Airflow task {where} failed after its retries", (detail,), link=link))
