"""A non-editable install works: the wheel built from this checkout, installed with the locked requirements into
a fresh virtualenv outside the repository, runs `njia init`, a small `njia ingest` and `njia build` from a folder
outside the repository against a fresh NJIA_HOME, and finds the dbt project, the seeds and the GX suite as
package data (njia/paths.py), never through the checkout; the demo's generator (`njia_demo`) writes its inbox
from the installed package too. dbt writes nothing into the installed package.

Slow (a virtualenv and an embedded PostgreSQL of its own): uv installs the lock from its cache in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from repo_paths import REPO_ROOT

pytestmark = pytest.mark.slow

UV = Path(sys.executable).with_name("uv")
SOURCES = ("pyproject.toml", "README.md", "njia", "ingest", "njia_demo", "dbt_project", "expectations")
HEADER = (
    "reporting_period,origin_country,origin_county,transit_points,destination_country,destination_county,"
    "exploitation_type,transport_modes,carriers,recruitment_methods,means_of_control,cases_estimated,"
    "female_cases,male_cases,child_cases"
)
FILES = {
    "ALPHA/alpha_2021.csv": [
        "2021-Q1,KE,Nairobi,NBO;DOH,QA,,domestic_servitude,,KQ;QR,social_media,withholds_documents,30,25,5,0",
        "2021-Q2,KE,Busia,Malaba,UG,,sexual_exploitation,road,,friend_or_acquaintance,,12,12,0,4",
    ],
    "BETA/beta_2021.csv": [
        "2021,KE,Kisumu,,KE,Nairobi,forced_labour,road,,unregistered_agent,debt_bondage,15,5,10,",
    ],
}
# What the installed package answers about itself, from a folder outside the repository.
# The demo's generator too (what `njia demo` writes first), with the code lists it reads from the seeds.
PROBE = """
import json, pathlib, njia, ingest, njia_demo
import njia.portal.app  # a subpackage: listed in pyproject's packages, or missing from the wheel
from njia import maps, warehouse
from njia.paths import DBT_PROJECT_DIR, EXPECTATIONS_DIR
from njia.settings import get_settings
from njia_demo.generator import generate_inbox
with warehouse.connect(get_settings()) as conn:
    rows, cases = conn.execute("select count(*), sum(cases_estimated) from marts.fct_route_reports").fetchone()
demo = generate_inbox(pathlib.Path("demo/inbox"), pathlib.Path("demo/organisations.csv"))
print(json.dumps({"files": [njia.__file__, ingest.__file__, njia_demo.__file__, njia.portal.app.__file__],
                  "dbt_project": str(DBT_PROJECT_DIR), "expectations": str(EXPECTATIONS_DIR),
                  "rows": rows, "cases": int(cases), "demo_files": sum(f.path.is_file() for f in demo.files),
                  "geo": str(maps.GEO_DIR), "counties": len(maps.counties()), "places": len(maps.places())}))
"""
STOP = "from njia import warehouse; from njia.settings import get_settings; warehouse.stop_embedded(get_settings())"


def _run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if "__pycache__" not in p.parts}


def test_the_wheel_installed_outside_the_checkout_ingests_and_builds(tmp_path: Path) -> None:
    # Build from a copy of what the wheel is made of, so the build leaves nothing in the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(
                path, source / name, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__")
            )
        else:
            shutil.copy2(path, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NJIA_", "VIRTUAL_ENV", "PYTHONPATH"))}
    _run([UV, "build", "--wheel", "--out-dir", tmp_path / "dist", source], tmp_path, env)
    wheel = next((tmp_path / "dist").glob("njia-*.whl"))

    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    _run([UV, "venv", "--quiet", "--python", sys.executable, venv], tmp_path, env)
    _run([UV, "pip", "install", "--quiet", "--python", python, "-r", REPO_ROOT / "requirements.lock"], tmp_path, env)
    _run([UV, "pip", "install", "--quiet", "--python", python, "--no-deps", wheel], tmp_path, env)
    site = next((venv / "lib").glob("python3*/site-packages"))
    installed = _tree(site / "njia" / "dbt_project")

    work = tmp_path / "elsewhere"  # the working folder: neither the checkout nor the virtualenv
    inbox = work / "inbox"
    for name, rows in FILES.items():
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / name).write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    registry = work / "organisations.csv"
    registry.write_text(
        "organisation_code,organisation_name,organisation_type,county_code,active\n"
        "ALPHA,Alpha Fictional Trust,ngo,047,true\nBETA,Beta Imaginary Group,cbo,042,true\n",
        encoding="utf-8",
    )
    env.update(
        NJIA_HOME=str(tmp_path / "home"),
        NJIA_ORGANISATIONS=str(registry),
        GX_ANALYTICS_ENABLED="false",
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    njia = venv / "bin" / "njia"
    try:
        _run([njia, "init"], work, env)
        outcomes = json.loads(_run([njia, "ingest", inbox, "--json"], work, env).stdout)
        assert sorted((o["organisation"], o["status"], o["rows_loaded"]) for o in outcomes) == [
            ("ALPHA", "accepted", 2),
            ("BETA", "accepted", 1),
        ]
        _run([njia, "build"], work, env)
        found = json.loads(_run([python, "-c", PROBE], work, env).stdout)
    finally:
        subprocess.run([python, "-c", STOP], cwd=work, env=env, capture_output=True, timeout=120)

    assert (found["rows"], found["cases"]) == (3, 30 + 12 + 15)
    assert found["demo_files"] > 10
    assert found["counties"] == 47 and found["places"] > 300  # the maps' geodata is package data
    for path in [*found["files"], found["dbt_project"], found["expectations"], found["geo"]]:
        assert Path(path).is_relative_to(site), f"{path} is not the installed package's"
    assert _tree(site / "njia" / "dbt_project") == installed, "dbt wrote into the installed package"
