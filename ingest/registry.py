"""The organisation registry: a CSV the deployment provides (CONTRACT.md §1), mirrored into
raw.organisations so dbt can build dim_organisation from it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import psycopg

REGISTRY_COLUMNS = ("organisation_code", "organisation_name", "organisation_type", "county_code", "active")


class RegistryError(ValueError):
    """The registry file is missing or malformed; a configuration error (exit code 2)."""


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    type: str | None
    county_code: str | None
    active: bool


def read_registry(path: Path) -> dict[str, Organisation]:
    if not path.is_file():
        raise RegistryError(
            f"organisation registry not found at {path}; set NJIA_ORGANISATIONS to the registry CSV "
            f"({', '.join(REGISTRY_COLUMNS)})"
        )
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        missing = [c for c in ("organisation_code", "organisation_name") if c not in fields]
        if missing:
            raise RegistryError(f"organisation registry {path} lacks column(s) {', '.join(missing)}")
        orgs: dict[str, Organisation] = {}
        for raw in reader:
            row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
            code = row["organisation_code"]
            if not code:
                continue
            county = row.get("county_code") or None
            orgs[code] = Organisation(
                code=code,
                name=row["organisation_name"],
                type=row.get("organisation_type") or None,
                county_code=county.zfill(3) if county and county.isdigit() else county,
                active=row.get("active", "true").lower() not in ("false", "0", "no", "n", "f"),
            )
    return orgs


_SYNC_LOCK = 7_311_003  # advisory lock key (7_311_001: migrations, 7_311_002: dbt build)


def sync_registry(conn: psycopg.Connection, orgs: dict[str, Organisation]) -> None:
    """Replace raw.organisations with the registry (in the caller's transaction).

    Serialised by a transaction-scoped lock: two loaders refreshing it at once would otherwise both
    insert every organisation after their deletes, and the second would fail on the primary key.
    """
    conn.execute("select pg_advisory_xact_lock(%s)", (_SYNC_LOCK,))
    conn.execute("delete from raw.organisations")
    with conn.cursor().copy(
        "copy raw.organisations (organisation_code, organisation_name, organisation_type, county_code, active)"
        " from stdin"
    ) as copy:
        for o in orgs.values():
            copy.write_row((o.code, o.name, o.type, o.county_code, o.active))
