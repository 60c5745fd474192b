"""BI access: the login users Metabase and analysts use, and the read grants on the published schemas.

SQL migrations (020, 021) create the users NOLOGIN and keep grants in place; passwords cannot live in a
migration (they come only from the environment), so `njia init` calls `apply(settings)`:

- `NJIA_ANALYST_PASSWORD` → `njia_analyst_user` (member of `njia_analyst`: marts and reporting)
- `NJIA_PUBLIC_PASSWORD`  → `njia_public_user`  (member of `njia_public`: reporting only)

A user whose variable is unset is left as it is (a password set by hand stays; a new user stays NOLOGIN).
The password is hashed on the client (libpq's PQencryptPasswordConn, SCRAM-SHA-256) so it never appears in
the server's statement log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql

from njia import warehouse
from njia.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BiUser:
    login: str
    group: str
    password_env: str
    schemas: tuple[str, ...]


BI_USERS: tuple[BiUser, ...] = (
    BiUser("njia_analyst_user", "njia_analyst", "NJIA_ANALYST_PASSWORD", ("marts", "reporting")),
    BiUser("njia_public_user", "njia_public", "NJIA_PUBLIC_PASSWORD", ("reporting",)),
)

# What each BI group role may read (docs/interfaces.md §3.2); test_privileges checks there is nothing more.
READERS: dict[str, tuple[str, ...]] = {"marts": ("njia_analyst",), "reporting": ("njia_analyst", "njia_public")}


def _environment(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    if environ is not None:
        return environ
    from dotenv import dotenv_values

    # The same precedence as the settings: the process environment wins over `.env`.
    return {**{k: v for k, v in dotenv_values(".env").items() if v is not None}, **os.environ}


def grant_published(conn: psycopg.Connection) -> None:
    """Read access on the published schemas as they are now (after a schema swap, say). Idempotent."""
    for schema, roles in READERS.items():
        exists = conn.execute("select 1 from pg_namespace where nspname = %s", (schema,)).fetchone()
        if not exists:
            continue
        who = sql.SQL(", ").join(sql.Identifier(r) for r in roles)
        conn.execute(sql.SQL("grant usage on schema {} to {}").format(sql.Identifier(schema), who))
        conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(sql.Identifier(schema), who))


def set_password(conn: psycopg.Connection, login: str, password: str) -> None:
    """Allow `login` to log in with `password`, sending only the SCRAM verifier."""
    verifier = conn.pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256").decode()
    conn.execute(sql.SQL("alter role {} login password {}").format(sql.Identifier(login), sql.Literal(verifier)))


def apply(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Re-grant read access on the published schemas and set the BI users' passwords from the environment.

    Returns what happened per login user ("password set" / "unchanged: NJIA_..._PASSWORD is not set").
    """
    env = _environment(environ)
    done: dict[str, str] = {}
    with warehouse.connect(settings, autocommit=True) as conn:
        grant_published(conn)
        for user in BI_USERS:
            if conn.execute("select 1 from pg_roles where rolname = %s", (user.login,)).fetchone() is None:
                raise warehouse.WarehouseError(f"role {user.login} is missing: run the migrations (njia init)")
            password = env.get(user.password_env) or ""
            if password.strip():
                set_password(conn, user.login, password)
                done[user.login] = "password set"
            else:
                done[user.login] = f"unchanged: {user.password_env} is not set"
            log.info("%s: %s", user.login, done[user.login])
    return done
