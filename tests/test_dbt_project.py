"""The dbt project's structure, checked over target/manifest.json the way dbt-project-evaluator would
(the package itself cannot be installed here: no dbt hub). `dbt parse` needs no database.

Rules (names as in dbt-project-evaluator): model naming conventions and directories, source directories,
no source() outside staging (fct_marts_or_intermediate_dependent_on_source), no source joined to a model
(fct_direct_join_to_source), one source per staging model (fct_multiple_sources_joined), staging never depends
on staging or downstream models, no root models, no rejoining of upstream concepts, primary key tests on every
model (fct_missing_primary_key_tests), 100 % documentation (fct_undocumented_models, documentation coverage;
the column coverage against the real relations is in test_transform.py), at most 4 chained views
(fct_chained_views_dependencies), no hard-coded references, sources with freshness; plus this project's own:
contracts and persist_docs on published models, the reporting names of docs/interfaces.md §5, SQL shape.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from functools import cache
from pathlib import Path

import pytest
import yaml
from repo_paths import REPO_ROOT as PROJECT_ROOT

from njia import reporting_tables, transform
from njia.paths import DBT_PROJECT_DIR, SEEDS_DIR
from njia.settings import get_settings

MAX_CHAINED_VIEWS = 4
LAYER_PREFIXES = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("fct_", "dim_", "bridge_")}
# The analysts' views in marts (docs/interfaces.md §4): named for what a BI user looks for, not by star-schema role.
ANALYST_VIEWS = {
    "route_reports_wide",
    "carrier_cases",
    "recruitment_method_cases",
    "means_of_control_cases",
    "transit_point_cases",
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    # A URL that is never connected to: parsing only renders the profile.
    settings = get_settings(
        home=tmp_path_factory.mktemp("dbt-parse"), warehouse_url="postgresql://njia:unused@127.0.0.1:1/njia"
    )
    return json.loads(transform.parse(settings).read_text())


def models(manifest: dict) -> dict[str, dict]:
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}


def layer(node: dict) -> str:
    return Path(node["original_file_path"]).parts[1]


def parents(node: dict) -> list[str]:
    return node["depends_on"]["nodes"]


def attached_tests(manifest: dict, uid: str) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "test" and n.get("attached_node") == uid]


# ----------------------------------------------------------------------------------- naming and folders


def test_model_naming_and_directories(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        path = Path(node["original_file_path"])
        assert path.parts[0] == "models", uid
        kind = layer(node)
        if kind == "reporting":
            assert node["name"] in transform.REPORTING_TABLES, uid
            assert len(path.parts) == 3, uid
            continue
        assert kind in LAYER_PREFIXES, f"{uid} is in models/{kind}"
        assert node["name"].startswith(LAYER_PREFIXES[kind]) or (kind == "marts" and node["name"] in ANALYST_VIEWS), (
            f"{uid} should start with {LAYER_PREFIXES[kind]}"
        )
        if kind in ("staging", "intermediate"):
            assert len(path.parts) >= 4, f"{uid}: {kind} models live in a subfolder (source or area)"
        # the closest folder named after a layer is the model's own layer
        assert [p for p in path.parts[:-1] if p in {*LAYER_PREFIXES, "reporting"}][-1] == kind, uid
    names = {n["name"] for n in models(manifest).values() if layer(n) == "reporting"}
    assert names == set(transform.REPORTING_TABLES)


def test_staging_models_sit_in_their_source_folder(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        for parent in parents(node):
            if parent.startswith("source."):
                source_name = manifest["sources"][parent]["source_name"]
                assert source_name in str(Path(node["original_file_path"]).parent), (uid, source_name)
    for uid, source in manifest["sources"].items():
        path = Path(source["original_file_path"])
        assert path.parts[:2] == ("models", "staging") and source["source_name"] in str(path.parent), uid
        assert path.name == f"_{source['source_name']}__sources.yml", uid


def test_yaml_per_folder(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        folder = Path(node["original_file_path"]).parent
        assert node["patch_path"], f"{uid} has no YAML"
        yml = Path(node["patch_path"].split("://", 1)[1])
        assert yml.parent == folder, uid
        assert yml.name == f"_{folder.name}__models.yml", uid


# ------------------------------------------------------------------------------------------------- DAG


def test_sources_only_in_staging_and_never_joined_to_models(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        sources = [p for p in parents(node) if p.startswith("source.")]
        others = [p for p in parents(node) if not p.startswith("source.")]
        if sources:
            assert layer(node) == "staging", f"{uid} reads a source outside staging"
            assert len(sources) == 1, f"{uid} joins several sources"
            assert not others, f"{uid} joins a source to {others}"


def test_staging_depends_on_nothing_downstream(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        if layer(node) == "staging":
            assert all(p.startswith(("source.", "seed.")) for p in parents(node)), uid


def test_no_root_models_and_no_unused_sources(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        assert parents(node), f"{uid} has no parent"
    used = {
        p
        for n in manifest["nodes"].values()
        for p in n.get("depends_on", {}).get("nodes", [])
        if n["resource_type"] == "model"
    }
    assert set(manifest["sources"]) <= used


def test_no_rejoining_of_upstream_concepts(manifest: dict) -> None:
    """A → B → C and A → C, where B has no other child: B should be folded into C (evaluator's rule)."""
    children: dict[str, set[str]] = {}
    nodes = {**models(manifest)}
    for uid, node in nodes.items():
        for p in parents(node):
            children.setdefault(p, set()).add(uid)
    for a in list(children):
        for b in children[a]:
            if b in nodes and children.get(b, set()) and len(children[b]) == 1:
                (c,) = children[b]
                assert c not in children[a], f"{a} → {b} → {c} and {a} → {c}"


def test_at_most_four_chained_views(manifest: dict) -> None:
    nodes = models(manifest)

    @cache
    def chain(uid: str) -> int:
        node = nodes[uid]
        if node["config"]["materialized"] not in ("view", "ephemeral"):
            return 0
        return 1 + max((chain(p) for p in parents(node) if p in nodes), default=0)

    longest = {uid: chain(uid) for uid in nodes}
    assert max(longest.values()) <= MAX_CHAINED_VIEWS, sorted(longest.items(), key=lambda x: -x[1])[:3]


def test_no_hard_coded_references(manifest: dict) -> None:
    schemas = r"(raw|ops|staging|intermediate|marts|reporting|snapshots)"
    for uid, node in models(manifest).items():
        sql = re.sub(r"--[^\n]*", "", node["raw_code"])
        assert not re.search(rf"\b(from|join)\s+\"?{schemas}\"?\.", sql, re.IGNORECASE), uid


# ------------------------------------------------------------------------------------------ tests, docs


def test_every_model_has_a_primary_key_test(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        tests = attached_tests(manifest, uid)
        by_column: dict[str, set[str]] = {}
        combos = []
        for t in tests:
            meta = t.get("test_metadata") or {}
            if meta.get("name") == "unique_combination_of_columns":
                combos.append(meta["kwargs"]["combination_of_columns"])
            elif meta.get("name") == "list_view_is_sound":  # the key unique and not null in the one scan
                by_column.setdefault(meta["kwargs"]["code_column"], set()).update({"unique", "not_null"})
            elif t.get("column_name"):
                by_column.setdefault(t["column_name"], set()).add(meta.get("name"))
        single = any({"unique", "not_null"} <= names for names in by_column.values())
        not_null = {c for c, names in by_column.items() if "not_null" in names} | {
            name
            for name, col in node["columns"].items()
            if any(k["type"] == "not_null" for k in col.get("constraints", []))
        }
        composite = any(set(combo) <= not_null for combo in combos)
        assert single or composite, f"{uid} has no unique + not_null key test"


def test_list_views_are_tested_in_one_scan(manifest: dict) -> None:
    """Every data test on a list view recomputes it (the lists exploded over every route row): one test
    checks all of it (docs/benchmarks.md), and no other test may come back."""
    for uid, node in models(manifest).items():
        if node["name"] in ANALYST_VIEWS - {"route_reports_wide"}:
            [test] = attached_tests(manifest, uid)
            meta = test["test_metadata"]
            assert meta["name"] == "list_view_is_sound", uid
            assert meta["kwargs"]["code_column"] == list(node["columns"])[2], uid


def test_documentation_coverage(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        assert node["description"].strip(), f"{uid} is undocumented"
        assert node["columns"], f"{uid} documents no column"
        for name, column in node["columns"].items():
            assert column["description"].strip(), f"{uid}.{name} is undocumented"
        assert node["config"]["persist_docs"] == {"relation": True, "columns": True}, uid
    for uid, source in manifest["sources"].items():
        assert source["description"].strip() and source["source_description"].strip(), uid
        assert source["loaded_at_field"] == "loaded_at" or source["source_name"] == "ops", uid
    for uid in ("source.njia.raw.route_reports", "source.njia.raw.organisations"):
        freshness = manifest["sources"][uid]["freshness"]
        assert freshness["warn_after"]["count"] and freshness["error_after"]["count"], uid
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] in ("seed", "snapshot"):
            assert node["description"].strip(), uid
    for uid, test in manifest["unit_tests"].items():
        assert test["description"].strip(), uid


def test_non_additive_tables_say_so(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        if layer(node) == "reporting":
            non_additive = "adds_up_to" not in node["config"]["meta"]
        else:
            non_additive = node["name"].startswith("bridge_") or node["name"].endswith("_cases")
        assert ("Non-additive" in node["description"]) == non_additive, uid


def test_reporting_metadata_is_read_as_dbt_reads_it(manifest: dict) -> None:
    """njia.reporting_tables reads _reporting__models.yml without dbt; dbt's parse must say the same."""
    tables = reporting_tables.load()
    reporting = {n["name"]: n for n in models(manifest).values() if layer(n) == "reporting"}
    assert [t.name for t in tables] == sorted(
        reporting, key=lambda name: reporting[name]["config"]["meta"]["pack_order"]
    )
    for table in tables:
        node = reporting[table.name]
        meta = node["config"]["meta"]
        assert (table.pack_order, table.title, table.adds_up_to) == (
            meta["pack_order"],
            meta["title"],
            meta.get("adds_up_to"),
        ), table.name
        assert [(c, col["data_type"]) for c, col in node["columns"].items()] == [
            ("report_year", "integer"),
            *zip(table.columns, table.data_types, strict=True),
        ], table.name
        assert table.adds_up_to in (None, "all_cases", "kenyan_origin_cases"), table.name
        combos = [
            t["test_metadata"]["kwargs"]["combination_of_columns"]
            for t in attached_tests(manifest, node["unique_id"])
            if (t.get("test_metadata") or {}).get("name") == "unique_combination_of_columns"
        ]
        assert [tuple(c for c in combo if c != "report_year") for combo in combos] == ([table.key] if table.key else [])


def test_published_models_have_enforced_contracts(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        published = layer(node) in ("marts", "reporting")
        assert node["config"]["contract"]["enforced"] == published, uid
        if published:
            assert node["config"]["materialized"] == ("view" if node["name"] in ANALYST_VIEWS else "table"), uid
            assert all(c.get("data_type") for c in node["columns"].values()), uid


def test_relationships_from_facts_and_bridges(manifest: dict) -> None:
    related: dict[str, set[str]] = {}
    for t in manifest["nodes"].values():
        if t["resource_type"] == "test" and (t.get("test_metadata") or {}).get("name") == "relationships":
            related.setdefault(t["attached_node"].removeprefix("model.njia."), set()).add(t["column_name"])
    expected = {
        "fct_route_reports": {
            "organisation_code",
            "reporting_period",
            "route_key",
            "origin_location_code",
            "destination_location_code",
            "exploitation_type_code",
        },
        "bridge_route_report_carriers": {"route_report_key", "carrier_code"},
        "bridge_route_report_recruitment_methods": {"route_report_key", "recruitment_method_code"},
        "bridge_route_report_means_of_control": {"route_report_key", "means_of_control_code"},
        "bridge_route_report_transport_modes": {"route_report_key", "transport_mode_code"},
        "bridge_route_transit_points": {"route_key", "location_code"},
    }
    for model, columns in expected.items():
        assert related.get(model, set()) >= columns, model
    assert {n["name"] for n in models(manifest).values() if n["name"].startswith(("fct_", "bridge_"))} == set(expected)


def test_unit_and_reconciliation_tests_exist(manifest: dict) -> None:
    unit = {t["model"] for t in manifest["unit_tests"].values()}
    assert {
        "int_reporting_periods_in_force",
        "int_route_reports_in_force",
        "int_routes_labelled",
        "cases_by_province",
    } <= unit
    singular = {
        n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test" and not n.get("test_metadata")
    }
    assert "assert_fct_route_reports_reconcile_with_raw" in singular
    for test in ("no_small_cells", "reconciles_with_fact"):
        attached = {
            t["attached_node"] for t in manifest["nodes"].values() if (t.get("test_metadata") or {}).get("name") == test
        }
        assert attached == {f"model.njia.{name}" for name in transform.REPORTING_TABLES}, test


# ----------------------------------------------------------------------------------------- SQL and files


THIN_MODEL = re.compile(r"^(?:--[^\n]*\n|\{\{\s*config\(.*?\)\s*\}\}\s*)*\{\{\s*(\w+)\(.*\)\s*\}\}\s*$", re.DOTALL)


def model_sql(manifest: dict, node: dict) -> str:
    """A model's SQL as written: its own file, or the macro that is its whole body (a thin model)."""
    thin = THIN_MODEL.match(node["raw_code"])
    return manifest["macros"][f"macro.njia.{thin.group(1)}"]["macro_sql"] if thin else node["raw_code"]


def macros_used(manifest: dict, node: dict) -> set[str]:
    seen: set[str] = set()
    pending = list(node["depends_on"]["macros"])
    while pending:
        uid = pending.pop()
        if uid not in seen:
            seen.add(uid)
            pending += manifest["macros"].get(uid, {}).get("depends_on", {}).get("macros", [])
    return seen


def test_sql_shape(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        sql = model_sql(manifest, node)
        assert re.sub(r"\{%-?\s*endmacro\s*-?%\}", "", sql).rstrip().endswith("select * from final"), uid
        code = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|--[^\n]*|'[^']*'", "", sql, flags=re.DOTALL)
        assert code == code.lower(), f"{uid}: SQL is lowercase"


def test_thin_models_are_one_macro_call(manifest: dict) -> None:
    """The list bridges, and the reporting tables of cases per year and item, differ only in names: one macro
    call each."""
    bodies = {node["name"]: THIN_MODEL.match(node["raw_code"]) for node in models(manifest).values()}
    thin = {name: match.group(1) for name, match in bodies.items() if match}
    assert thin == {
        **{
            f"bridge_route_report_{name}": "list_bridge"
            for name in ("carriers", "recruitment_methods", "means_of_control", "transport_modes")
        },
        **{
            f"{name}_cases": "list_cases"
            for name in ("carrier", "recruitment_method", "means_of_control", "transit_point")
        },
        **{
            f"cases_by_{name}": "cases_per_year"
            for name in (
                "origin_county",
                "province",
                "destination_country",
                "exploitation_type",
                "carrier",
                "recruitment_method",
                "means_of_control",
                "transit_point",
                "province_destination",
                "province_exploitation",
                "province_carrier",
                "province_recruitment",
            )
        },
    }


def test_suppression_is_written_once(manifest: dict) -> None:
    for uid, node in models(manifest).items():
        if layer(node) == "reporting":
            assert "macro.njia.suppress_small_cells" in macros_used(manifest, node), uid
            assert "between 1 and" not in model_sql(manifest, node), uid


def test_project_settings() -> None:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["name"] == "njia" and project["profile"] == "njia"
    assert project["flags"]["send_anonymous_usage_stats"] is False
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    for variable in (
        "NJIA_DBT_HOST",
        "NJIA_DBT_PORT",
        "NJIA_DBT_USER",
        "DBT_ENV_SECRET_NJIA_DBT_PASSWORD",
        "NJIA_DBT_DBNAME",
        "NJIA_DBT_SCHEMA",
    ):
        assert variable in profile
    assert not (DBT_PROJECT_DIR / "packages.yml").exists()  # no dbt hub here


def _contract_code_lists() -> dict[str, dict[str, list[str]]]:
    """docs/contract.md §3.1's table: seed file -> {"columns": [...], "what": [codes in backticks]}."""
    text = (PROJECT_ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    section = text[text.index("### 3.1 Code lists") : text.index("### 3.2")]
    lists = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("| `") else []
        if len(cells) >= 3:
            lists[cells[0].strip("`")] = {
                "columns": re.findall(r"`([^`]+)`", cells[1].replace(", ", "`, `")),
                "what": re.findall(r"`([^`]+)`", cells[-1]),
            }
    return lists


def _seed(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (SEEDS_DIR / name).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_seeds_are_the_code_lists_of_the_contract() -> None:
    """The seeds are exactly the code lists docs/contract.md §3.1 names, with its columns, and they hold together:
    unique non-empty codes, both labels, the 47 counties, and every country or county they name exists."""
    documented = _contract_code_lists()
    assert len(documented) == 9
    assert {p.name for p in SEEDS_DIR.glob("*.csv")} == set(documented)
    seeds = {}
    for name, doc in documented.items():
        header, rows = _seed(name)
        assert header == doc["columns"], name
        codes = [r[header[0]] for r in rows]
        assert rows and all(c and c == c.strip() for c in codes), name
        assert len({c.casefold() for c in codes}) == len(codes), f"{name}: a code repeats"
        for label in {"label_en", "label_sw"} & set(header):
            assert all(r[label].strip() for r in rows), (name, label)
        seeds[name] = {r[header[0]]: r for r in rows}

    assert list(seeds["counties.csv"]) == [f"{i:03d}" for i in range(1, 48)]
    assert sorted(seeds["transport_modes.csv"]) == sorted(documented["transport_modes.csv"]["what"])
    countries = seeds["countries.csv"]
    assert countries["KE"]["alpha3_code"] == "KEN" and countries["NA"]["iso_name"] == "Namibia"
    assert {r["country"] for r in seeds["airports.csv"].values()} <= set(countries)
    assert {r["home_country"] for r in seeds["airlines.csv"].values()} <= set(countries)
    assert {r["neighbour_country"] for r in seeds["border_points.csv"].values()} <= set(countries)
    assert {r["county_code"] for r in seeds["border_points.csv"].values()} <= set(seeds["counties.csv"])
    assert "other" not in seeds["airlines.csv"]  # `other` is accepted beside the list, not a carrier in it
    # Coordinates for the report's route map (WGS84 decimal degrees; tests/test_maps.py checks where they lie).
    for name in ("airports.csv", "border_points.csv"):
        for code, r in seeds[name].items():
            assert re.fullmatch(r"-?\d{1,3}\.\d{1,6}", r["latitude"]) and -90 <= float(r["latitude"]) <= 90, code
            assert re.fullmatch(r"-?\d{1,3}\.\d{1,6}", r["longitude"]) and -180 <= float(r["longitude"]) <= 180, code


def test_countries_seed_matches_pycountry() -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_countries_seed", DBT_PROJECT_DIR / "scripts" / "generate_countries_seed.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (SEEDS_DIR / "countries.csv").read_text(encoding="utf-8") == module.render()
    with (SEEDS_DIR / "countries.csv").open(encoding="utf-8", newline="") as fh:
        rows = {r["country_code"]: r for r in csv.DictReader(fh)}
    assert rows["KE"]["country_name"] == "Kenya" and rows["TZ"]["country_name"] == "Tanzania"


def test_no_module_named_dbt_anything() -> None:
    """dbt's plugin manager imports every top-level dbt_* module on sys.path (docs/decisions.md §16)."""
    offenders = [p for p in PROJECT_ROOT.rglob("dbt_*.py") if ".venv" not in p.parts]
    assert offenders == []
