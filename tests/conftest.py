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

from njia import warehouse
from njia.paths import DAGS_DIR
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
