"""What every Njia DAG shares: the raw asset, default arguments, and how a task finds its settings.

Not a DAG file (see .airflowignore). The dag-processor puts the DAGs folder on sys.path, so DAG files
import it as `njia_common`. Kept import-light: it is imported in every parse loop.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

if TYPE_CHECKING:
    from njia.settings import Settings

# Rows in raw.route_reports changed: the ingest DAG emits it, the transform DAG is scheduled on it.
RAW_ROUTE_REPORTS = Asset("njia://raw/route_reports")

START_DATE = datetime(2025, 1, 1, tzinfo=UTC)


def on_failure(context: Any) -> None:
    from njia.monitor import task_failed

    task_failed(context)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "njia",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "on_failure_callback": on_failure,
}


def settings() -> Settings:
    """Settings from the worker's environment (NJIA_* variables and `.env`), read fresh for every task."""
    from njia.settings import get_settings

    return get_settings()


def check_source_freshness() -> str:
    """The `source_freshness` task of the transform and monitor DAGs: `njia freshness`, recorded for `njia status`.

    A stale source is a finding (logged and recorded), not a failure; a source that could not be checked is.
    """
    from njia.transform import freshness

    result = freshness(settings())
    if not result.checked:
        raise RuntimeError(f"dbt source freshness could not check every source: {result.summary}")
    return result.summary
