"""The DAGs parse cleanly and thinly, have the promised ids and schedules, and `njia_ingest` then
`njia_transform` run end to end with `dag.test()` on the embedded warehouse, with fictional files.

Airflow reads its configuration when it is first imported, so this module points it at a private
AIRFLOW_HOME (SQLite metadata DB, the project's DAGs folder) before anything imports it, and the
metadata DB is migrated once per session. The tasks find the warehouse through NJIA_* variables, as on a
real worker.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import AIRFLOW_ENV as _AIRFLOW_ENV  # set before Airflow is imported
from repo_paths import DAGS_DIR

from njia import warehouse
from njia.settings import Settings

_AIRFLOW_HOME = _AIRFLOW_ENV["AIRFLOW_HOME"]

EXPECTED = {
    "njia_ingest": "*/15 * * * *",
    "njia_transform": "asset: njia://raw/route_reports",
    "njia_submission_monitor": "0 6 * * 1",
}
# What a DAG file may import at its top: parsing happens in every dag-processor loop.
LIGHT_IMPORTS = {"__future__", "logging", "os", "datetime", "typing", "airflow.sdk", "njia_common"}

HEADER = (
    "reporting_period,origin_country,origin_county,transit_points,destination_country,destination_county,"
    "exploitation_type,transport_modes,carriers,recruitment_methods,means_of_control,cases_estimated,"
    "female_cases,male_cases,child_cases"
)
FILES = {  # fictional organisations and figures
    "ALPHA/alpha_2024_q1.csv": [
        "2024-Q1,KE,Nairobi,NBO;DOH,QA,,domestic_servitude,,KQ;QR,social_media,withholds_documents,30,25,5,0",
        "2024-Q1,,47,NBO,SA,,domestic_servitude,,SV,registered_agency,,20,20,,",
    ],
    "BETA/beta_2024.csv": [
        "2024,KE,Kisumu,,KE,Nairobi,forced_labour,road,,unregistered_agent,debt_bondage,15,5,10,",
    ],
}
REJECTED = {"BETA/beta_notes.csv": "remarks\nnot a route report\n"}  # missing_columns: feedback, not a failure


def _schedule(dag) -> str:
    from airflow.sdk import Asset

    if isinstance(dag.schedule, str):
        return dag.schedule
    return "asset: " + ", ".join(a.uri for a in dag.schedule if isinstance(a, Asset))


def _bag():
    from airflow.dag_processing.dagbag import BundleDagBag

    # What the dag-processor does: the bundle's folder goes on sys.path (for njia_common) and every file
    # not in .airflowignore is parsed.
    return BundleDagBag(dag_folder=DAGS_DIR, bundle_path=DAGS_DIR, bundle_name="dags-folder")


@pytest.fixture(scope="module")
def bag():
    return _bag()


def test_no_import_errors_and_expected_dags(bag) -> None:
    assert bag.import_errors == {}
    assert {dag_id: _schedule(bag.dags[dag_id]) for dag_id in EXPECTED if dag_id in bag.dags} == EXPECTED


# Parses the DAGs folder in a fresh interpreter, as a dag-processor does, and says which packages the parse
# itself imported (Airflow loaded first, so what Airflow needs anyway does not count).
_PARSE = """
import json, sys
from airflow.dag_processing.dagbag import BundleDagBag
before = set(sys.modules)
bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=sys.argv[1], bundle_name="dags-folder")
print(json.dumps({"dags": sorted(bag.dags), "errors": sorted(bag.import_errors),
                  "imported": sorted({m.split(".")[0] for m in set(sys.modules) - before})}))
"""


def test_parsing_the_dags_imports_nothing_heavy(bag) -> None:
    """Each dag-processor loop parses every DAG file: parsing must import only Airflow's SDK and the shared
    helpers, never dbt, GX, pandas, psycopg or Njia's own packages (tasks import those when they run)."""
    done = subprocess.run(
        [sys.executable, "-c", _PARSE, str(DAGS_DIR)], capture_output=True, text=True, timeout=300, check=True
    )
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == [] and set(parsed["dags"]) == set(bag.dags)
    dag_modules = {name for name in parsed["imported"] if name.endswith(tuple(p.stem for p in DAGS_DIR.glob("*.py")))}
    assert set(parsed["imported"]) - dag_modules <= {"airflow", "packaging", "njia_common"}, parsed["imported"]


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_conventions(bag, dag_id: str) -> None:
    dag = bag.dags[dag_id]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.doc_md and dag_id in dag.doc_md
    assert dag.default_args["retries"] >= 1
    assert callable(dag.default_args["on_failure_callback"])
    assert "njia" in dag.tags


@pytest.mark.parametrize("path", sorted(DAGS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_dag_files_import_nothing_heavy_at_top(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for n in tree.body
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for a in n.names
    }
    assert top <= LIGHT_IMPORTS, f"{path.name} imports {top - LIGHT_IMPORTS} at module level"
    assert not path.name.startswith("dbt_"), "dbt imports every top-level dbt_* module on sys.path"


@pytest.mark.slow  # parses the DAGs folder again
def test_ingest_schedule_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NJIA_INGEST_SCHEDULE", "0 * * * *")
    assert _schedule(_bag().dags["njia_ingest"]) == "0 * * * *"


def test_ingest_task_shape(bag) -> None:
    dag = bag.dags["njia_ingest"]
    assert set(dag.task_ids) == {"discover", "process_organisation", "publish", "fail_if_a_file_failed"}
    assert [a.uri for a in dag.get_task("publish").outlets] == ["njia://raw/route_reports"]
    # Organisations run at the same time; one task keeps an organisation's files in delivery order.
    assert dag.get_task("process_organisation").max_active_tis_per_dagrun is None


# --- end to end with dag.test() -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """The Airflow metadata DB (SQLite in a private AIRFLOW_HOME), migrated once per session."""
    from airflow.configuration import conf

    if conf.get("database", "sql_alchemy_conn") != _AIRFLOW_ENV["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]:
        pytest.skip("Airflow was imported before tests/test_dags.py could point it at a private AIRFLOW_HOME")
    from airflow.utils import db

    started = time.perf_counter()
    db.initdb()
    print(f"\nAirflow metadata DB migrated in {time.perf_counter() - started:.1f} s")
    return _AIRFLOW_HOME


@pytest.fixture
def worker_env(settings: Settings, airflow_db: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A fictional inbox and registry for `settings`, handed to the tasks as a worker gets them: NJIA_* vars."""
    inbox = Path(settings.inbox_url)
    for name, rows in FILES.items():
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    for name, text in REJECTED.items():
        (inbox / name).write_text(text, encoding="utf-8")
    for i, name in enumerate([*FILES, *REJECTED]):  # delivery order: the order listed
        os.utime(inbox / name, (1_700_000_000 + 60 * i,) * 2)
    settings.organisations_path.write_text(
        "organisation_code,organisation_name,organisation_type,county_code,active\n"
        "ALPHA,Alpha Fictional Trust,ngo,047,true\nBETA,Beta Imaginary Group,cbo,042,true\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("NJIA_HOME", str(settings.home_dir))
    monkeypatch.setenv("NJIA_WAREHOUSE_URL", settings.warehouse_url.get_secret_value())
    monkeypatch.setenv("NJIA_INBOX", settings.inbox_url)
    monkeypatch.setenv("NJIA_ORGANISATIONS", str(settings.organisations_path))
    return settings


def _run(bag, dag_id: str):
    started = time.perf_counter()
    run = bag.dags[dag_id].test()
    print(f"\ndag.test({dag_id}): {run.state} in {time.perf_counter() - started:.1f} s")
    for ti in run.get_task_instances():
        print(f"  {ti.task_id}[{ti.map_index}] {ti.state} {ti.duration}")
    return run, {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}


def _asset_events() -> list[dict]:
    from airflow.models.asset import AssetEvent
    from airflow.settings import Session

    with Session() as session:
        return [
            e.extra
            for e in session.query(AssetEvent).order_by(AssetEvent.id)
            if e.asset.uri == "njia://raw/route_reports"
        ]


def _queued_runs(dag_id: str) -> int:
    """Asset-triggered runs the scheduler would start for `dag_id`."""
    from airflow.models.asset import AssetDagRunQueue
    from airflow.settings import Session

    with Session() as session:
        return session.query(AssetDagRunQueue).filter_by(target_dag_id=dag_id).count()


def test_ingest_then_transform_end_to_end(bag, worker_env: Settings) -> None:
    events_before = len(_asset_events())

    run, states = _run(bag, "njia_ingest")
    assert run.state == "success", states
    assert states == {
        ("discover", -1): "success",
        ("process_organisation", 0): "success",
        ("process_organisation", 1): "success",
        ("publish", -1): "success",
        ("fail_if_a_file_failed", -1): "skipped",
    }
    # One task per organisation, labelled with its folder; BETA's two files in its one task, in delivery order.
    assert sorted(ti.rendered_map_index for ti in run.get_task_instances() if ti.map_index >= 0) == ["ALPHA", "BETA"]
    with warehouse.connect(worker_env) as conn:
        assert [
            name
            for (name,) in conn.execute(
                "select file_name from ops.submissions where organisation_code = 'BETA' order by submission_id"
            )
        ] == ["beta_2024.csv", "beta_notes.csv"]
        ledger = dict(conn.execute("select file_name, coalesce(reason, status) from ops.submissions").fetchall())
        assert ledger == {
            "alpha_2024_q1.csv": "accepted",
            "beta_2024.csv": "accepted",
            "beta_notes.csv": "missing_columns",
        }
        assert conn.execute("select count(*), sum(cases_estimated) from raw.route_reports").fetchone() == (3, 65)
        runs = conn.execute("select command, ok, detail #>> '{}' from ops.runs where command = 'ingest'").fetchall()
        assert runs == [("ingest", True, "3 file(s) accepted=2, rejected=1")]
    assert _asset_events()[events_before:] == [{"files": 2, "rows_loaded": 3, "organisations": ["ALPHA", "BETA"]}]
    assert _queued_runs("njia_transform") == 1  # the scheduler would now start the transform
    assert (Path(worker_env.inbox_url) / "BETA" / "feedback").is_dir()

    run, states = _run(bag, "njia_transform")
    assert run.state == "success", states
    assert states == {("build", -1): "success", ("source_freshness", -1): "success"}
    with warehouse.connect(worker_env) as conn:
        assert conn.execute("select sum(cases_estimated) from marts.fct_route_reports").fetchone() == (65,)
        assert conn.execute("select source, status from ops.source_freshness order by source").fetchall() == [
            ("raw.organisations", "pass"),
            ("raw.route_reports", "pass"),
        ]  # just loaded

    # The yearly report, run by hand for 2024 with the `year` param, writes the pack into the outbox.
    started = time.perf_counter()
    run = bag.dags["njia_yearly_report"].test(run_conf={"year": 2024})
    print(f"\ndag.test(njia_yearly_report): {run.state} in {time.perf_counter() - started:.1f} s")
    assert run.state == "success"
    pack = worker_env.outbox_dir / "2024"
    assert (pack / "njia-report-2024.xlsx").is_file() and (pack / "njia-report-2024.html").is_file()
    assert (pack / "csv" / "cases_by_route.csv").is_file()

    # Nothing new in the inbox: a quiet run that does not touch the asset (so no transform is triggered).
    run, states = _run(bag, "njia_ingest")
    assert run.state == "success", states
    assert states[("publish", -1)] == "skipped"
    assert len(_asset_events()) == events_before + 1
    assert _queued_runs("njia_transform") == 1


def test_submission_monitor_run(bag, worker_env: Settings) -> None:
    from datetime import UTC, datetime

    from njia.monitor import last_closed_quarter

    run, states = _run(bag, "njia_submission_monitor")
    assert run.state == "success", states  # missing submissions and stale sources are findings, not failures
    assert states == {("find_missing_submissions", -1): "success", ("source_freshness", -1): "success"}
    quarter = last_closed_quarter(datetime.now(UTC).date()).label
    with warehouse.connect(worker_env) as conn:
        assert conn.execute(
            "select ok, detail #>> '{}' from ops.runs where command = 'submission_monitor'"
        ).fetchall() == [(False, f"{quarter}: no submission from ALPHA, BETA")]
        assert conn.execute(
            "select source, status, max_loaded_at from ops.source_freshness order by source"
        ).fetchall() == [("raw.organisations", "error", None), ("raw.route_reports", "error", None)]  # nothing loaded


# --- reruns change nothing --------------------------------------------------------------------------------

# The ledger and the registry without their timestamps (when a row was written, or the registry last read,
# says nothing about what they hold), raw and every published table whole. Ids are kept: a rerun that deleted
# and inserted again would show in them.
WITHOUT_TIMESTAMPS = ("ops.submissions", "ops.submission_periods", "ops.quarantine", "raw.organisations")


def _checksums(settings: Settings) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the ordered rows) of the ledger, raw and every table of the published marts and reporting."""
    with warehouse.connect(settings) as conn:
        tables = [
            f"{s}.{t}"
            for s, t in conn.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_schema in ('raw', 'marts', 'reporting') order by 1, 2"
            )
        ]
        assert {"raw.route_reports", "marts.fct_route_reports"} <= set(tables)
        assert any(t.startswith("reporting.") for t in tables)
        sums = {}
        for table in dict.fromkeys([*WITHOUT_TIMESTAMPS, *tables]):
            schema, name = table.split(".")
            columns = ", ".join(
                c
                for (c,) in conn.execute(
                    "select quote_ident(column_name) from information_schema.columns where table_schema = %s"
                    " and table_name = %s and (%s not in (select unnest(%s::text[])) or data_type not like 'timestamp%%')"
                    " order by ordinal_position",
                    (schema, name, table, list(WITHOUT_TIMESTAMPS)),
                )
            )
            sums[table] = conn.execute(
                f"select count(*), md5(coalesce(string_agg(r::text, E'\\n' order by r::text), ''))"
                f" from (select {columns} from {table}) r"
            ).fetchone()
    return sums


def _pack_content(folder: Path) -> dict[str, object]:
    """A report pack's files, without the time it was generated (the only thing a rewrite changes): CSVs as
    bytes, the HTML with its "generated" time masked, the workbook's cells sheet by sheet."""
    import re

    from openpyxl import load_workbook

    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
    content: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.suffix == ".csv":
            content[name] = path.read_bytes()
        elif path.suffix == ".html":
            content[name] = stamp.sub("<generated>", path.read_text(encoding="utf-8"))
        elif path.suffix == ".xlsx":
            book = load_workbook(path)
            content[name] = {
                ws.title: [
                    [stamp.sub("<generated>", v) if isinstance(v, str) else v for v in row]
                    for row in ws.iter_rows(values_only=True)
                ]
                for ws in book.worksheets
            }
        elif path.is_file():
            content[name] = path.read_bytes()
    return content


def _rerun_task(bag, dag_id: str, task_id: str, run_id: str, map_index: int = -1) -> tuple[str, str | None]:
    """Run one task instance of an existing run again, with the inputs its upstream tasks gave it in that run
    (what clearing that one task in the UI does), as `airflow tasks test` does; its state and label after."""
    from argparse import Namespace

    from airflow.cli.commands.task_command import task_test
    from airflow.models.taskinstance import TaskInstance
    from airflow.settings import Session

    task_test(
        Namespace(
            dag_id=dag_id,
            task_id=task_id,
            logical_date_or_run_id=run_id,
            map_index=map_index,
            env_vars=None,
            task_params=None,
            post_mortem=False,
            bundle_name=None,
        ),
        dag=bag.dags[dag_id],
    )
    with Session() as session:
        ti = (
            session.query(TaskInstance)
            .filter_by(dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=map_index)
            .one()
        )
        print(f"\nrerun {dag_id}.{task_id}[{map_index}]: {ti.state} {ti.rendered_map_index}")
        return ti.state, ti.rendered_map_index


def test_reruns_change_nothing(bag, worker_env: Settings) -> None:
    """Rerunning any task of `njia_ingest` or `njia_transform` with the inputs it first had (as clearing it
    does), or a whole run, leaves the ledger, raw and the published marts and reporting as they were
    (docs/interfaces.md §7); a second `njia_yearly_report` for a past year writes the same pack."""
    from datetime import UTC, datetime

    def run(dag_id: str, when: datetime) -> tuple[str, dict[tuple[str, int], str]]:
        """`dag.test` of the run at `when`: the first call creates it, a later one clears it and runs it again."""
        dag_run = bag.dags[dag_id].test(run_after=when, logical_date=when)
        states = {(ti.task_id, ti.map_index): ti.state for ti in dag_run.get_task_instances()}
        print(f"\n{dag_id}: {dag_run.state} {states}")
        return dag_run.run_id, states

    ingest_run, states = run("njia_ingest", datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    assert states[("publish", -1)] == "success" and states[("process_organisation", 1)] == "success"
    transform_run, states = run("njia_transform", datetime(2026, 3, 2, 6, 5, tzinfo=UTC))
    assert set(states.values()) == {"success"}
    first = _checksums(worker_env)
    assert first["raw.route_reports"][0] == 3 and first["ops.submissions"][0] == 3

    # publish first (it still has the organisations' first outcomes), discover last (it finds nothing new).
    # The organisations' tasks get their first files again (their label is their folder): all already in the ledger.
    for task_id, map_index, label in [
        ("publish", -1, None),
        ("process_organisation", 0, "ALPHA"),
        ("process_organisation", 1, "BETA"),
        ("discover", -1, None),
        ("build", -1, None),
        ("source_freshness", -1, None),
    ]:
        dag_id, run_id = (
            ("njia_transform", transform_run)
            if task_id in ("build", "source_freshness")
            else ("njia_ingest", ingest_run)
        )
        assert _rerun_task(bag, dag_id, task_id, run_id, map_index) == ("success", label)
        assert _checksums(worker_env) == first, f"rerunning {dag_id}.{task_id}[{map_index}] changed the warehouse"
    for dag_id, when in [
        ("njia_ingest", datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
        ("njia_transform", datetime(2026, 3, 2, 6, 5, tzinfo=UTC)),
    ]:
        _, states = run(dag_id, when)
        assert "failed" not in states.values(), states
        assert _checksums(worker_env) == first, f"rerunning the whole {dag_id} run changed the warehouse"
    assert states == {("build", -1): "success", ("source_freshness", -1): "success"}

    packs = []
    for _ in range(2):
        assert bag.dags["njia_yearly_report"].test(run_conf={"year": 2024}).state == "success"
        packs.append(_pack_content(worker_env.outbox_dir / "2024"))
    assert packs[0] == packs[1] and "njia-report-2024.xlsx" in packs[0] and "csv/cases_by_route.csv" in packs[0]
