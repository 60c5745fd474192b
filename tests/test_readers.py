"""The CSV delimiter: a fast path when one candidate fits, clevercsv's detection when the sample is ambiguous."""

from __future__ import annotations

import pytest

from ingest import readers

HEADER = ["organisation", "reporting_period", "origin_country", "destination_country", "cases_estimated"]
ROWS = [["ORG1", "2025-01", "KE", "QA", "12"], ["ORG1", "2025-02", "KE", "SA", "7"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_unambiguous_delimiter(delimiter: str) -> None:
    sample = "".join(delimiter.join(r) + "\r\n" for r in [HEADER, *ROWS])
    assert readers._consistent(sample, delimiter)
    assert [d for d in readers._DELIMITERS if readers._consistent(sample, d)] == [delimiter]
    assert readers._sniff_delimiter(sample) == delimiter


def test_ambiguous_sample_goes_to_clevercsv() -> None:
    # Semicolon-delimited, every line holding one comma: both ';' and ',' give a regular table.
    rows = [["name", "cases, estimated", "note"], *[[f"r{i}", f"{i},5", "x"] for i in range(30)]]
    sample = "".join(";".join(r) + "\n" for r in rows)
    assert readers._consistent(sample, ";") and readers._consistent(sample, ",")
    assert readers._sniff_delimiter(sample) == ";"


def test_quoted_cells_and_a_cut_last_record() -> None:
    sample = 'a,b,c\n"x, y",2,"multi\nline"\n"q",3,z\n"cut off, by the sam'
    assert readers._sniff_delimiter(sample) == ","
