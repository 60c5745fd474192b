"""The organisation registry: a CSV the deployment provides (docs/contract.md §1), mirrored into
raw.organisations so dbt can build dim_organisation from it."""

from __future__ import annotations

import csv
import re
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


# An organisation code names its inbox folder and appears in every table: letters, digits, `_` and `-`,
# starting with a letter or digit, at most CODE_MAX_LENGTH characters (docs/contract.md §1).
CODE_MAX_LENGTH = 64
CODE_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{CODE_MAX_LENGTH - 1}}}")
_TRUE = ("true", "yes", "y", "t", "1", "")
_FALSE = ("false", "no", "n", "f", "0")
_MAX_TEXT = 500  # a name, type or county code longer than this is a mistake, not a name
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def read_registry(path: Path) -> dict[str, Organisation]:
    """The registry, all of it or nothing: any bad line raises RegistryError naming the line to fix, so no
    file is ever processed against a half-read registry."""
    if not path.is_file():
        raise RegistryError(
            f"organisation registry not found at {path}; set NJIA_ORGANISATIONS to the registry CSV "
            f"({', '.join(REGISTRY_COLUMNS)})"
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            try:
                return _parse(path, reader)
            except csv.Error as exc:
                raise RegistryError(
                    f"organisation registry {path}, line {reader.line_num}: not readable as CSV "
                    f"({exc}); fix that line and run again"
                ) from exc
    except UnicodeDecodeError as exc:
        raise RegistryError(f"organisation registry {path} is not UTF-8 text ({exc}); save it as CSV UTF-8") from exc


def _parse(path: Path, reader) -> dict[str, Organisation]:  # a csv reader
    header = next(reader, None) or []
    fields = [f.strip().lower() for f in header]
    missing = [c for c in ("organisation_code", "organisation_name") if c not in fields]
    if missing:
        raise RegistryError(f"organisation registry {path} lacks column(s) {', '.join(missing)}")
    named = [f for f in fields if f]
    if len(set(named)) != len(named):
        raise RegistryError(f"organisation registry {path}: a column appears twice in the header (line 1)")
    orgs: dict[str, Organisation] = {}
    first_line: dict[str, int] = {}
    line = reader.line_num
    for cells in reader:
        start, line = line + 1, reader.line_num  # a quoted newline makes one record span several lines

        def bad(why: str, start: int = start) -> RegistryError:
            where = f"line {start}" if start == reader.line_num else f"lines {start}-{reader.line_num}"
            return RegistryError(f"organisation registry {path}, {where}: {why}; fix that line and run again")

        if not any(c.strip() for c in cells):
            continue  # a blank line
        if len(cells) > len(fields) and any(c.strip() for c in cells[len(fields) :]):
            raise bad(f"{len(cells)} cells for {len(fields)} columns (a comma inside a name must be quoted)")
        row = {name: value for name, value in zip(fields, cells, strict=False) if name}
        raw_code = row.get("organisation_code", "")
        code = raw_code.strip()
        if not CODE_PATTERN.fullmatch(code):
            raise bad(
                f"organisation_code {raw_code!r} must be 1-{CODE_MAX_LENGTH} letters, digits, `_` or `-`, "
                "starting with a letter or digit"
            )
        key = code.casefold()
        if key in first_line:
            raise bad(
                f"organisation_code {code!r} is already on line {first_line[key]} (codes are unique, whatever the case)"
            )
        first_line[key] = start
        for name in ("organisation_name", "organisation_type", "county_code"):
            value = row.get(name, "")
            if _CONTROL.search(value) or len(value) > _MAX_TEXT:
                raise bad(f"{name} holds a line break or control character, or is over {_MAX_TEXT} characters")
        name = row["organisation_name"].strip()
        if not name:
            raise bad(f"organisation {code!r} has no organisation_name")
        active = row.get("active", "").strip().lower()
        if active not in _TRUE + _FALSE:
            raise bad(f"active is {row.get('active')!r}; write true or false")
        county = row.get("county_code", "").strip() or None
        orgs[code] = Organisation(
            code=code,
            name=name,
            type=row.get("organisation_type", "").strip() or None,
            county_code=county.zfill(3) if county and county.isdigit() else county,
            active=active in _TRUE,
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
