"""Every hostile and careless file of the catalogue in one inbox, in one run (docs/contract.md §1, §2.4, §6):
the run finishes, every file has its outcome, rows read = loaded + quarantined for each, the clean files of
other organisations load, and no planted contact detail is left anywhere under NJIA_HOME (files, archive,
feedback) or in the warehouse (ledger, quarantine, raw)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import (
    HEADER,
    archive_entries,
    check_outcome,
    csv_bytes,
    grid,
    leaks,
    new_settings,
    row,
    rows,
    write_file,
    write_registry,
    xlsx_bytes,
)
from test_hostile_xlsx import routes, sheet_xml, whole_sheet_dimension, workbook, zip_bomb

from ingest.pipeline import ingest

pytestmark = pytest.mark.filterwarnings("ignore:.*GX Core 2.0:DeprecationWarning")
PHONE, EMAIL = "0733 456 789", "amani.x@example.net"
SECRETS = ("456 789", "0733456789", "amani.x", "example.net")


def _records(start: int, n: int = 3) -> list[dict[str, str]]:
    return rows(n, start=start)


def _hostile() -> dict[str, bytes]:
    nul = _records(10)
    nul[1]["origin_county"] = "Nai\x00robi"
    merged = grid([row(origin_country="UG", origin_county="", cases_estimated=20 + i) for i in range(3)])
    for r in merged[2:]:
        r[HEADER.index("origin_country")] = ""
    formula = grid(_records(30))
    formula[1][HEADER.index("cases_estimated")] = "=SUM(A1:A2)"
    return {
        # isolation and cells
        "nul.csv": csv_bytes(grid(nul)),
        "formula-cell.csv": csv_bytes(grid([row(carriers="KQ;=cmd|' /C calc'!A0", cases_estimated=40), *_records(41)])),
        # workbooks read as they are seen, and bounded
        "stale.xlsx": routes(grid(_records(50, 6)), dimension="A1:C3"),
        "merged.xlsx": routes(merged, merges=["B2:B4"]),
        "whole-sheet.xlsx": whole_sheet_dimension(_records(60)),
        "bomb.xlsx": zip_bomb(),
        "hidden-routes.xlsx": workbook(
            [("data", "visible", sheet_xml(grid(_records(70)))), ("routes", "hidden", sheet_xml(grid(_records(75))))]
        ),
        "long-cell.xlsx": routes(grid([row(carriers="KQ" * 100_000, cases_estimated=80), *_records(81)])),
        # personal data, disguised: odd header spellings, full-width or zero-width characters, a title row,
        # another sheet, no header, contact details in a notes column
        "email-header.csv": csv_bytes([[*HEADER, "E-mail"], *[[*r, EMAIL] for r in grid(_records(90))[1:]]]),
        "mobile.csv": csv_bytes([[*HEADER, "Mobile number"], *[[*r, PHONE] for r in grid(_records(95))[1:]]]),
        "fullwidth.csv": csv_bytes([[*HEADER, "ＰＨＯＮＥ"], *[[*r, "x"] for r in grid(_records(100))[1:]]]),
        "zero-width.csv": csv_bytes(
            [[*HEADER, "Jina la\u200b mwathiriwa"], *[[*r, "x"] for r in grid(_records(105))[1:]]]
        ),
        "title-row.csv": csv_bytes(
            [["Routes report"], [*HEADER, "Phone No."], *[[*r, PHONE] for r in grid(_records(110))[1:]]]
        ),
        "victims-sheet.xlsx": xlsx_bytes({"routes": grid(_records(115)), "victims": [["Names"], ["Amani X"]]}),
        "headerless.csv": csv_bytes([[PHONE, EMAIL, "2020-Q1"], ["a", "b", "c"]]),
        "notes-phone.csv": csv_bytes([[*HEADER, "notes"], *[[*r, f"call {PHONE}"] for r in grid(_records(120))[1:]]]),
    }


def test_every_hostile_file_together(server_home: Path, tmp_path: Path) -> None:
    settings = new_settings(server_home, tmp_path)
    write_registry(settings.organisations_path, ["HOSTILE", "CLEANORG", "FBORG"])
    inbox = Path(settings.inbox_url)
    hostile = _hostile()
    for name, data in hostile.items():
        write_file(inbox, f"HOSTILE/{name}", data)
    write_file(inbox, "FBORG/feedback", b"a file where the feedback folder should be")
    write_file(inbox, "FBORG/fb.csv", csv_bytes(grid(_records(600))))
    write_file(inbox, "CLEANORG/clean.csv", csv_bytes(grid(_records(500))))

    outcomes = {o.file_name: o for o in ingest(settings, workers=2)}

    assert set(outcomes) == {*hostile, "feedback", "fb.csv", "clean.csv"}  # every file reported, run finished
    for o in outcomes.values():
        if o.organisation == "FBORG":  # feedback beside the file named `feedback`, in njia-feedback/
            assert all(Path(p).parent.name == "njia-feedback" for p in o.feedback_files), o.feedback_files
        else:
            check_outcome(settings, o)
        assert o.rows_read == o.rows_loaded + o.rows_quarantined, o.as_json()
    assert outcomes["clean.csv"].status == outcomes["fb.csv"].status == "accepted"
    assert outcomes["stale.xlsx"].rows_loaded == 6
    assert outcomes["bomb.xlsx"].reason == "workbook_too_large"
    assert outcomes["hidden-routes.xlsx"].reason == "hidden_routes_sheet"
    for name in (
        "email-header.csv",
        "mobile.csv",
        "fullwidth.csv",
        "zero-width.csv",
        "title-row.csv",
        "victims-sheet.xlsx",
        "headerless.csv",
        "notes-phone.csv",
    ):
        o = outcomes[name]
        assert (o.status, o.reason) == ("rejected", "pii_columns"), (name, o.reason, o.detail)
        assert o.sha256 not in archive_entries(settings)
    canary = settings.home_dir / "canary.txt"  # the scan finds what it looks for
    canary.write_text(PHONE, encoding="utf-8")
    assert leaks(settings, inbox, SECRETS)
    canary.unlink()
    assert not leaks(settings, inbox, SECRETS)
    assert ingest(settings) == []  # nothing is retried: every file was recorded once
