"""`njia status`: what the ledger says, for the engineers watching the pipeline."""

from __future__ import annotations

import datetime as dt
import logging

from psycopg.rows import dict_row

from njia import alerts, warehouse
from njia.settings import Settings

log = logging.getLogger(__name__)


def summary(settings: Settings) -> dict[str, object]:
    with warehouse.connect(settings, row_factory=dict_row) as conn:
        per_org = conn.execute(
            "select s.organisation_code as organisation, count(*) as files,"
            " count(*) filter (where s.status in ('accepted', 'accepted_with_errors')) as accepted,"
            " count(*) filter (where s.status = 'rejected') as rejected,"
            " sum(s.rows_loaded) as rows_loaded, max(s.received_at)::text as last_received,"
            " coalesce(array_agg(distinct p.reporting_period order by p.reporting_period)"
            "   filter (where p.reporting_period is not null), '{}') as periods"
            " from ops.submissions s left join ops.submission_periods p using (submission_id)"
            " group by s.organisation_code order by s.organisation_code"
        ).fetchall()
        # The latest run of each step (ingest, build, the monitor, a failed Airflow task), newest first.
        runs = conn.execute(
            "select * from (select distinct on (command) command, started_at::text as started_at,"
            " finished_at::text as finished_at, ok, detail #>> '{}' as detail"
            " from ops.runs order by command, run_id desc) as latest order by started_at desc limit 20"
        ).fetchall()
        silent = conn.execute(
            "select o.organisation_code from raw.organisations o where o.active and not exists"
            " (select 1 from ops.submissions s where s.organisation_code = o.organisation_code"
            "  and s.status in ('accepted', 'accepted_with_errors')) order by 1"
        ).fetchall()
        freshness = conn.execute(
            "select distinct on (source) source, status, checked_at::text as checked_at,"
            " max_loaded_at::text as max_loaded_at, age_seconds, warn_after, error_after"
            " from ops.source_freshness order by source, checked_at desc, check_id desc"
        ).fetchall()
        sent = alerts.recent(conn)
        # The portal's audit (migration 040): what people did, and the last few events with who and where.
        portal_week = conn.execute(
            "select event, ok, count(*) as count from ops.portal_audit where at > now() - interval '7 days'"
            " group by event, ok order by event, ok desc"
        ).fetchall()
        portal_recent = conn.execute(
            "select at::text as at, event, ok, email, organisation_code as organisation, ip, detail"
            " from ops.portal_audit order by audit_id desc limit 10"
        ).fetchall()
    return {
        "organisations": per_org,
        "missing_last_quarter": _missing(settings),
        "last_runs": runs,
        "never_submitted": [r["organisation_code"] for r in silent],
        "source_freshness": freshness,
        "portal": {"last_7_days": portal_week, "recent": portal_recent},
        "alerts": sent,
    }


def _missing(settings: Settings) -> dict[str, object]:
    """Who sent nothing for the last closed quarter (what the submission monitor chases)."""
    from ingest.registry import RegistryError
    from njia.monitor import last_closed_quarter, missing_submissions

    quarter = last_closed_quarter(dt.date.today())
    try:
        missing = missing_submissions(settings, quarter)
    except RegistryError as exc:  # no registry yet: say so rather than fail the whole status
        log.warning("%s", exc)
        return {"quarter": quarter.label, "organisations": None, "why_unknown": str(exc)}
    return {"quarter": quarter.label, "organisations": [m.as_json() for m in missing]}
