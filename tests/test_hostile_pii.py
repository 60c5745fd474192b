"""Personal data through the real pipeline: rejected as pii_columns, bytes never archived, and no planted
contact detail anywhere under NJIA_HOME, in the feedback or in the ledger, quarantine and raw tables."""

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
    rows,
    write_file,
    write_registry,
    xlsx_bytes,
)

from ingest.pipeline import ingest

pytestmark = pytest.mark.filterwarnings("ignore:.*GX Core 2.0:DeprecationWarning")
PHONE, EMAIL = "0722 987 654", "wanjiru.k@example.org"
SECRETS = ("987 654", "0722987654", "wanjiru.k", "example.org")


def _valid(start: int) -> list[list[str]]:
    return grid(rows(2, start=start))


CASES = {
    "email-header.csv": csv_bytes([[*HEADER, "E-mail"], *[[*r, EMAIL] for r in _valid(10)[1:]]]),
    "title-row.csv": csv_bytes(
        [["Routes report 2020"], [*HEADER, "Phone No."], *[[*r, PHONE] for r in _valid(20)[1:]]]
    ),
    "victims-sheet.xlsx": xlsx_bytes({"routes": _valid(30), "victims": [["Names", "Simu"], ["Wanjiru", PHONE]]}),
    "headerless.csv": csv_bytes([[PHONE, EMAIL, "2020-Q1"], ["x", "y", "z"]]),
}


def test_personal_data_is_rejected_and_never_kept(server_home: Path, tmp_path: Path) -> None:
    settings = new_settings(server_home, tmp_path)
    write_registry(settings.organisations_path, ["PIIORG"])
    inbox = Path(settings.inbox_url)
    for name, data in CASES.items():
        write_file(inbox, f"PIIORG/{name}", data)
    outcomes = {o.file_name: o for o in ingest(settings)}
    assert set(outcomes) == set(CASES)
    for name, o in outcomes.items():
        assert (o.status, o.reason) == ("rejected", "pii_columns"), (name, o.reason, o.detail)
        check_outcome(settings, o)
        assert o.sha256 not in archive_entries(settings)
    assert not leaks(settings, inbox, SECRETS)
