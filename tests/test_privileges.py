"""Least privilege for the BI roles: a sweep of every table, view, sequence and schema of the database for
each BI role and login user; any privilege beyond "read marts and reporting" (analyst) or "read reporting"
(public) fails. Also: tables dbt recreates, and schemas it swaps in, stay readable; private reporting
schemas (another k) do not become readable; passwords come from the environment."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from njia import access, warehouse

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
ROLES = {  # role: schemas it may read
    "njia_analyst": {"marts", "reporting"},
    "njia_analyst_user": {"marts", "reporting"},
    "njia_public": {"reporting"},
    "njia_public_user": {"reporting"},
}


def sweep(conn: psycopg.Connection) -> list[str]:
    """Every privilege a BI role holds that it should not (and every read it lacks on its schemas)."""
    problems = []
    privileges = list(TABLE_PRIVILEGES)
    if conn.info.server_version >= 170000:
        privileges.append("MAINTAIN")
    relations = conn.execute(
        "select c.oid, n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')"
        " and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'"
    ).fetchall()
    schemas = [
        r[0]
        for r in conn.execute(
            "select nspname from pg_namespace where nspname not in ('pg_catalog', 'information_schema')"
            " and nspname not like 'pg\\_%'"
        )
    ]
    for role, readable in ROLES.items():
        for oid, schema, name, kind in relations:
            if kind == "S":
                for priv in ("USAGE", "SELECT", "UPDATE"):
                    if conn.execute("select has_sequence_privilege(%s, %s::oid, %s)", (role, oid, priv)).fetchone()[0]:
                        problems.append(f"{role} has {priv} on sequence {schema}.{name}")
                continue
            for priv in privileges:
                has = conn.execute("select has_table_privilege(%s, %s::oid, %s)", (role, oid, priv)).fetchone()[0]
                expected = priv == "SELECT" and schema in readable
                if has != expected:
                    problems.append(f"{role} {'has' if has else 'lacks'} {priv} on {schema}.{name}")
            if schema not in readable:
                for priv in ("SELECT", "INSERT", "UPDATE", "REFERENCES"):
                    if conn.execute("select has_any_column_privilege(%s, %s::oid, %s)", (role, oid, priv)).fetchone()[
                        0
                    ]:
                        problems.append(f"{role} has column {priv} on {schema}.{name}")
        for schema in schemas:
            usage = conn.execute("select has_schema_privilege(%s, %s, 'USAGE')", (role, schema)).fetchone()[0]
            create = conn.execute("select has_schema_privilege(%s, %s, 'CREATE')", (role, schema)).fetchone()[0]
            if create:
                problems.append(f"{role} may create in schema {schema}")
            if schema != "public" and usage != (schema in readable):
                problems.append(f"{role} {'has' if usage else 'lacks'} usage on schema {schema}")
        for priv in ("CREATE", "TEMP"):  # TEMP is PUBLIC's by default: migration 070 takes it back
            if conn.execute("select has_database_privilege(%s, current_database(), %s)", (role, priv)).fetchone()[0]:
                problems.append(f"{role} has {priv} on the database")
        attrs = conn.execute(
            "select rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication"
            " from pg_roles where rolname = %s",
            (role,),
        ).fetchone()
        if any(attrs):
            problems.append(f"{role} has role attributes {attrs}")
    return problems


DBT_LIKE = """
create table marts.fct_route_reports (id integer, cases_estimated integer);
create table marts.dim_location (location_code text);
create table reporting.cases_by_route (report_year integer, cases integer, suppressed boolean);
create table reporting.coverage (report_year integer, cases_total integer);
create view reporting.v_latest as select * from reporting.coverage;
create table staging.stg_x (a integer);
create view intermediate.int_x as select 1 as a;
create schema if not exists snapshots;
create table snapshots.snap_x (a integer);
"""


def test_bi_roles_read_exactly_their_schemas(settings):
    access.apply(settings, environ={})
    with warehouse.connect(settings, autocommit=True) as conn:
        # what dbt builds after `njia init`: the default privileges and the event trigger must cover it
        conn.execute(DBT_LIKE)
        assert sweep(conn) == []


def test_dbt_recreating_tables_and_swapping_schemas_keeps_access(settings):
    with warehouse.connect(settings, autocommit=True) as conn:
        conn.execute(DBT_LIKE)
        # dbt's table materialisation: build beside, rename the old one away, rename the new one in, drop
        conn.execute(
            "create table reporting.cases_by_route__dbt_tmp as select 2025 as report_year, 20 as cases,"
            " false as suppressed"
        )
        conn.execute("alter table reporting.cases_by_route rename to cases_by_route__dbt_backup")
        conn.execute("alter table reporting.cases_by_route__dbt_tmp rename to cases_by_route")
        conn.execute("drop table reporting.cases_by_route__dbt_backup")
        # njia.transform's shadow build: everything lands in <layer>__build, then the schemas are swapped
        for layer in ("marts", "reporting"):
            conn.execute(f"create schema {layer}__build")
            conn.execute(f"create table {layer}__build.t_new as select 1 as a")
            conn.execute(f"alter schema {layer} rename to {layer}__old")
            conn.execute(f"alter schema {layer}__build rename to {layer}")
            conn.execute(f"drop schema {layer}__old cascade")
        # a private reporting schema for another k must stay private, and so must any shadow schema
        conn.execute("create schema reporting__k5")
        conn.execute("create table reporting__k5.cases_by_route as select 2025 as report_year, 3 as cases")
        conn.execute("create schema reporting__build")
        conn.execute("create table reporting__build.cases_by_route as select 3 as cases")
        # moving a finished table into the published schema also counts
        conn.execute("alter table reporting__build.cases_by_route set schema reporting")
        assert sweep(conn) == []
        assert conn.execute(
            "select has_table_privilege('njia_public', 'reporting.t_new', 'SELECT'),"
            " has_table_privilege('njia_public', 'reporting.cases_by_route', 'SELECT'),"
            " has_table_privilege('njia_analyst', 'marts.t_new', 'SELECT'),"
            " has_table_privilege('njia_public', 'reporting__k5.cases_by_route', 'SELECT')"
        ).fetchone() == (True, True, True, False)


def test_grant_published_repairs_a_swap_without_the_event_trigger(settings):
    with warehouse.connect(settings, autocommit=True) as conn:
        conn.execute("alter event trigger njia_grant_published disable")
        try:
            conn.execute("create schema reporting__build")
            conn.execute("create table reporting__build.coverage as select 2025 as report_year")
            conn.execute("alter schema reporting rename to reporting__old")
            conn.execute("alter schema reporting__build rename to reporting")
            conn.execute("drop schema reporting__old cascade")
            assert sweep(conn) != []  # without help the new schema is unreadable
        finally:
            conn.execute("alter event trigger njia_grant_published enable")
    access.apply(settings, environ={})
    with warehouse.connect(settings, autocommit=True) as conn:
        assert sweep(conn) == []


def _login(settings, user: str) -> str:
    params = conninfo_to_dict(warehouse.url(settings))
    params.pop("password", None)
    return make_conninfo(**{**params, "user": user})


def test_passwords_come_from_the_environment_and_logins_see_only_their_schemas(settings):
    with warehouse.connect(settings, autocommit=True) as conn:
        conn.execute(DBT_LIKE)
        conn.execute("insert into reporting.coverage values (2025, 40)")
        conn.execute("insert into marts.fct_route_reports values (1, 40)")
        conn.execute("alter role njia_public_user nologin password null")  # roles are shared by test databases
    done = access.apply(settings, environ={"NJIA_ANALYST_PASSWORD": "analyst-secret-1", "NJIA_PUBLIC_PASSWORD": ""})
    assert done == {
        "njia_analyst_user": "password set",
        "njia_public_user": "unchanged: NJIA_PUBLIC_PASSWORD is not set",
    }
    with warehouse.connect(settings) as conn:
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                "select rolname, rolcanlogin, coalesce(rolpassword like 'SCRAM-SHA-256$%%', false) from pg_authid"
                " where rolname like 'njia\\_%%\\_user'"
            )
        }
    assert rows == {"njia_analyst_user": (True, True), "njia_public_user": (False, False)}
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(_login(settings, "njia_public_user")).close()  # NOLOGIN until a password is set

    access.apply(settings, environ={"NJIA_PUBLIC_PASSWORD": "public-secret-2"})
    # The embedded server trusts local sockets, so this checks the role's rights, not the password.
    with psycopg.connect(_login(settings, "njia_public_user")) as conn:
        assert conn.execute("show search_path").fetchone()[0] == "reporting"
        assert conn.execute("select cases_total from coverage").fetchone() == (40,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from marts.fct_route_reports")
    with psycopg.connect(_login(settings, "njia_analyst_user")) as conn:
        assert conn.execute("select cases_estimated from fct_route_reports").fetchone() == (40,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("create temp table x (a int)")
    with (
        psycopg.connect(_login(settings, "njia_analyst_user")) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("select * from ops.submissions")
