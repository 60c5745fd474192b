"""The demo's oracle: what the platform must make of a generated inbox, derived from the generator's manifest
by the rules of docs/contract.md §5 (rows in force) and §8 (counting), written again here on purpose, in
plain Python, so the tests check dbt's implementation against an independent one."""

from __future__ import annotations

from collections import Counter

from njia_demo.generator import LIST_FIELDS, DemoManifest


def rows_in_force(manifest: DemoManifest) -> list[dict]:
    """docs/contract.md §5: per (organisation, period), the rows of the latest file loaded for it."""
    latest: dict[tuple[str, str], list[dict]] = {}
    for f in manifest.files:
        if f.expected_status not in ("accepted", "accepted_with_errors"):
            continue
        by_period: dict[str, list[dict]] = {p: [] for p in f.periods}
        for row in f.rows:
            by_period[row["reporting_period"]].append(row)
        for period, rows in by_period.items():
            latest[(f.organisation_code, period)] = rows
    return [row for key in sorted(latest) for row in latest[key]]


def cases_total(manifest: DemoManifest, year: int | None = None) -> int:
    return sum(r["cases_estimated"] for r in rows_in_force(manifest) if year is None or r["period_start"].year == year)


def cases_by(manifest: DemoManifest, column: str, year: int | None = None) -> Counter:
    """Cases in force by one column; list columns count a row once per distinct item (§8)."""
    out: Counter = Counter()
    for r in rows_in_force(manifest):
        if year is not None and r["period_start"].year != year:
            continue
        value = r[column]
        items = dict.fromkeys(value.split(";")) if column in LIST_FIELDS and value else [value]
        for item in items:
            out[item] += r["cases_estimated"]
    return out
