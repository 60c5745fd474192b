"""The done-criteria of the foundation, as a newcomer runs them: only NJIA_HOME and NJIA_ORGANISATIONS set,
`njia init`, `njia ingest DIR --json`, `njia build`, `njia report` on the embedded warehouse; then the same
commands against an external server through NJIA_WAREHOUSE_URL."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NJIA = str(Path(sys.executable).with_name("njia"))

pytestmark = pytest.mark.slow  # the `njia` command in a subprocess, with its own warehouse

HEADER = (
    "reporting_period,origin_country,origin_county,transit_points,destination_country,destination_county,"
    "exploitation_type,transport_modes,carriers,recruitment_methods,means_of_control,cases_estimated,"
    "female_cases,male_cases,child_cases"
)
FILES = {
    "ALPHA/alpha_2020.csv": [
        "2020-Q1,KE,Nairobi,NBO;DOH,QA,,domestic_servitude,,KQ;QR,social_media,withholds_documents,30,25,5,0",
        "2020-Q1,,47,NBO,SA,,domestic_servitude,,SV,registered_agency,,20,20,,",
        "2020-Q2,KE,Busia,Malaba,UG,,sexual_exploitation,road,,friend_or_acquaintance,,12,12,0,4",
        "2020-Q2,KE,Kilifi,,KE,Mombasa,child_labour,road,,family,,9,,,9",
        "2020-Q2,KE,Narnia,,KE,Mombasa,child_labour,road,,family,,9,,,9",
    ],
    "BETA/beta_2020.csv": [
        "2020,KE,Kisumu,,KE,Nairobi,forced_labour,road,,unregistered_agent,debt_bondage,15,5,10,",
    ],
}


def _write_inbox(root: Path) -> tuple[Path, Path]:
    inbox = root / "inbox"
    for name, rows in FILES.items():
        path = inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    registry = root / "organisations.csv"
    registry.write_text(
        "organisation_code,organisation_name,organisation_type,county_code,active\n"
        "ALPHA,Alpha Fictional Trust,ngo,047,true\nBETA,Beta Imaginary Group,cbo,042,true\n",
        encoding="utf-8",
    )
    return inbox, registry


def _njia(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NJIA, *args], env=env, capture_output=True, text=True, timeout=600)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NJIA_")}
    env.update(extra)
    return env


def _run_commands(env: dict[str, str], inbox: Path, out: Path) -> list[dict]:
    done = _njia(env, "init")
    assert done.returncode == 0, done.stderr
    again = _njia(env, "init")
    assert again.returncode == 0 and "none" in again.stdout, again.stdout + again.stderr

    ingest = _njia(env, "ingest", str(inbox), "--json")
    assert ingest.returncode == 1, ingest.stderr  # one row quarantined
    outcomes = json.loads(ingest.stdout)
    keys = {
        "file",
        "organisation",
        "sha256",
        "status",
        "reason",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "problems",
        "ignored_columns",
    }
    assert all(set(o) == keys for o in outcomes)
    by_org = {o["organisation"]: o for o in outcomes}
    assert by_org["ALPHA"]["status"] == "accepted_with_errors"
    assert by_org["ALPHA"]["problems"] == [{"row": 6, "column": "origin_county", "code": "unknown_county"}]
    assert by_org["BETA"]["status"] == "accepted"

    rerun = _njia(env, "ingest", str(inbox), "--json")
    assert rerun.returncode == 0 and json.loads(rerun.stdout) == []

    build = _njia(env, "build")
    assert build.returncode == 0, build.stdout + build.stderr

    report = _njia(env, "report", "--year", "2020", "--out", str(out), "--min-cell", "1")
    assert report.returncode == 0, report.stdout + report.stderr
    return outcomes


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _check_report(out: Path) -> None:
    counties = {r["county_code"]: r for r in _read_csv(out / "csv" / "cases_by_origin_county.csv")}
    assert counties["047"]["cases"] == "50" and counties["047"]["suppressed"] == "false"
    assert counties["040"]["cases"] == "12"
    assert counties["003"]["cases"] == "9"
    assert counties["042"]["cases"] == "15"
    routes = _read_csv(out / "csv" / "cases_by_route.csv")
    assert sum(int(r["cases"]) for r in routes) == 30 + 20 + 12 + 9 + 15
    doha = [r for r in routes if r["destination_code"] == "country:QA"]
    assert doha and doha[0]["origin_code"] == "county:047" and doha[0]["transit_codes"] == "airport:NBO;airport:DOH"
    assert " → " in doha[0]["route_label"]


def test_embedded_warehouse_with_only_home_and_registry(tmp_path: Path) -> None:
    inbox, registry = _write_inbox(tmp_path)
    env = _clean_env(NJIA_HOME=str(tmp_path / "home"), NJIA_ORGANISATIONS=str(registry))
    try:
        _run_commands(env, inbox, tmp_path / "out")
        _check_report(tmp_path / "out")
        assert (inbox / "ALPHA" / "feedback").is_dir()
    finally:
        from njia import warehouse
        from njia.settings import get_settings

        warehouse.stop_embedded(get_settings(home=tmp_path / "home"))


def test_external_server_through_warehouse_url(tmp_path: Path, external_database: str) -> None:
    inbox, registry = _write_inbox(tmp_path)
    env = _clean_env(
        NJIA_HOME=str(tmp_path / "home"), NJIA_ORGANISATIONS=str(registry), NJIA_WAREHOUSE_URL=external_database
    )
    _run_commands(env, inbox, tmp_path / "out")
    _check_report(tmp_path / "out")
    assert not (tmp_path / "home" / "pgdata").exists(), "an external warehouse must not start the embedded one"
