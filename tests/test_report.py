"""The yearly report pack: CSV = XLSX = HTML = reporting tables, cell safety, withheld cells, the guard,
and the page in a real headless Chromium (no network, no console errors, charts drawn).

Most tests read reporting tables that a fixture writes by hand in the shape of docs/interfaces.md §5, so each
case can hold exactly the figures it needs; `test_pack_end_to_end_through_dbt` goes through the real build.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM, DevTools, evaluate, network_requests, page_errors
from openpyxl import load_workbook
from report_helpers import (
    YEAR,
    assert_pack_matches,
    assert_sections_match,
    assert_trend_matches,
    db_rows,
    parse_html,
    read_csv,
)

from njia import report, warehouse
from njia.paths import SEEDS_DIR
from njia.report import TABLE_BY_NAME, TABLES, ReportError, write_pack

# ------------------------------------------------------------------------------------------- fixture data

W = None  # a withheld cell

COUNTIES = {  # code: (name, province, 2025, 2024)
    "047": ("Nairobi City", "Nairobi", 142, 120),
    "001": ("Mombasa", "Coast", 96, 101),
    "042": ("Kisumu", "Nyanza", 64, 40),
    "037": ("Kakamega", "Western", 51, 47),
    "040": ("Busia", "Western", 38, 29),
    "003": ("Kilifi", "Coast", 27, 33),
    "032": ("Nakuru", "Rift Valley", 23, W),
    "022": ("Kiambu", "Central", 19, 14),
    "016": ("Machakos", "Eastern", W, 12),
    "007": ("Garissa", "North Eastern", W, W),
}
PROVINCES = {
    "Nairobi": (142, 120),
    "Coast": (123, 134),
    "Western": (89, 76),
    "Nyanza": (64, 40),
    "Rift Valley": (23, 12),
    "Central": (19, 14),
    "Eastern": (W, 12),
    "North Eastern": (W, W),
}
DESTINATIONS = {
    "SA": ("Saudi Arabia", 131, 118),
    "QA": ("Qatar", 77, 52),
    "KE": ("Kenya", 64, 70),
    "OM": ("Oman", 48, 31),
    "UG": ("Uganda", 40, 36),
    "LB": ("Lebanon", 17, 22),
    "AE": ("United Arab Emirates", 60, 44),
    "SO": ("Somalia", W, W),
    "TZ": ("Tanzania", W, 11),
}
ROUTES = [  # origin, transit, destination, label, cases
    ("county:047", "airport:NBO", "country:SA", "Nairobi City → Jomo Kenyatta International → Saudi Arabia", 58),
    (
        "county:047",
        "airport:NBO;airport:DOH",
        "country:QA",
        "Nairobi City → Jomo Kenyatta International → Hamad International → Qatar",
        49,
    ),
    ("county:001", "airport:MBA", "country:OM", "Mombasa → Moi International → Oman", 31),
    ("county:003", "", "county:001", "Kilifi → Mombasa", 27),
    ("county:042", "border:Busia", "country:UG", "Kisumu → Busia → Uganda", 22),
    ("county:040", "border:Malaba", "country:UG", "Busia → Malaba → Uganda", 18),
    (
        "county:037",
        "airport:NBO;airport:DOH",
        "country:LB",
        "Kakamega → Jomo Kenyatta International → Hamad International → Lebanon",
        17,
    ),
    (
        "county:047",
        "airport:NBO;airport:DXB",
        "country:AE",
        "Nairobi City → Jomo Kenyatta International → Dubai International → United Arab Emirates",
        35,
    ),
    ("county:037", "airport:NBO", "country:SA", "Kakamega → Jomo Kenyatta International → Saudi Arabia", 15),
    ("county:032", "", "county:047", "Nakuru → Nairobi City", 14),
    ("county:022", "airport:NBO", "country:QA", "Kiambu → Jomo Kenyatta International → Qatar", 13),
    (
        "county:001",
        "airport:MBA;airport:DXB",
        "country:AE",
        "Mombasa → Moi International → Dubai International → United Arab Emirates",
        25,
    ),
    ("county:007", "border:Liboi", "country:SO", "Garissa → Liboi → Somalia", W),
    ("county:016", "border:Namanga", "country:TZ", "Machakos → Namanga → Tanzania", W),
]
CARRIERS = {
    "KQ": ("Kenya Airways", 120),
    "QR": ("Qatar Airways", 88),
    "EK": ("Emirates", 54),
    "ET": ("Ethiopian Airlines", 31),
    "SV": ("Saudia", 22),
    "FZ": ("flydubai", 12),
    "WB": ("RwandAir", W),
    "other": ("Other", W),
}
TRANSIT = {
    "airport:NBO": ("Jomo Kenyatta International", 187),
    "airport:DOH": ("Hamad International", 66),
    "airport:MBA": ("Moi International", 56),
    "airport:DXB": ("Dubai International", 60),
    "border:Busia": ("Busia", 22),
    "border:Malaba": ("Malaba", 18),
    "border:Liboi": ("Liboi", W),
    "border:Namanga": ("Namanga", W),
}


def _seed(name: str) -> dict[str, tuple[str, str]]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8") as fh:
        return {r["code"]: (r["label_en"], r["label_sw"]) for r in csv.DictReader(fh)}


EXPLOITATION = {
    "domestic_servitude": 161,
    "forced_labour": 122,
    "sexual_exploitation": 61,
    "child_labour": 19,
    "forced_marriage": W,
    "organ_removal": W,
}
RECRUITMENT = {
    "unregistered_agent": 170,
    "social_media": 93,
    "friend_or_acquaintance": 71,
    "family": 40,
    "registered_agency": 28,
    "online_advert": 12,
    "abduction": W,
}
CONTROL = {
    "withholds_documents": 201,
    "false_promises": 177,
    "takes_earnings": 150,
    "restricts_movement": 96,
    "physical_abuse": 61,
    "debt_bondage": 45,
    "threats": 23,
    "sexual_abuse": W,
}


# A third year, for the trend: only the tables the trend reads (coverage, exploitation types, destinations).
ABSENT = "absent"  # no row: no such cases that year
EXPLOITATION_EARLIER = {  # code: (two years before, the year before)
    "domestic_servitude": (120, 140),
    "forced_labour": (90, 100),
    "sexual_exploitation": (W, 50),
    "child_labour": (W, 15),
    "forced_marriage": (ABSENT, W),
}
DESTINATIONS_EARLIER = {"SA": 100, "QA": 40, "KE": 50, "OM": W, "AE": 30}
PROVINCE_TYPES = {  # (province, exploitation type): cases
    ("Nairobi", "domestic_servitude"): 90,
    ("Nairobi", "forced_labour"): 52,
    ("Coast", "domestic_servitude"): 71,
    ("Coast", "child_labour"): W,
    ("Coast", "forced_labour"): W,
    ("Western", "forced_labour"): 70,
    ("Western", "sexual_exploitation"): 19,
    ("Nyanza", "sexual_exploitation"): 42,
    ("Nyanza", "forced_labour"): 22,
    ("Rift Valley", "forced_labour"): 23,
}
PROVINCE_CARRIERS = {("Nairobi", "KQ"): 107, ("Nairobi", "QR"): 49, ("Coast", "EK"): 25, ("Western", "KQ"): W}
PROVINCE_RECRUITMENT = {("Nairobi", "social_media"): 60, ("Coast", "family"): 27, ("Nyanza", "abduction"): W}
TIP = {  # exploitation type: {breakdown: cases}; a breakdown left out has no cases (no row)
    "domestic_servitude": {
        "female": 120,
        "male": 14,
        "sex_not_stated": 27,
        "kenyan_origin": 161,
        "in_kenya": W,
        "abroad": W,
    },
    "forced_labour": {
        "female": 31,
        "male": 70,
        "sex_not_stated": 21,
        "child": 12,
        "kenyan_origin": 110,
        "foreign_origin": 12,
        "in_kenya": 30,
        "abroad": 92,
    },
    "child_labour": {"sex_not_stated": 19, "child": 19, "kenyan_origin": 19, "in_kenya": 19},
    "forced_marriage": {"female": W, "child": W, "kenyan_origin": W, "abroad": W},
}


def reporting_rows(year: int = YEAR, hostile: bool = False) -> dict[str, list[tuple]]:
    """Rows of every reporting table for `year` and the year before, and of a few for the year before that
    (as dbt would publish them)."""
    prev, first = year - 1, year - 2
    rows: dict[str, list[tuple]] = {t.name: [] for t in TABLES}

    def cell(v: int | None) -> tuple[int | None, bool]:
        return v, v is None

    for code, (name, prov, cur, old) in COUNTIES.items():
        rows["cases_by_origin_county"] += [(year, code, name, prov, *cell(cur)), (prev, code, name, prov, *cell(old))]
    for prov, (cur, old) in PROVINCES.items():
        rows["cases_by_province"] += [(year, prov, *cell(cur)), (prev, prov, *cell(old))]
    for code, (name, cur, old) in DESTINATIONS.items():
        rows["cases_by_destination_country"] += [(year, code, name, *cell(cur)), (prev, code, name, *cell(old))]
    for o, t, d, label, cur in ROUTES:
        rows["cases_by_route"].append((year, o, t, d, label, *cell(cur)))
    for code, (name, cur) in CARRIERS.items():
        rows["cases_by_carrier"].append((year, code, name, *cell(cur)))
    for code, (name, cur) in TRANSIT.items():
        rows["cases_by_transit_point"].append((year, code, name, *cell(cur)))
    for table, seed, values in (
        ("cases_by_exploitation_type", "exploitation_types", EXPLOITATION),
        ("cases_by_recruitment_method", "recruitment_methods", RECRUITMENT),
        ("cases_by_means_of_control", "means_of_control", CONTROL),
    ):
        labels = _seed(seed)
        for code, cur in values.items():
            rows[table].append((year, code, *labels[code], *cell(cur)))
    province_of = {f"county:{code}": prov for code, (_, prov, _, _) in COUNTIES.items()}
    destinations: dict[tuple[str, str], int | None] = {}
    for o, _, d, _, cur in ROUTES:  # a province's destinations: its routes by destination country
        key = (province_of[o], "KE" if d.startswith("county:") else d[8:])
        destinations[key] = None if cur is None or destinations.get(key, 0) is None else destinations.get(key, 0) + cur
    for (prov, country), cur in destinations.items():
        rows["cases_by_province_destination"].append((year, prov, country, DESTINATIONS[country][0], *cell(cur)))
    types = _seed("exploitation_types")
    for (prov, code), cur in PROVINCE_TYPES.items():
        rows["cases_by_province_exploitation"].append((year, prov, code, *types[code], *cell(cur)))
    for (prov, code), cur in PROVINCE_CARRIERS.items():
        rows["cases_by_province_carrier"].append((year, prov, code, CARRIERS[code][0], *cell(cur)))
    methods = _seed("recruitment_methods")
    for (prov, code), cur in PROVINCE_RECRUITMENT.items():
        rows["cases_by_province_recruitment"].append((year, prov, code, *methods[code], *cell(cur)))
    for code, breakdowns in TIP.items():
        for breakdown, cur in breakdowns.items():
            rows["cases_tip"].append((year, code, *types[code], breakdown, *cell(cur)))
    rows["coverage"] += [(year, 14, 39, 412, 375, 41), (prev, 11, 30, 350, 317, 33), (first, 9, 21, 260, 240, 24)]
    labels = _seed("exploitation_types")
    for code, values in EXPLOITATION_EARLIER.items():
        for y, v in zip((first, prev), values, strict=True):
            if v != ABSENT:
                rows["cases_by_exploitation_type"].append((y, code, *labels[code], *cell(v)))
    for code, v in DESTINATIONS_EARLIER.items():
        rows["cases_by_destination_country"].append((first, code, DESTINATIONS[code][0], *cell(v)))
    if hostile:
        rows["cases_by_origin_county"].append(
            (year, "999", '=HYPERLINK("http://evil.example","x")', "+Coast", 12, False)
        )
        rows["cases_by_route"].append((year, "county:999", "@SUM(A1)", "country:QA", "-2+3 → \tQatar\r", 20, False))
        rows["cases_by_carrier"].append((year, "=1+1", "@carrier", 14, False))
        rows["cases_by_destination_country"].append((year, "XX", "<script>alert(1)</script>", 13, False))
    return rows


def create_reporting(settings, rows: dict[str, list[tuple]], schema: str = "reporting") -> None:
    """The reporting tables with the columns and types of dbt's models (njia.reporting_tables)."""
    with warehouse.connect(settings) as conn:
        for t in TABLES:
            columns = ", ".join(
                f"{c} {data_type}" + (" not null" if c == "suppressed" else "")
                for c, data_type in zip(t.columns, t.data_types, strict=True)
            )
            conn.execute(f"create table {schema}.{t.name} (report_year integer not null, {columns})")
        for name, data in rows.items():
            if data:
                marks = ", ".join(["%s"] * len(data[0]))
                conn.cursor().executemany(f"insert into {schema}.{name} values ({marks})", data)


class Seen(list):
    """The min_cell values reporting_schema() was asked for; `audited`: the years the audit was called for."""

    audited: list[int]


@pytest.fixture
def fake_schema(monkeypatch):
    """Point the pack at the fixture's tables instead of dbt's reporting_schema()."""
    seen = Seen()

    @contextlib.contextmanager
    def schema(settings, min_cell):
        seen.append(min_cell)
        yield "reporting"

    monkeypatch.setattr(report, "reporting_schema", schema)
    # These hand-written tables are not dbt's: their figures do not add up across tables, so the attacker's
    # audit (njia.disclosure) would rightly refuse them as contradictory. The gate is still called for the
    # year and the year it is compared with; test_pack_end_to_end_through_dbt and test_disclosure_build.py
    # run the real audit on tables built by dbt.
    seen.audited = []
    monkeypatch.setattr(report, "_audit", lambda rows, year, k: seen.audited.append(year))
    return seen


@pytest.fixture
def pack(settings, fake_schema, tmp_path) -> tuple[Any, Path]:
    create_reporting(settings, reporting_rows())
    return settings, write_pack(settings, YEAR, tmp_path / "pack")


# ------------------------------------------------------------------------------------------- tests


def test_csv_xlsx_html_and_reporting_tables_agree(pack):
    settings, out = pack
    assert out == (out.parent / "pack")
    for t in TABLES:
        assert db_rows(settings, t.name), t.name  # the fixture fills every table
    assert_pack_matches(settings, out)


def test_charts_show_the_published_figures_and_withheld_never_as_zero(pack):
    settings, out = pack
    html = parse_html(out / f"njia-report-{YEAR}.html")
    for name in (
        "cases_by_province",
        "cases_by_origin_county",
        "cases_by_destination_country",
        "cases_by_exploitation_type",
        "cases_by_recruitment_method",
        "cases_by_means_of_control",
        "cases_by_carrier",
        "cases_by_transit_point",
    ):
        t = TABLE_BY_NAME[name]
        expected = {"|".join(str(r[c]) for c in t.key): r["cases"] for r in db_rows(settings, name)}
        bars = html.bars[name]
        assert bars, name
        for bar in bars:
            if bar.get("data-withheld") == "true":
                assert expected[bar["data-key"]] is None
                assert "data-cases" not in bar
            else:
                assert int(bar["data-cases"]) == expected[bar["data-key"]]
        listed = html.listed.get(name, set())
        assert all(expected[k] is None for k in listed)
        shown = {b["data-key"] for b in bars} | listed
        assert shown == set(expected) or len(bars) == report.TOP_BARS, name
    text = " ".join(html.text)
    for t in TABLES:
        if "cases" in t.columns:
            for r in html.tables[t.name]:
                if r["suppressed"] == "true":
                    assert r["cases"] == ""
    assert "withheld" in text and "imezuiliwa" in text
    # Every drawn route band carries a published figure of cases_by_route.
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    routes = {r["route_label"]: r["cases"] for r in db_rows(settings, "cases_by_route")}
    for label in ("Nairobi City → Jomo Kenyatta International → Saudi Arabia",):
        assert f'data-cases="{routes[label]}"' in page
    assert 'data-cases="0"' not in page


def test_maps_show_the_published_figures(pack):
    """The county map has the 47 counties, each titled with the figure of cases_by_origin_county (withheld and
    unreported counties say so, never zero); the route map draws the largest published routes, widest first."""
    settings, out = pack
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    counties = {r["county_code"]: r for r in db_rows(settings, "cases_by_origin_county")}
    drawn = re.findall(r'<path class="county" data-county="(\d{3})" ([^>]*)><title>([^<]*)</title>', page)
    assert len(drawn) == 47 and len({c for c, _, _ in drawn}) == 47
    for code, attrs, title in drawn:
        row = counties.get(code)
        if row is None:
            assert 'data-none="true"' in attrs and title.endswith(": none reported / hakuna kilichoripotiwa")
        elif row["suppressed"]:
            assert 'data-withheld="true"' in attrs and "data-cases" not in attrs
            assert title == f"{row['county_name']}: withheld / imezuiliwa"
        else:
            assert f'data-cases="{row["cases"]}"' in attrs and title == f"{row['county_name']}: {row['cases']:,}"
    published = sorted(
        (r for r in db_rows(settings, "cases_by_route") if not r["suppressed"] and r["destination_code"] != "other"),
        key=lambda r: -r["cases"],
    )
    lines = re.findall(
        r'<polyline class="route" data-route="([^"]*)" data-cases="(\d+)"[^>]*stroke-width="([\d.]+)"', page
    )
    assert [(k, int(c)) for k, c, _ in lines] == [
        (f"{r['origin_code']}|{r['transit_codes']}|{r['destination_code']}", r["cases"]) for r in published[:10]
    ]
    widths = [float(w) for _, _, w in lines]
    assert widths == sorted(widths, reverse=True)
    assert "Map: svg-maps (MapSVG), CC BY 4.0" in page and "world-atlas (ISC)" in page


def test_regional_sections_and_tip_table_show_the_published_cells(pack):
    settings, out = pack
    html = assert_sections_match(settings, out)
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    for name in ("cases_by_route", "cases_by_province_destination", "cases_by_province_exploitation"):
        assert html.regions[name], name
    # Sections for the provinces with at least 3k published cases and a published destination or type, in
    # the order of cases_by_province; the others named in one sentence, in both languages.
    assert html.provinces == ["Nairobi", "Coast", "Western", "Nyanza"]
    sections = page.split('id="regions"', 1)[1].split('id="regions-thin"', 1)
    assert (
        "Kakamega → Jomo Kenyatta International → Hamad International → Lebanon"
        in sections[0].split('data-province="Western"')[1]
    )
    for name in ("Rift Valley", "Central", "Eastern", "North Eastern", "Bonde la Ufa", "Kaskazini Mashariki"):
        assert name in sections[1][:800], name
    # The TIP table: a withheld cell says so, and a 0 is a breakdown without a row (assert_sections_match).
    assert html.tip["forced_marriage|female"]["data-withheld"] == "true"
    assert html.tip["domestic_servitude|child"]["data-none"] == "true"
    assert "TIP" in page and "Visa vyote" in page and "wanawake" in page


def test_non_additive_tables_say_so_and_page_is_self_contained(pack):
    _, out = pack
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    html = parse_html(out / f"njia-report-{YEAR}.html")
    assert html.scripts == 0 and html.external == []
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    for t in TABLES:
        fig = page.split(f'id="fig-{t.name}"', 1)
        if t.name in ("coverage", "cases_by_route", "cases_tip") or t.name.startswith("cases_by_province_"):
            continue  # drawn otherwise: the flow, the regional sections, the TIP table
        note = fig[1][:1500]
        if t.adds_up_to == "kenyan_origin_cases":  # not the year's total: routes starting abroad are in no county
            assert 'class="note add"' in note and "starting in a Kenyan county" in note, t.name
            assert "kaunti ya Kenya" in note
        elif t.additive:
            assert 'class="note add"' in note and "Adds up to the total" in note, t.name
        else:
            assert 'class="note nonadd"' in note and "Does not add up to the total" in note, t.name
            assert "Hazijumliki" in note
    # Swahili labels come from the seeds' label_sw columns, both languages are in the page.
    assert "Utumwa wa kazi za nyumbani" in page and 'class="l-sw"' in page and 'id="lang-sw"' in page
    assert "Bonde la Ufa" in page  # former province in Swahili
    # the change from the previous year is there
    assert 'id="change"' in page and "compared with 2024" in page


def test_trend_over_every_year_audited_with_the_organisations_reporting(settings, fake_schema, tmp_path):
    create_reporting(settings, reporting_rows())
    out = write_pack(settings, YEAR, tmp_path / "pack")
    assert sorted(fake_schema.audited) == [YEAR - 2, YEAR - 1, YEAR]  # every year shown is audited
    html = parse_html(out / f"njia-report-{YEAR}.html")
    trend = html.trend
    # withheld: a dashed column, never a zero; absent (no such cases that year): zero
    assert trend[("trend_cases_by_exploitation_type", "sexual_exploitation", YEAR - 2)] is None
    assert trend[("trend_cases_by_exploitation_type", "forced_marriage", YEAR - 2)] == 0
    assert trend[("trend_cases_by_exploitation_type", "forced_marriage", YEAR - 1)] is None
    assert [trend[("trend_cases_total", "cases_total", y)] for y in (YEAR - 2, YEAR - 1, YEAR)] == [240, 317, 375]
    destinations = {s for c, s, _ in trend if c == "trend_cases_by_destination_country"}
    assert destinations == {"SA", "QA", "KE", "AE", "OM", "UG"}  # the six largest of the report year
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    section = page.split('<section id="trends">', 1)[1].split("</section>", 1)[0]
    assert "Every year since 2023" in section and "Kila mwaka tangu 2023" in section
    assert "which organisations reported" in section and "mashirika yaliyoripoti" in section
    assert "2023: 9 · 2024: 11 · 2025: 14" in section
    assert "9 organisations" in section and "mashirika 14" in section  # under each year of the totals chart


def test_trend_chart_draws_a_withheld_year_as_a_gap_and_one_year_as_a_note(settings, fake_schema, tmp_path):
    from njia import charts

    series = charts.Series("cases_total", "cases", {2021: 40, 2022: None, 2023: 52, 2024: 61})
    svg = str(charts.trend_chart("t", [2020, 2021, 2022, 2023, 2024], [series], ("en", "sw"), title="t"))
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 3  # 2023-2024 only: not across 2022
    assert 'data-year="2022" data-withheld="true"' in svg and "imezuiliwa" in svg
    assert 'data-year="2020"' not in svg  # a year without figures: nothing drawn
    assert 'data-value="0"' not in svg

    rows = {name: [r for r in data if r[0] == YEAR] for name, data in reporting_rows().items()}
    create_reporting(settings, rows)
    out = write_pack(settings, YEAR, tmp_path / "pack")
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    assert "Figures were published for 2025 only" in page and "mwaka 2025 pekee" in page
    assert 'data-chart="trend_' not in page
    assert_trend_matches(settings, out)


def test_countries_in_swahili_in_the_sw_view_as_published_in_english(pack):
    settings, out = pack
    html = parse_html(out / f"njia-report-{YEAR}.html")
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    for en, sw in (("Saudi Arabia", "Saudia"), ("United Arab Emirates", "Falme za Kiarabu"), ("Qatar", "Katari")):
        assert re.search(f'<text class="l-en"[^>]*>{en}</text><text class="l-sw"[^>]*>{sw}</text>', page), sw
    # route labels: counties and airports as published, countries in Swahili
    assert '<span class="l-sw" lang="sw">Nairobi City → Jomo Kenyatta International → Saudia</span>' in page
    assert "Mombasa → Moi International → Dubai International → Falme za Kiarabu" in page
    # the files keep the reporting tables' (English) values; the trend carries both names
    assert {r["country_name"] for r in html.tables["cases_by_destination_country"]} >= {"Saudi Arabia"}
    _, routes = read_csv(out / "csv" / "cases_by_route.csv")
    assert "Saudia" not in {r["route_label"] for r in routes} and all("Saudia" not in r["route_label"] for r in routes)
    _, trends = read_csv(out / "csv" / "trends.csv")
    sa = {(r["label_en"], r["label_sw"]) for r in trends if r["code"] == "SA"}
    assert sa == {("Saudi Arabia", "Saudia")}
    labels = _seed("exploitation_types")
    for r in trends:
        if r["table"] == "cases_by_exploitation_type":
            assert (r["label_en"], r["label_sw"]) == labels[r["code"]]

    single = report.render_html(report.read_pack_data(settings, YEAR), langs=("sw",))
    assert "Saudia" in single and "Saudi Arabia" not in single.split('<section id="figures">')[0]


def test_about_sheet_states_method_rule_code_lists_and_coverage(pack):
    settings, out = pack
    about = {r[0]: r[1:] for r in load_workbook(out / f"njia-report-{YEAR}.xlsx")["about"].iter_rows(values_only=True)}
    assert about["min_cell_k"][0] == settings.min_cell == 11
    assert "from 1 to 10" in about["suppression_rule"][0] and "1 hadi 10" in about["suppression_rule"][1]
    assert "do not add up" in about["counting_rules"][0]
    assert "latest accepted file" in about["method"][0]
    for seed in SEEDS_DIR.glob("*.csv"):
        digest = hashlib.sha256(seed.read_bytes()).hexdigest()
        assert about[f"code_list:{seed.stem}"][0] == f"sha256 {digest}"
    assert about["coverage:organisations"][0] == 14 and about["coverage:cases_total"][0] == 375
    assert "status" not in about  # published k: not marked internal


def test_formula_injection_is_neutralised_everywhere(settings, fake_schema, tmp_path):
    create_reporting(settings, reporting_rows(hostile=True))
    out = write_pack(settings, YEAR, tmp_path / "pack")
    dangerous = ("=", "+", "-", "@", "\t", "\r")
    for t in TABLES:
        _, rows = read_csv(out / "csv" / f"{t.name}.csv")
        for r in rows:
            for v in r.values():
                assert not v.startswith(dangerous), (t.name, v)
    wb = load_workbook(out / f"njia-report-{YEAR}.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert not c.value.startswith(dangerous), (ws.title, c.value)
    _, county = read_csv(out / "csv" / "cases_by_origin_county.csv")
    evil = next(r for r in county if r["county_code"] == "999")
    assert evil["county_name"] == '\'=HYPERLINK("http://evil.example","x")' and evil["former_province"] == "'+Coast"
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_visible_small_count_is_refused(settings, fake_schema, tmp_path):
    rows = reporting_rows()
    rows["cases_by_carrier"].append((YEAR, "TK", "Turkish Airlines", 4, False))
    create_reporting(settings, rows)
    with pytest.raises(ReportError, match="below k = 11"):
        write_pack(settings, YEAR, tmp_path / "pack")
    assert not (tmp_path / "pack").exists()


def test_withheld_row_carrying_a_count_is_refused(settings, fake_schema, tmp_path):
    rows = reporting_rows()
    rows["cases_by_carrier"].append((YEAR, "TK", "Turkish Airlines", 4, True))
    create_reporting(settings, rows)
    with pytest.raises(ReportError, match="withheld but carries a count"):
        write_pack(settings, YEAR, tmp_path / "pack")


def test_year_without_figures_and_missing_tables_are_errors(settings, fake_schema, tmp_path):
    with pytest.raises(ReportError, match="njia build"):
        write_pack(settings, YEAR, tmp_path / "pack")
    create_reporting(settings, reporting_rows())
    with pytest.raises(ReportError, match="no reporting figures for 2031"):
        write_pack(settings, 2031, tmp_path / "pack")


def test_other_k_is_marked_internal_and_single_language(settings, fake_schema, tmp_path):
    create_reporting(settings, reporting_rows())
    out = write_pack(settings, YEAR, tmp_path / "pack", min_cell=5, langs=("sw",))
    assert fake_schema == [5]
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    assert "YA NDANI" in page and "Usichapishe" in page and "INTERNAL" not in page
    assert 'id="lang-en"' not in page and "Where the routes go" not in page
    about = {r[0]: r[1:] for r in load_workbook(out / f"njia-report-{YEAR}.xlsx")["about"].iter_rows(values_only=True)}
    assert about["min_cell_k"][0] == 5 and "INTERNAL" in about["status"][0]
    with pytest.raises(ValueError):
        write_pack(settings, YEAR, tmp_path / "pack", langs=("fr",))


def test_previous_year_missing_leaves_out_the_change(settings, fake_schema, tmp_path):
    rows = {name: [r for r in data if r[0] == YEAR] for name, data in reporting_rows().items()}
    create_reporting(settings, rows)
    out = write_pack(settings, YEAR, tmp_path / "pack")
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    assert 'id="change"' not in page and "No figures were published for 2024" in page
    assert 'class="prev"' not in page


# ------------------------------------------------------------------------------------------- end to end


E2E_HEADER = (
    "reporting_period,origin_country,origin_county,transit_points,destination_country,destination_county,"
    "exploitation_type,transport_modes,carriers,recruitment_methods,means_of_control,cases_estimated,"
    "female_cases,male_cases,child_cases"
)
E2E_FILES = {  # fictional organisations and figures; one file each (every file costs a validation run)
    "ALPHA/alpha.csv": [
        "2025-Q1,KE,Nairobi,NBO;DOH,QA,,domestic_servitude,,KQ;QR,social_media,withholds_documents,40,36,4,0",
        "2025-Q1,KE,47,NBO,SA,,domestic_servitude,,SV,registered_agency,withholds_documents;takes_earnings,35,35,,",
        "2025-Q1,KE,Mombasa,MBA,OM,,domestic_servitude,,KQ,unregistered_agent,false_promises,22,20,2,",
        "2025-Q2,KE,Kisumu,Busia,UG,,sexual_exploitation,road,,friend_or_acquaintance,threats,14,14,0,3",
        "2025-Q2,KE,Busia,Malaba,UG,,forced_labour,road,,family,,5,,,",
        "2025-Q3,KE,Garissa,Liboi,SO,,forced_marriage,road,,,,3,3,,3",
        "2024,KE,Nairobi,NBO;DOH,QA,,domestic_servitude,,KQ;QR,social_media,withholds_documents,31,30,1,",
        "2024,KE,Mombasa,MBA,OM,,domestic_servitude,,KQ,unregistered_agent,false_promises,25,25,,",
        "2023,KE,Nairobi,NBO,SA,,domestic_servitude,,SV,social_media,withholds_documents,13,13,,",
    ],
    "BETA/beta.csv": [
        "2025,KE,Kilifi,,KE,Mombasa,child_labour,road,,family,,12,,,12",
        "2025,KE,Kakamega,NBO;DXB,AE,,forced_labour,,EK,social_media,debt_bondage,18,10,8,",
        "2025,KE,Nakuru,,KE,Nairobi,sexual_exploitation,road,,online_advert,,16,16,,",
        "2024,KE,Kisumu,Busia,UG,,sexual_exploitation,road,,friend_or_acquaintance,threats,12,12,,",
    ],
}


def test_pack_end_to_end_through_dbt(settings, tmp_path):
    """Ingest → dbt build → pack, through the real reporting models and reporting_schema()."""
    from ingest.pipeline import ingest
    from njia import transform

    inbox = Path(settings.inbox_url)
    for name, rows in E2E_FILES.items():
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_text("\n".join([E2E_HEADER, *rows]) + "\n", encoding="utf-8")
    settings.organisations_path.write_text(
        "organisation_code,organisation_name,organisation_type,county_code,active\n"
        "ALPHA,Alpha Fictional Trust,ngo,047,true\nBETA,Beta Imaginary Group,cbo,042,true\n",
        encoding="utf-8",
    )
    outcomes = ingest(settings)
    assert sorted(o.status for o in outcomes) == ["accepted"] * len(E2E_FILES), [o.as_json() for o in outcomes]
    result = transform.build(settings)
    assert result.ok, result.summary

    out = write_pack(settings, YEAR, tmp_path / "pack")
    assert_pack_matches(settings, out, YEAR)
    assert_sections_match(settings, out, YEAR)
    _, counties = read_csv(out / "csv" / "cases_by_origin_county.csv")
    # Nairobi's 75 is published, or withheld by joint suppression (a year this small has few cells that the
    # regional and TIP tables do not repeat); the internal pack below has it.
    assert {r["county_code"]: r["cases"] for r in counties}["047"] in ("75", "")
    withheld = [r for r in counties if r["suppressed"] == "true"]
    assert withheld and all(r["cases"] == "" for r in withheld)
    for t in TABLES:
        if "cases" in t.columns:
            _, rows = read_csv(out / "csv" / f"{t.name}.csv")
            assert all(r["cases"] == "" or int(r["cases"]) >= settings.min_cell for r in rows), t.name
    page = (out / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    assert 'id="change"' in page  # 2024 was published too
    _, trends = read_csv(out / "csv" / "trends.csv")  # and 2023, audited like the others
    assert {r["report_year"] for r in trends} == {"2023", "2024", "2025"}
    with warehouse.connect(settings) as conn:
        readable = conn.execute(
            "select bool_and(has_table_privilege('njia_public', c.oid, 'SELECT'))"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'reporting' and c.relkind = 'r'"
        ).fetchone()[0]
    assert readable

    # k = 1 (internal): the same models into a private schema, dropped afterwards; nothing withheld.
    inside = write_pack(settings, YEAR, tmp_path / "internal", min_cell=1)
    _, counties = read_csv(inside / "csv" / "cases_by_origin_county.csv")
    assert {r["county_code"]: r["cases"] for r in counties}["047"] == "75"
    _, tip = read_csv(inside / "csv" / "cases_tip.csv")
    tip_cells = {(r["exploitation_type"], r["breakdown"]): int(r["cases"]) for r in tip}
    assert tip_cells[("domestic_servitude", "female")] == 36 + 35 + 20
    assert tip_cells[("domestic_servitude", "male")] == 4 + 2
    assert ("domestic_servitude", "sex_not_stated") not in tip_cells  # 40 + 35 + 22 cases, all stated: no row
    assert tip_cells[("child_labour", "child")] == 12 and ("forced_labour", "foreign_origin") not in tip_cells
    _, routes = read_csv(inside / "csv" / "cases_by_route.csv")
    assert sum(int(r["cases"]) for r in routes) == 40 + 35 + 22 + 14 + 5 + 12 + 18 + 3 + 16
    assert all(r["suppressed"] == "false" for r in routes)
    _, coverage = read_csv(inside / "csv" / "coverage.csv")
    assert coverage == [
        {"organisations": "2", "submissions": "2", "route_records": "9", "cases_total": "165", "periods": "4"}
    ]
    assert "INTERNAL" in (inside / f"njia-report-{YEAR}.html").read_text(encoding="utf-8")
    with warehouse.connect(settings) as conn:
        assert conn.execute("select count(*) from pg_namespace where nspname like 'reporting\\_k%%'").fetchone()[0] == 0


# ------------------------------------------------------------------------------------------- Chromium

PIXELS_JS = """
new Promise((resolve) => {
  const img = new Image();
  img.onload = () => {
    const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set(); let nonWhite = 0, n = 0;
    for (let i = 0; i < d.length; i += 4 * 7) {
      n++; colours.add((d[i] >> 3) << 10 | (d[i+1] >> 3) << 5 | (d[i+2] >> 3));
      if (d[i] < 235 || d[i+1] < 235 || d[i+2] < 235) nonWhite++;
    }
    resolve({width: img.width, height: img.height, colours: colours.size, inked: nonWhite / n});
  };
  img.src = 'data:image/png;base64,' + %s;
})
"""


MAPS_JS = """(() => {
  const box = e => { const r = e.getBoundingClientRect(); return {x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height, right: r.right}; };
  const visible = e => { const b = e.getBBox(); return b.width > 0 && b.height > 0; };
  const maps = Object.fromEntries([...document.querySelectorAll('svg[data-chart^=map_]')].map(s => [s.dataset.chart, box(s)]));
  const shown = [...document.querySelectorAll('#maps .legend span[lang]')].filter(s => s.offsetParent).map(s => s.textContent);
  return {maps, section: box(document.getElementById('maps')),
          counties: [...document.querySelectorAll('path.county')].filter(visible).length,
          routes: [...document.querySelectorAll('polyline.route')].filter(visible).length,
          countries: [...document.querySelectorAll('path.country')].filter(visible).length,
          legend: shown, page_width: document.documentElement.scrollWidth};
})()"""


def _check_maps(dt: DevTools, session: str, tmp_path: Path, width: int, lang: str) -> None:
    """Both maps drawn with their counties and routes, inside the screen; a screenshot of the maps section."""
    import base64

    state = evaluate(dt, session, MAPS_JS)
    assert set(state["maps"]) == {"map_counties", "map_routes"}
    for m in state["maps"].values():
        assert m["w"] > min(width - 80, 250) / 2 and m["h"] > 150 and m["right"] <= width, state
    assert state["counties"] == 47 and state["routes"] == 10 and state["countries"] > 10, state
    assert state["page_width"] <= width, state
    words = {"en": ("withheld", "none reported"), "sw": ("imezuiliwa", "hakuna kilichoripotiwa")}[lang]
    assert set(words) <= set(state["legend"]), state["legend"]
    s = state["section"]
    shot = dt.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": s["y"], "width": width, "height": s["h"], "scale": 1},
        },
        session,
        timeout=60,
    )["data"]
    (tmp_path / f"maps-{width}-{lang}.png").write_bytes(base64.b64decode(shot))


@pytest.mark.timeout(180)
def test_page_renders_in_headless_chromium(pack, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI installs it")
    _, out = pack
    page = out / f"njia-report-{YEAR}.html"
    dt = DevTools(CHROMIUM, tmp_path / "profile")
    try:
        session = dt.new_page()
        dt.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        dt.events.clear()
        started = time.perf_counter()
        dt.send("Page.navigate", {"url": page.as_uri()}, session)
        dt.wait_for("Page.loadEventFired")
        render_s = time.perf_counter() - started
        print(f"report page: {page.stat().st_size:,} bytes, loaded and drawn in {render_s:.2f} s")

        state = evaluate(
            dt,
            session,
            """({
          charts: [...document.querySelectorAll('svg.chart')].filter(s => s.getClientRects().length).map(s => {
            const r = s.getBoundingClientRect();
            return {id: s.dataset.chart, w: r.width, h: r.height,
                    marks: s.querySelectorAll('rect, path.band, circle').length};
          }),
          bars: [...document.querySelectorAll('g.bar rect')].filter(r => r.getBBox().width > 0).length,
          bands: [...document.querySelectorAll('path.band')].filter(p => p.getBBox().height >= 0).length,
          heading: [...document.querySelectorAll('h1 span')].filter(s => s.offsetParent).map(s => s.textContent),
          height: document.documentElement.scrollHeight,
        })""",
        )
        assert {c["id"] for c in state["charts"]} >= {
            "cases_by_route",
            "cases_by_province",
            "cases_by_origin_county",
            "cases_by_destination_country",
            "cases_by_carrier",
            "cases_by_recruitment_method",
            "cases_by_means_of_control",
            "cases_by_exploitation_type",
            "cases_by_transit_point",
            "trend_cases_total",
            "trend_cases_by_exploitation_type",
            "trend_cases_by_destination_country",
        }
        for c in state["charts"]:
            assert c["w"] > 200 and c["h"] > 50 and c["marks"] > 0, c
        assert state["bars"] > 40 and state["bands"] >= 2 * 10
        assert state["heading"] == [f"Human trafficking routes in Kenya, {YEAR}"]
        _check_maps(dt, session, tmp_path, 1280, "en")

        shot = dt.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": 1280, "height": min(state["height"], 6000), "scale": 1},
            },
            session,
            timeout=60,
        )["data"]
        import base64

        (tmp_path / "report.png").write_bytes(base64.b64decode(shot))
        if os.environ.get("NJIA_KEEP_SCREENSHOT"):
            shutil.copy(tmp_path / "report.png", os.environ["NJIA_KEEP_SCREENSHOT"])
            shutil.copy(page, Path(os.environ["NJIA_KEEP_SCREENSHOT"]).with_suffix(".html"))
        pixels = evaluate(dt, session, PIXELS_JS % json.dumps(shot))
        assert pixels["width"] == 1280 and pixels["height"] > 2000
        assert pixels["colours"] > 40, pixels  # not blank: charts, text and the header in colour
        assert 0.05 < pixels["inked"] < 0.9, pixels

        # The language toggle switches the visible text to Swahili without any script.
        evaluate(dt, session, "document.querySelector('label[for=lang-sw]').click()")
        sw = evaluate(
            dt, session, "[...document.querySelectorAll('h1 span')].filter(s => s.offsetParent).map(s => s.textContent)"
        )
        assert sw == [f"Njia za usafirishaji haramu wa binadamu nchini Kenya, {YEAR}"]
        countries = evaluate(
            dt,
            session,
            "[...document.querySelectorAll('[data-chart=cases_by_destination_country] text')]"
            ".filter(t => getComputedStyle(t).display !== 'none').map(t => t.textContent)",
        )
        assert "Saudia" in countries and "Falme za Kiarabu" in countries and "Saudi Arabia" not in countries
        _check_maps(dt, session, tmp_path, 1280, "sw")
        # A phone: the maps fit the screen (no sideways scrolling), in both languages.
        dt.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True},
            session,
        )
        _check_maps(dt, session, tmp_path, 360, "sw")
        evaluate(dt, session, "document.querySelector('label[for=lang-en]').click()")
        _check_maps(dt, session, tmp_path, 360, "en")

        assert page_errors(dt) == []
        requests = network_requests(dt)
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
        assert page.as_uri() in requests
    finally:
        dt.close()


def test_many_withheld_cells_are_named_under_the_chart(settings, fake_schema, tmp_path):
    rows = reporting_rows()
    for code in ("048", "049", "050", "051"):
        rows["cases_by_origin_county"].append((YEAR, code, f"Imaginary {code}", "Coast", None, True))
    create_reporting(settings, rows)
    out = write_pack(settings, YEAR, tmp_path / "pack")
    html = parse_html(out / f"njia-report-{YEAR}.html")
    assert html.listed["cases_by_origin_county"] == {"016", "007", "048", "049", "050", "051"}
    assert all("data-withheld" not in b for b in html.bars["cases_by_origin_county"])
    assert_pack_matches(settings, out)
