"""The demo's yearly report packs, built the way `njia demo` builds them (fictional inbox → ingest → dbt build
→ a pack per year), read back against the reporting tables and looked at in headless Chromium: each year, in
English and Swahili, on a 1280 px screen and a 360 px phone, and printed.

The browser test prints each page's size and the time it took to load and lay out, and keeps full-page
screenshots (in the test's tmp folder; copied to $NJIA_KEEP_SCREENSHOTS when set). Measured on the 2-core
machine of docs/benchmarks.md (2026-12-06): the 2024 page 752 KB, the 2025 page 900 KB; loaded and laid out
in 0.16-0.35 s at either width and in either language (the first page of a fresh browser takes longest).
The module's demo build (ingest and dbt build of the 30 files, two packs) takes about two minutes.
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from pathlib import Path

import pytest
from chromium import CHROMIUM, DevTools, evaluate, network_requests, page_errors
from report_helpers import assert_marks_match, assert_pack_matches, assert_sections_match, db_rows
from test_transform import fresh_settings

from njia import maps
from njia.pipeline import demo_packs
from njia.place_names import country_names

YEARS = (2024, 2025)
WIDTHS = (1280, 360)
PRINT_WIDTH = 794  # A4 portrait at 96 px per inch
MIN_LABEL_PX = 10  # the smallest text a map may show on screen, in CSS pixels


@pytest.fixture(scope="module")
def demo(server_home: Path, tmp_path_factory: pytest.TempPathFactory):
    """One demo warehouse for the module: `njia demo`'s own steps on a fresh database of the session's server."""
    settings = fresh_settings(server_home, tmp_path_factory.mktemp("report-demo") / "home")
    out = settings.home / "reports"
    assert demo_packs(settings, out, echo=lambda _: None) == list(YEARS)
    return settings, out


def test_every_figure_of_each_demo_year_equals_the_reporting_tables(demo) -> None:
    settings, out = demo
    for year in YEARS:
        pack = out / str(year)
        assert_pack_matches(settings, pack, year)
        html = assert_sections_match(settings, pack, year)
        assert html.provinces, year  # the demo has provinces with enough published cases for a section
        assert len(html.tip) > 9, year
        assert_marks_match(settings, pack, year)


# What the test reads off the page as the reader sees it: sizes of what is drawn (0 when hidden).
STATE_JS = """(() => {
  const box = e => { if (!e) return null; const r = e.getBoundingClientRect();
                     return {w: r.width, h: r.height, left: r.left, right: r.right}; };
  const drawn = e => { const r = e.getBoundingClientRect(); return r.width > 0 || r.height > 0; };
  const map = document.querySelector('svg[data-chart=map_routes]');
  const labels = map ? [...map.querySelectorAll('text')].filter(drawn) : [];
  const rects = labels.map(t => t.getBoundingClientRect()), frame = map && map.getBoundingClientRect();
  const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return {
    width: innerWidth, page_width: document.documentElement.scrollWidth,
    page_height: document.documentElement.scrollHeight,
    heading: [...document.querySelectorAll('h1 span')].filter(s => s.offsetParent).map(s => s.textContent),
    county_map: box(document.querySelector('svg[data-chart=map_counties]')),
    counties: [...document.querySelectorAll('path.county')].filter(drawn).length,
    route_map: box(map),
    routes: [...document.querySelectorAll('polyline.route')].filter(drawn).length,
    map_labels: labels.map(t => t.textContent),
    // the font size as shown: the SVG's scale and the page's CSS scale of the labels together
    map_label_px: Math.min(...labels.map(t => t.getBoundingClientRect().height / t.getBBox().height
                                              * parseFloat(t.getAttribute('font-size')))),
    labels_cut: labels.filter((t, i) => rects[i].left < frame.left - 1 || rects[i].right > frame.right + 1
                                        || rects[i].top < frame.top - 1 || rects[i].bottom > frame.bottom + 1)
                      .map(t => t.textContent),
    labels_overlapping: labels.filter((t, i) => rects.some((r, j) => j !== i && meets(r, rects[i]))).map(t => t.textContent),
    // the smallest text of each chart shown whole (the wide ones scroll inside their card on a phone)
    chart_text_px: Object.fromEntries([...document.querySelectorAll('svg.chart')]
      .filter(s => s.getClientRects().length && !s.closest('.wide-chart') && s.dataset.chart !== 'map_routes')
      .map(s => [s.dataset.chart, Math.min(...[...s.querySelectorAll('text')].filter(drawn)
        .map(t => t.getBoundingClientRect().height / t.getBBox().height * parseFloat(t.getAttribute('font-size'))))])),
    regions: [...document.querySelectorAll('[data-province]')].map(box),
    trend_charts: [...document.querySelectorAll('svg[data-chart^=trend_]')].filter(s => s.getClientRects().length)
      .map(s => ({id: s.dataset.chart, ...box(s),
      years: [...new Set([...s.querySelectorAll('.trend-point')].map(p => +p.dataset.year))].sort()})),
    trend_note: [...document.querySelectorAll('#trends .lead span')].filter(s => s.offsetParent).map(s => s.textContent).join(''),
    tip: box(document.querySelector('#tip .tablewrap')),  // on a phone the table scrolls inside its card
    tip_cells: [...document.querySelectorAll('td[data-tip]')].filter(drawn).length,
    // a chart, map or table wider than its box is cut when printed (nothing scrolls on paper; the closed
    // tables at the end are not printed)
    cut: [...document.querySelectorAll('.wide-chart, .tablewrap, .card')].filter(e => !e.closest('details:not([open])') && e.scrollWidth > e.clientWidth + 1)
         .map(e => e.closest('[id]').id + ' ' + e.className),
  };
})()"""


def _shot(dt: DevTools, session: str, path: Path, width: int, height: int) -> None:
    data = dt.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
        session,
        timeout=120,
    )["data"]
    path.write_bytes(base64.b64decode(data))


def _open(dt: DevTools, session: str, page: Path, width: int, lang: str) -> tuple[float, dict]:
    """Loads the page at `width` in `lang`; the seconds from navigation to a laid-out page, and its state."""
    dt.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900 if width > 800 else 740, "deviceScaleFactor": 1, "mobile": width < 800},
        session,
    )
    dt.events.clear()
    started = time.perf_counter()
    dt.send("Page.navigate", {"url": page.as_uri()}, session)
    dt.wait_for("Page.loadEventFired")
    if lang != "en":
        evaluate(dt, session, f"document.querySelector('label[for=lang-{lang}]').click()")
    state = evaluate(dt, session, STATE_JS)  # reading sizes forces the layout
    return time.perf_counter() - started, state


def _check(state: dict, year: int, lang: str, expected_labels: set[str]) -> None:
    width = state["width"]
    assert state["page_width"] <= width, state["page_width"]  # no sideways scrolling of the page
    assert len(state["heading"]) == 1 and str(year) in state["heading"][0]
    for name in ("county_map", "route_map", "tip"):
        box = state[name]
        assert box and box["w"] > min(width - 80, 250) / 2 and box["h"] > 100 and box["right"] <= width, (name, box)
    assert state["counties"] == 47 and state["routes"] == 10, state
    assert set(state["map_labels"]) == expected_labels, (lang, state["map_labels"])
    assert state["map_label_px"] >= MIN_LABEL_PX, state["map_label_px"]
    assert state["labels_cut"] == [] and state["labels_overlapping"] == [], state
    small = {c: px for c, px in state["chart_text_px"].items() if px is not None and px < MIN_LABEL_PX}
    assert len(state["chart_text_px"]) >= 9 and small == {}, small  # bar and change charts, the county map
    assert state["regions"] and all(r["w"] > 200 and r["h"] > 50 for r in state["regions"]), state["regions"]
    assert state["tip_cells"] > 9
    if year == YEARS[0]:
        assert state["trend_charts"] == []
        assert {"en": "for 2024 only", "sw": "mwaka 2024 pekee"}[lang] in state["trend_note"]
    else:
        assert {c["id"] for c in state["trend_charts"]} == {
            "trend_cases_total",
            "trend_cases_by_exploitation_type",
            "trend_cases_by_destination_country",
        }
        for c in state["trend_charts"]:
            assert c["years"] == list(YEARS) and c["w"] > 200 and c["h"] > 100, c


@pytest.mark.timeout(600)
def test_demo_pages_in_headless_chromium(demo, tmp_path: Path) -> None:
    """Each year's page, EN and SW, at 1280 and 360 px: the maps (47 counties, 10 routes, destinations named in
    the language shown, labels readable), the regional sections, the trend and the TIP table drawn; no
    sideways scrolling, no request beyond the file, no console error. Printed (A4 width): nothing cut."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI installs it")
    settings, out = demo
    shots = tmp_path / "shots"
    shots.mkdir()
    measured = []
    dt = DevTools(CHROMIUM, tmp_path / "profile")
    try:
        session = dt.new_page()
        for year in YEARS:
            page = out / str(year) / f"njia-report-{year}.html"
            routes = maps.drawn_routes(db_rows(settings, "cases_by_route", year))
            passed = {c for r in routes for c in r.codes[:-1]}
            labelled = {r.codes[-1] for r in routes if r.codes[-1].startswith("country:")} - passed
            for width in WIDTHS:
                for lang in ("en", "sw"):
                    seconds, state = _open(dt, session, page, width, lang)
                    measured.append((year, lang, width, page.stat().st_size, seconds))
                    _shot(dt, session, shots / f"{year}-{lang}-{width}.png", width, state["page_height"])
                    _check(state, year, lang, {country_names(c.removeprefix("country:"))[lang] for c in labelled})
                    assert page_errors(dt) == [], (year, lang, width)
                    assert network_requests(dt) == [page.as_uri()], (year, lang, width)
            # Printed: the print style on an A4-wide page; charts, maps and tables fit, nothing is cut.
            dt.send("Emulation.setEmulatedMedia", {"media": "print"}, session)
            try:
                for lang in ("en", "sw"):
                    _, state = _open(dt, session, page, PRINT_WIDTH, lang)
                    _shot(dt, session, shots / f"{year}-{lang}-print.png", PRINT_WIDTH, state["page_height"])
                    assert state["page_width"] <= PRINT_WIDTH and state["cut"] == [], (year, lang, state["cut"])
                    for name in ("county_map", "route_map", "tip"):
                        assert state[name]["right"] <= PRINT_WIDTH and state[name]["w"] > 300, (name, state[name])
                    assert state["map_label_px"] >= MIN_LABEL_PX - 2, state["map_label_px"]
            finally:
                dt.send("Emulation.setEmulatedMedia", {"media": ""}, session)
    finally:
        dt.close()
        if os.environ.get("NJIA_KEEP_SCREENSHOTS"):
            shutil.copytree(shots, os.environ["NJIA_KEEP_SCREENSHOTS"], dirs_exist_ok=True)
    for year, lang, width, size, seconds in measured:
        print(f"report page {year} {lang} {width:>4} px: {size:,} bytes, loaded and laid out in {seconds:.2f} s")
