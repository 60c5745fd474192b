"""Shared by the portal tests (HTTP and browser): a warehouse with two fictional organisations and one
person in each, and the three kinds of files an organisation sends (accepted, partly accepted, rejected)."""

from __future__ import annotations

import re
from pathlib import Path

from ingest_helpers import HEADER, csv_bytes, grid, new_settings, row, rows, write_registry, xlsx_bytes

from njia.portal import accounts
from njia.settings import Settings

SECRET = "portal-test-secret-not-for-production-0123456789"
PASSWORD = "a long fictional passphrase"
ORGS = ("alpha", "beta", "gamma")
PEOPLE = {"alpha": "officer@alpha.example", "beta": "officer@beta.example", "gamma": "officer@gamma.example"}


def portal_settings(server_home: Path, root: Path, **overrides: object) -> Settings:
    settings = new_settings(server_home, root, portal_secret=SECRET, **overrides)
    write_registry(settings.organisations_path, ORGS)
    for org, email in PEOPLE.items():
        _, link = accounts.add_user(settings, org, email)
        assert accounts.set_password(settings, token_of(link), PASSWORD, "127.0.0.1") is not None
    return settings


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def accepted_csv(period: str = "2020-Q1", n: int = 3, start: int = 11) -> bytes:
    return csv_bytes(grid(rows(n, start=start, reporting_period=period)))


def partly_accepted_xlsx(period: str = "2020-Q2") -> bytes:
    """Four rows, one with an unknown county (row 3) and one with a count that is not a number (row 5)."""
    records = rows(4, start=20, reporting_period=period)
    records[1]["origin_county"] = "Atlantis"
    records[3]["cases_estimated"] = "many"
    return xlsx_bytes({"routes": grid(records)})


def rejected_csv() -> bytes:
    """No `cases_estimated` column: missing_columns."""
    header = [h for h in HEADER if h != "cases_estimated"]
    return csv_bytes(grid([row(reporting_period="2020-Q3")], header))


def thousand_rows_csv(period: str = "2021") -> bytes:
    return csv_bytes(grid(rows(1000, start=1, reporting_period=period)))
