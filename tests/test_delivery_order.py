"""Delivery order is data: each file gets a delivery sequence when it is first discovered (by modification
time within an organisation's folder, then discovery order), stored in ops.submissions, and the rows in
force are the latest delivery's, whatever order the runners commit in (a DAG retry, parallel workers).

The real pipeline on a real PostgreSQL; the rows in force are checked through a real dbt build.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import csv_bytes, grid, new_settings, query, rows, scalar, write_file, write_registry

from ingest import pipeline
from njia import transform
from njia.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore:.*GX Core 2.0:DeprecationWarning")

T0 = 1_700_000_000  # a fixed modification time (2023-11-14)


@pytest.fixture
def ordered(server_home: Path, tmp_path: Path) -> Settings:
    s = new_settings(server_home, tmp_path, ingest_workers=1)
    write_registry(s.organisations_path, ["ALPHA", "BETA"])
    return s


def _deliver(s: Settings, relative: str, n: int, start: int, mtime: float, period: str = "2020-Q1") -> str:
    write_file(Path(s.inbox_url), relative, csv_bytes(grid(rows(n, start=start, reporting_period=period))), mtime=mtime)
    return str(Path(s.inbox_url) / relative)


def _sequence(s: Settings) -> dict[str, int]:
    return {Path(p).name: seq for p, seq in query(s, "select file_path, delivery_seq from ops.deliveries")}


def test_correction_committed_before_its_original_stays_in_force(ordered: Settings) -> None:
    original = _deliver(ordered, "ALPHA/2020-q1.csv", 4, 1, T0)
    correction = _deliver(ordered, "ALPHA/2020-q1 corrected.csv", 6, 100, T0 + 60)
    beta_first = _deliver(ordered, "BETA/2020-q1.csv", 3, 500, T0)
    beta_second = _deliver(ordered, "BETA/2020-q1 again.csv", 2, 600, T0 + 60)
    assert set(pipeline.discover(ordered)) == {original, correction, beta_first, beta_second}

    # As a DAG retry would: the correction commits while its original waits, then the original commits.
    first = pipeline.process(ordered, correction)
    second = pipeline.process(ordered, original)
    assert (first.status, second.status) == ("accepted", "accepted")
    assert first.submission_id < second.submission_id  # committed in the wrong order...
    seq = dict(query(ordered, "select submission_id, delivery_seq from ops.submissions"))
    assert seq[first.submission_id] > seq[second.submission_id]  # ...but delivered in the right one
    for outcome in pipeline.ingest(ordered):  # BETA, in order, as before
        assert outcome.status == "accepted"

    result = transform.build(ordered)
    assert result.ok, result.summary
    in_force = dict(
        query(ordered, "select organisation_code, submission_id from intermediate.int_reporting_periods_in_force")
    )
    beta_second_id = scalar(ordered, "select submission_id from ops.submissions where file_path = %s", (beta_second,))
    assert in_force == {"ALPHA": first.submission_id, "BETA": beta_second_id}
    cases = dict(
        query(ordered, "select organisation_code, sum(cases_estimated) from marts.fct_route_reports group by 1")
    )
    assert cases == {"ALPHA": sum(range(100, 106)), "BETA": 600 + 601}


def test_sequence_follows_modification_time_not_name(ordered: Settings) -> None:
    _deliver(ordered, "ALPHA/b-first.csv", 2, 1, T0)
    _deliver(ordered, "ALPHA/a-second.csv", 2, 10, T0 + 30)
    pipeline.discover(ordered)
    seq = _sequence(ordered)
    assert seq["b-first.csv"] < seq["a-second.csv"]


def test_a_later_discovery_is_a_later_delivery_whatever_its_mtime(ordered: Settings) -> None:
    _deliver(ordered, "ALPHA/first.csv", 2, 1, T0 + 1000)
    pipeline.discover(ordered)
    # Copied later from a memory stick that kept an older modification time: still delivered later.
    _deliver(ordered, "ALPHA/copied-later.csv", 2, 10, T0)
    pipeline.discover(ordered)
    seq = _sequence(ordered)
    assert seq["first.csv"] < seq["copied-later.csv"]
    outcomes = pipeline.ingest(ordered)
    assert [o.file_name for o in outcomes] == ["copied-later.csv", "first.csv"]  # processed by mtime...
    ledger = dict(query(ordered, "select file_name, delivery_seq from ops.submissions"))
    assert ledger == {"first.csv": seq["first.csv"], "copied-later.csv": seq["copied-later.csv"]}  # ...kept in order
    mtimes = dict(query(ordered, "select file_name, extract(epoch from delivered_at)::bigint from ops.submissions"))
    assert mtimes == {"first.csv": T0 + 1000, "copied-later.csv": T0}


def test_discovery_twice_keeps_the_first_sequence(ordered: Settings) -> None:
    _deliver(ordered, "ALPHA/one.csv", 2, 1, T0)
    pipeline.discover(ordered)
    before = _sequence(ordered)
    _deliver(ordered, "ALPHA/two.csv", 2, 10, T0 - 50)
    pipeline.discover(ordered)
    after = _sequence(ordered)
    assert after["one.csv"] == before["one.csv"] and after["two.csv"] > after["one.csv"]


def test_process_alone_registers_its_delivery(ordered: Settings) -> None:
    file = _deliver(ordered, "ALPHA/alone.csv", 2, 1, T0)
    outcome = pipeline.process(ordered, file)
    assert outcome.status == "accepted"
    seq = scalar(ordered, "select delivery_seq from ops.submissions where submission_id = %s", (outcome.submission_id,))
    assert seq == _sequence(ordered)["alone.csv"]


def test_replaced_bytes_at_the_same_path_are_a_new_delivery(ordered: Settings) -> None:
    file = _deliver(ordered, "ALPHA/routes.csv", 2, 1, T0)
    pipeline.ingest(ordered)
    _deliver(ordered, "ALPHA/routes.csv", 3, 50, T0 + 10)  # the officer saved over it
    (outcome,) = pipeline.ingest(ordered)
    seqs = [
        s
        for (s,) in query(
            ordered, "select delivery_seq from ops.submissions where file_path = %s order by submission_id", (file,)
        )
    ]
    assert outcome.status == "accepted" and len(seqs) == 2 and seqs[0] < seqs[1]


def test_overlap_committed_out_of_order_never_leaves_both_in_force(ordered: Settings) -> None:
    year = _deliver(ordered, "ALPHA/2020.csv", 2, 1, T0, period="2020")
    quarter = _deliver(ordered, "ALPHA/2020-q1.csv", 2, 10, T0 + 60, period="2020-Q1")
    pipeline.discover(ordered)
    first = pipeline.process(ordered, quarter)
    second = pipeline.process(ordered, year)
    # Whichever commits second is the one whose periods clash with accepted ones: rejected, never both loaded.
    assert (first.status, second.status, second.reason) == ("accepted", "rejected", "period_overlap")
    assert scalar(ordered, "select count(distinct submission_id) from ops.submission_periods") == 1
