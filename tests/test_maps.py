"""The report's maps (njia.maps): the geodata and its crosswalk, coordinates of the code lists, and the two maps
drawn from reporting rows: every county once with the published figure, withheld never as zero, the largest
published routes with widths by cases, unknown codes left out. The page itself: tests/test_report.py."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET

import pytest

from njia import maps
from njia.paths import SEEDS_DIR

SVG = "{http://www.w3.org/2000/svg}"
LANGS = ("en", "sw")
TITLE = {"en": "map", "sw": "ramani"}


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _svg(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def _distance(p: tuple[float, float], rings) -> float:
    """From a point to the nearest edge of a shape."""
    best = float("inf")
    for ring in rings:
        for (xa, ya), (xb, yb) in zip(ring, [*ring[1:], ring[0]], strict=True):
            dx, dy = xb - xa, yb - ya
            t = max(0.0, min(1.0, ((p[0] - xa) * dx + (p[1] - ya) * dy) / (dx * dx + dy * dy or 1)))
            best = min(best, ((p[0] - xa - t * dx) ** 2 + (p[1] - ya - t * dy) ** 2) ** 0.5)
    return best


def _svg_xy(lon: float, lat: float) -> tuple[float, float]:  # njia/geo/README.md: the county SVG's projection
    return (lon - 33.909) * 57.15, (5.431 - lat) * 57.24


# ------------------------------------------------------------------------------------------------- geodata


def test_counties_are_the_47_of_the_code_list_by_constitutional_code():
    counties = maps.counties()
    assert list(counties) == [r["county_code"] for r in _seed("counties")] == [f"{i:03d}" for i in range(1, 48)]
    slugs = {c.code: c.svg_id for c in counties.values()}
    # The five slugs that do not follow the official names (njia/geo/README.md); never ISO 3166-2:KE numbers.
    assert slugs["028"] == "keiyo-marakwet" and slugs["013"] == "tharaka" and slugs["047"] == "nairobi"
    assert slugs["006"] == "taita-taveta" and slugs["021"] == "murang-a"
    assert slugs["001"] == "mombasa" and slugs["030"] == "baringo" and slugs["023"] == "turkana"
    for county in counties.values():
        assert maps.centroid(county.rings)[0] > 10, county.code
    # Centroids fall where the counties are: Nairobi's near the city, Mombasa's on the coast, Turkana's north-west.
    nairobi, mombasa, turkana = (counties[c].lonlat for c in ("047", "001", "023"))
    assert abs(nairobi[0] - 36.82) < 0.15 and abs(nairobi[1] + 1.29) < 0.15
    assert abs(mombasa[0] - 39.66) < 0.2 and abs(mombasa[1] + 4.04) < 0.2
    assert turkana[0] < 36 and turkana[1] > 2.5


def test_parse_path_refuses_curves():
    assert maps.parse_path("m 1,2 3,4 0,-4 z M 10 10 L 12 10 12 12 z") == [
        [(1, 2), (4, 6), (4, 2)],
        [(10, 10), (12, 10), (12, 12)],
    ]
    with pytest.raises(ValueError, match="not supported"):
        maps.parse_path("M0,0 C1,1 2,2 3,3z")


def test_code_list_coordinates_lie_where_the_places_are():
    """Border points lie in (or within about 4 km of) their county's shape; Kenyan airports in their county;
    foreign airports in (or just off the coast of) their country's shape."""
    counties = maps.counties()
    for r in _seed("border_points"):
        p = _svg_xy(float(r["longitude"]), float(r["latitude"]))
        rings = counties[r["county_code"]].rings
        assert maps.contains(rings, p) or _distance(p, rings) < 2.0, r
    kenyan = {"NBO": "047", "WIL": "047", "MBA": "001", "KIS": "042", "EDL": "027"}
    world = dict((c, rings) for c, rings in maps.world().shapes)
    for r in _seed("airports"):
        lon, lat = float(r["longitude"]), float(r["latitude"])
        assert -90 <= lat <= 90 and -180 <= lon <= 180
        if r["iata_code"] in kenyan:
            assert maps.contains(counties[kenyan[r["iata_code"]]].rings, _svg_xy(lon, lat)), r
        rings = world[r["country"]]
        assert maps.contains(rings, (lon, lat)) or _distance((lon, lat), rings) < 0.1, r


def test_world_shapes_stay_in_their_box_and_never_jump_across_the_map():
    geo = maps.world()
    x0, y0, x1, y1 = geo.box
    assert {"KE", "SA", "QA", "BH", "AE", "LB", "TH", "ZA", "SO"} <= {c for c, _ in geo.shapes}
    for code, rings in geo.shapes:
        for ring in rings:
            assert all(x0 - 1e-9 <= x <= x1 + 1e-9 and y0 - 1e-9 <= y <= y1 + 1e-9 for x, y in ring), code
            # A ring crossing the 180th meridian would jump ~360 degrees; long steps run only along the box's edges.
            for a, b in zip(ring, ring[1:], strict=False):
                assert abs(b[0] - a[0]) < 30 or a[1] == b[1] in (y0, y1), code
    # Every country has a point, inside its shape for the compact ones the routes go to.
    assert len(geo.points) > 230
    shapes = dict(geo.shapes)
    for code in ("KE", "SA", "QA", "AE", "OM", "UG", "LB", "TZ", "SO", "TH"):
        assert maps.contains(shapes[code], geo.points[code]), code
    assert maps.places()["country:US"]  # beyond the shapes: placed, the map clips it


# ------------------------------------------------------------------------------------------------- county map


def _county_rows() -> list[dict]:
    return [
        {
            "county_code": "047",
            "county_name": "Nairobi City",
            "former_province": "Nairobi",
            "cases": 142,
            "suppressed": False,
        },
        {"county_code": "001", "county_name": "Mombasa", "former_province": "Coast", "cases": 96, "suppressed": False},
        {"county_code": "042", "county_name": "Kisumu", "former_province": "Nyanza", "cases": 12, "suppressed": False},
        {
            "county_code": "016",
            "county_name": "Machakos",
            "former_province": "Eastern",
            "cases": None,
            "suppressed": True,
        },
        {"county_code": "999", "county_name": "Nowhere", "former_province": "Coast", "cases": 50, "suppressed": False},
    ]


def test_county_map_draws_every_county_once_with_its_published_figure():
    rows = _county_rows()
    m = maps.county_map(rows, LANGS, title=TITLE)
    paths = _svg(m.svg).findall(f".//{SVG}path")
    assert [p.get("data-county") for p in paths] == [f"{i:03d}" for i in range(1, 48)]
    by_code = {p.get("data-county"): p for p in paths}
    names = {r["county_code"]: r["county_name"] for r in _seed("counties")}
    for code, p in by_code.items():
        title = p.find(f"{SVG}title").text
        if code in ("047", "001", "042"):
            cases = next(r["cases"] for r in rows if r["county_code"] == code)
            assert p.get("data-cases") == str(cases) and title == f"{names[code]}: {cases:,}"
            assert p.get("fill") in maps.RAMP
        elif code == "016":  # withheld: hatched, says so, and carries no figure
            assert p.get("data-withheld") == "true" and p.get("data-cases") is None
            assert p.get("fill") == "url(#map-withheld)" and title == "Machakos: withheld / imezuiliwa"
        else:  # no row: nothing reported, not zero
            assert p.get("data-none") == "true" and p.get("data-cases") is None
            assert p.get("fill") == maps.NONE_FILL and title.endswith(": none reported / hakuna kilichoripotiwa")
    # A larger count is never lighter; the legend names the withheld and the unreported counties.
    shade = {code: maps.RAMP.index(by_code[code].get("fill")) for code in ("047", "001", "042")}
    assert shade["047"] >= shade["001"] >= shade["042"]
    labels = [label["en"] for _, label in m.legend]
    assert labels[-2:] == ["withheld", "none reported"] and labels[0].startswith("up to ")
    assert maps.county_map(rows, ("en",), title=TITLE).svg.count("/ imezuiliwa") == 0


# ------------------------------------------------------------------------------------------------- route map


def _route(origin, transit, dest, cases, label="", suppressed=False):
    return {
        "origin_code": origin,
        "transit_codes": transit,
        "destination_code": dest,
        "route_label": label or f"{origin} → {dest}",
        "cases": None if suppressed else cases,
        "suppressed": suppressed,
    }


ROUTES = [
    _route("county:047", "airport:NBO", "country:SA", 58),
    _route("county:001", "airport:MBA;airport:DXB", "country:AE", 25),
    _route("county:047", "airport:NBO;airport:DOH", "country:QA", 49),
    _route("county:003", "", "county:001", 27),
    _route("county:042", "border:Busia", "country:UG", 22),
    _route("county:047", "", "other", 40, "Nairobi City → other routes"),  # an origin's other routes: no path
    _route("county:016", "border:Namanga", "country:TZ", None, suppressed=True),
    _route("county:999", "airport:NBO", "country:QA", 80),  # unknown origin: skipped
    _route("county:022", "airport:XXX;border:Nowhere;airport:DOH", "country:QA", 15),  # unknown transits dropped
    _route("country:UG", "border:Malaba;county:047", "country:LB", 17),
    _route("county:040", "airport:NBO", "country:ZZ", 90),  # unknown destination: skipped
]


def test_route_map_draws_the_largest_published_routes_with_widths_by_cases():
    m = maps.route_map(ROUTES, LANGS, title=TITLE)
    lines = _svg(m.svg).findall(f".//{SVG}polyline")
    drawn = [(line.get("data-route"), int(line.get("data-cases"))) for line in lines]
    assert drawn == [
        ("county:047|airport:NBO|country:SA", 58),
        ("county:047|airport:NBO;airport:DOH|country:QA", 49),
        ("county:003||county:001", 27),
        ("county:001|airport:MBA;airport:DXB|country:AE", 25),
        ("county:042|border:Busia|country:UG", 22),
        ("country:UG|border:Malaba;county:047|country:LB", 17),
        ("county:022|airport:XXX;border:Nowhere;airport:DOH|country:QA", 15),
    ]
    widths = [float(line.get("stroke-width")) for line in lines]
    assert widths == sorted(widths, reverse=True) and widths[0] > 3 * widths[-1]
    places = [line.get("data-places").split(";") for line in lines]
    assert [len(p) for p in places] == [3, 4, 2, 4, 3, 4, 3]  # origin, the transit points with coordinates, destination
    assert places[-1] == ["county:022", "airport:DOH", "country:QA"]
    titles = [line.find(f"{SVG}title").text for line in lines]
    assert titles[0] == "county:047 → country:SA: 58"
    for line in lines:  # inside the picture
        w, h = (float(v) for v in _svg(m.svg).get("viewBox").split()[2:])
        for xy in line.get("points").split():
            x, y = (float(v) for v in xy.split(","))
            assert 0 <= x <= w and 0 <= y <= h
    assert {c.get("data-place") for c in _svg(m.svg).findall(f".//{SVG}circle")} >= {"airport:DOH", "border:Busia"}
    # Swahili country names from CLDR beside the English ones.
    assert "Saudi Arabia" in m.svg and "Saudia" in m.svg and "Qatar" in m.svg and "Katari" in m.svg
    assert [label["en"] for _, label in m.legend][:2] == ["58 cases", "15 cases"]


def test_route_map_top_limit_and_nothing_to_draw():
    assert len(maps.drawn_routes(ROUTES, top=3)) == 3
    assert maps.route_map([r for r in ROUTES if r["suppressed"]], LANGS, title=TITLE) is None
    assert maps.route_map([], LANGS, title=TITLE) is None


def test_maps_are_deterministic():
    a = maps.route_map(ROUTES, LANGS, title=TITLE).svg + maps.county_map(_county_rows(), LANGS, title=TITLE).svg
    b = maps.route_map(list(ROUTES), LANGS, title=TITLE).svg + maps.county_map(_county_rows(), LANGS, title=TITLE).svg
    assert a == b
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", a)  # nothing to fetch


def test_routes_sharing_a_leg_are_drawn_side_by_side():
    """Two routes over the same leg (either way) lie beside each other, their widths and the gap apart; a leg
    used by one route is drawn where its places are."""
    a, b, c = (0.0, 0.0), (100.0, 0.0), (100.0, 50.0)
    one, two, alone = maps.side_by_side([[a, b], [b, a], [b, c]], [4.0, 2.0, 3.0], gap=1.0)
    # centred on the leg, 4/2 + 1 + 2/2 apart
    assert [y for _, y in one] == [-1.5, -1.5] and [y for _, y in two] == [2.5, 2.5]
    assert [x for x, _ in one] == [0.0, 100.0] and sorted(x for x, _ in two) == [0.0, 100.0]
    assert alone == [b, c]
