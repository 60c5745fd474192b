"""The BI users as Metabase or Superset meet them (bi/README.md): on a PostgreSQL server reached over TCP
(NJIA_WAREHOUSE_URL), after `njia init` set their passwords from NJIA_ANALYST_PASSWORD / NJIA_PUBLIC_PASSWORD
and a build published marts and reporting, each user logs in with its password and lists what it can see,
as a BI tool's schema sync does: the analyst sees marts and reporting, the public user only reporting,
every table and column there carries its description, and neither can create anything, temporary tables
included. Skips when no external server is reachable (see the `external_database` fixture)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from test_transform import SUBMISSIONS, K, load

from njia import access, transform, warehouse
from njia.settings import get_settings

# Hostile to any setup that pastes passwords into JSON, shell or SQL text (docker-compose.yml, njia init).
PASSWORDS = {"njia_analyst_user": "an\"alyst\\pw '1$x", "njia_public_user": "pub\\\"lic pw'2 `x`"}
SEES = {"njia_analyst_user": {"marts", "reporting"}, "njia_public_user": {"reporting"}}


def _login(url: str, user: str, password: str) -> str:
    params = conninfo_to_dict(url)
    return make_conninfo(**{**params, "user": user, "password": password, "connect_timeout": "5"})


def _catalog(conn: psycopg.Connection) -> dict[str, dict[str, dict[str, str | None]]]:
    """schema → table → column → comment, of what the login may read (information_schema lists only that),
    plus each table's comment under the key ''."""
    out: dict[str, dict[str, dict[str, str | None]]] = defaultdict(dict)
    for schema, table, comment in conn.execute(
        "select t.table_schema, t.table_name, obj_description(format('%I.%I', t.table_schema, t.table_name)"
        "::regclass, 'pg_class') from information_schema.tables t"
        " where t.table_schema not in ('pg_catalog', 'information_schema')"
    ):
        out[schema][table] = {"": comment}
    for schema, table, column, comment in conn.execute(
        "select c.table_schema, c.table_name, c.column_name,"
        " col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position)"
        " from information_schema.columns c where c.table_schema not in ('pg_catalog', 'information_schema')"
    ):
        out[schema][table][column] = comment
    return out


def test_bi_users_log_in_with_passwords_and_see_only_their_documented_schemas(
    tmp_path: Path, external_database: str
) -> None:
    settings = get_settings(home=tmp_path / "home", warehouse_url=external_database, min_cell=K)
    warehouse.migrate(settings)
    done = access.apply(
        settings,
        environ={
            "NJIA_ANALYST_PASSWORD": PASSWORDS["njia_analyst_user"],
            "NJIA_PUBLIC_PASSWORD": PASSWORDS["njia_public_user"],
        },
    )
    assert done == {user: "password set" for user in PASSWORDS}
    with warehouse.connect(settings) as conn:
        load(conn, SUBMISSIONS)
    result = transform.build(settings)
    assert result.ok and result.published, result.summary

    with psycopg.connect(external_database) as admin:
        published = {
            (s, t)
            for s, t in admin.execute(
                "select table_schema, table_name from information_schema.tables"
                " where table_schema in ('marts', 'reporting')"
            )
        }
        hba = admin.execute(
            "select auth_method from pg_hba_file_rules where type = 'host'"
            " and ('all' = any(user_name) or %s = any(user_name)) order by line_number",
            ("njia_public_user",),
        ).fetchall()
    assert {s for s, _ in published} == {"marts", "reporting"}

    seen = {}
    for user, password in PASSWORDS.items():
        with psycopg.connect(_login(external_database, user, password)) as conn:
            assert not conn.info.host.startswith("/")  # TCP, as a BI tool connects, not a local socket
            assert conn.execute("select current_user").fetchone() == (user,)
            catalog = _catalog(conn)
            seen[user] = catalog
            assert set(catalog) == SEES[user], (user, set(catalog))
            assert {(s, t) for s in catalog for t in catalog[s]} == {p for p in published if p[0] in SEES[user]}
            undocumented = [
                (s, t, c)
                for s in catalog
                for t in catalog[s]
                for c, comment in catalog[s][t].items()
                if not (comment or "").strip()
            ]
            assert undocumented == [], (user, undocumented)
            # What the user may not read stays unreadable, though its name is in the catalog (bi/README.md).
            assert conn.execute("select count(*) from pg_namespace where nspname = 'ops'").fetchone() == (1,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("select * from ops.submissions")
            conn.rollback()
            assert conn.execute(
                "select has_database_privilege(current_database(), 'TEMP'),"
                " has_database_privilege(current_database(), 'CREATE')"
            ).fetchone() == (False, False)
        with psycopg.connect(_login(external_database, user, password), autocommit=True) as conn:
            conn.execute("set default_transaction_read_only = off")  # the privilege, not the session default
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("create temp table scratch (a integer)")
    assert "route_reports_wide" in seen["njia_analyst_user"]["marts"]
    assert "period_grain" in seen["njia_analyst_user"]["marts"]["route_reports_wide"]
    assert "Suppressed with k = 11." in seen["njia_public_user"]["reporting"]["coverage"][""]

    # A wrong password is refused, unless the server is set to trust these connections (then its
    # pg_hba.conf, not Njia, decides: bi/README.md §2 asks for scram-sha-256).
    if hba and hba[0][0] != "trust":
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(_login(external_database, "njia_public_user", "wrong")).close()
