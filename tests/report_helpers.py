"""Reading a yearly report pack back and comparing it with the reporting tables it was written from: the
HTML page's figures (FigureParser), the CSV files and the workbook, cell by cell. Shared by the tests on
hand-written tables (test_report.py) and on the demo's real build (test_report_demo.py)."""

from __future__ import annotations

import csv
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from njia import report, warehouse
from njia.cells import neutralise
from njia.report import TABLE_BY_NAME, TABLES

YEAR = 2025  # the default year: test_report.py's fixture tables are for it


class FigureParser(HTMLParser):
    """Reads the page back: the figure tables, the key figures and the chart marks."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.figures: dict[str, str] = {}
        self.bars: dict[str, list[dict[str, str]]] = {}
        self.narrow: dict[str, list[dict[str, str]]] = {}  # the same bar charts laid out for a phone
        self.narrow_pairs: dict[str, list[dict[str, str]]] = {}
        self.narrow_trend: dict[tuple[str, str, int], int | None] = {}
        self._narrow = False
        self.listed: dict[str, set[str]] = {}  # withheld cells named under a chart instead of drawn
        self.trend: dict[tuple[str, str, int], int | None] = {}  # (chart, series, year): figure, None withheld
        self._series = ""
        self.regions: dict[str, list[dict[str, str]]] = {}  # rows of the regional sections' tables, per table
        self.provinces: list[str] = []  # the regional sections, in order
        self.tip: dict[str, dict[str, str]] = {}  # the TIP-shaped table's cells by "type|breakdown"
        self.bands: list[dict[str, str]] = []  # the route flow's bands
        self.pairs: dict[str, list[dict[str, str]]] = {}  # the previous year's dumbbells, per chart
        self.counties: list[dict[str, str]] = []  # the county map's shapes
        self.routes: list[dict[str, str]] = []  # the route map's lines
        self._region: str | None = None
        self._region_row: dict[str, str] | None = None  # its "label": the text of its first cell
        self._cells = 0
        self._fig = ""
        self.scripts = 0
        self.external: list[str] = []
        self._table: str | None = None
        self._row: dict[str, str] | None = None
        self._figure: str | None = None
        self._chart: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for attr in ("src", "href", "xlink:href"):
            if attr in a and not a[attr].startswith(("#", "data:")):
                self.external.append(a[attr])
        if tag == "script":
            self.scripts += 1
        elif tag == "table" and "data-table" in a:
            self._table = a["data-table"]
            self.tables[self._table] = []
        elif tag == "table" and "data-region-table" in a:
            self._region = a["data-region-table"]
            self.regions.setdefault(self._region, [])
        elif tag == "tr" and self._region and "data-key" in a:
            self.regions[self._region].append(a)
            self._region_row, a["label"], self._cells = a, "", 0
        elif tag == "td" and self._region_row is not None:
            self._cells += 1
        elif tag == "td" and "data-tip" in a:
            self.tip[a["data-tip"]] = a
        elif tag == "div" and "data-province" in a:
            self.provinces.append(a["data-province"])
        elif tag == "tr" and self._table and "row" in a.get("class", "").split():
            self._row = {}
            self.tables[self._table].append(self._row)
        elif tag == "td" and self._row is not None:
            self._row[a["data-col"]] = a["data-value"]
        elif tag == "div" and "data-figure" in a:
            self._figure = a["data-figure"]
            self.figures[self._figure] = ""
        elif tag == "svg" and "data-chart" in a:
            self._chart = a["data-chart"]
            self._narrow = "narrow" in a.get("class", "").split()
            (self.narrow if self._narrow else self.bars).setdefault(self._chart, [])
        elif tag == "g" and self._chart and a.get("class") == "bar":
            (self.narrow if self._narrow else self.bars)[self._chart].append(a)
        elif tag == "path" and self._chart and a.get("class") == "band":
            self.bands.append(a)
        elif tag == "g" and self._chart and a.get("class") == "pair":
            (self.narrow_pairs if self._narrow else self.pairs).setdefault(self._chart, []).append(a)
        elif tag == "path" and a.get("class") == "county":
            self.counties.append(a)
        elif tag == "polyline" and a.get("class") == "route":
            self.routes.append(a)
        elif tag == "g" and self._chart and a.get("class") == "series":
            self._series = a["data-series"]
        elif tag == "g" and self._chart and a.get("class") == "trend-point":
            assert ("data-value" in a) != (a.get("data-withheld") == "true"), a
            value = int(a["data-value"]) if "data-value" in a else None
            trend = self.narrow_trend if self._narrow else self.trend
            trend[(self._chart, self._series, int(a["data-year"]))] = value
        elif tag == "figure" and a.get("id", "").startswith("fig-"):
            self._fig = a["id"][4:]
        elif tag == "span" and "data-withheld-key" in a:
            self.listed.setdefault(self._fig, set()).add(a["data-withheld-key"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = self._region = None
        elif tag == "tr":
            self._row = self._region_row = None
        elif tag == "div":
            self._figure = None
        elif tag == "svg":
            self._chart = None

    def handle_data(self, data: str) -> None:
        if self._figure:
            self.figures[self._figure] += data
        if self._region_row is not None and self._cells == 1:
            self._region_row["label"] += data
        self.text.append(data)


def parse_html(path: Path) -> FigureParser:
    p = FigureParser()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def db_rows(settings, table: str, year: int = YEAR) -> list[dict[str, Any]]:
    cols = TABLE_BY_NAME[table].columns
    with warehouse.connect(settings) as conn:
        cur = conn.execute(f"select {', '.join(cols)} from reporting.{table} where report_year = %s", (year,))
        return [dict(zip(cols, r, strict=True)) for r in cur]


def as_text(row: dict[str, Any], cols: tuple[str, ...], csv_safe: bool) -> tuple[str, ...]:
    out = []
    for c in cols:
        v = row[c]
        if v is None:
            out.append("")
        elif isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, int):
            out.append(str(v))
        else:
            out.append(str(neutralise(v)) if csv_safe else str(v))
    return tuple(out)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def xlsx_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


TREND_SOURCES = {  # the trend's tables and the column naming a cell
    "cases_by_exploitation_type": "exploitation_type",
    "cases_by_destination_country": "country_code",
}


def published_trend(settings, year: int = YEAR) -> dict[tuple[int, str, str], int | None]:
    """(year, table, code): figure of every cell the trend shows, read from the reporting tables of every
    year up to `year` (coverage's figures by column name); None when withheld."""
    out: dict[tuple[int, str, str], int | None] = {}
    with warehouse.connect(settings) as conn:
        cur = conn.execute(
            "select report_year, cases_total, organisations, submissions from reporting.coverage"
            " where report_year <= %s",
            (year,),
        )
        for y, *values in cur:
            out.update({(y, "coverage", c): v for c, v in zip(report.TREND_COVERAGE, values, strict=True)})
        for table, code in TREND_SOURCES.items():
            cur = conn.execute(
                f"select report_year, {code}, cases from reporting.{table} where report_year <= %s", (year,)
            )
            out.update({(y, table, c): v for y, c, v in cur})
    return out


def assert_trend_matches(settings, out: Path, year: int = YEAR) -> None:
    """The trend in CSV = XLSX = HTML table = charts = the reporting tables of every year."""
    expected = published_trend(settings, year)
    as_csv = sorted(
        (str(y), t, c, "" if v is None else str(v), "true" if v is None else "false")
        for (y, t, c), v in expected.items()
    )
    cols = ("report_year", "table", "code", "value", "suppressed")
    header, rows = read_csv(out / "csv" / "trends.csv")
    assert header == list(report.TRENDS.columns)
    assert sorted(tuple(r[c] for c in cols) for r in rows) == as_csv
    sheet = list(load_workbook(out / f"njia-report-{year}.xlsx")["trends"].iter_rows(values_only=True))
    assert list(sheet[0]) == list(report.TRENDS.columns)
    index = [report.TRENDS.columns.index(c) for c in cols]
    assert sorted(tuple(xlsx_text(r[i]) for i in index) for r in sheet[1:]) == as_csv
    html = parse_html(out / f"njia-report-{year}.html")
    assert sorted(tuple(r[c] for c in cols) for r in html.tables["trends"]) == as_csv

    years = sorted({y for y, _, _ in expected})
    charted = {key: v for key, v in html.trend.items() if key[0].startswith("trend_")}
    assert {key: v for key, v in html.narrow_trend.items() if key[0].startswith("trend_")} == charted  # phones
    if len(years) < 2:
        assert charted == {}
        return
    for (chart, series, y), value in charted.items():
        table = chart.removeprefix("trend_")
        if table == "cases_total":
            assert (y, "coverage", "cases_total") in expected and value == expected[(y, "coverage", "cases_total")]
        else:  # a year with figures but no row for the cell had none of those cases
            assert value == expected.get((y, table, series), 0), (chart, series, y)
    types = {c for _, t, c in expected if t == "cases_by_exploitation_type"}
    assert {(y, s) for c, s, y in charted if c == "trend_cases_by_exploitation_type"} == {
        (y, c) for y in years for c in types
    }
    assert {(c, s) for c, s, _ in charted} >= {("trend_cases_total", "cases_total")}


def assert_pack_matches(settings, out: Path, year: int = YEAR) -> None:
    """CSV = XLSX = HTML = the reporting tables, cell by cell (CSV and XLSX text neutralised)."""
    html = parse_html(out / f"njia-report-{year}.html")
    wb = load_workbook(out / f"njia-report-{year}.xlsx")
    assert wb.sheetnames == ["about", *[t.name for t in TABLES], "trends"]
    assert sorted(p.name for p in (out / "csv").iterdir()) == sorted([*(f"{t.name}.csv" for t in TABLES), "trends.csv"])
    assert_trend_matches(settings, out, year)
    for t in TABLES:
        expected = db_rows(settings, t.name, year)
        header, rows = read_csv(out / "csv" / f"{t.name}.csv")
        assert header == list(t.columns)
        got_csv = sorted(tuple(r[c] for c in t.columns) for r in rows)
        assert got_csv == sorted(as_text(r, t.columns, csv_safe=True) for r in expected), t.name

        ws = wb[t.name]
        sheet = list(ws.iter_rows(values_only=True))
        assert list(sheet[0]) == list(t.columns)
        assert sorted(tuple(xlsx_text(v) for v in r) for r in sheet[1:]) == got_csv, t.name

        got_html = sorted(tuple(r[c] for c in t.columns) for r in html.tables[t.name])
        assert got_html == sorted(as_text(r, t.columns, csv_safe=False) for r in expected), t.name
        if "suppressed" in t.columns:
            for r in rows:
                assert r["suppressed"] in ("true", "false")
                assert (r["cases"] == "") == (r["suppressed"] == "true")
    # The header figures are the coverage row.
    cov = db_rows(settings, "coverage", year)[0]
    shown = {
        k: None if v in ("withheld", "imezuiliwa", "withheldimezuiliwa") else int(v.replace(",", ""))
        for k, v in html.figures.items()
    }
    assert shown == {k: cov[k] for k in ("cases_total", "organisations", "submissions", "route_records", "periods")}


def assert_sections_match(settings, out: Path, year: int = YEAR) -> FigureParser:
    """The regional sections' rows and the TIP table's cells are cells of the reporting tables."""
    html = parse_html(out / f"njia-report-{year}.html")
    for name in (
        "cases_by_route",
        "cases_by_province_destination",
        "cases_by_province_exploitation",
        "cases_by_province_carrier",
        "cases_by_province_recruitment",
    ):
        t = TABLE_BY_NAME[name]
        rows = {"|".join(str(r[c]) for c in t.key): r for r in db_rows(settings, name, year)}
        expected = {key: r["cases"] for key, r in rows.items()}
        named_by = next(c for c in ("route_label", "country_name", "carrier_name", "label_en") if c in t.columns)
        for row in html.regions.get(name, []):
            assert row["label"].startswith(rows[row["data-key"]][named_by]), (name, row)  # English first
            if row.get("data-withheld") == "true":
                assert expected[row["data-key"]] is None and "data-cases" not in row, (name, row)
            else:
                assert int(row["data-cases"]) == expected[row["data-key"]], (name, row)
    tip = {(r["exploitation_type"], r["breakdown"]): r for r in db_rows(settings, "cases_tip", year)}
    types = {r["exploitation_type"]: r for r in db_rows(settings, "cases_by_exploitation_type", year)}
    assert len(html.tip) == 9 * len(types)
    for key, cell in html.tip.items():
        code, breakdown = key.split("|")
        source = types[code] if breakdown == "all" else tip.get((code, breakdown))
        if cell.get("data-withheld") == "true":
            assert source["suppressed"] and source["cases"] is None, key
        elif source is None:
            assert cell["data-none"] == "true" and "data-cases" not in cell and breakdown != "all", key
        else:
            assert int(cell["data-cases"]) == source["cases"], key
    return html


def assert_marks_match(settings, out: Path, year: int = YEAR) -> FigureParser:
    """Every mark of the page's charts and maps that carries a figure carries its reporting table's cell: the
    bars, the route bands, the previous year's dumbbells, the counties and the route lines. A withheld cell
    is drawn as withheld, never with a figure, and no mark carries a figure the tables do not publish."""
    html = parse_html(out / f"njia-report-{year}.html")

    def cells(name: str, y: int = year) -> dict[str, int | None]:
        t = TABLE_BY_NAME[name]
        return {
            "|".join("" if r[c] is None else str(r[c]) for c in t.key): r["cases"] for r in db_rows(settings, name, y)
        }

    bar_charts = {chart: bars for chart, bars in html.bars.items() if bars}  # the flow, maps and trends have none
    assert len(bar_charts) >= 8, sorted(bar_charts)
    # a phone's layout shows the same bars with the same figures
    assert {chart: bars for chart, bars in html.narrow.items() if bars} == bar_charts
    for chart, bars in bar_charts.items():
        expected = cells(chart)
        for bar in bars:
            if bar.get("data-withheld") == "true":
                assert expected[bar["data-key"]] is None and "data-cases" not in bar, (chart, bar)
            else:
                assert int(bar["data-cases"]) == expected[bar["data-key"]], (chart, bar)
        assert all(expected[k] is None for k in html.listed.get(chart, set())), chart
    routes = cells("cases_by_route")
    assert html.bands
    for band in html.bands:
        assert int(band["data-cases"]) == routes[band["data-route"]], band
    assert html.narrow_pairs == html.pairs
    for chart, pairs in html.pairs.items():
        name = chart.removeprefix("change_")
        now, before = cells(name), cells(name, year - 1)
        for pair in pairs:
            for attr, expected in (("data-cur", now), ("data-prev", before)):
                value = expected[pair["data-key"]]
                assert pair[attr] == ("" if value is None else str(value)), (chart, pair)
    counties = cells("cases_by_origin_county")
    assert len(html.counties) == 47 and len({c["data-county"] for c in html.counties}) == 47
    for county in html.counties:
        code = county["data-county"]
        if code not in counties:
            assert county.get("data-none") == "true" and "data-cases" not in county, county
        elif counties[code] is None:
            assert county.get("data-withheld") == "true" and "data-cases" not in county, county
        else:
            assert int(county["data-cases"]) == counties[code], county
    assert html.routes
    for line in html.routes:
        assert int(line["data-cases"]) == routes[line["data-route"]], line
    return html
