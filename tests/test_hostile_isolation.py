"""Hostile and careless files never stop a run: one file's failure is that file's outcome, recorded once; a
database that is down is not a file's fault and fails the run; a bad registry fails the run before any file
is processed, naming the line; feedback cells cannot start a formula in any list-separator locale.

Every case runs the real pipeline on a real PostgreSQL with GX validating; each asserts the outcome, rows
read = loaded + quarantined (ingest_helpers.check_outcome), and that the other organisations' files in the
same run are processed.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from pathlib import Path

import psycopg
import pytest
from ingest_helpers import (
    HEADER,
    archive_entries,
    check_outcome,
    csv_bytes,
    grid,
    new_settings,
    query,
    read_feedback_csv,
    row,
    rows,
    scalar,
    submission,
    write_file,
    write_registry,
)

from ingest import analysis, pipeline, spool
from ingest.feedback import FALLBACK_FOLDER
from ingest.registry import RegistryError, read_registry
from njia import warehouse
from njia.cells import neutralise
from njia.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore:.*GX Core 2.0:DeprecationWarning")

ORGS = ["ALPHA", "BETA", "GAMMA"]
FORMULA = ("=", "+", "-", "@")


@pytest.fixture
def hostile(server_home: Path, tmp_path: Path) -> Settings:
    s = new_settings(server_home, tmp_path)
    write_registry(s.organisations_path, ORGS)
    return s


def _inbox(s: Settings) -> Path:
    return Path(s.inbox_url)


def _good(s: Settings, org: str = "BETA", n: int = 3, start: int = 1, name: str = "good.csv") -> Path:
    return write_file(_inbox(s), f"{org}/{name}", csv_bytes(grid(rows(n, start=start))))


def _by_name(outcomes: list[pipeline.FileOutcome]) -> dict[str, pipeline.FileOutcome]:
    return {o.file_name: o for o in outcomes}


def _nothing_left(s: Settings) -> None:
    """The poison files were recorded: the next run finds nothing new and processes nothing."""
    assert pipeline.discover(s) == []
    assert pipeline.ingest(s) == []


# --- control characters ----------------------------------------------------------------------------


def test_nul_in_a_coded_cell_and_a_count_is_a_row_problem(hostile: Settings) -> None:
    records = rows(6)
    records[1]["origin_county"] = "Nai\x00robi"
    records[3]["cases_estimated"] = "4\x00"
    records[4]["carriers"] = "KQ\x1b"  # an escape, as a terminal paste leaves
    write_file(_inbox(hostile), "ALPHA/nul-cells.csv", csv_bytes(grid(records)))
    _good(hostile)
    outcomes = _by_name(pipeline.ingest(hostile))

    o = outcomes["nul-cells.csv"]
    assert o.status == "accepted_with_errors"
    assert (o.rows_read, o.rows_loaded, o.rows_quarantined) == (6, 3, 3)
    flagged = {(p.row, p.column, p.value) for p in o.problems if p.code == "control_character"}
    assert flagged == {
        (3, "origin_county", "Nai\\x00robi"),
        (5, "cases_estimated", "4\\x00"),
        (6, "carriers", "KQ\\x1b"),
    }
    check_outcome(hostile, o)
    stored = [v for (v,) in query(hostile, "select value from ops.quarantine")]
    assert "Nai\\x00robi" in stored and not [v for v in stored if v and "\x00" in v]
    assert outcomes["good.csv"].status == "accepted"
    _nothing_left(hostile)


def test_nul_in_a_header_rejects_the_file_and_the_run_goes_on(hostile: Settings) -> None:
    header = [h if h != "carriers" else "carr\x00iers" for h in HEADER]
    write_file(_inbox(hostile), "ALPHA/nul-header.csv", csv_bytes(grid(rows(4), header=header)))
    _good(hostile)
    outcomes = _by_name(pipeline.ingest(hostile))

    o = outcomes["nul-header.csv"]
    assert (o.status, o.reason) == ("rejected", "unreadable_file")
    assert "column(s) 9" in o.detail and "control character" in o.detail
    assert o.rows_read == o.rows_loaded + o.rows_quarantined == 0
    ledger = check_outcome(hostile, o)
    assert "\x00" not in "".join(ledger["header_names"])
    assert outcomes["good.csv"].status == "accepted"
    _nothing_left(hostile)


def test_a_pii_header_hidden_by_a_nul_is_still_personal_data(hostile: Settings) -> None:
    header = [*HEADER, "pho\x00ne"]
    write_file(
        _inbox(hostile),
        "ALPHA/hidden-phone.csv",
        csv_bytes(grid([{**r, "pho\x00ne": "0712 345 678"} for r in rows(2)], header=header)),
    )
    (o,) = pipeline.ingest(hostile)
    assert (o.status, o.reason) == ("rejected", "pii_columns")
    check_outcome(hostile, o)  # and nothing archived


def test_utf16_without_bom_never_crashes(hostile: Settings) -> None:
    write_file(_inbox(hostile), "ALPHA/utf16.csv", csv_bytes(grid(rows(3)), encoding="utf-16-le"))
    _good(hostile)
    outcomes = _by_name(pipeline.ingest(hostile))
    o = outcomes["utf16.csv"]
    assert o.status == "rejected" or o.rows_read == 3
    check_outcome(hostile, o)
    assert outcomes["good.csv"].status == "accepted"


# --- a failure while processing one file -----------------------------------------------------------


def test_a_bug_on_one_file_is_its_outcome_internal_error(hostile: Settings, monkeypatch, caplog) -> None:
    real = analysis.validate

    def crashes_on_alpha(frame, today):  # a fault injected into the real validator
        if len(frame) == 5:  # only the ALPHA file has five rows
            raise KeyError("a bug that this file's rows trigger, call 0712 345 678")
        return real(frame, today)

    monkeypatch.setattr(analysis, "validate", crashes_on_alpha)
    write_file(_inbox(hostile), "ALPHA/triggers-bug.csv", csv_bytes(grid(rows(5, start=775))))
    _good(hostile)
    _good(hostile, "GAMMA", start=50, name="also-good.csv")
    with caplog.at_level(logging.ERROR, logger="ingest.pipeline"):
        outcomes = _by_name(pipeline.ingest(hostile, workers=1))  # the fault is injected in this process

    o = outcomes["triggers-bug.csv"]
    assert (o.status, o.reason) == ("rejected", "internal_error")
    error_id = re.fullmatch(r"error id ([0-9a-f]{12})", o.detail).group(1)
    assert o.rows_read == o.rows_loaded + o.rows_quarantined == 0 and not o.problems
    ledger = submission(hostile, o.submission_id)
    assert (ledger["status"], ledger["reason"], ledger["rows_read"]) == ("rejected", "internal_error", 0)
    # Its analysis did not finish, so whether it holds personal data is unknown: its bytes are not kept.
    assert ledger["archive_path"] is None and o.sha256 not in archive_entries(hostile)
    assert (
        scalar(hostile, "select detail from ops.submissions where submission_id = %s", (o.submission_id,)) == o.detail
    )
    logged = caplog.text
    assert error_id in logged and "Traceback" in logged and "KeyError" in logged
    assert "0712 345 678" not in logged  # contacts masked in the log too
    feedback = "".join(Path(p).read_text(encoding="utf-8") for p in o.feedback_files)
    assert error_id in feedback and "Traceback" not in feedback and "KeyError" not in feedback
    assert outcomes["good.csv"].status == "accepted" and len(outcomes) == 3
    _nothing_left(hostile)  # reported once, not retried forever


def test_a_database_error_about_a_files_data_is_its_outcome(hostile: Settings, monkeypatch) -> None:
    real = spool.lines

    def nul_in_spool(numbers, columns, known):  # a fault: a NUL reaching the COPY
        lines = list(real(numbers, columns, known))
        if columns["organisation_code"][0] == "ALPHA":
            lines[0] = lines[0].replace("domestic_servitude", "domestic\x00servitude")
        return iter(lines)

    monkeypatch.setattr(spool, "lines", nul_in_spool)
    write_file(_inbox(hostile), "ALPHA/copy-fails.csv", csv_bytes(grid(rows(4))))
    _good(hostile)
    outcomes = _by_name(pipeline.ingest(hostile, workers=1))  # the fault is injected in this process

    o = outcomes["copy-fails.csv"]
    assert (o.status, o.reason) == ("rejected", "internal_error")
    assert (o.rows_read, o.rows_loaded, o.rows_quarantined) == (4, 0, 4)  # read in full, nothing loaded
    check_outcome(hostile, o)
    assert scalar(hostile, "select count(*) from raw.route_reports where organisation_code = 'ALPHA'") == 0
    assert outcomes["good.csv"].status == "accepted"
    _nothing_left(hostile)


def test_a_database_that_is_down_fails_the_run_and_records_nothing(
    hostile: Settings, server_home: Path, tmp_path: Path
) -> None:
    _good(hostile, "ALPHA")
    orgs = read_registry(hostile.organisations_path)
    down = hostile.model_copy(
        update={"warehouse_url": type(hostile.warehouse_url)("postgresql://njia@127.0.0.1:9/njia")}
    )  # nothing listens on the discard port
    with pytest.raises(warehouse.WarehouseError, match="cannot connect"):
        pipeline.process(down, str(_inbox(hostile) / "ALPHA" / "good.csv"), orgs=orgs)
    assert scalar(hostile, "select count(*) from ops.submissions") == 0
    (o,) = pipeline.ingest(hostile)  # processed once the warehouse is back
    assert o.status == "accepted"


def test_a_warehouse_refusing_every_file_is_not_blamed_on_the_file(hostile: Settings) -> None:
    _good(hostile, "ALPHA")
    _good(hostile, "BETA", start=20)
    files = pipeline.discover(hostile)
    with warehouse.connect(hostile) as conn:  # a broken deployment: the quarantine table is gone
        conn.execute("alter table ops.quarantine rename to quarantine_moved")
    try:
        with pytest.raises(psycopg.errors.UndefinedTable):
            pipeline.process(hostile, files[0])
        assert scalar(hostile, "select count(*) from ops.submissions") == 0
    finally:
        with warehouse.connect(hostile) as conn:
            conn.execute("alter table ops.quarantine_moved rename to quarantine")
    assert {o.status for o in pipeline.ingest(hostile)} == {"accepted"}


# --- names and folders -----------------------------------------------------------------------------


def test_a_file_named_feedback_in_the_folder(hostile: Settings) -> None:
    write_file(_inbox(hostile), "ALPHA/feedback", b"notes the data officer keeps\n", mtime=1_700_000_000)
    _good(hostile, "ALPHA")
    _good(hostile, "BETA", start=30)
    outcomes = pipeline.ingest(hostile)

    got = {(o.organisation, o.file_name): (o.status, o.reason) for o in outcomes}
    assert got == {
        ("ALPHA", "feedback"): ("rejected", "unsupported_file_type"),
        ("ALPHA", "good.csv"): ("accepted", None),
        ("BETA", "good.csv"): ("accepted", None),
    }
    fallback = _inbox(hostile) / "ALPHA" / FALLBACK_FOLDER
    for o in outcomes:
        folder = fallback if o.organisation == "ALPHA" else _inbox(hostile) / "BETA" / "feedback"
        assert len(o.feedback_files) == 2 and all(Path(p).parent == folder for p in o.feedback_files)
        assert o.rows_read == o.rows_loaded + o.rows_quarantined
    assert (_inbox(hostile) / "ALPHA" / "feedback").read_bytes() == b"notes the data officer keeps\n"
    assert len(list(fallback.iterdir())) == 4  # two files, a CSV and an HTML page each
    _nothing_left(hostile)


def test_a_file_name_too_long_for_its_feedback_name(hostile: Settings) -> None:
    name = "route report " + "x" * 230 + ".csv"  # 247 bytes: legal, but not with `.<sha8>.feedback.html`
    write_file(_inbox(hostile), f"ALPHA/{name}", csv_bytes(grid(rows(2))))
    _good(hostile)
    outcomes = _by_name(pipeline.ingest(hostile))
    o = outcomes[name]
    assert o.status == "accepted"
    check_outcome(hostile, o)
    assert all(len(Path(p).name.encode()) <= 255 for p in o.feedback_files)
    _nothing_left(hostile)


def test_a_file_name_that_is_not_utf8(hostile: Settings) -> None:
    folder = _inbox(hostile) / "ALPHA"
    folder.mkdir(parents=True)
    raw_name = os.fsencode(str(folder)) + b"/ripoti-\xff\xfe.csv"
    with open(raw_name, "wb") as fh:
        fh.write(csv_bytes(grid(rows(2))))
    _good(hostile)
    outcomes = pipeline.ingest(hostile)
    assert sorted(o.status for o in outcomes) == ["accepted", "accepted"]
    paths = [p for (p,) in query(hostile, "select file_path from ops.submissions")]
    assert any(p.endswith("ripoti-\\xff\\xfe.csv") for p in paths)
    _nothing_left(hostile)


# --- the registry ----------------------------------------------------------------------------------

REGISTRY_HEADER = "organisation_code,organisation_name,organisation_type,county_code,active\n"


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        pytest.param(
            'ALPHA,Alpha,ngo,047,true\n"BE\nTA",Beta,ngo,047,true\n',
            "lines 3-4",
            "letters, digits",
            id="newline-in-code",
        ),
        pytest.param(
            "ALPHA,Alpha,ngo,047,true\nBETA,Beta,ngo,047,true\nalpha,Again,ngo,047,true\n",
            "line 4",
            "already on line 2",
            id="duplicate-code",
        ),
        pytest.param(
            "ALPHA,Alpha,ngo,047,true\nBE TA,Beta,ngo,047,true\n", "line 3", "letters, digits", id="space-in-code"
        ),
        pytest.param(
            "ALPHA,Alpha,ngo,047,true\n../etc,Beta,ngo,047,true\n", "line 3", "letters, digits", id="path-in-code"
        ),
        pytest.param("A" * 65 + ",Long,ngo,047,true\n", "line 2", "1-64", id="code-too-long"),
        pytest.param("ALPHA,Alpha,ngo,047,maybe\n", "line 2", "write true or false", id="bad-active"),
        pytest.param("ALPHA,Alpha, Kenya,ngo,047,true\n", "line 2", "must be quoted", id="unquoted-comma"),
        pytest.param("ALPHA,,ngo,047,true\n", "line 2", "no organisation_name", id="no-name"),
        pytest.param('ALPHA,"Alpha\nTrust",ngo,047,true\n', "lines 2-3", "line break", id="newline-in-name"),
        pytest.param(",Nameless,ngo,047,true\n", "line 2", "letters, digits", id="empty-code"),
        pytest.param(
            'ALPHA,Alpha,ngo,047,true\nBETA,"Beta" Trust,ngo,047,true\n',
            "line 3",
            "not readable as CSV",
            id="stray-quote",
        ),
    ],
)
def test_a_bad_registry_fails_the_run_naming_the_line(hostile: Settings, body: str, line: str, says: str) -> None:
    _good(hostile, "ALPHA")
    hostile.organisations_path.write_text(REGISTRY_HEADER + body, encoding="utf-8")
    with pytest.raises(RegistryError) as raised:
        pipeline.ingest(hostile)
    assert f"{line}:" in str(raised.value) and says in str(raised.value), str(raised.value)
    assert "fix that line" in str(raised.value)
    # Nothing was processed against a half-read registry, and nothing of it was loaded.
    assert scalar(hostile, "select count(*) from ops.submissions") == 0
    assert scalar(hostile, "select count(*) from raw.organisations") == 0


def test_a_registry_that_is_not_utf8(hostile: Settings) -> None:
    hostile.organisations_path.write_bytes(
        REGISTRY_HEADER.encode() + "ALPHA,Shirika la Ñ,ngo,1,true\n".encode("latin-1")
    )
    with pytest.raises(RegistryError, match="not UTF-8"):
        read_registry(hostile.organisations_path)


def test_registry_accepts_what_deployments_write(hostile: Settings) -> None:
    hostile.organisations_path.write_text(
        '\ufeffOrganisation_Code,organisation_name,active,\nKE-ngo_01,"Trust, Mombasa",yes\n\nB2,Beta,\n'
        "C3,Gamma,FALSE,,\n",
        encoding="utf-8",
    )  # Excel's trailing empty cells too
    orgs = read_registry(hostile.organisations_path)
    assert {c: o.active for c, o in orgs.items()} == {"KE-ngo_01": True, "B2": True, "C3": False}
    assert orgs["KE-ngo_01"].name == "Trust, Mombasa"


def test_an_inactive_organisations_file_is_rejected(hostile: Settings) -> None:
    hostile.organisations_path.write_text(
        REGISTRY_HEADER + "ALPHA,Alpha,ngo,047,false\nBETA,Beta,ngo,047,true\n", encoding="utf-8"
    )
    write_file(_inbox(hostile), "ALPHA/routes.csv", csv_bytes(grid(rows(3, start=300))))
    _good(hostile)
    outcomes = _by_name(pipeline.ingest(hostile))
    o = outcomes["routes.csv"]
    assert (o.status, o.reason) == ("rejected", "inactive_organisation")
    assert o.rows_read == o.rows_quarantined and o.rows_loaded == 0
    check_outcome(hostile, o)
    assert outcomes["good.csv"].status == "accepted"
    lines = read_feedback_csv(next(p for p in o.feedback_files if p.endswith(".csv")))
    assert lines[1]["code"] == "inactive_organisation" and "inactive" in lines[1]["message_en"]
    assert "lisilo hai" in lines[1]["message_sw"]


# --- formula injection -----------------------------------------------------------------------------


def _could_start_a_formula(cell: str) -> list[str]:
    """Pieces of a cell, split as a spreadsheet in any list-separator locale would, that start a formula."""
    return [piece for piece in re.split(r"[;,|\t\r\n]", cell) if piece.lstrip().startswith(FORMULA)]


@pytest.mark.parametrize(
    "value",
    [
        "KQ;=cmd|' /C calc'!A0",
        "KQ,@SUM(1+1)*cmd|' /C calc'!A0",
        "NBO|+1+1",
        "QR; =1+2",
        "ok\t-2+3",
        '=HYPERLINK("http://evil.example")',
        "DOH;\u00a0=1",
    ],
)
def test_neutralise_covers_every_separator(value: str) -> None:
    safe = neutralise(value)
    assert safe.startswith("'")
    assert _could_start_a_formula(safe) == []
    assert safe.replace("'", "") == value.replace("'", "")  # nothing but apostrophes added


@pytest.mark.parametrize("value", ["KQ;QR", "NBO;DOH", "2027-01", "Busia", "social_media", ""])
def test_neutralise_leaves_plain_values_alone(value: str) -> None:
    assert neutralise(value) == value


def test_feedback_csv_never_starts_a_formula(hostile: Settings) -> None:
    evil = ["KQ;=cmd|' /C calc'!A0", "NBO|@SUM(1+1)", "QR,+1", "DOH;\t-1"]
    records = [
        row(carriers=evil[0], cases_estimated=1),
        row(transit_points=evil[1], cases_estimated=2),
        row(carriers=evil[2], cases_estimated=3),
        row(transit_points=evil[3], cases_estimated=4),
        *rows(6, start=10),
    ]
    write_file(_inbox(hostile), "ALPHA/formulas.csv", csv_bytes(grid(records)))
    _good(hostile)
    outcomes = _by_name(pipeline.ingest(hostile))
    o = outcomes["formulas.csv"]
    check_outcome(hostile, o)
    text = Path(next(p for p in o.feedback_files if p.endswith(".csv"))).read_text(encoding="utf-8-sig")
    cells = [c for line in csv.reader(io.StringIO(text)) for c in line]
    assert [c for c in cells if _could_start_a_formula(c)] == []
    values = {p.value for p in o.problems}
    assert set(evil) <= values  # the ledger keeps the value as sent; only the CSV is neutralised
    assert outcomes["good.csv"].status == "accepted"


# --- everything at once, in parallel ---------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2], ids=["sequential", "parallel"])
def test_a_run_over_poison_files_reports_every_file(hostile: Settings, workers: int) -> None:
    inbox = _inbox(hostile)
    nul_header = [h if h != "carriers" else "carr\x00iers" for h in HEADER]
    write_file(inbox, "ALPHA/nul-header.csv", csv_bytes(grid(rows(2), header=nul_header)), mtime=1_700_000_000)
    write_file(inbox, "ALPHA/feedback", b"in the way\n", mtime=1_700_000_010)
    write_file(inbox, "ALPHA/after.csv", csv_bytes(grid(rows(3, start=40))), mtime=1_700_000_020)
    records = rows(4, start=60)
    records[0]["exploitation_type"] = "domestic_servitude\x00"
    write_file(inbox, "BETA/nul-cell.csv", csv_bytes(grid(records)), mtime=1_700_000_030)
    write_file(inbox, "BETA/" + "y" * 245 + ".csv", csv_bytes(grid(rows(2, start=80))), mtime=1_700_000_040)
    write_file(inbox, "GAMMA/good.csv", csv_bytes(grid(rows(5, start=90))), mtime=1_700_000_050)
    outcomes = pipeline.ingest(hostile, workers=workers)

    got = {(o.organisation, o.file_name[:12]): (o.status, o.reason) for o in outcomes}
    assert got == {
        ("ALPHA", "nul-header.c"): ("rejected", "unreadable_file"),
        ("ALPHA", "feedback"): ("rejected", "unsupported_file_type"),
        ("ALPHA", "after.csv"): ("accepted", None),
        ("BETA", "nul-cell.csv"): ("accepted_with_errors", None),
        ("BETA", "y" * 12): ("accepted", None),
        ("GAMMA", "good.csv"): ("accepted", None),
    }
    for o in outcomes:
        assert o.rows_read == o.rows_loaded + o.rows_quarantined
    ledger = query(hostile, "select rows_read, rows_loaded, rows_quarantined from ops.submissions")
    assert len(ledger) == 6 and all(r == lo + q for r, lo, q in ledger)
    _nothing_left(hostile)


# --- links ------------------------------------------------------------------------------------------


def test_a_symbolic_link_is_not_a_delivery(hostile: Settings, caplog) -> None:
    # ALPHA links to BETA's file (and to a file outside the inbox): loaded as ALPHA's, BETA's rows would be
    # echoed back in ALPHA's feedback.
    beta = _good(hostile, "BETA", n=4)
    outside = hostile.home_dir / "outside.csv"
    outside.write_bytes(csv_bytes(grid(rows(2, start=50))))
    (_inbox(hostile) / "ALPHA").mkdir()
    (_inbox(hostile) / "ALPHA" / "borrowed.csv").symlink_to(beta)
    (_inbox(hostile) / "ALPHA" / "outside.csv").symlink_to(outside)
    outcomes = pipeline.ingest(hostile, workers=1)
    assert [(o.organisation, o.file_name) for o in outcomes] == [("BETA", "good.csv")]
    assert "borrowed.csv: a symbolic link is not a delivery; skipped" in caplog.text
    _nothing_left(hostile)
