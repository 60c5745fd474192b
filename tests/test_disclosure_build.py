"""The publication gate through the real pipeline: dbt builds, njia.disclosure protects and audits, the pack
re-audits what it writes (embedded PostgreSQL, real dbt runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_transform import Row, Submission, fresh_settings, load, query

from njia import disclosure, transform, warehouse
from njia.report import ReportError, write_pack

K = 11
ROWS = (  # the Kirinyaga case: 35 from Kirinyaga, 34 of them to Kiambu, 1 to Oman
    Row("2025", ("KE", "020"), ("KE", "022"), "forced_labour", 34),
    Row("2025", ("KE", "020"), ("OM", None), "domestic_servitude", 1, "airport:NBO;airport:DXB", "air", "EK"),
    Row("2025", ("KE", "022"), ("OM", None), "domestic_servitude", 40, "airport:NBO;airport:DXB", "air", "EK"),
    Row("2025", ("KE", "022"), ("KE", "047"), "forced_labour", 25),
    Row("2025", ("KE", "047"), ("AE", None), "domestic_servitude", 60, "airport:NBO;airport:DXB", "air", "EK"),
    Row("2025", ("KE", "047"), ("QA", None), "domestic_servitude", 3, "airport:NBO", "air", "QR"),
    Row("2025", ("KE", "042"), ("QA", None), "sexual_exploitation", 45, "airport:NBO", "air", "QR"),
    Row("2025", ("KE", "042"), ("KE", "047"), "forced_labour", 2),
    Row("2025", ("KE", "037"), ("UG", None), "forced_labour", 30, "border:Malaba", "road"),
    Row("2025", ("KE", "039"), ("UG", None), "forced_labour", 4, "border:Malaba", "road"),
    Row("2024", ("KE", "038"), ("AE", None), "domestic_servitude", 18, "airport:NBO;airport:SHJ", "air"),
    Row("2024", ("KE", "037"), ("AE", None), "domestic_servitude", 6, "airport:NBO;airport:SHJ", "air"),
    Row("2024", ("KE", "037"), ("AE", None), "domestic_servitude", 50, "airport:NBO;airport:DXB", "air"),
    Row("2024", ("KE", "038"), ("KE", "047"), "forced_labour", 35),
    Row("2024", ("KE", "039"), ("UG", None), "forced_labour", 70, "border:Malaba", "road"),
)


@pytest.fixture(scope="module")
def built(server_home: Path, tmp_path_factory: pytest.TempPathFactory):
    settings = fresh_settings(server_home, tmp_path_factory.mktemp("disclosure") / "home")
    with warehouse.connect(settings) as conn:
        load(conn, [Submission(1, "ORG_A", "accepted", ("2024", "2025"), ROWS)])
    return settings, transform.build(settings)


def test_build_publishes_tables_the_audit_passes(built) -> None:
    settings, result = built
    assert result.ok and result.published, result.summary
    assert "disclosure audit passed for 2 year(s)" in result.summary
    with warehouse.connect(settings) as conn:
        audits = disclosure.audit_schema(conn, "reporting", K)
    assert [a.year for a in audits] == [2024, 2025] and all(a.ok for a in audits), [a.describe() for a in audits]
    routes = query(
        settings,
        "select origin_code, transit_codes, destination_code, cases, suppressed"
        " from reporting.cases_by_route where report_year = 2025",
    )
    assert not [r for r in routes if r["destination_code"] == "country:OM" and r["origin_code"] == "county:020"]
    assert [r["destination_code"] for r in routes if r["origin_code"] == "county:020"].count("other") == 1
    for r in routes:
        assert r["suppressed"] == (r["cases"] is None) and (r["cases"] is None or r["cases"] >= K)


def test_private_schema_for_another_k_is_protected_by_the_same_code(built) -> None:
    settings, _ = built
    with transform.reporting_schema(settings, 5) as schema, warehouse.connect(settings) as conn:
        audits = disclosure.audit_schema(conn, schema, 5)
    assert audits and all(a.ok for a in audits)


def test_pack_refuses_tables_that_pin_a_withheld_cell(built, tmp_path: Path) -> None:
    """Publish again one cell that joint suppression withheld (as a hand edit would): the pack must refuse,
    naming the cell that is then pinned and the equations that pin it."""
    settings, _ = built
    assert write_pack(settings, 2025, tmp_path / "fine").is_dir()
    with transform.reporting_schema(settings, 1) as private:
        true = {
            (r["origin_code"], r["transit_codes"], r["destination_code"]): r["cases"]
            for r in query(settings, f'select * from "{private}".cases_by_route where report_year = 2025')
        }
        counties = {
            r["county_code"]: r["cases"]
            for r in query(settings, f'select * from "{private}".cases_by_origin_county where report_year = 2025')
        }
    withheld = query(
        settings, "select county_code from reporting.cases_by_origin_county where report_year = 2025 and suppressed"
    )
    candidates = [
        ("cases_by_origin_county", "county_code = %s", (c["county_code"],), counties[c["county_code"]])
        for c in withheld
        if counties[c["county_code"]] >= K
    ]
    candidates += [
        ("cases_by_route", "origin_code = %s and transit_codes = %s and destination_code = %s", key, true[key])
        for key in (
            tuple(r.values())
            for r in query(
                settings,
                "select origin_code, transit_codes, destination_code from"
                " reporting.cases_by_route where report_year = 2025 and suppressed"
                " and destination_code <> 'other'",
            )
        )
        if true.get(key, 0) >= K
    ]
    assert candidates, "joint suppression withheld no published-size cell here"
    refused = []
    for table, where, params, value in candidates:
        with warehouse.connect(settings) as conn:
            conn.execute(
                f"update reporting.{table} set cases = %s, suppressed = false where report_year = 2025 and {where}",
                (value, *params),
            )
        try:
            write_pack(settings, 2025, tmp_path / "refused")
        except ReportError as exc:
            refused.append(str(exc))
        finally:
            with warehouse.connect(settings) as conn:
                conn.execute(
                    f"update reporting.{table} set cases = null, suppressed = true"
                    f" where report_year = 2025 and {where}",
                    params,
                )
    assert refused, "publishing a cell that joint suppression withheld went through"
    assert "refusing to write the pack: 2025:" in refused[0] and "lies in [" in refused[0]
    assert "pinned by" in refused[0]
    assert not (tmp_path / "refused" / "njia-report-2025.html").exists()


def test_build_does_not_publish_tables_the_audit_fails(built, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fault injection in Njia's own code (dbt and PostgreSQL stay real): without the joint step, this data's
    # withheld cells can be worked out, so the build must refuse to swap and leave the published tables as
    # they were.
    settings, first = built
    assert " 0 cells withheld across tables" not in first.summary, first.summary  # the data needs the joint step
    published = query(settings, "select * from reporting.cases_by_route order by 1, 2, 3, 4")
    monkeypatch.setattr(disclosure, "protect_schema", lambda conn, schema, k: [])
    result = transform.build(settings)
    assert not result.ok and not result.published, result.summary
    assert "disclosure audit" in result.summary, result.summary
    assert query(settings, "select * from reporting.cases_by_route order by 1, 2, 3, 4") == published
