"""Writes njia/geo/countries-region.json, the countries the report's route map draws, from world-atlas's
`countries-50m.json` (Natural Earth 4.1.0 via npm `world-atlas` 2.0.2, ISC):

    python scripts/derive_countries_geo.py path/to/countries-50m.json

- `points`: a representative (lon, lat) of every country with an ISO 3166-1 code, worldwide: the centroid of its
  largest polygon, where the map places the country as an origin, transit point or destination.
- `shapes`: the rings of every country inside BOX (Africa, Europe's south, the Middle East, South and South-East
  Asia: where the routes of the code lists go), cut at the box's edges. Arcs are simplified (Douglas-Peucker,
  TOLERANCE degrees, shared arcs alike, so neighbours still meet) and quantised to UNIT degrees, each ring
  delta-encoded. Rings crossing the 180th meridian are unwrapped first, so none draws a line across the map.
- Codes are alpha-2 (pycountry from the numeric id). Somaliland, without an id, is drawn with Somalia (SO), as
  ISO 3166 and the code lists have it; the other features without an id are kept as unnamed land ("").

The output is deterministic; njia/geo/README.md records the input's checksum.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pycountry

from njia.maps import centroid, clip_ring, simplify

OUT = Path(__file__).resolve().parents[1] / "njia" / "geo" / "countries-region.json"
BOX = (-20.0, -40.0, 125.0, 50.0)  # lon0, lat0, lon1, lat1
UNIT = 0.01
TOLERANCE = 0.04
NO_ID = {"Somaliland": "SO"}


def _arcs(topo: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        out.append(points)
    return out


def _ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        ring += arc[1:] if ring else arc
    if max(x for x, _ in ring) - min(x for x, _ in ring) > 180:  # crosses the 180th meridian: unwrap
        ring = [(x + 360 if x < 0 else x, y) for x, y in ring]
    return ring


def _polygons(geometry: dict) -> list[list[list[int]]]:
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def _code(geometry: dict) -> str | None:
    if "id" not in geometry:
        return NO_ID.get(geometry["properties"]["name"], "")
    country = pycountry.countries.get(numeric=geometry["id"])
    return country.alpha_2 if country else None


def _encode(ring: list[tuple[float, float]]) -> list[int]:
    flat, px, py = [], 0, 0
    for x, y in ring:
        qx, qy = round(x / UNIT), round(y / UNIT)
        if (qx, qy) != (px, py) or not flat:
            flat += [qx - px, qy - py]
            px, py = qx, qy
    return flat


def derive(topo: dict) -> dict:
    full = _arcs(topo)
    simple = [simplify(a, TOLERANCE) for a in full]
    points: dict[str, list[int]] = {}
    shapes: dict[str, list[list[int]]] = {}
    for geometry in topo["objects"]["countries"]["geometries"]:
        code = _code(geometry)
        if code is None:
            continue
        polygons = _polygons(geometry)
        if code and "id" in geometry:
            largest = max((_ring(full, p[0]) for p in polygons), key=lambda r: centroid([r])[0])
            lon, lat = centroid([largest])[1]
            points[code] = [round(((lon + 180) % 360 - 180) / UNIT), round(lat / UNIT)]
        for polygon in polygons:
            for indexes in polygon:
                ring = clip_ring(_ring(simple, indexes), BOX)
                encoded = _encode(ring)
                if len(encoded) >= 8:
                    shapes.setdefault(code, []).append(encoded)
    return {
        "about": "derived by scripts/derive_countries_geo.py from world-atlas 2.0.2 countries-50m.json "
        "(Natural Earth 4.1.0); see njia/geo/README.md",
        "unit": UNIT,
        "box": list(BOX),
        "points": dict(sorted(points.items())),
        "shapes": sorted(shapes.items()),
    }


if __name__ == "__main__":
    source = Path(sys.argv[1])
    out = derive(json.loads(source.read_text(encoding="utf-8")))
    OUT.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {OUT} ({len(out['points'])} points, {len(out['shapes'])} shapes)\n")
