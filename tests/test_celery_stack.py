"""Scale-out with Airflow's own engine: a real Airflow 3 stack (scheduler, dag-processor, api-server and two
Celery workers on Redis, metadata in PostgreSQL) ingests an inbox of several organisations, triggered through
the REST API; organisations run at the same time on different workers, each organisation's files in delivery
order, and `njia_transform` follows through the asset.

Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (trust authentication; a fresh database is
created for the metadata and dropped after): skipped with the reason where either is absent. SQLite metadata
cannot serve a CeleryExecutor (the scheduler refuses it). Every process started here is stopped by its process
group, always.
"""

from __future__ import annotations

import importlib.util
import secrets
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from airflow_stack import BIN, Stack, clean_environment, free_port, listening
from ingest_helpers import csv_bytes, grid, rows, write_file, write_registry
from repo_paths import DAGS_DIR

from njia import warehouse
from njia.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ADMIN_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
ORGS = {"ALPHA": 3, "BETA": 2, "GAMMA": 2}  # files per organisation


@pytest.fixture
def stack(settings: Settings, tmp_path: Path) -> Iterator[Stack]:
    if importlib.util.find_spec("airflow.providers.celery") is None:
        pytest.skip("apache-airflow-providers-celery is not installed (make venv installs requirements.lock)")
    if not listening(6379):
        pytest.skip("no Redis on 127.0.0.1:6379: the Celery broker (apt-get install redis-server)")
    if not listening(5432):
        pytest.skip("no PostgreSQL on 127.0.0.1:5432: Airflow's metadata for Celery (SQLite cannot serve it)")
    database = f"njia_airflow_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_DB, autocommit=True) as conn:
        conn.execute(f"create database {database}")
    home = tmp_path / "airflow"
    home.mkdir()
    # Each worker reports its own name as the task instance's hostname (both run on this one machine).
    (home / "worker_name.py").write_text("import os\n\ndef name():\n    return os.environ['NJIA_TEST_WORKER']\n")
    port = free_port()
    metadata = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}"
    env = clean_environment()
    env |= {
        "PATH": f"{BIN}:{env.get('PATH', '')}",
        "PYTHONPATH": str(home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "worker_name.name",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__CELERY__BROKER_URL": "redis://127.0.0.1:6379/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@127.0.0.1:5432/{database}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        # A queue of this test's own: other users of this Redis never take its tasks, nor it theirs.
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"njia-test-{database}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "NJIA_TEST_WORKER": "scheduler",
        # Once a year: the run the scheduler makes when the DAG appears ingests nothing (the inbox is still
        # empty), and no other scheduled run starts during the test.
        "NJIA_INGEST_SCHEDULE": "0 0 1 1 *",
        "NJIA_HOME": str(settings.home_dir),
        "NJIA_WAREHOUSE_URL": settings.warehouse_url.get_secret_value(),
        "NJIA_INBOX": settings.inbox_url,
        "NJIA_ORGANISATIONS": str(settings.organisations_path),
        "GX_ANALYTICS_ENABLED": "false",
    }
    s = Stack(home, env, port)
    started = time.monotonic()
    try:
        migrated = subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
        )
        assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
        s.start("api-server", "api-server", "--port", str(port), "--host", "127.0.0.1")
        s.start("scheduler", "scheduler")
        s.start("dag-processor", "dag-processor")
        for name in ("worker1", "worker2"):
            s.start(
                name,
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@%h",
                "--queues",
                env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"],
                "--concurrency",
                "1",
                "--skip-serve-logs",
                "--without-gossip",
                NJIA_TEST_WORKER=name,
            )
        s.log_in(home / "simple_auth_manager_passwords.json.generated")
        # Both workers consuming before anything is queued: a worker still importing would leave every task to
        # the other one, and the organisations would run one after another.
        s.wait_for("both Celery workers", lambda: all(" ready." in s.output(w) for w in ("worker1", "worker2")))
        print(f"\nAirflow stack migrated and up in {time.monotonic() - started:.0f} s")
        yield s
    finally:
        s.stop_all()
        with psycopg.connect(ADMIN_DB, autocommit=True) as conn:
            conn.execute(f"drop database if exists {database} with (force)")


def _deliver(settings: Settings, prefix: str, clock: float) -> int:
    """ORGS' files, an organisation's in delivery order (modification times), with rows of their own."""
    n = 0
    for o, (org, files) in enumerate(ORGS.items()):
        for i in range(files):
            start = 1000 * (10 * o + i) + (500 if prefix else 1)
            data = csv_bytes(grid(rows(200, start=start, reporting_period=f"20{10 + i}")))
            write_file(Path(settings.inbox_url), f"{prefix}{org}/{org.lower()}_{i}.csv", data, mtime=clock + 10 * n)
            n += 1
    return n


def _instances(s: Stack, run_id: str) -> list[dict]:
    found = s.api("GET", f"/api/v2/dags/njia_ingest/dagRuns/{run_id}/taskInstances?task_id=process_organisation")
    return [ti for ti in found["task_instances"] if ti["task_id"] == "process_organisation"]


def _at(ti: dict, key: str) -> datetime:
    return datetime.fromisoformat(ti[key])


def _span(instances: list[dict]) -> float:
    """Seconds from the first organisation's start to the last one's end."""
    return (
        max(_at(ti, "end_date") for ti in instances) - min(_at(ti, "start_date") for ti in instances)
    ).total_seconds()


def test_celery_workers_ingest_organisations_in_parallel(stack: Stack, settings: Settings) -> None:
    s = stack
    codes = [f"{p}{org}" for p in ("", "ONE_") for org in ORGS]
    write_registry(settings.organisations_path, codes)
    Path(settings.inbox_url).mkdir(parents=True, exist_ok=True)
    # The run the scheduler makes when the DAG appears: an empty inbox, nothing published.
    t0 = time.monotonic()
    s.wait_for(
        "the first scheduled njia_ingest run", lambda: [r for r in s.runs("njia_ingest") if r["state"] == "success"]
    )
    print(f"\nfirst scheduled (empty) run done after {time.monotonic() - t0:.0f} s")

    files = _deliver(settings, "", time.time() - 10_000)
    run_id, seconds = s.trigger_and_wait("njia_ingest")
    instances = _instances(s, run_id)
    assert sorted(ti["rendered_map_index"] for ti in instances) == sorted(ORGS)
    assert {ti["state"] for ti in instances} == {"success"}
    # Two organisations at the same time, on the two workers.
    overlapping = [
        (a, b)
        for a in instances
        for b in instances
        if a["map_index"] < b["map_index"]
        and _at(a, "start_date") < _at(b, "end_date")
        and _at(b, "start_date") < _at(a, "end_date")
    ]
    assert overlapping, [(ti["rendered_map_index"], ti["start_date"], ti["end_date"]) for ti in instances]
    assert any(a["hostname"] != b["hostname"] for a, b in overlapping)
    assert {ti["hostname"] for ti in instances} == {"worker1", "worker2"}
    with warehouse.connect(settings) as conn:
        order = [
            name
            for (name,) in conn.execute(
                "select file_name from ops.submissions where organisation_code = 'ALPHA' order by submission_id"
            )
        ]
        assert order == ["alpha_0.csv", "alpha_1.csv", "alpha_2.csv"]  # delivery order
        assert conn.execute("select count(*) from ops.submissions where status = 'accepted'").fetchone() == (files,)
    two_workers = (seconds, _span(instances))

    # njia_transform follows through the asset.
    s.wait_for(
        "njia_transform after the asset",
        lambda: [
            r
            for r in s.runs("njia_transform")
            if r["run_type"] == "asset_triggered" and s.finished("njia_transform", r["dag_run_id"])
        ],
    )
    print(f"\nnjia_transform done {time.monotonic() - t0:.0f} s after the start")
    with warehouse.connect(settings) as conn:
        assert conn.execute("select count(*) from marts.fct_route_reports").fetchone()[0] > 0

    # The same inbox again (other bytes, other organisations) with one worker.
    s.stop("worker2")
    _deliver(settings, "ONE_", time.time() - 5_000)
    run_id, seconds = s.trigger_and_wait("njia_ingest")
    instances = _instances(s, run_id)
    assert {ti["hostname"] for ti in instances} == {"worker1"}
    for workers, (run_seconds, span) in ((2, two_workers), (1, (seconds, _span(instances)))):
        print(
            f"\nnjia_ingest through Celery, {workers} worker(s), {files} files of {len(ORGS)} organisations: "
            f"{files / span:.2f} files/s in the organisations' tasks ({span:.1f} s), "
            f"{files / run_seconds:.2f} files/s from trigger to success ({run_seconds:.1f} s)"
        )
