"""`make airflow` on one machine: the script the target runs (scripts/airflow-standalone: `airflow standalone`,
LocalExecutor, SQLite metadata in AIRFLOW_HOME under NJIA_HOME) started on free ports; the admin password read
from the file the script names; `njia_ingest` switched on and triggered through the REST API (a JWT from
`/auth/token`) on the demo's files from three fictional organisations, and the warehouse holding their rows.

Needs only this checkout's virtualenv and bash; the warehouse is the tests' embedded PostgreSQL. The stack runs
in its own process group, stopped with everything it forked, also on failure.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_stack import BIN, Stack, clean_environment, free_port
from repo_paths import REPO_ROOT

from njia import warehouse
from njia.settings import Settings
from njia_demo.generator import DemoManifest, generate_inbox

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SCRIPT = REPO_ROOT / "scripts" / "airflow-standalone"
ORGANISATIONS = 3  # the demo's first three organisations, which submit (its registry lists two silent ones too)


@pytest.fixture
def demo(settings: Settings, tmp_path: Path) -> DemoManifest:
    """The demo's 2025 files, written outside the inbox (moved in once the stack is up) with the registry."""
    return generate_inbox(
        tmp_path / "delivery", settings.organisations_path, years=(2025,), organisations=ORGANISATIONS
    )


@pytest.fixture
def stack(settings: Settings, demo: DemoManifest, tmp_path: Path) -> Iterator[Stack]:
    if shutil.which("bash") is None:
        pytest.skip("no bash to run scripts/airflow-standalone")
    home = settings.home_dir / "airflow"  # the script's AIRFLOW_HOME when none is given, as with `make airflow`
    home.mkdir()
    port = free_port()
    env = clean_environment()
    env |= {
        "PATH": f"{BIN}:{env.get('PATH', '')}",  # as the Makefile puts .venv/bin first
        "NJIA_HOME": str(settings.home_dir),
        "AIRFLOW_PORT": str(port),
        # Airflow's fixed log-server ports may be taken by another stack on this machine.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        # Once a year: switching the DAG on makes one scheduled run (on the still empty inbox), and no other
        # scheduled run starts during the test.
        "NJIA_INGEST_SCHEDULE": "0 0 1 1 *",
        "NJIA_WAREHOUSE_URL": settings.warehouse_url.get_secret_value(),
        "NJIA_INBOX": settings.inbox_url,
        "NJIA_ORGANISATIONS": str(settings.organisations_path),
    }
    s = Stack(home, env, port)
    started = time.monotonic()
    try:
        s.spawn("standalone", [str(SCRIPT)])
        said = s.wait_for(
            "the script's lines", lambda: re.search(r"^Admin password: (\S+)", s.output("standalone"), re.M)
        )
        assert f"http://127.0.0.1:{port} " in s.output("standalone")
        s.log_in(Path(said[1]))
        print(f"\nairflow standalone up in {time.monotonic() - started:.0f} s")
        yield s
    finally:
        s.stop_all()


def test_make_airflow_ingests_the_demo_through_the_rest_api(
    stack: Stack, settings: Settings, demo: DemoManifest
) -> None:
    s = stack
    t0 = time.monotonic()
    # DAGs start paused (Airflow's default): switched on as a data engineer would, through the API.
    inbox = Path(settings.inbox_url)
    inbox.mkdir(parents=True)
    s.wait_for("njia_ingest to be parsed", lambda: s.api("GET", "/api/v2/dags/njia_ingest"))
    assert s.api("PATCH", "/api/v2/dags/njia_ingest", {"is_paused": False})["is_paused"] is False
    s.wait_for(
        "the first scheduled (empty) run",
        lambda: [r for r in s.runs("njia_ingest") if s.finished("njia_ingest", r["dag_run_id"])],
    )
    for folder in demo.inbox.iterdir():  # a rename keeps the delivery order (modification times)
        folder.rename(inbox / folder.name)
    run_id, seconds = s.trigger_and_wait("njia_ingest")
    print(f"\nnjia_ingest on {len(demo.files)} files: {seconds:.1f} s from trigger to success")

    found = s.api("GET", f"/api/v2/dags/njia_ingest/dagRuns/{run_id}/taskInstances")["task_instances"]
    mapped = {ti["rendered_map_index"]: ti["state"] for ti in found if ti["task_id"] == "process_organisation"}
    assert mapped == {o.code: "success" for o in demo.organisations[:ORGANISATIONS]}
    with warehouse.connect(settings) as conn:
        ledger = {
            (org, name): (status, read, loaded, raw)
            for org, name, status, read, loaded, raw in conn.execute(
                "select s.organisation_code, s.file_name, s.status, s.rows_read, s.rows_loaded,"
                " (select count(*) from raw.route_reports r where r.submission_id = s.submission_id)"
                " from ops.submissions s"
            )
        }
    # Every file in the ledger as the demo's manifest expects it, its loaded rows in raw (a duplicate is not read).
    assert ledger == {
        (f.organisation_code, f.path.name): (
            f.expected_status,
            0 if f.duplicate_of else f.rows_read,
            *[len(f.rows)] * 2,
        )
        for f in demo.files
    }
    print(f"\nstack up to ingested: {time.monotonic() - t0:.0f} s after the stack was up")
