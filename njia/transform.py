"""The dbt project, run in process: builds the star schema (marts) and the published aggregates (reporting).

BI users must never see a half-built or failing state, so a build goes to shadow schemas (`marts__build`, ...)
and is moved into the published schemas, in one transaction, only when every seed, model, snapshot, unit test
and data test passed. A failed build leaves the previous marts and reporting tables exactly as they were (the
shadow schemas stay behind for whoever investigates, and are cleared by the next build).

dbt keeps global state, so invocations are serialised in this process; builds of one warehouse are serialised
across processes with an advisory lock. dbt's target and log files live under NJIA_HOME, never in the repo.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from njia import reporting_tables, warehouse
from njia.paths import DBT_PROJECT_DIR
from njia.runlog import record_run
from njia.settings import Settings

log = logging.getLogger(__name__)

SHADOW_SUFFIX = "__build"
# The schemas a build publishes, in dependency order, and who may read what is published there
# (docs/interfaces.md §3.1): every grant the transformation makes is derived from this one table.
PUBLISHED_READERS: Mapping[str, tuple[str, ...]] = {
    "staging": ("njia_transformer",),
    "intermediate": ("njia_transformer",),
    "marts": ("njia_analyst",),
    "reporting": ("njia_analyst", "njia_public"),
}
SNAPSHOT_SCHEMA = "snapshots"
SNAPSHOT_READERS: tuple[str, ...] = ("njia_transformer",)
REPORTING_SCHEMA = "reporting"
REPORTING_TABLES = reporting_tables.names()  # dbt's reporting models, in the order of the report pack

_BUILD_LOCK = 7_311_002  # advisory lock key: one build (shadow schemas + swap) at a time per database
_DBT_LOCK = threading.Lock()  # dbt's flags and adapters are process-global
_RELKIND = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}


class TransformError(RuntimeError):
    """dbt could not run, or a private reporting schema could not be computed; the message says why."""


@dataclass(frozen=True)
class BuildResult:
    """What `build` did. `ok` is true only when every node passed and the result was published."""

    ok: bool
    summary: str
    published: bool = False
    failures: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    target_path: Path | None = None


# --- public functions ---------------------------------------------------------------------------------------


def build(settings: Settings, full_refresh: bool = False) -> BuildResult:
    """Seeds, models, snapshots and tests into shadow schemas; publish them only if everything passed.

    `full_refresh` passes --full-refresh to dbt and also drops relations left in the published schemas by
    models that no longer exist.
    """
    started, started_at = time.monotonic(), dt.datetime.now(dt.UTC)
    published = False
    with warehouse.connect(settings, autocommit=True) as lock_conn:
        lock_conn.execute("set lock_timeout = '30min'")
        try:
            lock_conn.execute("select pg_advisory_lock(%s)", (_BUILD_LOCK,))
        except psycopg.errors.LockNotAvailable:
            return BuildResult(False, "another build of this warehouse has been running for 30 minutes; not started")
        try:
            _drop_shadow_schemas(lock_conn)
            outcome = _run_dbt(
                settings,
                ["build", *(["--full-refresh"] if full_refresh else [])],
                mode="build",
                variables={"min_cell": settings.min_cell, "schema_suffix": SHADOW_SUFFIX},
            )
            if outcome.ok:
                outcome = _protect_and_audit(
                    settings,
                    _shadow(REPORTING_SCHEMA),
                    settings.min_cell,
                    outcome,
                    variables={"min_cell": settings.min_cell, "schema_suffix": SHADOW_SUFFIX},
                    mode="build",
                )
            if outcome.ok:
                try:
                    with warehouse.connect(settings) as conn:
                        moved = _publish(conn, full_refresh=full_refresh, min_cell=settings.min_cell)
                except psycopg.Error as exc:  # rolled back: the previous marts and reporting stay
                    problem = f"publishing failed: {exc}".strip()
                    outcome = dataclasses.replace(
                        outcome, ok=False, summary=f"{outcome.summary}; {problem}", failures=(problem,)
                    )
                else:
                    published = True
                    log.info("published %d relations", moved)
        finally:
            lock_conn.execute("select pg_advisory_unlock(%s)", (_BUILD_LOCK,))
    elapsed = time.monotonic() - started
    state = "published" if published else "not published: previous marts and reporting kept"
    if not published:
        _alert_blocked(settings, outcome.failures or (outcome.summary,))
    with warehouse.connect(settings) as conn:  # the line `njia status` shows, from the CLI and the DAG alike
        record_run(conn, "build", started_at, published, f"{outcome.summary}; {state}"[:2000])
    return BuildResult(
        ok=outcome.ok and published,
        summary=f"{outcome.summary}; {state} ({elapsed:.1f} s)",
        published=published,
        failures=outcome.failures,
        counts=outcome.counts,
        target_path=outcome.target_path,
    )


def published_min_cell(settings: Settings) -> int | None:
    """The k the published reporting schema was suppressed with (ops.publications); None when never published."""
    with warehouse.connect(settings) as conn:
        row = conn.execute("select min_cell from ops.publications order by publication_id desc limit 1").fetchone()
    return row[0] if row else None


@contextmanager
def reporting_schema(settings: Settings, min_cell: int | None) -> Iterator[str]:
    """Yield the schema holding the reporting tables suppressed with `min_cell` (None: the warehouse's k).

    For the published k that is `reporting`. For another k (1 turns suppression off) the same dbt models are
    built, and tested, into a private schema no reader role can see, which is dropped on exit: aggregation and
    suppression stay defined once, and the public never sees unsuppressed counts.
    """
    k = settings.min_cell if min_cell is None else int(min_cell)
    if k < 1:
        raise ValueError(f"min_cell must be at least 1, got {k}")
    published = published_min_cell(settings)
    if published is None:
        raise TransformError("the reporting tables have not been built yet; run `njia build` first")
    if k == published:
        yield REPORTING_SCHEMA
        return
    private = f"reporting_k{k}_{secrets.token_hex(4)}"
    target = _dbt_home(settings) / f"target-{private}"
    try:
        variables = {"min_cell": k, "schema_suffix": "", "reporting_schema": private}
        outcome = _run_dbt(
            settings,
            ["build", "--select", "path:models/reporting"],
            mode="private",
            variables=variables,
            target_path=target,
        )
        if outcome.ok:
            outcome = _protect_and_audit(
                settings, private, k, outcome, variables=variables, mode="private", target_path=target
            )
        if not outcome.ok:
            raise TransformError(f"could not compute the reporting tables with k = {k}: {outcome.summary}")
        yield private
    finally:
        with warehouse.connect(settings, autocommit=True) as conn:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(private)))
        shutil.rmtree(target, ignore_errors=True)


def generate_docs(settings: Settings) -> Path:
    """`dbt docs generate` against the published schemas; returns the folder holding index.html."""
    outcome = _run_dbt(settings, ["docs", "generate"], mode="docs", variables={"min_cell": settings.min_cell})
    if not outcome.ok or outcome.target_path is None:
        raise TransformError(f"dbt docs generate failed: {outcome.summary}")
    return outcome.target_path


def parse(settings: Settings) -> Path:
    """`dbt parse` (no database work); returns the path of manifest.json."""
    outcome = _run_dbt(settings, ["parse"], mode="parse", variables={"min_cell": settings.min_cell})
    if not outcome.ok or outcome.target_path is None:
        raise TransformError(f"dbt parse failed: {outcome.summary}")
    return outcome.target_path / "manifest.json"


@dataclass(frozen=True)
class SourceFreshness:
    """One source table's freshness: `status` is dbt's (pass, warn, error, runtime error)."""

    source: str
    status: str
    max_loaded_at: dt.datetime | None  # None: the table has no rows
    age_seconds: float | None
    warn_after: str | None
    error_after: str | None
    message: str | None = None


@dataclass(frozen=True)
class FreshnessResult:
    """What `freshness` found. `ok` is false when a source is past its error threshold or could not be checked."""

    checked_at: dt.datetime
    sources: tuple[SourceFreshness, ...]

    @property
    def ok(self) -> bool:
        return all(s.status in ("pass", "warn") for s in self.sources)

    @property
    def checked(self) -> bool:
        """Every source's age was measured (stale or not)."""
        return all(s.status != "runtime error" for s in self.sources)

    @property
    def summary(self) -> str:
        return (
            "; ".join(f"{s.source} {s.status} ({describe_age(s.age_seconds)})" for s in self.sources)
            or "no sources declare freshness"
        )


def describe_age(age_seconds: float | None) -> str:
    """`age_seconds` of a source in words; None means the table has no rows."""
    if age_seconds is None:
        return "no rows loaded"
    days = age_seconds / 86_400
    return f"last load {days:.0f} days ago" if days >= 2 else f"last load {age_seconds / 3_600:.0f} hours ago"


def freshness(settings: Settings) -> FreshnessResult:
    """`dbt source freshness` on the sources that declare it, recorded in ops.source_freshness for `njia status`.

    Stale raw data is a finding, not a failure of the check: every source gets its row, whatever its status.
    Raises TransformError only when dbt could not run at all.
    """
    outcome = _run_dbt(settings, ["source", "freshness"], mode="freshness", variables={"min_cell": settings.min_cell})
    found = tuple(sorted((_source_freshness(r) for r in outcome.results), key=lambda s: s.source))
    if not found and not outcome.ok:
        raise TransformError(f"dbt source freshness could not run: {outcome.summary}")
    checked_at = dt.datetime.now(dt.UTC)
    with warehouse.connect(settings) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                "insert into ops.source_freshness (checked_at, source, status, max_loaded_at, age_seconds,"
                " warn_after, error_after, message) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        checked_at,
                        s.source,
                        s.status,
                        s.max_loaded_at,
                        s.age_seconds,
                        s.warn_after,
                        s.error_after,
                        s.message,
                    )
                    for s in found
                ],
            )
    result = FreshnessResult(checked_at, found)
    (log.info if result.ok else log.warning)("source freshness: %s", result.summary)
    _alert_stale(settings, found)
    return result


def _alert_stale(settings: Settings, found: tuple[SourceFreshness, ...]) -> None:
    """People are told when a source is past its warn or error threshold: the check runs after every build
    and weekly, so the same stale sources (same statuses) are told once per repeat window, and a source
    going from warn to error is told again."""
    stale = [s for s in found if s.status in ("warn", "error")]
    if not stale:
        return
    from njia.alerts import Alert, notify

    notify(
        settings,
        Alert(
            "sources_stale",
            f"{len(stale)} source(s) stale: " + ", ".join(f"{s.source} {s.status}" for s in stale),
            tuple(
                f"{s.source}: {describe_age(s.age_seconds)}; warn after {s.warn_after or 'never'}, error after "
                f"{s.error_after or 'never'}"
                for s in stale
            ),
            key="stale:" + ",".join(f"{s.source}={s.status}" for s in stale),
        ),
    )


def _source_freshness(node_result: Any) -> SourceFreshness:
    node = node_result.node
    status = str(getattr(node_result.status, "value", node_result.status))
    loaded = getattr(node_result, "max_loaded_at", None)
    empty = loaded is None or loaded.year == 1  # dbt reports an empty table as loaded in year 1
    rule = getattr(node, "freshness", None)

    def threshold(name: str) -> str | None:
        t = getattr(rule, name, None)
        if t is None or t.count is None or t.period is None:
            return None
        return f"{t.count} {getattr(t.period, 'value', t.period)}{'' if t.count == 1 else 's'}"

    return SourceFreshness(
        source=f"{node.source_name}.{node.name}",
        status=status,
        max_loaded_at=None if empty else loaded,
        age_seconds=None if empty else getattr(node_result, "age", None),
        warn_after=threshold("warn_after"),
        error_after=threshold("error_after"),
        message=(getattr(node_result, "message", None) or None),
    )


def _protect_and_audit(
    settings: Settings,
    schema: str,
    k: int,
    outcome: _Outcome,
    *,
    variables: Mapping[str, Any],
    mode: str,
    target_path: Path | None = None,
) -> _Outcome:
    """Joint suppression across the tables of each year (njia.disclosure), dbt's reporting tests again on the
    result, then the attacker's audit: the gate that every built reporting schema passes before anyone reads it.
    """
    from njia import disclosure

    started = time.monotonic()
    try:
        with warehouse.connect(settings) as conn:
            protections = disclosure.protect_schema(conn, schema, k)
    except (disclosure.DisclosureError, psycopg.Error) as exc:
        return _failed(outcome, f"joint suppression failed: {exc}")
    for p in protections:
        log.info("%s: joint suppression withheld %d further cells (%d cases)", p.year, len(p.extra), p.extra_cases)
    if any(p.extra for p in protections):
        # The tables changed after dbt tested them: test the published shape again (no visible small count,
        # additivity), with the same selection of reporting models and the tests that read them.
        retest = _run_dbt(
            settings,
            ["test", "--select", "path:models/reporting"],
            mode=mode,
            variables=variables,
            target_path=target_path,
        )
        if not retest.ok:
            return _failed(outcome, f"after joint suppression, {retest.summary}")
    try:
        with warehouse.connect(settings) as conn:
            conn.read_only = True
            audits = disclosure.audit_schema(conn, schema, k)
    except (disclosure.DisclosureError, psycopg.Error) as exc:
        return _failed(outcome, f"disclosure audit failed: {exc}")
    failing = [a for a in audits if not a.ok]
    if failing:
        return _failed(outcome, "disclosure audit: " + "; ".join(a.describe() for a in failing))
    extra = sum(len(p.extra) for p in protections)
    note = (
        f"disclosure audit passed for {len(audits)} year(s), {extra} cells withheld across tables "
        f"({time.monotonic() - started:.1f} s)"
    )
    return dataclasses.replace(outcome, summary=f"{outcome.summary}; {note}")


def _alert_blocked(settings: Settings, failures: tuple[str, ...]) -> None:
    from njia.alerts import Alert, notify

    # The failing nodes, without dbt's messages: the same failure is told once per repeat window.
    nodes = sorted({f.split(":", 1)[0] for f in failures})
    notify(
        settings,
        Alert(
            "publication_blocked",
            f"njia build did not publish: {len(failures)} failure(s); the previous marts and reporting stay",
            failures[:20],
            key="blocked:" + hashlib.sha256("\n".join(nodes).encode()).hexdigest()[:16],
        ),
    )


def _failed(outcome: _Outcome, problem: str) -> _Outcome:
    return dataclasses.replace(
        outcome, ok=False, summary=f"{outcome.summary}; {problem}", failures=(*outcome.failures, problem)
    )


# --- dbt invocation -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    summary: str
    failures: tuple[str, ...]
    counts: Mapping[str, int]
    target_path: Path | None
    results: tuple[Any, ...] = ()  # dbt's node results, for callers that read more than the status


def _warehouse_key(params: Mapping[str, str]) -> str:
    # Partial parsing state is only valid for one warehouse; key the target folder by where dbt connects.
    ident = f"{params.get('host', '')}|{params.get('port', '')}|{params.get('dbname', '')}"
    return hashlib.sha256(ident.encode()).hexdigest()[:12]


def _dbt_home(settings: Settings) -> Path:
    return settings.home_dir / "dbt" / _warehouse_key(warehouse.connection_params(settings))


@contextmanager
def _profile_environment(settings: Settings) -> Iterator[None]:
    """Expose the warehouse connection to profiles.yml through environment variables, for one invocation."""
    params = warehouse.connection_params(settings)
    values = {
        "NJIA_DBT_HOST": params.get("host") or params.get("hostaddr") or "localhost",
        "NJIA_DBT_PORT": params.get("port") or "5432",
        "NJIA_DBT_USER": params.get("user") or os.environ.get("PGUSER") or "postgres",
        "DBT_ENV_SECRET_NJIA_DBT_PASSWORD": params.get("password", ""),
        "NJIA_DBT_DBNAME": params.get("dbname") or warehouse.DATABASE,
        "NJIA_DBT_SCHEMA": "staging",
        "NJIA_DBT_SSLMODE": params.get("sslmode") or "prefer",
        # Every dbt statement is planned once: JIT compilation cost more than it saved (a full build of
        # 1,000,000 rows took 245 s with it, 187 s without; bench/). libpq reads PGOPTIONS (dbt has no option).
        "PGOPTIONS": " ".join(filter(None, (os.environ.get("PGOPTIONS"), "-c jit=off"))),
    }
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_dbt(
    settings: Settings,
    command: list[str],
    *,
    mode: str,
    variables: Mapping[str, Any],
    target_path: Path | None = None,
) -> _Outcome:
    # Imported here: dbt is heavy, and only the commands that transform need it.
    from dbt.cli.main import dbtRunner

    home = _dbt_home(settings)
    target = target_path or home / f"target-{mode}"
    logs = home / "logs"
    target.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    args = [
        *command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(logs),
        "--vars",
        json.dumps(dict(variables)),
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
        "--no-use-colors",
        "--quiet",
        "--log-level-file",
        "info",
        # A private run's target folder is deleted afterwards: skip writing manifest and run results.
        *(["--no-write-json"] if mode == "private" else []),
    ]
    with _DBT_LOCK, _profile_environment(settings):
        try:
            result = dbtRunner().invoke(args)
        except Exception as exc:  # dbt raises anything; report it as a failed run
            return _Outcome(False, f"dbt {' '.join(command)} crashed: {exc}", (str(exc),), {}, target)
    return _summarise(command, result, target)


def _summarise(command: list[str], result: Any, target: Path) -> _Outcome:
    counts: Counter[str] = Counter()
    failures: list[str] = []
    results = tuple(getattr(result.result, "results", None) or ())
    for node_result in results:
        status = str(getattr(node_result.status, "value", node_result.status))
        counts[status] += 1
        if status in {"error", "fail", "runtime error", "skipped"}:
            node = getattr(node_result, "node", None)
            name = getattr(node, "unique_id", "?")
            if status != "skipped":
                failures.append(f"{name}: {status}: {(node_result.message or '').strip()}")
    if result.exception is not None:
        failures.append(f"dbt {' '.join(command)}: {result.exception}")
    ok = bool(result.success) and not failures
    tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no nodes"
    summary = f"dbt {' '.join(command)}: {'ok' if ok else 'FAILED'} ({tally})"
    if failures:
        summary += "; " + "; ".join(failures[:5]) + (f"; and {len(failures) - 5} more" if len(failures) > 5 else "")
    return _Outcome(ok, summary, tuple(failures), dict(counts), target, results)


# --- shadow schemas, publication and grants -----------------------------------------------------------------


def _shadow(layer: str) -> str:
    return layer + SHADOW_SUFFIX


def _drop_shadow_schemas(conn: Any) -> None:
    for layer in PUBLISHED_READERS:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(_shadow(layer))))


def _relations(conn: Any, schema: str, *, owned_only: bool = False) -> list[tuple[str, str]]:
    rows = conn.execute(
        "select c.relname, c.relkind from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition"
        " and (not %s or pg_get_userbyid(c.relowner) = current_user)"
        " order by c.relname",
        (schema, owned_only),
    ).fetchall()
    return [(name, _RELKIND[kind]) for name, kind in rows]


def _drop(conn: Any, schema: str, name: str) -> None:
    current = conn.execute(
        "select c.relkind from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relname = %s",
        (schema, name),
    ).fetchone()
    if current is not None and current[0] in _RELKIND:
        conn.execute(
            sql.SQL("drop {} if exists {}.{} cascade").format(
                sql.SQL(_RELKIND[current[0]]), sql.Identifier(schema), sql.Identifier(name)
            )
        )


def _publish(conn: Any, *, full_refresh: bool, min_cell: int) -> int:
    """Move every relation of the shadow schemas into the published ones, in one transaction, then grant and
    record the publication and its k (ops.publications)."""
    with conn.transaction():
        conn.execute("set local lock_timeout = '5min'")
        moving = {layer: _relations(conn, _shadow(layer)) for layer in PUBLISHED_READERS}
        for layer, relations in moving.items():
            names = {name for name, _ in relations}
            # Relations of models that no longer exist stay unless asked; only dbt's own (ours) are dropped.
            owned = _relations(conn, layer, owned_only=True) if full_refresh else []
            stale = [name for name, _ in owned if name not in names]
            for name in [*names, *stale]:
                _drop(conn, layer, name)
        for layer, relations in moving.items():
            for name, kind in relations:
                conn.execute(
                    sql.SQL("alter {} {}.{} set schema {}").format(
                        sql.SQL(kind), sql.Identifier(_shadow(layer)), sql.Identifier(name), sql.Identifier(layer)
                    )
                )
            conn.execute(sql.SQL("drop schema {}").format(sql.Identifier(_shadow(layer))))
        published = {layer: [name for name, _ in rels] for layer, rels in moving.items()}
        snapshots = [name for name, _ in _relations(conn, SNAPSHOT_SCHEMA, owned_only=True)]
        grant_read_access(conn, {**published, SNAPSHOT_SCHEMA: snapshots})
        moved = sum(len(rels) for rels in moving.values())
        conn.execute("insert into ops.publications (min_cell, relations) values (%s, %s)", (min_cell, moved))
    return moved


def grant_read_access(conn: Any, relations: Mapping[str, list[str]] | None = None) -> None:
    """The one place the transformation grants: select on published relations to the roles of docs/interfaces.md §3.1.

    `relations` maps a schema to relation names (the ones just published); None means every relation the
    current user owns in the published and snapshot schemas. Private reporting schemas get no grants at all.
    """
    readers = {**PUBLISHED_READERS, SNAPSHOT_SCHEMA: SNAPSHOT_READERS}
    if relations is None:
        relations = {schema: [name for name, _ in _relations(conn, schema, owned_only=True)] for schema in readers}
    for schema, names in relations.items():
        roles = readers.get(schema, ())
        for name in names if roles else ():
            conn.execute(
                sql.SQL("grant select on {}.{} to {}").format(
                    sql.Identifier(schema), sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, roles))
                )
            )
