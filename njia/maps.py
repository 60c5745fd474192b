"""The report page's two maps, as inline SVG drawn from the published (suppressed) reporting tables only.

- `county_map`: Kenya's 47 counties shaded by the cases of routes starting there (`cases_by_origin_county`);
  a withheld county is hatched and says "withheld", a county without a row says "none reported".
- `route_map`: the largest published routes of `cases_by_route` as lines from the origin through the transit
  points to the destination, over the countries of the region the routes cross; width by cases.

Geodata ships in njia/geo (README there: sources, licences, projection). No map library, tile or font: the
page stays self-contained under its CSP. Places are located by their location codes (docs/contract.md §3.2):
counties by the centroid of their shape, countries by a representative point, airports and border points by
the coordinates in their code lists. A code without coordinates is left out of the drawing, never an error.
Output is deterministic: the same rows give the same bytes.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from njia import charts
from njia.paths import SEEDS_DIR
from njia.place_names import country_names
from njia.reporting_tables import OTHER_ROUTES, route_stops

GEO_DIR = Path(__file__).with_name("geo")

# The county SVG is plate carrée (njia/geo/README.md): x = (lon - 33.909) * 57.15, y = (5.431 - lat) * 57.24.
_SVG_LON0, _SVG_KX, _SVG_LAT0, _SVG_KY = 33.909, 57.15, 5.431, 57.24

# Sequential scale of the county map (light to dark teal, the page's accent) and the states that are no count.
RAMP = ("#d5efe9", "#9fd8cc", "#5cb8aa", "#1f8a7f", "#0b4f49")
NONE_FILL = "#f7f8f9"
HATCH = f"repeating-linear-gradient(45deg,{charts.WITHHELD} 0 1.5px,#fff 1.5px 4px)"  # the legend's swatch
SEA, LAND, KENYA_LAND, DEST_LAND = "#eef4f8", "#e1e6ea", "#cfd8de", "#f3e3c8"
TOP_ROUTES = 10
ROUTE_MAP_WIDTH = 560
LABEL_SIZE = 14
# On a phone the route map is drawn at half its width or less, so the page's CSS scales each country label up
# (up to this factor, about its anchor); labels are placed and kept inside the map at that size, so that
# scaled they still overlap no other label and are not cut at the map's edge.
PHONE_LABEL_SCALE = 1.7
ROUTE_GAP = 1.0  # between the lines of routes that share a leg, side by side

Point = tuple[float, float]
Ring = list[Point]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1

TEXT = {
    "withheld": charts.WITHHELD_TEXT,
    "none": {"en": "none reported", "sw": "hakuna kilichoripotiwa"},
    "upto": {"en": "up to {hi}", "sw": "hadi {hi}"},
    "range": {"en": "{lo}–{hi}", "sw": "{lo}–{hi}"},
    "cases": {"en": "{n} cases", "sw": "visa {n}"},
    "origin": {"en": "origin (county)", "sw": "asili (kaunti)"},
    "transit": {"en": "transit point", "sw": "kituo cha kupitia"},
    "destination": {"en": "country of destination", "sw": "nchi ya mwisho"},
}


def _text(key: str, **kw: Any) -> dict[str, str]:
    return {lang: t.format(**kw) for lang, t in TEXT[key].items()}


# --------------------------------------------------------------------------------------------- geometry


def clip_ring(ring: Sequence[Point], box: Box) -> Ring:
    """The part of a polygon ring inside an axis-aligned box (Sutherland-Hodgman): regional maps draw only
    what they show, and a ring cut at the box's edge keeps its area closed."""
    x0, y0, x1, y1 = box
    edges = (
        (lambda p: p[0] >= x0, lambda a, b: _cut_x(a, b, x0)),
        (lambda p: p[0] <= x1, lambda a, b: _cut_x(a, b, x1)),
        (lambda p: p[1] >= y0, lambda a, b: _cut_y(a, b, y0)),
        (lambda p: p[1] <= y1, lambda a, b: _cut_y(a, b, y1)),
    )
    out = list(ring)
    for inside, cut in edges:
        points, out = out, []
        for i, cur in enumerate(points):
            prev = points[i - 1]
            if inside(cur):
                if not inside(prev):
                    out.append(cut(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cut(prev, cur))
    return out


def _cut_x(a: Point, b: Point, x: float) -> Point:
    return x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0])


def _cut_y(a: Point, b: Point, y: float) -> Point:
    return a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y


def centroid(rings: Iterable[Sequence[Point]]) -> tuple[float, Point]:
    """(area, area-weighted centroid) of rings in plane coordinates (the shoelace formula)."""
    area = cx = cy = 0.0
    for ring in rings:
        for (xa, ya), (xb, yb) in zip(ring, [*ring[1:], ring[0]], strict=True):
            cross = xa * yb - xb * ya
            area += cross
            cx += (xa + xb) * cross
            cy += (ya + yb) * cross
    if area == 0:
        raise ValueError("a shape without area has no centroid")
    return abs(area) / 2, (cx / (3 * area), cy / (3 * area))


def contains(rings: Iterable[Sequence[Point]], p: Point) -> bool:
    """Even-odd point-in-polygon over all rings."""
    inside = False
    for ring in rings:
        for (xa, ya), (xb, yb) in zip(ring, [*ring[1:], ring[0]], strict=True):
            if (ya > p[1]) != (yb > p[1]) and p[0] < xa + (xb - xa) * (p[1] - ya) / (yb - ya):
                inside = not inside
    return inside


def simplify(points: Sequence[Point], tol: float) -> Ring:
    """Douglas-Peucker keeping both ends (iterative): drops the points within `tol` of the line kept."""
    keep = {0, len(points) - 1}
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (xa, ya), (xb, yb) = points[a], points[b]
        length = ((xb - xa) ** 2 + (yb - ya) ** 2) ** 0.5
        best, far = -1.0, -1
        for i in range(a + 1, b):
            x, y = points[i]
            d = (
                abs((xb - xa) * (ya - y) - (xa - x) * (yb - ya)) / length
                if length
                else ((x - xa) ** 2 + (y - ya) ** 2) ** 0.5
            )
            if d > best:
                best, far = d, i
        if far >= 0 and best > tol:
            keep.add(far)
            stack += [(a, far), (far, b)]
    return [points[i] for i in sorted(keep)]


def _path_d(rings: Iterable[Sequence[Point]], unit: float = 0.1) -> str:
    """Compact SVG path data in integer multiples of `unit` (drawn under `scale(unit)`): absolute start,
    relative steps, repeated points dropped."""
    parts = []
    for ring in rings:
        pts = [(round(x / unit), round(y / unit)) for x, y in ring]
        steps = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(pts, pts[1:], strict=False) if a != b]
        if len(steps) < 2:
            continue
        nums = "".join(f"{' ' if i and n >= 0 else ''}{n}" for i, n in enumerate(v for s in steps for v in s))
        parts.append(f"M{pts[0][0]} {pts[0][1]}l{nums}z")
    return "".join(parts)


# --------------------------------------------------------------------------------------------- geodata


@dataclass(frozen=True)
class County:
    code: str  # constitutional code 001-047, as the code list and the reporting tables hold it
    svg_id: str
    rings: tuple[tuple[Point, ...], ...]  # in the county SVG's units

    @property
    def lonlat(self) -> Point:
        x, y = centroid(self.rings)[1]
        return x / _SVG_KX + _SVG_LON0, _SVG_LAT0 - y / _SVG_KY


_PATH_TOKEN = re.compile(r"[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_path(d: str) -> list[Ring]:
    """The rings of an SVG path made of moveto, lineto and closepath (all the county SVG uses)."""
    rings: list[Ring] = []
    ring: Ring = []
    x = y = 0.0
    cmd = ""
    tokens = _PATH_TOKEN.findall(d)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.isalpha():
            if tok not in "MmLlZz":
                raise ValueError(f"path command {tok!r} is not supported")
            cmd, i = tok, i + 1
            if cmd in "Zz" and ring:
                rings.append(ring)
                x, y = ring[0]
                ring = []
            continue
        a, b = float(tok), float(tokens[i + 1])
        i += 2
        rel = cmd.islower()
        x, y = (x + a, y + b) if rel else (a, b)
        if cmd in "Mm":
            if ring:
                rings.append(ring)
            ring = []
            cmd = "l" if rel else "L"  # coordinates after a moveto are linetos
        ring.append((x, y))
    if ring:
        rings.append(ring)
    return rings


@cache
def counties() -> dict[str, County]:
    """The 47 county shapes by constitutional code (the crosswalk maps the SVG's slugs to codes)."""
    svg = (GEO_DIR / "kenya-counties.svg").read_text(encoding="utf-8")
    shapes = {m.group(2): m.group(1) for m in re.finditer(r'<path\s+d="([^"]+)"\s+id="([^"]+)"', svg)}
    with (GEO_DIR / "kenya-counties-crosswalk.csv").open(encoding="utf-8", newline="") as fh:
        crosswalk = {r["county_code"]: r["svg_id"] for r in csv.DictReader(fh)}
    return {
        code: County(code, slug, tuple(tuple(r) for r in parse_path(shapes[slug])))
        for code, slug in sorted(crosswalk.items())
    }


@dataclass(frozen=True)
class World:
    points: dict[str, Point]  # alpha-2 code -> representative (lon, lat)
    shapes: tuple[tuple[str, tuple[Ring, ...]], ...]  # (alpha-2 or "" for unnamed, rings in lon/lat)
    box: Box


@cache
def world() -> World:
    """Countries of the region the maps may show (scripts/derive_countries_geo.py wrote the file)."""
    raw = json.loads((GEO_DIR / "countries-region.json").read_text(encoding="utf-8"))
    unit = raw["unit"]

    def ring(flat: list[int]) -> Ring:
        x = y = 0
        out = []
        for dx, dy in zip(flat[::2], flat[1::2], strict=True):
            x, y = x + dx, y + dy
            out.append((x * unit, y * unit))
        return out

    return World(
        points={c: (x * unit, y * unit) for c, (x, y) in raw["points"].items()},
        shapes=tuple((c, tuple(ring(r) for r in rings)) for c, rings in raw["shapes"]),
        box=tuple(raw["box"]),
    )


def _seed_points(name: str, key: str, prefix: str) -> dict[str, Point]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return {
            f"{prefix}:{r[key]}": (float(r["longitude"]), float(r["latitude"]))
            for r in csv.DictReader(fh)
            if r.get("latitude") and r.get("longitude")
        }


@cache
def places() -> dict[str, Point]:
    """(lon, lat) of every location code that has coordinates: counties, countries, airports, border points."""
    out = {f"county:{c.code}": c.lonlat for c in counties().values()}
    out |= {f"country:{c}": p for c, p in world().points.items()}
    out |= _seed_points("airports", "iata_code", "airport")
    out |= _seed_points("border_points", "border_point", "border")
    return out


# --------------------------------------------------------------------------------------------- the maps


@dataclass(frozen=True)
class Map:
    svg: Markup
    legend: list[tuple[str, Mapping[str, str]]]  # (CSS of the swatch, label per language)


def _nice_step(vmax: int, classes: int) -> int:
    raw = max(vmax / classes, 1)
    mag = 10 ** math.floor(math.log10(raw))
    return int(next(m * mag for m in (1, 1.5, 2, 2.5, 3, 4, 5, 10) if m * mag >= raw and float(m * mag).is_integer()))


def _title(name: str, lines: Mapping[str, str], langs: Sequence[str]) -> str:
    """Tooltip text: the name and the figure, the figure's words in each language when they differ."""
    words = list(dict.fromkeys(lines[lang] for lang in langs))
    return f"<title>{escape(name)}: {escape(' / '.join(words))}</title>"


def _in_langs(label: charts.Label, langs: Sequence[str]) -> str:
    """One tooltip line for a label: an SVG <title> cannot hold the page's language spans."""
    return " / ".join(dict.fromkeys(charts.label_text(label, lang) for lang in langs))


def county_map(rows: Sequence[Mapping[str, Any]], langs: Sequence[str], *, title: Mapping[str, str]) -> Map:
    """Counties shaded by published cases of origin; withheld hatched, unreported pale, with a legend."""
    by_code = {r["county_code"]: r for r in rows}
    values = [r["cases"] for r in rows if not r["suppressed"]]
    step = _nice_step(max(values, default=1), len(RAMP))
    parts = [
        charts._open_svg("map_counties", 458, 580, title, langs),
        # In the counties' units (tenths, under scale(.1)): a 4-unit hatch.
        '<defs><pattern id="map-withheld" width="40" height="40" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><rect width="40" height="40" fill="#fff"/>'
        f'<rect width="16" height="40" fill="{charts.WITHHELD}"/></pattern></defs>',
        '<g transform="scale(.1)" stroke="#fff" stroke-width="6" stroke-linejoin="round">',
    ]
    names = _county_names()
    for code in counties():
        row = by_code.get(code)
        if row is None:
            fill, data, words = NONE_FILL, 'data-none="true"', TEXT["none"]
        elif row["suppressed"]:
            fill, data, words = "url(#map-withheld)", 'data-withheld="true"', TEXT["withheld"]
        else:
            n = row["cases"]
            fill = RAMP[min(max(math.ceil(n / step), 1), len(RAMP)) - 1]
            data, words = f'data-cases="{n}"', dict.fromkeys(langs, charts.fmt(n))
        stroke = ' stroke="#cbd2d9"' if row is None else ""
        parts.append(
            f'<path class="county" data-county="{code}" {data} fill="{fill}"{stroke} d="{_county_d(code)}">'
            f"{_title(names.get(code, code), words, langs)}</path>"
        )
    parts.append("</g></svg>")
    legend: list[tuple[str, Mapping[str, str]]] = []
    top = math.ceil(max(values, default=0) / step)
    for i in range(min(top, len(RAMP))):
        lo, hi = i * step + 1, (i + 1) * step
        label = _text("upto", hi=charts.fmt(hi)) if i == 0 else _text("range", lo=charts.fmt(lo), hi=charts.fmt(hi))
        if i == len(RAMP) - 1:
            label = {lang: f"{charts.fmt(lo)}+" for lang in TEXT["range"]}
        legend.append((f"background:{RAMP[i]}", label))
    legend.append((f"background:{HATCH}", TEXT["withheld"]))
    legend.append((f"background:{NONE_FILL};border:1px solid #cbd2d9", TEXT["none"]))
    return Map(Markup("".join(parts)), legend)


@cache
def _county_d(code: str) -> str:
    """A county's outline, simplified to 0.3 of the SVG's units (about 0.5 km; a quarter of the page's bytes)."""
    return _path_d(simplify([*ring, ring[0]], 0.3)[:-1] for ring in counties()[code].rings)


@cache
def _county_names() -> dict[str, str]:
    with (SEEDS_DIR / "counties.csv").open(encoding="utf-8", newline="") as fh:
        return {r["county_code"]: r["county_name"] for r in csv.DictReader(fh)}


def _label_place(x: float, y: float, width: float, placed: list[Box], size: Point) -> Point:
    """Where a label of `width` (and LABEL_SIZE high) centred near (x, y) overlaps no label placed before:
    above, below, right, left of the point, at its corners, a line further up or down, else above anyway;
    always inside a map of `size`. Appends its box to `placed`."""
    h = LABEL_SIZE

    def inside(px: float, py: float) -> Point:
        return min(max(px, width / 2 + 2), size[0] - width / 2 - 2), min(max(py, h + 1), size[1] - 4)

    right, left, mid = width / 2 + 6, -width / 2 - 6, h / 2 - 1
    near = ((0, -7), (0, h + 5), (right, mid), (left, mid), (right, -7), (left, -7), (right, h + 5), (left, h + 5))
    for dx, dy in (*near, (0, -h - 9), (0, 2 * h + 7)):  # then a line further up or down
        lx, ly = inside(x + dx, y + dy)
        box = (lx - width / 2, ly - h, lx + width / 2, ly + 2)
        if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            placed.append(box)
            return lx, ly
    lx, ly = inside(x, y - 7)
    placed.append((lx - width / 2, ly - h, lx + width / 2, ly + 2))
    return lx, ly


def side_by_side(
    routes: Sequence[Sequence[Point]], widths: Sequence[float], gap: float = ROUTE_GAP
) -> list[list[Point]]:
    """The routes' lines (points in the plane) moved sideways where they share a leg, so that each is seen
    beside the others instead of under the widest: on each leg (the same two places, either way) the lines
    lie side by side in the routes' order, each `gap` apart. A route's line steps across at a place where its
    offset changes from one leg to the next."""
    legs: dict[tuple[Point, Point], list[int]] = {}
    for i, pts in enumerate(routes):
        for a, b in zip(pts, pts[1:], strict=False):
            legs.setdefault((min(a, b), max(a, b)), []).append(i)
    out = []
    for i, pts in enumerate(routes):
        line: list[Point] = []
        for a, b in zip(pts, pts[1:], strict=False):
            leg = (min(a, b), max(a, b))
            on = legs[leg]
            total = sum(widths[j] for j in on) + gap * (len(on) - 1)
            before = sum(widths[j] + gap for j in on[: on.index(i)])
            offset = before + widths[i] / 2 - total / 2
            (xa, ya), (xb, yb) = leg
            length = math.hypot(xb - xa, yb - ya) or 1.0
            nx, ny = -(yb - ya) / length * offset, (xb - xa) / length * offset  # the same side whichever way
            line += [(a[0] + nx, a[1] + ny), (b[0] + nx, b[1] + ny)]
        out.append([p for k, p in enumerate(line) if k == 0 or p != line[k - 1]])
    return out


@dataclass(frozen=True)
class DrawnRoute:
    key: str
    label: charts.Label
    cases: int
    codes: tuple[str, ...]  # origin, transit points with coordinates, destination
    points: tuple[Point, ...]  # (lon, lat) of each code


def drawn_routes(
    rows: Sequence[Mapping[str, Any]],
    top: int = TOP_ROUTES,
    label: Callable[[Mapping[str, Any]], charts.Label] = lambda r: r["route_label"] or "",
) -> list[DrawnRoute]:
    """The `top` largest published routes that can be placed: withheld and "other routes" lines are no
    route; a route whose origin or destination has no coordinates is skipped, and so is a transit point.
    `label` names a route line in the page's languages (the report's own route labels)."""
    where = places()
    out = []
    for r in sorted(rows, key=lambda r: -(r["cases"] or 0)):  # stable: the table's order among equals
        if r["suppressed"] or r["destination_code"] == OTHER_ROUTES:
            continue
        stops = route_stops(r)
        if stops[0] not in where or stops[-1] not in where:
            continue
        codes = (stops[0], *(c for c in stops[1:-1] if c in where), stops[-1])
        key = "|".join(str(r[c] or "") for c in ("origin_code", "transit_codes", "destination_code"))
        out.append(DrawnRoute(key, label(r), r["cases"], codes, tuple(where[c] for c in codes)))
        if len(out) == top:
            break
    return out


def _view(points: Iterable[Point], limit: Box) -> Box:
    """The lon/lat box of the points and Kenya, padded, between 0.55 and 1 times as tall as wide, within `limit`."""
    xs, ys = zip(*points, strict=True)
    x0, x1 = min(*xs, 33.9) - 2.5, max(*xs, 41.9) + 2.5
    y0, y1 = min(*ys, -4.7) - 2.5, max(*ys, 5.5) + 2.5
    k = math.cos(math.radians((y0 + y1) / 2))
    if (y1 - y0) < 0.55 * (x1 - x0) * k:
        grow = (0.55 * (x1 - x0) * k - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    if (x1 - x0) * k < y1 - y0:
        grow = ((y1 - y0) / k - (x1 - x0)) / 2
        x0, x1 = x0 - grow, x1 + grow
    return max(x0, limit[0]), max(y0, limit[1]), min(x1, limit[2]), min(y1, limit[3])


def route_map(
    rows: Sequence[Mapping[str, Any]],
    langs: Sequence[str],
    *,
    title: Mapping[str, str],
    label: Callable[[Mapping[str, Any]], charts.Label] = lambda r: r["route_label"] or "",
) -> Map | None:
    """The largest published routes over the countries of the region they cross; None without a route."""
    routes = drawn_routes(rows, label=label)
    if not routes:
        return None
    geo = world()
    view = _view((p for r in routes for p in r.points), geo.box)
    k = math.cos(math.radians((view[1] + view[3]) / 2))
    scale = ROUTE_MAP_WIDTH / ((view[2] - view[0]) * k)
    height = (view[3] - view[1]) * scale

    def xy(p: Point) -> Point:
        return (p[0] - view[0]) * k * scale, (view[3] - p[1]) * scale

    destinations = {r.codes[-1].removeprefix("country:") for r in routes}
    parts = [charts._open_svg("map_routes", ROUTE_MAP_WIDTH, height, title, langs)]
    parts.append(f'<rect width="100%" height="100%" fill="{SEA}"/>')
    parts.append('<g transform="scale(.1)" stroke="#fff" stroke-width="5" stroke-linejoin="round">')
    for code, rings in geo.shapes:
        clipped = [c for ring in rings if len(c := clip_ring(ring, view)) > 2]
        if not clipped:
            continue
        fill = KENYA_LAND if code == "KE" else DEST_LAND if code in destinations else LAND
        d = _path_d([[xy(p) for p in ring] for ring in clipped])
        if d:
            parts.append(f'<path class="country" data-country="{code}" fill="{fill}" d="{d}"/>')
    parts.append("</g>")

    # Colours by origin in order of the origins' cases, as the flow diagram gives them.
    origin_totals: dict[str, int] = {}
    for r in routes:
        origin_totals[r.codes[0]] = origin_totals.get(r.codes[0], 0) + r.cases
    ranked = sorted(origin_totals, key=lambda c: -origin_totals[c])
    colour = {c: charts.PALETTE[i % len(charts.PALETTE)] for i, c in enumerate(ranked)}
    vmax = routes[0].cases

    def width(cases: int) -> float:
        return max(10 * cases / vmax, 1.2)

    parts.append('<g fill="none" stroke-linecap="round" stroke-linejoin="round" stroke-opacity=".8">')
    lines = side_by_side([[xy(p) for p in r.points] for r in routes], [width(r.cases) for r in routes])
    for r, line in zip(routes, lines, strict=True):  # largest first: thinner lines stay visible on top
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in line)
        parts.append(
            f'<polyline class="route" data-route="{escape(r.key)}" data-cases="{r.cases}" '
            f'data-places="{escape(";".join(r.codes))}" points="{pts}" '
            f'stroke="{colour[r.codes[0]]}" stroke-width="{width(r.cases):.2f}">'
            f"<title>{escape(_in_langs(r.label, langs))}: {charts.fmt(r.cases)}</title></polyline>"
        )
    parts.append("</g>")

    placed: list[Box] = []
    marks: dict[str, str] = {}
    for r in routes:
        for i, code in enumerate(r.codes):
            kind = "origin" if i == 0 else "destination" if i == len(r.codes) - 1 else "transit"
            marks.setdefault(code, kind)
    for code, kind in sorted(marks.items(), key=lambda m: ("origin", "transit", "destination").index(m[1])):
        x, y = xy(places()[code])
        if kind == "destination" and code.startswith("country:"):
            cc = code.removeprefix("country:")
            parts.append(
                f'<circle class="place" data-place="{escape(code)}" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{charts.INK}"/>'
            )
            names = country_names(cc)
            # Placed at the size a phone shows it (PHONE_LABEL_SCALE), drawn at LABEL_SIZE about its anchor.
            longest = max(len(names[lang]) for lang in langs) * LABEL_SIZE * 0.7  # bold, in a wide sans such as DejaVu
            s = PHONE_LABEL_SCALE
            lx, ly = _label_place(x / s, y / s, longest, placed, (ROUTE_MAP_WIDTH / s, height / s))
            parts.append(
                f'<g class="place-label" transform="translate({lx * s:.1f},{ly * s:.1f})">'
                + charts._svg_text(
                    names, langs, x=0, y=0, size=LABEL_SIZE, anchor="middle", weight="600", extra=charts.HALO
                )
                + "</g>"
            )
        elif kind == "transit":
            parts.append(
                f'<circle class="place" data-place="{escape(code)}" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#fff"'
                f' stroke="{charts.INK}" stroke-width="1.3"><title>{escape(code.split(":", 1)[1])}</title></circle>'
            )
        else:
            parts.append(
                f'<circle class="place" data-place="{escape(code)}" cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{charts.INK}"/>'
            )
    parts.append("</svg>")

    smallest = routes[-1].cases
    legend: list[tuple[str, Mapping[str, str]]] = [
        (
            f"width:22px;height:{width(c):.1f}px;background:{charts.MUTED};border-radius:2px",
            _text("cases", n=charts.fmt(c)),
        )
        for c in dict.fromkeys((vmax, smallest))
    ]
    legend += [
        (f"border-radius:50%;background:{charts.INK};width:6px;height:6px", TEXT["origin"]),
        (f"border-radius:50%;background:#fff;border:1.5px solid {charts.INK}", TEXT["transit"]),
        (f"background:{DEST_LAND}", TEXT["destination"]),
    ]
    return Map(Markup("".join(parts)), legend)
