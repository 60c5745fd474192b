"""The published reporting tables as the dbt project declares them (docs/interfaces.md §5).

Their one home is dbt_project/models/reporting/_reporting__models.yml. For each model: its columns after
`report_year` (exactly the CSV columns of the pack, with their data types), its key (the columns of its
`unique_combination_of_columns` test, less `report_year`), and `config.meta`: `pack_order`, `title` (en, sw)
and, for an additive table, `adds_up_to` (the fact's total its cells add up to).

The YAML is read as it is, without dbt: a report or a test then needs no build, no dbt target folder and no
dbt import (several seconds). tests/test_dbt_project.py checks that dbt's own parse (the manifest) reads the
same columns, keys and meta, so moving a fact elsewhere in dbt's configuration fails a test, not a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from njia.paths import DBT_PROJECT_DIR

MODELS_YML = DBT_PROJECT_DIR / "models" / "reporting" / "_reporting__models.yml"
YEAR_COLUMN = "report_year"


@dataclass(frozen=True)
class ReportingTable:
    name: str
    columns: tuple[str, ...]  # after report_year: exactly the CSV columns (docs/interfaces.md §5)
    data_types: tuple[str, ...]  # one per column, as the model's contract declares it
    key: tuple[str, ...]  # the columns naming a cell of a year; () for one row per year
    pack_order: int
    title: dict[str, str]  # {"en": ..., "sw": ...}
    adds_up_to: str | None  # all_cases | kenyan_origin_cases; None: non-additive

    @property
    def additive(self) -> bool:
        return self.adds_up_to is not None


# In the "other routes" shape of cases_by_route, the destination of the line for an origin's unlisted routes.
OTHER_ROUTES = "other"


def route_stops(row: dict[str, Any]) -> tuple[str, ...]:
    """A `cases_by_route` line's location codes in order: its origin, transit points, destination."""
    transit = (c for c in (row["transit_codes"] or "").split(";") if c)
    return (row["origin_code"], *transit, row["destination_code"])


def _key(model: dict[str, Any]) -> tuple[str, ...]:
    for test in model.get("data_tests") or ():
        if isinstance(test, dict) and "unique_combination_of_columns" in test:
            combination = test["unique_combination_of_columns"]["arguments"]["combination_of_columns"]
            return tuple(c for c in combination if c != YEAR_COLUMN)
    return ()


def _table(model: dict[str, Any], source: Path) -> ReportingTable:
    name = model["name"]
    meta = (model.get("config") or {}).get("meta") or {}
    columns = [c for c in model["columns"] if c["name"] != YEAR_COLUMN]
    if model["columns"][0]["name"] != YEAR_COLUMN:
        raise ValueError(f"{source}: {name} must start with the column {YEAR_COLUMN}")
    missing = [m for m in ("pack_order", "title") if m not in meta]
    if missing:
        raise ValueError(f"{source}: {name} lacks config.meta {', '.join(missing)}")
    return ReportingTable(
        name=name,
        columns=tuple(c["name"] for c in columns),
        data_types=tuple(c["data_type"] for c in columns),
        key=_key(model),
        pack_order=int(meta["pack_order"]),
        title={"en": meta["title"]["en"], "sw": meta["title"]["sw"]},
        adds_up_to=meta.get("adds_up_to"),
    )


@cache
def load(source: Path = MODELS_YML) -> tuple[ReportingTable, ...]:
    """Every reporting table, in the order of the report pack."""
    with source.open(encoding="utf-8") as fh:
        document = yaml.safe_load(fh)
    tables = sorted((_table(m, source) for m in document["models"]), key=lambda t: t.pack_order)
    orders = [t.pack_order for t in tables]
    if len(set(orders)) != len(orders):
        raise ValueError(f"{source}: two reporting models share a pack_order: {orders}")
    return tuple(tables)


def by_name() -> dict[str, ReportingTable]:
    return {t.name: t for t in load()}


def names() -> tuple[str, ...]:
    return tuple(t.name for t in load())


__all__ = ["MODELS_YML", "ReportingTable", "by_name", "load", "names"]
