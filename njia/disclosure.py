"""Disclosure control across the published tables of a year: the attacker's audit, and joint suppression.

Small-cell suppression inside each table (dbt's `suppress_small_cells` macro) is not enough: the tables of a
year are linked (a route has one origin, one destination country and its transit points; counties add up
to provinces; a province's destinations and types add up to it; each split of cases_tip adds up to its type;
the additive tables add up to the year's total), so a withheld cell can be worked out by
solving all published figures together. This module plays that attacker and protects against it.

- `audit_year` builds the attacker's system from the published cells only (plus the relations above, whole
  numbers, and "a withheld cell is at least 1") and, for every withheld cell, the smallest and largest
  value consistent with it (integer programs, HiGHS through scipy). The rule: hi - lo >= k for every
  withheld cell, so no withheld count can be pinned inside a range as narrow as the suppression threshold.
- `protect_year` withholds extra cells, deterministically, until the audit passes: for each failing cell,
  the smallest published cell among the equations that pin it (from the linear program's duals), then the
  audit again.
- Solving cost: each system is built once per year (a withheld set only drops rows), and the published cells
  of one unknown are substituted before HiGHS sees it. Joint suppression asks the linear relaxation first,
  which bounds the integer interval from outside: a relaxation narrower than k proves a failure, one that
  stays inside an end proves the end unmoved; only the integer program proves a pass or a widening, and
  `audit_year` solves integer programs only.
- `protect_schema` / `audit_schema` do that on every year of a reporting schema; `njia build` calls them
  between dbt's build and the publication swap, and the report pack audits what it is about to write.

Years share no cells (each year's tables are sums over that year's route rows only), so each year is
audited on its own; the report page shows every year up to the report's, and each must pass.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from psycopg import sql
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from njia import reporting_tables

# The published tables the attacker sees, in the order their cells are ranked, each with the columns that name
# a cell (its key, from dbt's reporting models: njia.reporting_tables).
_RANKED = (
    "cases_by_route",
    "cases_by_origin_county",
    "cases_by_province",
    "cases_by_destination_country",
    "cases_by_transit_point",
    "cases_by_exploitation_type",
    "cases_by_province_destination",
    "cases_by_province_exploitation",
    "cases_tip",
    "cases_by_carrier",
    "cases_by_recruitment_method",
    "cases_by_means_of_control",
    "cases_by_province_carrier",
    "cases_by_province_recruitment",
    "coverage",
)
KEYS: Mapping[str, tuple[str, ...]] = {name: reporting_tables.by_name()[name].key for name in _RANKED}
# "Cases on routes involving X" tables whose items are not published per route: a cell is at least 1 and at
# most the year's total, and nothing more follows (a row may list several items, or none).
LISTS_NOT_PER_ROUTE = ("cases_by_carrier", "cases_by_recruitment_method", "cases_by_means_of_control")
# The same per former province of origin: a cell is at least 1 and at most its province's cases.
PROVINCE_LISTS = ("cases_by_province_carrier", "cases_by_province_recruitment")
# Cells that joint suppression may withhold; the year's total stays published (it is withheld only when
# small, by dbt), and the list tables link to nothing but it.
WITHHOLDABLE = (
    "cases_by_route",
    "cases_by_origin_county",
    "cases_by_province",
    "cases_by_destination_country",
    "cases_by_transit_point",
    "cases_by_exploitation_type",
    "cases_by_province_destination",
    "cases_by_province_exploitation",
    "cases_tip",
)
# cases_tip's breakdowns: three splits of a type's cases that each add up to it, and the child cases (at most it).
TIP_SPLITS = (("female", "male", "sex_not_stated"), ("kenyan_origin", "foreign_origin"), ("in_kenya", "abroad"))
TIP_BOUNDED = ("child",)
# The destination of the route table's line for an origin's unlisted routes ("other routes" shape).
OTHER_ROUTES = reporting_tables.OTHER_ROUTES
_TABLE_ORDER = {name: i for i, name in enumerate(KEYS)}
_UNBOUNDED = 10**7  # a variable's upper bound when the year's total is withheld; a hi this large means "none"
MAX_ROUNDS = 200  # joint suppression adds at least one cell a round; a bounded loop whatever the input
# One integer program's time limit: a solve that does not finish stops the audit, and nothing is published.
SOLVE_SECONDS = 30.0
_CONTRADICTION = (
    "the published tables contradict each other (no counts fit them all): "
    "rebuild the reporting tables before publishing"
)


class DisclosureError(RuntimeError):
    """The published tables could not be audited or protected; the message says why."""


@dataclass(frozen=True, order=True)
class Cell:
    table: str
    key: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.table}[{' | '.join(self.key)}]" if self.key else f"{self.table}[total]"

    @property
    def sort_key(self) -> tuple[int, tuple[str, ...]]:
        return (_TABLE_ORDER[self.table], self.key)


@dataclass(frozen=True)
class Interval:
    """What the attacker can tell of one withheld cell: lo <= value <= hi (hi None: no upper bound)."""

    cell: Cell
    lo: int
    hi: int | None
    pinned_by: tuple[str, ...] = ()

    def width(self) -> float:
        return math.inf if self.hi is None else self.hi - self.lo

    def describe(self) -> str:
        hi = "unbounded" if self.hi is None else str(self.hi)
        why = f"; pinned by {', '.join(self.pinned_by)}" if self.pinned_by else ""
        return f"{self.cell} lies in [{self.lo}, {hi}]{why}"


@dataclass(frozen=True)
class AuditResult:
    year: int
    k: int
    intervals: tuple[Interval, ...]
    seconds: float = 0.0

    @property
    def failures(self) -> tuple[Interval, ...]:
        return tuple(i for i in self.intervals if i.width() < self.k)

    @property
    def ok(self) -> bool:
        return not self.failures

    def describe(self, limit: int = 5) -> str:
        if self.ok:
            return f"{self.year}: all {len(self.intervals)} withheld cells protected (hi - lo >= {self.k})"
        shown = "; ".join(i.describe() for i in self.failures[:limit])
        more = f"; and {len(self.failures) - limit} more" if len(self.failures) > limit else ""
        return (
            f"{self.year}: {len(self.failures)} of {len(self.intervals)} withheld cells can be worked out "
            f"to a range narrower than k = {self.k} from the published tables: {shown}{more}"
        )


@dataclass
class Protection:
    """What joint suppression did to one year: the cells it withheld beyond dbt's, and their cases."""

    year: int
    extra: list[tuple[Cell, int]] = field(default_factory=list)

    @property
    def extra_cases(self) -> int:
        return sum(v for _, v in self.extra)


# --------------------------------------------------------------------------------------------- the system


def _country_of(location_code: str) -> str:
    kind, _, rest = location_code.partition(":")
    if kind == "county":
        return "KE"
    if kind == "country" and rest:
        return rest
    raise DisclosureError(
        f"a route ends at {location_code!r}, which is neither a county nor a country: the "
        "audit cannot link it to cases_by_destination_country"
    )


def _cell_rows(rows: Mapping[str, Sequence[Mapping[str, Any]]], table: str) -> list[tuple[Cell, int | None]]:
    out = []
    for r in rows.get(table, ()):
        value_column = "cases_total" if table == "coverage" else "cases"
        value = r[value_column]
        withheld = value is None if table == "coverage" else bool(r["suppressed"])
        if withheld != (value is None):
            raise DisclosureError(f"{table}: a row is marked withheld and carries a count, or the reverse: {r}")
        out.append(
            (
                Cell(table, tuple("" if r[c] is None else str(r[c]) for c in KEYS[table])),
                None if withheld else int(value),
            )
        )
    return out


@dataclass
class _System:
    """The attacker's unknowns and equations for one year.

    Unknowns: one per route cell (the finest grain; every table of origins and destinations is a sum of routes),
    one per exploitation type, per province and type, per cell of cases_tip and of a list table, linked to the
    routes by the relations the attacker knows (a province's types add up to its routes, a type's origin split
    to the type, the types' in-Kenya cases to the routes into Kenya, ...). Every published cell is a sum of
    unknowns; a visible one is an equation, a withheld one an unknown sum at least 1.
    """

    n: int
    cells: dict[Cell, list[int]]
    values: dict[Cell, int | None]
    links: list[tuple[list[int], list[int], str]]  # sum(a) - sum(b) == 0 when the str is "=", <= 0 for "<="
    total: int | None
    zero_ok: set[int] = field(default_factory=set)
    floors: dict[int, int] = field(default_factory=dict)

    def bounds(self, withheld: set[Cell]) -> tuple[np.ndarray, np.ndarray]:
        """Every unknown is a cell of at least 1 (a share of a remainder may be 0), at most the total; a
        published cell of one unknown fixes it, whichever table published it."""
        lb = self._floor.copy()
        total = None if Cell("coverage", ()) in withheld else self.total
        ub = np.full(self.n, float(total if total is not None else _UNBOUNDED))
        for cell, i, value in self._fixed:
            if cell not in withheld:
                lb[i] = ub[i] = value
        return lb, ub

    def matrices(self, withheld: set[Cell]) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, list[Cell | str]]:
        """Rows: one equation per visible aggregate cell, then the links; with their names for explanations.
        The full system is built once and a withheld set only drops rows, so every round and trial reuses it."""
        a, lo, hi, names = self._full
        keep = np.fromiter((not isinstance(n, Cell) or n not in withheld for n in names), bool, len(names))
        rows = np.flatnonzero(keep)
        return a[rows], lo[rows], hi[rows], [names[r] for r in rows]

    @cached_property
    def _floor(self) -> np.ndarray:
        lb = np.ones(self.n)
        lb[sorted(self.zero_ok)] = 0.0
        for i, floor in self.floors.items():
            lb[i] = floor
        return lb

    @cached_property
    def _fixed(self) -> list[tuple[Cell, int, int]]:
        return [
            (cell, idx[0], value)
            for cell, idx in self.cells.items()
            if len(idx) == 1 and (value := self.values[cell]) is not None
        ]

    @cached_property
    def _full(self) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, list[Cell | str]]:
        data: list[float] = []
        rows: list[int] = []
        cols: list[int] = []
        lo: list[float] = []
        hi: list[float] = []
        names: list[Cell | str] = []
        for cell in sorted(self.cells, key=lambda c: c.sort_key):
            idx = self.cells[cell]
            if self.values[cell] is None or len(idx) == 1:  # single-unknown cells are bounds, not rows
                continue
            r = len(lo)
            rows += [r] * len(idx)
            cols += idx
            data += [1.0] * len(idx)
            lo.append(self.values[cell])
            hi.append(self.values[cell])
            names.append(cell)
        for plus, minus, kind in self.links:
            r = len(lo)
            rows += [r] * (len(plus) + len(minus))
            cols += plus + minus
            data += [1.0] * len(plus) + [-1.0] * len(minus)
            lo.append(0.0 if kind == "=" else -np.inf)
            hi.append(0.0)
            names.append(kind)
        a = sparse.csr_matrix((data, (rows, cols)), shape=(len(lo), self.n))
        return a, np.array(lo, dtype=float), np.array(hi, dtype=float), names


def _system(rows: Mapping[str, Sequence[Mapping[str, Any]]], route_floor: int) -> _System:
    cells: dict[Cell, list[int]] = {}
    values: dict[Cell, int | None] = {}
    n = 0

    def unknowns(table: str) -> list[tuple[Cell, int]]:
        nonlocal n
        out = []
        for cell, value in _cell_rows(rows, table):
            cells[cell] = [n]
            values[cell] = value
            out.append((cell, n))
            n += 1
        return out

    routes = unknowns("cases_by_route")
    by_origin: dict[str, list[int]] = defaultdict(list)
    by_country: dict[str, list[int]] = defaultdict(list)
    by_transit: dict[str, list[int]] = defaultdict(list)
    by_origin_country: dict[tuple[str, str], list[int]] = defaultdict(list)
    remainders: list[int] = []
    remainder_origin: dict[int, str] = {}
    floors: dict[int, int] = {}
    for cell, i in routes:
        origin, transit, destination = cell.key
        by_origin[origin].append(i)
        if destination == OTHER_ROUTES:
            remainders.append(i)
            remainder_origin[i] = origin
            continue
        floors[i] = route_floor  # a listed route has at least k cases, withheld or not: the attacker knows it
        by_country[_country_of(destination)].append(i)
        by_origin_country[(origin, _country_of(destination))].append(i)
        for place in sorted({p for p in transit.split(";") if p}):
            by_transit[place].append(i)
    all_routes = [i for _, i in routes]
    kenyan_routes = [i for origin, idx in by_origin.items() if origin.startswith("county:") for i in idx]
    links: list[tuple[list[int], list[int], str]] = []

    def link(plus: list[int], minus: list[int], kind: str = "=") -> None:
        if plus or minus:
            links.append((plus, minus, kind))

    zero_ok: set[int] = set()
    if remainders:
        # The "other routes" shape: an origin's remaining routes are not listed, so the attacker knows their
        # cases (one unknown per origin) but not where they went or passed. What still holds: each origin's
        # remainder splits over the published destination countries (shares >= 0), and the remainders' cases
        # through a transit point lie between 0 and all the remainders' cases (a route may pass any points).
        countries = [r["country_code"] for r in rows.get("cases_by_destination_country", ())]
        for i in remainders:
            shares = list(range(n, n + len(countries)))
            n += len(countries)
            zero_ok.update(shares)
            links.append(([i], shares, "="))
            for country, share in zip(countries, shares, strict=True):
                by_country[country].append(share)
                by_origin_country[(remainder_origin[i], country)].append(share)
        for transit in sorted({r["transit_code"] for r in rows.get("cases_by_transit_point", ())}):
            by_transit[transit].append(n)
            zero_ok.add(n)
            links.append(([n], remainders, "<="))
            n += 1

    def aggregate(table: str, members: Mapping[Any, list[int]], code: Any = lambda key: key[0]) -> None:
        for cell, value in _cell_rows(rows, table):
            idx = members.get(code(cell.key))
            if not idx:
                raise DisclosureError(
                    f"{cell} is published but no route of cases_by_route belongs to it: the "
                    "published tables do not fit together"
                )
            cells[cell] = idx
            values[cell] = value

    aggregate("cases_by_origin_county", by_origin, lambda key: f"county:{key[0]}")
    province_of = {r["county_code"]: r["former_province"] for r in rows.get("cases_by_origin_county", ())}
    by_province: dict[str, list[int]] = defaultdict(list)
    for county, province in province_of.items():
        by_province[province or ""] += by_origin.get(f"county:{county}", [])
    aggregate("cases_by_province", by_province)
    # A province's destinations: its counties' routes by destination country (and their remainders' shares).
    by_province_country: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (origin, country), idx in by_origin_country.items():
        if origin.startswith("county:") and origin[7:] in province_of:
            by_province_country[(province_of[origin[7:]] or "", country)] += idx
    aggregate("cases_by_province_destination", by_province_country, lambda key: (key[0], key[1]))
    aggregate("cases_by_destination_country", by_country)
    aggregate("cases_by_transit_point", by_transit)
    coverage = _cell_rows(rows, "coverage")
    total = None
    for cell, value in coverage:
        cells[cell] = all_routes
        values[cell] = value
        total = value
    types = unknowns("cases_by_exploitation_type")
    if types:
        links.append(([i for _, i in types], all_routes, "="))
    type_of = {cell.key[0]: i for cell, i in types}
    per_type: dict[str, list[int]] = defaultdict(list)
    if "cases_by_province_exploitation" in rows:
        # A province's types add up to its routes; a type's provinces to its Kenyan-origin cases (below).
        per_province: dict[str, list[int]] = defaultdict(list)
        for cell, i in unknowns("cases_by_province_exploitation"):
            per_province[cell.key[0]].append(i)
            per_type[cell.key[1]].append(i)
        for province in sorted(set(by_province) | set(per_province)):
            link(per_province.get(province, []), by_province.get(province, []))
    if "cases_tip" in rows:
        tip = {cell.key: i for cell, i in unknowns("cases_tip")}
        for code in sorted(set(type_of) | {t for t, _ in tip}):
            cases = [type_of[code]] if code in type_of else []
            for split in TIP_SPLITS:
                link([tip[(code, b)] for b in split if (code, b) in tip], cases)
            for b in TIP_BOUNDED:
                if (code, b) in tip:
                    link([tip[(code, b)]], cases, "<=")
            if "cases_by_province_exploitation" in rows:
                kenyan = [tip[(code, "kenyan_origin")]] if (code, "kenyan_origin") in tip else []
                link(kenyan, per_type.get(code, []))
        link([i for (_, b), i in tip.items() if b == "kenyan_origin"], kenyan_routes)
        link([i for (_, b), i in tip.items() if b == "in_kenya"], by_country.get("KE", []))
    for table in LISTS_NOT_PER_ROUTE:
        for _, i in unknowns(table):
            links.append(([i], all_routes, "<="))
    for table in PROVINCE_LISTS:
        for cell, i in unknowns(table):
            if not by_province.get(cell.key[0]):
                raise DisclosureError(
                    f"{cell} is published but no route of cases_by_route starts in that province: the "
                    "published tables do not fit together"
                )
            links.append(([i], by_province[cell.key[0]], "<="))
    return _System(n, cells, values, links, total, zero_ok, floors)


# --------------------------------------------------------------------------------------------- the audit


def _solve(
    system: _System, withheld: set[Cell], targets: Iterable[Cell], *, integer: bool, explain: bool = False
) -> dict[Cell, Interval]:
    model = _Model(system, withheld)
    out: dict[Cell, Interval] = {}
    for cell in targets:
        pins: list[str] = []
        low = model.bound(cell, 1.0, integer=integer)
        high = model.bound(cell, -1.0, integer=integer)
        if explain:
            for sign in (1.0, -1.0):
                pins += _pins(system, withheld, *model.system, sign, model.objective(cell), model.lb, model.ub)
        out[cell] = Interval(cell, low, None if high >= _UNBOUNDED else high, tuple(dict.fromkeys(pins)))
    return out


class _Model:
    """The attacker's system with one set of cells withheld, built once for all the solves on it.

    The solver sees only the free unknowns: a published single-unknown cell fixes its unknown, and most are
    published, so they are substituted into the equations first (exact: whole numbers), which makes each
    solve several times faster than handing HiGHS the whole system to presolve again.
    """

    def __init__(self, system: _System, withheld: set[Cell]) -> None:
        self.cells = system.cells
        self.lb, self.ub = system.bounds(withheld)
        self.system = system.matrices(withheld)
        a, lo, hi, _ = self.system
        fixed = self.lb == self.ub
        self.free = np.flatnonzero(~fixed)
        self.column = np.full(system.n, -1)
        self.column[self.free] = np.arange(self.free.size)
        shift = a[:, np.flatnonzero(fixed)] @ self.lb[fixed] if a.shape[0] else np.zeros(0)
        reduced = a[:, self.free].tocsr()
        used = np.diff(reduced.indptr) > 0
        lo, hi = lo - shift, hi - shift
        if np.any(lo[~used] > 1e-9) or np.any(hi[~used] < -1e-9):
            raise DisclosureError(_CONTRADICTION)
        self.constraints = LinearConstraint(reduced[used], lo[used], hi[used]) if used.any() else None
        self.bounds = Bounds(self.lb[self.free], self.ub[self.free])

    def objective(self, cell: Cell) -> np.ndarray:
        c = np.zeros(self.lb.size)
        c[self.cells[cell]] = 1.0
        return c

    def bound(self, cell: Cell, sign: float, *, integer: bool) -> int:
        """The cell's smallest (sign 1) or largest (sign -1) value: exact by the integer program; by the
        linear relaxation an outer bound (the integer one is never below its low nor above its high)."""
        idx = np.asarray(self.cells[cell])
        columns = self.column[idx]
        constant = float(self.lb[idx[columns < 0]].sum())
        if columns.max() < 0:
            value = constant
        else:
            c = np.zeros(self.free.size)
            c[columns[columns >= 0]] = sign
            res = milp(
                c,
                constraints=self.constraints,
                integrality=np.ones(self.free.size) if integer else None,
                bounds=self.bounds,
                options={"presolve": True, "mip_rel_gap": 0.0, "time_limit": SOLVE_SECONDS},
            )
            if res.status == 2:
                raise DisclosureError(_CONTRADICTION)
            if res.status != 0 or res.x is None:
                raise DisclosureError(f"the audit's solver stopped on {cell}: {res.message}")
            value = constant + sign * float(res.fun)
        return math.ceil(value - 1e-6) if sign > 0 else math.floor(value + 1e-6)


def _width_at_least(model: _Model, cell: Cell, k: int) -> bool:
    """hi - lo >= k by the integer programs, which run only when the relaxation's wider interval leaves room:
    a relaxation narrower than k proves the integer interval narrower too, at the price of two linear solves."""
    if model.bound(cell, -1.0, integer=False) - model.bound(cell, 1.0, integer=False) < k:
        return False
    hi = model.bound(cell, -1.0, integer=True)
    return hi >= _UNBOUNDED or hi - model.bound(cell, 1.0, integer=True) >= k


def _widens(model: _Model, current: Interval) -> bool:
    """Whether withholding (the model's extra cell) widens `current`: it only drops constraints, so the new
    interval contains the old and widens iff one end moves out; a relaxation that stays inside an end proves
    that end unmoved without the integer program."""
    cell = current.cell
    hi = math.inf if current.hi is None else current.hi
    if model.bound(cell, -1.0, integer=False) > hi and model.bound(cell, -1.0, integer=True) > hi:
        return True
    return model.bound(cell, 1.0, integer=False) < current.lo and model.bound(cell, 1.0, integer=True) < current.lo


def _split(a: sparse.csr_matrix, lo: np.ndarray, hi: np.ndarray) -> dict[str, Any]:
    eq = np.flatnonzero(lo == hi)
    ub = np.flatnonzero(lo != hi)
    out: dict[str, Any] = {}
    if eq.size:
        out["A_eq"], out["b_eq"] = a[eq], hi[eq]
    if ub.size:
        out["A_ub"], out["b_ub"] = a[ub], hi[ub]
    return out


def _pins(system: _System, withheld: set[Cell], a, lo, hi, names, sign, c, lb, ub) -> list[str]:
    """The published cells whose equations hold the bound: the nonzero duals of the linear relaxation."""
    lp = linprog(sign * c, bounds=np.column_stack([lb, ub]), method="highs", **_split(a, lo, hi))
    if lp.status != 0:
        return []
    eq = np.flatnonzero(lo == hi)
    out = []
    for j, dual in zip(eq, lp.eqlin.marginals, strict=True):
        name = names[j]
        if abs(dual) > 1e-9:
            out.append(f"{name} = {int(hi[j])}" if isinstance(name, Cell) else "the additive tables' total")
    # A visible single-unknown cell is a fixed bound; its reduced cost says whether it pins.
    for cell, idx in system.cells.items():
        if (
            cell not in withheld
            and len(idx) == 1
            and lb[idx[0]] == ub[idx[0]]
            and abs(lp.lower.marginals[idx[0]]) + abs(lp.upper.marginals[idx[0]]) > 1e-9
        ):
            out.append(f"{cell} = {int(lb[idx[0]])}")
    return out


def withheld_cells(rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> set[Cell]:
    return {cell for table in KEYS for cell, value in _cell_rows(rows, table) if value is None}


def audit_year(
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    year: int,
    k: int,
    *,
    integer: bool = True,
    explain: bool = True,
    route_floor: int | None = None,
) -> AuditResult:
    """The attacker's interval of every withheld cell of one year's published tables (`rows`: table -> rows
    with the key columns, `cases`/`cases_total` and `suppressed`, as the pack reads them).

    `route_floor`: the fewest cases a listed route has (None: k, as cases_by_route lists only routes of at
    least k cases and puts the rest in one line per origin; 1 audits a table that lists every route).
    """
    started = time.monotonic()
    if k <= 1:
        return AuditResult(year, k, (), 0.0)
    system = _system(rows, k if route_floor is None else route_floor)
    withheld = withheld_cells(rows)
    order = sorted(withheld, key=lambda c: c.sort_key)
    intervals = _solve(system, withheld, order, integer=integer)
    if explain:
        failing = [c for c in order if intervals[c].width() < k]
        intervals.update(_solve(system, withheld, failing, integer=integer, explain=True))
    return AuditResult(year, k, tuple(intervals[c] for c in order), time.monotonic() - started)


# --------------------------------------------------------------------------------------------- protection


def protect_year(
    rows: Mapping[str, Sequence[Mapping[str, Any]]], year: int, k: int, *, route_floor: int | None = None
) -> Protection:
    """Withhold extra cells of one year until the audit passes; returns them (their values, for the tally).

    Deterministic: cells are visited in table order, and among the published cells whose equations pin a
    failing cell (nonzero duals), the smallest is withheld first (ties: table order, then key), kept only
    if it widens the failing interval. The linear relaxation steers; the integer audit decides.
    """
    out = Protection(year)
    if k <= 1:
        return out
    system = _system(rows, k if route_floor is None else route_floor)
    withheld = withheld_cells(rows)
    # Withholding a cell only drops constraints, so a withheld cell's interval only widens: a cell that passed
    # once passes in every later round and is not solved again (the audit afterwards solves them all).
    passed: set[Cell] = set()
    for _ in range(MAX_ROUNDS):
        order = sorted(withheld - passed, key=lambda c: c.sort_key)
        model = _Model(system, withheld)
        passed |= {c for c in order if _width_at_least(model, c, k)}
        failing = [c for c in order if c not in passed]
        if not failing:
            return out
        for target in failing:
            current = _solve(system, withheld, [target], integer=True, explain=True)[target]
            if current.width() >= k:
                continue
            candidates = _candidates(system, withheld, current)
            chosen = None
            for cand in candidates:
                if _widens(_Model(system, withheld | {cand}), current):
                    chosen = cand
                    break
            if chosen is None and candidates:
                # No single cell widens it (another table re-derives the one withheld): withhold the smallest
                # pinning cell anyway; the next round finds that cell pinned and withholds its partner.
                chosen = candidates[0]
            if chosen is None:
                raise DisclosureError(
                    f"{year}: no published cell is linked to {current.describe()}; the year "
                    "cannot be published in this shape"
                )
            out.extra.append((chosen, int(system.values[chosen])))  # type: ignore[arg-type]
            withheld.add(chosen)
    raise DisclosureError(f"{year}: joint suppression did not settle within {MAX_ROUNDS} rounds")


def _candidates(system: _System, withheld: set[Cell], interval: Interval) -> list[Cell]:
    """Published cells that can be withheld, pinning ones first, each group smallest first."""
    pinning = {p.split(" = ")[0] for p in interval.pinned_by}
    target = set(system.cells[interval.cell])
    linked = []
    for cell, idx in system.cells.items():
        if cell in withheld or cell.table not in WITHHOLDABLE or system.values[cell] is None:
            continue
        if str(cell) in pinning or target & set(idx):
            linked.append(cell)
    if not linked:
        # Nothing else left to withhold (a year of very few cases): the year's total goes, as a last resort.
        total = Cell("coverage", ())
        if total in system.cells and total not in withheld and system.values[total] is not None:
            return [total]
    return sorted(linked, key=lambda c: (str(c) not in pinning, system.values[c], c.sort_key))


# --------------------------------------------------------------------------------------------- the database


def read_years(conn: Any, schema: str) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Every year's published rows of the reporting tables in `schema`, as the pack reads them."""
    years: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: {t: [] for t in KEYS})
    for table, key in KEYS.items():
        value = ["cases_total"] if table == "coverage" else ["cases", "suppressed"]
        columns = ["report_year", *key, *value, *(["former_province"] if table == "cases_by_origin_county" else [])]
        query = sql.SQL("select {} from {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(schema, table)
        )
        for row in conn.execute(query):
            record = dict(zip(columns, row, strict=True))
            years[int(record.pop("report_year"))][table].append(record)
    return dict(sorted(years.items()))


def protect_schema(conn: Any, schema: str, k: int) -> list[Protection]:
    """Joint suppression on every year of `schema`, written back (cases null, suppressed true)."""
    done = []
    for year, rows in read_years(conn, schema).items():
        protection = protect_year(rows, year, k)
        for cell, _ in protection.extra:
            key = KEYS[cell.table]
            where = sql.SQL(" and ").join(
                sql.SQL("{}::text = %s").format(sql.Identifier(c)) for c in ("report_year", *key)
            )
            withhold = "cases_total = null" if cell.table == "coverage" else "cases = null, suppressed = true"
            conn.execute(
                sql.SQL("update {} set " + withhold + " where ").format(sql.Identifier(schema, cell.table)) + where,
                (str(year), *cell.key),
            )
        done.append(protection)
    return done


def audit_schema(conn: Any, schema: str, k: int) -> list[AuditResult]:
    return [audit_year(rows, year, k) for year, rows in read_years(conn, schema).items()]


__all__ = [
    "KEYS",
    "AuditResult",
    "Cell",
    "DisclosureError",
    "Interval",
    "Protection",
    "audit_schema",
    "audit_year",
    "protect_schema",
    "protect_year",
    "read_years",
    "withheld_cells",
]
