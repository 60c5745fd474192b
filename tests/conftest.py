"""Shared fixtures: a real PostgreSQL (the embedded server, one per test session) and a fresh
database per test that asks for one, so tests never see each other's rows."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from repo_paths import DAGS_DIR

from njia import warehouse
from njia.settings import Settings, get_settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# Airflow reads its configuration on first import: point every test at a private AIRFLOW_HOME (SQLite
# metadata DB, the project's DAGs folder) before any test module can import it.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="njia-airflow-test-")
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
AIRFLOW_ENV = {
    "AIRFLOW_HOME": _AIRFLOW_HOME,
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__PARALLELISM": "4",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",  # so asset events queue the consumer DAG
}
os.environ.update(AIRFLOW_ENV)


# The fast lane (`pytest -m "not slow"`, `make test-fast`): a test is slow when it requests one of these
# fixtures (a real PostgreSQL, dbt's manifest, an Airflow DagBag, a subprocess running ingest); it is marked
# here from what it requests, not by hand. A test that reaches PostgreSQL or dbt without them fails (see
# _fast_lane_guard), so a new integration test cannot land in the fast lane by a forgotten marker. Tests that
# are slow for other reasons (memory measured in a child process, many generated examples) are marked
# @pytest.mark.slow where they are defined.
SLOW_FIXTURES = frozenset({"server_home", "external_database", "manifest", "bag", "dag", "airflow_db", "driver"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _fast_lane_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test not marked slow that starts the embedded server, connects to a PostgreSQL server or runs dbt is
    set up wrongly: it fails, saying so. (Trying to connect to an address where nothing listens is fine.)"""
    if request.node.get_closest_marker("slow") is not None:
        return

    def refuse(what: str) -> None:
        pytest.fail(
            f"{request.node.nodeid} {what}: request the `settings` (or `server_home`) fixture, or mark "
            "the test @pytest.mark.slow",
            pytrace=False,
        )

    real_connect = psycopg.connect

    def connect(*args: object, **kwargs: object) -> psycopg.Connection:
        real_connect(*args, **kwargs).close()  # raises when nothing answers
        refuse("connects to a PostgreSQL server")

    from njia import transform

    monkeypatch.setattr(psycopg, "connect", connect)
    monkeypatch.setattr(warehouse, "_embedded_server_uri", lambda *a, **k: refuse("starts the embedded PostgreSQL"))
    monkeypatch.setattr(transform, "_run_dbt", lambda *a, **k: refuse("runs dbt"))


# A PostgreSQL server reached over TCP as a real deployment would (NJIA_WAREHOUSE_URL): a superuser URL.
EXTERNAL_ADMIN = os.environ.get("NJIA_TEST_EXTERNAL_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def external_database() -> Iterator[str]:
    """URL of a fresh database on the external server, dropped afterwards; skips when none is reachable."""
    try:
        with psycopg.connect(EXTERNAL_ADMIN, autocommit=True, connect_timeout=3) as conn:
            name = f"njia_ext_{uuid.uuid4().hex[:8]}"
            conn.execute(f'create database "{name}"')
    except psycopg.Error as exc:
        pytest.skip(
            f"no external PostgreSQL reachable at {EXTERNAL_ADMIN} ({exc.__class__.__name__}); "
            "set NJIA_TEST_EXTERNAL_URL to a superuser URL to run this test"
        )
    url = EXTERNAL_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(EXTERNAL_ADMIN, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """NJIA_HOME of the session's embedded server; stopped at the end of the session."""
    home = tmp_path_factory.mktemp("njia-server")
    settings = get_settings(home=home)
    warehouse.url(settings)
    yield home
    warehouse.stop_embedded(settings)


def _fresh_database(admin: str) -> str:
    name = f"njia_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return make_conninfo(**{**conninfo_to_dict(admin), "dbname": name})


@pytest.fixture
def settings(server_home: Path, tmp_path: Path) -> Settings:
    """Settings for one test: its own NJIA_HOME, inbox and a fresh, migrated database."""
    admin = warehouse.admin_conninfo(get_settings(home=server_home))
    url = _fresh_database(admin)
    home = tmp_path / "home"
    home.mkdir()
    s = get_settings(home=home, warehouse_url=url, inbox=str(tmp_path / "inbox"))
    warehouse.migrate(s)
    return s
