"""Portal accounts: people, password hashes (argon2id), one-time password links, server-side sessions, the
sign-in rate limit and the audit, all in ops (migration 040_portal). Secrets are stored only as hashes:
the password as argon2id, session ids and link tokens as SHA-256 (they are long random values)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ingest import registry
from njia import warehouse
from njia.settings import Settings

# Sign-in failures allowed in the window before further attempts are refused, per account and per address
# (an office behind one address has several people, hence the larger figure).
WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this bounds the work one request can ask for

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,60}")


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says what to do."""


@dataclass(frozen=True)
class User:
    user_id: int
    email: str
    organisation_code: str


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normal_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_problem(password: str) -> str | None:
    """Why a new password is refused (a code of text.PASSWORD_RULES), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    return None


def tables_ready(settings: Settings) -> bool:
    """Whether the portal's tables exist (migration 040_portal, applied by `njia init`)."""
    with warehouse.connect(settings) as conn:
        return conn.execute("select to_regclass('ops.portal_audit') is not null").fetchone()[0]


# --- accounts (the `njia portal` commands) ---------------------------------------------------------


def add_user(settings: Settings, organisation: str, email: str) -> tuple[User, str]:
    """Create an account for `email` in `organisation` (which must be in the registry); returns it with a
    one-time link to set the password. An existing account is refused: use `reset-link`."""
    email = normal_email(email)
    if not EMAIL.fullmatch(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    orgs = registry.read_registry(settings.organisations_path)
    matches = [code for code in orgs if code.casefold() == organisation.strip().casefold()]
    if not matches:
        raise AccountError(
            f"organisation {organisation!r} is not in the registry {settings.organisations_path}; add it there first"
        )
    code = matches[0]
    if not orgs[code].active:
        raise AccountError(f"organisation {code!r} is marked inactive in the registry")
    with warehouse.connect(settings) as conn:
        try:
            user_id = conn.execute(
                "insert into ops.portal_users (email, organisation_code) values (%s, %s) returning user_id",
                (email, code),
            ).fetchone()[0]
        except psycopg.errors.UniqueViolation as exc:
            raise AccountError(
                f"{email} already has an account; for a new password use `njia portal reset-link {email}`"
            ) from exc
        link = _new_link(conn, settings, user_id)
        audit(conn, "account_created", True, email=email, organisation=code)
    return User(user_id, email, code), link


def add_users(settings: Settings, csv_file: Path) -> list[tuple[User, str]]:
    """Accounts from a CSV with the columns organisation_code and email; all or none are created."""
    with csv_file.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = {(f or "").strip().lower() for f in reader.fieldnames or ()}
        if not {"organisation_code", "email"} <= fields:
            raise AccountError(f"{csv_file} needs the columns organisation_code and email")
        wanted = [({(k or "").strip().lower(): (v or "") for k, v in r.items()}, reader.line_num) for r in reader]
    created: list[tuple[User, str]] = []
    try:
        for r, line in wanted:
            if not any(v.strip() for v in r.values()):
                continue
            try:
                created.append(add_user(settings, r["organisation_code"], r["email"]))
            except AccountError as exc:
                raise AccountError(f"{csv_file}, line {line}: {exc}") from exc
    except AccountError:
        with warehouse.connect(settings) as conn:  # all or none: a half-onboarded list is harder to fix
            for user, _ in created:
                conn.execute("delete from ops.portal_users where user_id = %s", (user.user_id,))
        raise
    return created


def reset_link(settings: Settings, email: str) -> str:
    """A new one-time link for `email` to set a password; earlier unused links stop working (the sessions
    end when the new password is set)."""
    email = normal_email(email)
    with warehouse.connect(settings) as conn:
        found = conn.execute(
            "select user_id, organisation_code, active from ops.portal_users where email = %s", (email,)
        ).fetchone()
        if found is None:
            raise AccountError(f"no portal account for {email}; create one with `njia portal add-user ORG {email}`")
        if not found[2]:
            raise AccountError(f"the account of {email} is disabled")
        conn.execute("update ops.portal_tokens set used_at = now() where user_id = %s and used_at is null", (found[0],))
        link = _new_link(conn, settings, found[0])
        audit(conn, "reset_link", True, email=email, organisation=found[1])
    return link


def disable(settings: Settings, email: str) -> None:
    """Stop an account (a person who left the organisation): no sign-in, no link, sessions ended. The row
    stays, so the audit and the uploads still name who did what; `reset-link` does not bring it back."""
    email = normal_email(email)
    with warehouse.connect(settings) as conn:
        found = conn.execute(
            "update ops.portal_users set active = false where email = %s returning user_id, organisation_code", (email,)
        ).fetchone()
        if found is None:
            raise AccountError(f"no portal account for {email}")
        conn.execute("delete from ops.portal_sessions where user_id = %s", (found[0],))
        conn.execute("update ops.portal_tokens set used_at = now() where user_id = %s and used_at is null", (found[0],))
        audit(conn, "account_disabled", True, email=email, organisation=found[1])


def _new_link(conn: psycopg.Connection, settings: Settings, user_id: int) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(
        "insert into ops.portal_tokens (token_hash, user_id, expires_at)"
        " values (%s, %s, now() + make_interval(hours => %s))",
        (_sha(token), user_id, settings.portal_link_hours),
    )
    return f"{settings.portal_url.rstrip('/')}/password/{token}"


def link_user(settings: Settings, token: str) -> User | None:
    """The person a one-time link is for, while it is unused and unexpired."""
    with warehouse.connect(settings) as conn:
        found = conn.execute(
            "select u.user_id, u.email, u.organisation_code from ops.portal_tokens t join ops.portal_users u"
            " using (user_id) where t.token_hash = %s and t.used_at is null and t.expires_at > now() and u.active",
            (_sha(token),),
        ).fetchone()
    return User(*found) if found else None


def set_password(settings: Settings, token: str, password: str, ip: str) -> User | None:
    """Use a one-time link: set the password, end the person's sessions. None when the link is not valid."""
    with warehouse.connect(settings) as conn:
        found = conn.execute(
            "update ops.portal_tokens t set used_at = now() from ops.portal_users u"
            " where t.token_hash = %s and t.used_at is null and t.expires_at > now() and u.user_id = t.user_id"
            " and u.active returning u.user_id, u.email, u.organisation_code",
            (_sha(token),),
        ).fetchone()
        if found is None:
            return None
        user = User(*found)
        conn.execute(
            "update ops.portal_users set password_hash = %s, password_set_at = now() where user_id = %s",
            (hash_password(password), user.user_id),
        )
        conn.execute("delete from ops.portal_sessions where user_id = %s", (user.user_id,))
        audit(conn, "password_set", True, email=user.email, organisation=user.organisation_code, ip=ip)
    return user


# --- signing in ------------------------------------------------------------------------------------


def rate_limited(settings: Settings, email: str, ip: str) -> bool:
    with warehouse.connect(settings) as conn:
        by_account, by_ip = conn.execute(
            "select count(*) filter (where email = %s), count(*) filter (where ip = %s)"
            " from ops.portal_signin_attempts where not ok and attempted_at > now() - %s"
            " and (email = %s or ip = %s)",
            (email, ip, WINDOW, email, ip),
        ).fetchone()
    return by_account >= MAX_FAILURES_PER_ACCOUNT or by_ip >= MAX_FAILURES_PER_IP


def sign_in(settings: Settings, email: str, password: str, ip: str) -> tuple[str, Session] | str:
    """A new session (its cookie value and record) for a right e-mail and password; else why not:
    `rate_limited` or `wrong`. Every attempt is recorded (rate limit) and audited."""
    email = normal_email(email)[:254]
    if rate_limited(settings, email, ip):
        with warehouse.connect(settings) as conn:
            audit(conn, "sign_in", False, email=email, ip=ip, detail="rate_limited")
        return "rate_limited"
    with warehouse.connect(settings) as conn:
        found = conn.execute(
            "select user_id, organisation_code, password_hash from ops.portal_users where email = %s and active",
            (email,),
        ).fetchone()
    ok = _verify(found[2] if found and found[2] else _DUMMY_HASH, password) and bool(found and found[2])
    with warehouse.connect(settings) as conn:
        conn.execute("insert into ops.portal_signin_attempts (email, ip, ok) values (%s, %s, %s)", (email, ip, ok))
        audit(
            conn,
            "sign_in",
            ok,
            email=email,
            organisation=found[1] if found else None,
            ip=ip,
            detail=None if ok else "wrong_email_or_password",
        )
        if not ok:
            return "wrong"
        user = User(found[0], email, found[1])
        if _HASHER.check_needs_rehash(found[2]):
            conn.execute(
                "update ops.portal_users set password_hash = %s where user_id = %s",
                (hash_password(password), user.user_id),
            )
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        conn.execute("delete from ops.portal_sessions where expires_at < now()")
        conn.execute(
            "insert into ops.portal_sessions (session_hash, user_id, csrf_token, expires_at)"
            " values (%s, %s, %s, now() + make_interval(mins => %s))",
            (_sha(session_id), user.user_id, csrf, settings.portal_session_minutes),
        )
    return session_id, Session(user, csrf)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password[:MAX_PASSWORD_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def session(settings: Settings, session_id: str) -> Session | None:
    with warehouse.connect(settings) as conn:
        found = conn.execute(
            "select u.user_id, u.email, u.organisation_code, s.csrf_token from ops.portal_sessions s"
            " join ops.portal_users u using (user_id) where s.session_hash = %s and s.expires_at > now()"
            " and u.active",
            (_sha(session_id),),
        ).fetchone()
    return Session(User(*found[:3]), found[3]) if found else None


def sign_out(settings: Settings, session_id: str, ip: str) -> None:
    with warehouse.connect(settings) as conn:
        found = conn.execute(
            "delete from ops.portal_sessions where session_hash = %s returning user_id", (_sha(session_id),)
        ).fetchone()
        if found:
            email, org = conn.execute(
                "select email, organisation_code from ops.portal_users where user_id = %s", (found[0],)
            ).fetchone()
            audit(conn, "sign_out", True, email=email, organisation=org, ip=ip)


# --- audit -----------------------------------------------------------------------------------------


def audit(
    conn: psycopg.Connection,
    event: str,
    ok: bool,
    *,
    email: str | None = None,
    organisation: str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> None:
    conn.execute(
        "insert into ops.portal_audit (event, ok, email, organisation_code, ip, detail)"
        " values (%s, %s, %s, %s, %s, %s)",
        (event, ok, email, organisation, ip, detail),
    )


def record(settings: Settings, event: str, ok: bool, user: User | None, ip: str, detail: str | None = None) -> None:
    with warehouse.connect(settings) as conn:
        audit(
            conn,
            event,
            ok,
            email=user.email if user else None,
            organisation=user.organisation_code if user else None,
            ip=ip,
            detail=detail,
        )


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
