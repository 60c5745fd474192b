"""The fictional data generator: deterministic, varied the way real submissions are, and its manifest
agrees with the files it wrote (and, once ingest is there, with what the platform loads)."""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter
from pathlib import Path

import demo_oracle as oracle
import openpyxl
import pytest

from ingest.contract import COLUMNS, HEADER_ALIASES, code_list, normalise_header
from njia.settings import Settings
from njia_demo import generator as demo

YEARS = (2024, 2025)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> demo.DemoManifest:
    root = tmp_path_factory.mktemp("demo")
    return demo.generate_inbox(root / "inbox", root / "organisations.csv", years=YEARS)


def _read(f: demo.DemoFile) -> tuple[list[str], list[list]]:
    """Header and data rows of a generated file, read back with its own dialect."""
    if f.format.kind == "xlsx":
        wb = openpyxl.load_workbook(f.path, read_only=True)
        rows = [list(r) for r in wb[f.format.sheet].iter_rows(values_only=True)]
        wb.close()
    else:
        with open(f.path, encoding=f.format.encoding, newline="") as fh:
            rows = list(csv.reader(fh, delimiter=f.format.delimiter))
    return [str(h) for h in rows[0]], rows[1:]


def _seed_codes(name: str, column: str) -> set[str]:
    return {r[column] for r in code_list(name)}


def test_same_seed_same_bytes_and_manifest(tmp_path: Path) -> None:
    a = demo.generate_inbox(tmp_path / "a" / "inbox", tmp_path / "a" / "orgs.csv", seed=11)
    b = demo.generate_inbox(tmp_path / "b" / "inbox", tmp_path / "b" / "orgs.csv", seed=11)
    c = demo.generate_inbox(tmp_path / "c" / "inbox", tmp_path / "c" / "orgs.csv", seed=12)
    assert [f.path.relative_to(a.inbox) for f in a.files] == [f.path.relative_to(b.inbox) for f in b.files]
    for fa, fb in zip(a.files, b.files, strict=True):
        assert fa.path.read_bytes() == fb.path.read_bytes(), fa.path.name  # XLSX included
    assert a.registry.read_bytes() == b.registry.read_bytes()
    assert a.to_json()["files"] == b.to_json()["files"]
    assert [f.sha256 for f in a.files] != [f.sha256 for f in c.files]


def test_at_least_six_organisations_over_two_years(generated: demo.DemoManifest) -> None:
    orgs = {f.organisation_code for f in generated.files}
    assert len(orgs) >= 6
    for org in orgs:
        years = {p[:4] for f in generated.files if f.organisation_code == org for p in f.periods}
        assert years == {str(y) for y in YEARS}, org
    assert {"year", "quarter", "month"} == {
        "quarter" if "Q" in p else "month" if "-" in p else "year" for f in generated.files for p in f.periods
    }


def test_registry_is_valid_and_fictional(generated: demo.DemoManifest) -> None:
    with generated.registry.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == demo.REGISTRY_FIELDS
    codes = [r["organisation_code"] for r in rows]
    assert len(codes) == len(set(codes))
    counties = _seed_codes("counties", "county_code")
    for r in rows:
        assert r["organisation_name"].endswith("(fictional)")
        assert r["county_code"] in counties
        assert r["active"] in ("true", "false")
        assert re.fullmatch(r"[A-Z][A-Z0-9_-]*", r["organisation_code"])
    active = {r["organisation_code"] for r in rows if r["active"] == "true"}
    assert {f.organisation_code for f in generated.files} <= active
    assert set(codes) - {f.organisation_code for f in generated.files}, "an organisation that never submits"
    for f in generated.files:
        assert f.path.parent.name == f.organisation_code
        assert f.path.parent.parent == generated.inbox


def test_files_come_in_the_shapes_real_organisations_send(generated: demo.DemoManifest) -> None:
    english = {c.name for c in COLUMNS}
    swahili = {c.swahili for c in COLUMNS}
    langs, encodings, delimiters, spellings = set(), set(), set(), Counter()
    patterns = {
        "YYYY-Qn": r"\d{4}-Q[1-4]",
        "YYYY Qn": r"\d{4} Q[1-4]",
        "Qn YYYY": r"Q[1-4] \d{4}",
        "YYYY-MM": r"\d{4}-\d{2}",
        "YYYY/MM": r"\d{4}/\d{2}",
        "YYYY": r"\d{4}",
    }
    for f in generated.files:
        header, rows = _read(f)
        assert header == list(f.header)
        assert len(rows) == f.rows_read
        names = [normalise_header(h) for h in header]
        known = [n for n in names if n in HEADER_ALIASES]
        assert all(HEADER_ALIASES[n] for n in known)
        if set(known) <= english:
            langs.add("en")
        if set(known) <= swahili:
            langs.add("sw")
        assert [h for h, n in zip(header, names, strict=True) if n not in HEADER_ALIASES] == list(f.ignored_columns)
        encodings.add(f.format.encoding if f.format.kind == "csv" else "xlsx")
        delimiters.add(f.format.delimiter if f.format.kind == "csv" else None)
        at = next(i for i, n in enumerate(names) if HEADER_ALIASES.get(n) == "reporting_period")
        for row in rows:
            for name, pattern in patterns.items():
                if re.fullmatch(pattern, str(row[at])):
                    spellings[name] += 1
    assert langs == {"en", "sw"}
    assert {"utf-8", "utf-8-sig", "cp1252", "utf-16", "xlsx"} <= encodings
    assert {",", ";", "\t"} <= delimiters
    assert set(spellings) == set(patterns), spellings
    xlsx = [f for f in generated.files if f.format.kind == "xlsx"]
    assert xlsx and all(demo.FileFormat().sheet in openpyxl.load_workbook(f.path).sheetnames for f in xlsx)


def test_values_are_spelled_many_ways(generated: demo.DemoManifest) -> None:
    """The raw cells use codes, names, aliases, labels in both languages, several separators and counts."""
    cells = [c for f in generated.files for row in _read(f)[1] for c in row if c not in (None, "")]
    text = "\n".join(map(str, cells))
    for needle in (
        "UAE",
        "HKJK",
        "OTHH",
        "Sirari",
        "Lungalunga",
        "Utumwa wa kazi za nyumbani",
        "Domestic servitude",
        "Kenya Airways",
        "KQA",
        "Tanzania, United Republic of",
        "Nairobi City",
        "Nairobi\n",
        "KEN",
    ):
        assert needle in text, needle
    for separator in ("|", " | ", "; ", ", "):
        assert any(isinstance(c, str) and separator in c and "United Republic" not in c for c in cells), separator
    assert any(re.fullmatch(r"\d{1,3},\d{3}", str(c)) for c in cells), "a count with a thousands separator"
    assert any(re.fullmatch(r"\d+\.0", str(c)) for c in cells), "a count written as a decimal"
    assert any(isinstance(c, int) for c in cells), "numbers typed into XLSX cells"
    assert {"1", "01", "001"} & set(cells) or any(re.fullmatch(r"[1-9]", str(c)) for c in cells)
    assert any(re.fullmatch(r"0\d\d", str(c)) for c in cells), "a county code with leading zeros"


def test_manifest_is_consistent(generated: demo.DemoManifest) -> None:
    counties = _seed_codes("counties", "county_code")
    exploitation = _seed_codes("exploitation_types", "code")
    airlines = _seed_codes("airlines", "iata_code") | {"other"}
    lists = {
        "transport_modes": _seed_codes("transport_modes", "code"),
        "recruitment_methods": _seed_codes("recruitment_methods", "code"),
        "means_of_control": _seed_codes("means_of_control", "code"),
        "carriers": airlines,
    }
    transit_kinds = {
        "airport": _seed_codes("airports", "iata_code"),
        "border": _seed_codes("border_points", "border_point"),
        "county": counties,
    }
    for f in generated.files:
        if f.expected_status == "duplicate":
            assert f.duplicate_of is not None and f.path.read_bytes() == f.duplicate_of.read_bytes()
            continue
        assert f.rows_read == len(f.rows) + len(f.problems)
        assert sum(r["cases_estimated"] for r in f.rows) == f.cases_total
        assert tuple(sorted({r["reporting_period"] for r in f.rows})) == f.periods
        numbers = [r["row_number"] for r in f.rows] + [p[0] for p in f.problems]
        assert sorted(numbers) == list(range(2, f.rows_read + 2))
        assert len(f.problems) < f.rows_read / 2
        assert len({tuple(v for k, v in r.items() if k != "row_number") for r in f.rows}) == len(f.rows)
        for r in f.rows:
            assert tuple(k for k in r if k != "row_number") == demo.EXPECTED_FIELDS
            assert r["organisation_code"] == f.organisation_code
            assert r["period_start"].year == r["period_end"].year
            assert r["exploitation_type"] in exploitation
            for side in ("origin", "destination"):
                assert (r[f"{side}_county"] in counties) == (r[f"{side}_country"] == "KE"), r
            for column, allowed in lists.items():
                assert set((r[column] or "").split(";")) - {""} <= allowed, (column, r[column])
            if r["carriers"]:
                assert "air" in r["transport_modes"].split(";")
            for item in (r["transit_points"] or "").split(";") if r["transit_points"] else ():
                kind, code = item.split(":", 1)
                assert code in transit_kinds[kind] if kind != "country" else re.fullmatch("[A-Z]{2}", code)
            assert 1 <= r["cases_estimated"] <= 100_000
            assert (r["female_cases"] or 0) + (r["male_cases"] or 0) <= r["cases_estimated"]
            assert (r["child_cases"] or 0) <= r["cases_estimated"]
    codes = Counter(p[2] for f in generated.files for p in f.problems)
    assert {"unknown_county", "invalid_period", "inconsistent_counts", "unknown_country"} <= set(codes)


def test_correction_replaces_the_earlier_file(generated: demo.DemoManifest) -> None:
    corrections = [f for f in generated.files if f.corrects is not None]
    assert corrections
    fix = corrections[0]
    original = next(f for f in generated.files if f.path == fix.corrects)
    assert generated.files.index(fix) > generated.files.index(original)
    assert fix.path.stat().st_mtime > original.path.stat().st_mtime
    assert fix.periods == original.periods and fix.cases_total != original.cases_total
    in_force = oracle.rows_in_force(generated)
    period = fix.periods[0]
    mine = [r for r in in_force if (r["organisation_code"], r["reporting_period"]) == (fix.organisation_code, period)]
    assert mine == fix.rows
    loaded = [f for f in generated.files if f.expected_status != "duplicate" and f.corrects is None]
    total = oracle.cases_total(generated)
    assert total == sum(f.cases_total for f in loaded) - original.cases_total + fix.cases_total
    assert total == sum(oracle.cases_total(generated, y) for y in YEARS)
    assert sum(oracle.cases_by(generated, "exploitation_type").values()) == total
    assert sum(oracle.cases_by(generated, "carriers").values()) >= oracle.cases_by(generated, "carriers")["KQ"] > 0


def test_manifest_json_round_trips(generated: demo.DemoManifest, tmp_path: Path) -> None:
    data = json.loads(generated.write_json(tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert len(data["files"]) == len(generated.files)
    first = data["files"][0]
    assert (generated.inbox / first["path"]).exists()
    assert first["rows"][0]["period_start"] == generated.files[0].rows[0]["period_start"].isoformat()
    assert {f["expected_status"] for f in data["files"]} == {"accepted", "accepted_with_errors", "duplicate"}


def test_iter_rows_at_scale_stays_distinct_and_marks_invalid_rows() -> None:
    periods = demo.periods_of("month", YEARS)
    style = demo.MESSY_STYLE
    rows = list(
        demo.iter_rows(
            random.Random(3), 20_000, organisation_code="X", periods=periods, style=style, invalid_share=0.02
        )
    )
    valid = [r.expected for r in rows if r.expected is not None]
    invalid = [r for r in rows if r.expected is None]
    assert len({tuple(r.values()) for r in valid}) == len(valid)
    assert 200 < len(invalid) < 600 and all(r.problem in demo.INVALID_KINDS.values() for r in invalid)
    assert {r["reporting_period"] for r in valid} == {p.code for p in periods}
    assert all(len(r.cells) == len(style.header()) for r in rows)


def test_iter_rows_respects_missing_columns() -> None:
    """A style without some columns: values it cannot carry are absent from the expected rows too."""
    style = demo.Style(
        columns=(
            "reporting_period",
            "origin_county",
            "destination_country",
            "exploitation_type",
            "carriers",
            "cases_estimated",
        ),
        routes=(("gulf", 1), ("domestic", 1)),
    )
    rows = list(
        demo.iter_rows(
            random.Random(5), 6000, organisation_code="X", periods=demo.periods_of("year", YEARS), style=style
        )
    )
    assert len({tuple(r.expected.values()) for r in rows}) == len(rows)
    for r in rows:
        assert r.expected["destination_country"] != "KE"  # domestic routes need destination_county
        assert r.expected["female_cases"] is None and r.expected["transit_points"] is None
        assert r.expected["transport_modes"] == ("air" if r.expected["carriers"] else None)


def test_bench_generator_writes_files_registry_and_answers(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_generate", Path(__file__).parents[1] / "bench/generate.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--rows", "3000", "--files", "2", "--out", str(tmp_path), "--invalid-share", "0.01"]) == 0
    expected = json.loads((tmp_path / "expected.json").read_text(encoding="utf-8"))
    assert expected["rows_total"] == 6000 and len(expected["files"]) == 2
    with (tmp_path / "organisations.csv").open(encoding="utf-8") as fh:
        registered = {r["organisation_code"] for r in csv.DictReader(fh)}
    for f in expected["files"]:
        path = tmp_path / "inbox" / f["path"]
        assert path.parent.name == f["organisation_code"] in registered
        with path.open(encoding="utf-8", newline="") as fh:
            assert sum(1 for _ in csv.reader(fh)) == 3001
        assert f["rows_valid"] + len(f["problems"]) == 3000 and f["rows"] == []
    assert expected["cases_total"] == sum(f["cases_total"] for f in expected["files"])


# ---------------------------------------------------------------------------------------------------
# End to end: the platform loads what the manifest says (needs ingest and the warehouse)
# ---------------------------------------------------------------------------------------------------


def test_ingest_loads_what_the_manifest_expects(settings: Settings) -> None:
    from ingest import pipeline
    from njia import warehouse

    inbox = Path(settings.inbox_url)
    manifest = demo.generate_inbox(inbox, settings.organisations_path, years=YEARS)
    outcomes = {Path(o.file).name: o.as_json() for o in pipeline.ingest(settings)}
    assert len(outcomes) == len(manifest.files)
    for f in manifest.files:
        got = outcomes[f.path.name]
        assert got["organisation"] == f.organisation_code
        assert got["status"] == f.expected_status, (f.path.name, got["reason"], got["problems"][:5])
        if f.expected_status == "duplicate":
            continue
        assert (got["rows_read"], got["rows_loaded"], got["rows_quarantined"]) == (
            f.rows_read,
            f.rows_valid,
            len(f.problems),
        ), f.path.name
        assert sorted((p["row"], p["column"], p["code"]) for p in got["problems"]) == sorted(f.problems)
        assert got["ignored_columns"] == [normalise_header(h) for h in f.ignored_columns] or got[
            "ignored_columns"
        ] == list(f.ignored_columns)

    columns = ", ".join(f"r.{c}" for c in ("row_number", *demo.EXPECTED_FIELDS))
    with warehouse.connect(settings) as conn:
        for f in manifest.files:
            if f.expected_status == "duplicate":
                continue
            cur = conn.execute(
                f"select {columns} from raw.route_reports r join ops.submissions s using (submission_id)"
                " where s.sha256 = %s and s.status <> 'duplicate' order by row_number",
                (f.sha256,),
            )
            names = [d.name for d in cur.description]
            loaded = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
            assert loaded == f.rows, f.path.name


def test_njia_demo_refuses_a_warehouse_url(tmp_path: Path) -> None:
    """Fictional rows must never reach a real warehouse: with NJIA_WAREHOUSE_URL set, `njia demo` says what
    to do and exits with the configuration error's code, before it writes or connects to anything."""
    from click.testing import CliRunner

    from njia.cli import CONFIG_ERROR, main

    home = tmp_path / "home"
    result = CliRunner().invoke(
        main, ["demo", "--home", str(home)], env={"NJIA_WAREHOUSE_URL": "postgresql://njia@127.0.0.1:1/njia"}
    )
    assert result.exit_code == CONFIG_ERROR, result.output
    assert "NJIA_WAREHOUSE_URL is set" in result.output and "env -u NJIA_WAREHOUSE_URL njia demo" in result.output
    assert not home.exists()
