"""Crashes and concurrency: `ingest` killed with SIGKILL at random points leaves all of a file
or none of it (docs/contract.md §6), and two `ingest` at once never load a file twice.

The loaders are real processes. A driver subprocess (given only the NJIA_* environment, like `njia ingest`)
imports the pipeline and warms GX up once, then forks one child per run, so each run starts in
milliseconds instead of the seconds a cold interpreter needs. The test kills those children with SIGKILL:
at random times, just after a COPY into raw.route_reports starts, or just after a ledger row commits.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from ingest_helpers import (
    HEADER,
    archive_entries,
    csv_bytes,
    environment,
    grid,
    new_settings,
    query,
    row,
    rows,
    scalar,
    sha256,
    write_file,
    write_registry,
)

from njia import warehouse
from njia.settings import Settings

ROOT = Path(__file__).resolve().parents[1]

DRIVER = r"""
import json, os, sys, threading, traceback
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
from ingest import validate
from ingest.pipeline import ingest
from njia.settings import get_settings
validate.warm_up()
print("ready", threading.active_count(), flush=True)
for line in sys.stdin:
    command = json.loads(line)
    pids = []
    for _ in range(command["processes"]):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.environ.update(command["env"])
                ingest(get_settings())
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        pids.append(pid)
    print(json.dumps({"pids": pids}), flush=True)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    print(json.dumps({"codes": codes}), flush=True)
"""


class Driver:
    """The warm subprocess that forks loaders on demand."""

    def __init__(self, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NJIA_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        # Compiled modules in a private cache: the driver's cold start drops from ~17 s to ~6 s of CPU.
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "njia-test-pycache")
        env["GX_ANALYTICS_ENABLED"] = "false"
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER],
            cwd=ROOT,
            env=env,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
        )
        ready = self.proc.stdout.readline()
        assert ready.startswith("ready"), f"driver did not start: {ready!r}\n{log.read_text()}"
        assert ready.split()[1] == "1", "the driver must not fork with threads running"

    def start(self, settings: Settings, processes: int = 1) -> list[int]:
        self.proc.stdin.write(json.dumps({"processes": processes, "env": environment(settings)}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["pids"]

    def wait(self) -> list[int]:
        line = self.proc.stdout.readline()
        assert line, f"driver died\n{self.log.read_text()}"
        return json.loads(line)["codes"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.kill()  # nothing to flush: its children are done, and interpreter shutdown with GX is slow
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory):
    d = Driver(tmp_path_factory.mktemp("driver") / "driver.log")
    yield d
    d.close()


def big_file(year: int, n: int) -> bytes:
    """n distinct valid rows over the 12 months of one year (a CSO's national file)."""
    return csv_bytes(
        grid(
            [
                row(
                    reporting_period=f"{year}-{1 + i % 12:02d}",
                    origin_county=f"{1 + i % 47:03d}",
                    cases_estimated=1 + i,
                    female_cases="",
                    male_cases="",
                    carriers="KQ" if i % 2 else "",
                    transit_points="NBO" if i % 3 else "",
                )
                for i in range(n)
            ]
        )
    )


def small_file(year: int, quarter: int, start: int) -> bytes:
    return csv_bytes(grid(rows(3, start=start, reporting_period=f"{year}-Q{quarter}")))


PII = csv_bytes(grid([row(victim_name="Achieng Otieno")], header=(*HEADER, "victim_name")))


def _expected_rows(data: bytes) -> int:
    return data.count(b"\n") - 1


class Inbox:
    """What the test delivered: path -> bytes, and what each file must end as."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Path(settings.inbox_url)
        self.files: dict[str, bytes] = {}
        self.kind: dict[str, str] = {}

    def add(self, relative: str, data: bytes, kind: str) -> None:
        path = write_file(self.root, relative, data)
        self.files[str(path)] = data
        self.kind[str(path)] = kind


def check_consistent(inbox: Inbox, *, complete: bool) -> None:
    """After any crash: the ledger, raw and the archive agree (all of a file or none of it). When complete,
    every delivered file has exactly one ledger row and everything is loaded exactly once."""
    settings = inbox.settings
    # One snapshot of the warehouse: a parallel worker of the killed run may still commit its file for a
    # moment after the kill, and separate queries would see different states. The archive is listed after
    # it (a file is archived before its ledger row commits).
    with warehouse.connect(settings) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            ledger = conn.execute(
                "select submission_id, file_path, sha256, status, reason, rows_read, rows_loaded,"
                " rows_quarantined, archive_path from ops.submissions order by submission_id"
            ).fetchall()
            raw = dict(
                conn.execute("select submission_id, count(*) from raw.route_reports group by submission_id").fetchall()
            )
            periods = conn.execute(
                "select s.sha256, count(*) from ops.submission_periods p"
                " join ops.submissions s using (submission_id) group by 1"
            ).fetchall()
    entries = archive_entries(settings)
    by_path = Counter((path, sha) for _, path, sha, *_ in ledger)
    assert all(n == 1 for n in by_path.values()), "a file was recorded twice"
    non_duplicates = Counter(sha for _, _, sha, status, *_ in ledger if status != "duplicate")
    assert all(n == 1 for n in non_duplicates.values()), "identical bytes loaded twice"
    for sid, path, sha, status, reason, read, loaded, quarantined, archived in ledger:
        assert read == loaded + quarantined
        assert raw.get(sid, 0) == loaded, f"{path}: {raw.get(sid, 0)} raw rows, ledger says {loaded}"
        kind = inbox.kind[path]
        if kind == "pii":
            assert archived is None and sha not in entries
            assert (status, reason) in (("rejected", "pii_columns"), ("duplicate", None))
        else:
            assert archived and sha in entries
        if status != "duplicate" and kind == "overlap":
            assert (status, reason) in (("accepted", None), ("rejected", "period_overlap")), path
        elif status != "duplicate":
            expected = {
                "valid": ("accepted", None),
                "pii": ("rejected", "pii_columns"),
                "bad_header": ("rejected", "missing_columns"),
            }[kind]
            assert (status, reason) == expected, path
            if status == "accepted":
                assert loaded == _expected_rows(inbox.files[path])
    # The archive holds only content-addressed copies: no temporary or partial file counts as an entry.
    for name, path in entries.items():
        assert sha256(path.read_bytes()) == name and path.parent.name == name[:2]
    assert set(entries) <= {sha256(d) for p, d in inbox.files.items() if inbox.kind[p] != "pii"}
    assert all(sha in non_duplicates for sha, _ in periods)
    if not complete:
        return
    assert set(by_path) == {(p, sha256(d)) for p, d in inbox.files.items()}, "a delivered file is not in the ledger"
    assert set(entries) == {sha256(d) for p, d in inbox.files.items() if inbox.kind[p] != "pii"}
    accepted = {sha for _, _, sha, status, *_ in ledger if status == "accepted"}
    loadable = {sha256(d): _expected_rows(d) for p, d in inbox.files.items() if inbox.kind[p] in ("valid", "overlap")}
    assert {sha256(d) for p, d in inbox.files.items() if inbox.kind[p] == "valid"} <= accepted
    assert sum(raw.values()) == sum(n for sha, n in loadable.items() if sha in accepted), (
        "raw does not hold each delivered row exactly once"
    )
    # Every processed file got its feedback (docs/contract.md §7), crash or not.
    for _, path, sha, *_ in ledger:
        folder = Path(path).parent / "feedback"
        stem = f"{Path(path).name}.{sha[:8]}.feedback"
        assert (folder / f"{stem}.csv").exists() and (folder / f"{stem}.html").exists(), f"no feedback for {path}"
    # A crash must not leave copies behind under NJIA_HOME, personal data least of all (docs/contract.md §2.4).
    assert not _personal_data_on_disk(settings)
    leftovers = [p for p in (settings.home_dir / "tmp").rglob("*") if p.is_file()]
    assert not leftovers, f"temporary copies left behind: {leftovers}"


def _personal_data_on_disk(settings: Settings) -> list[Path]:
    return [p for p in settings.home_dir.rglob("*") if p.is_file() and sha256(p.read_bytes()) == sha256(PII)]


def _wait_for(settings: Settings, sql: str, pid: int, deadline: float) -> bool:
    """Poll until `sql` returns true, or the process is gone, or the deadline passes."""
    with warehouse.connect(settings, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if conn.execute(sql).fetchone()[0]:
                return True
            if not _alive(pid):
                return False
            time.sleep(0.003)
    return False


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_killed_ingest_leaves_all_or_nothing(driver: Driver, server_home: Path, tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("NJIA_CRASH_SEED", "309")))
    write_registry(tmp_path / "organisations.csv", ["ALPHA", "BETA", "GAMMA"])
    settings = new_settings(server_home, tmp_path)
    inbox = Inbox(settings)
    kills, finished, how = 0, 0, Counter()
    for i in range(12):
        # Each round delivers more work: a national file, a small one, a copy of an earlier file under
        # another name (a duplicate), now and then personal data and a file with a missing column.
        inbox.add(f"ALPHA/national_{2011 + i}.csv", big_file(2011 + i, 3_000 + 200 * i), "valid")
        inbox.add(f"BETA/q_{i}.csv", small_file(2011 + i // 4, 1 + i % 4, 100 * i + 1), "valid")
        if i:
            inbox.add(
                f"GAMMA/copy of q_{i - 1}.csv", small_file(2011 + (i - 1) // 4, 1 + (i - 1) % 4, 100 * i - 99), "valid"
            )
        if i % 4 == 1:
            inbox.add(f"GAMMA/names_{i}.csv", PII, "pii")
        if i % 5 == 2:
            inbox.add(
                f"BETA/no_type_{i}.csv",
                csv_bytes(grid(rows(2, start=9000 + i), header=[h for h in HEADER if h != "exploitation_type"])),
                "bad_header",
            )
        (pid,) = driver.start(settings)
        started = time.monotonic()
        strategy = ("random", "copy", "commit")[i % 3]
        if strategy == "random":
            time.sleep(rng.uniform(0.05, 2.0))
            hit = True
        elif strategy == "copy":
            hit = _wait_for(
                settings,
                "select count(*) > 0 from pg_stat_activity where datname = current_database()"
                " and query ilike 'copy raw.route_reports%' and state = 'active'",
                pid,
                started + 60,
            )
            time.sleep(rng.uniform(0, 0.05))
        else:
            before = scalar(settings, "select count(*) from ops.submissions")
            hit = _wait_for(settings, f"select count(*) > {before} from ops.submissions", pid, started + 60)
            time.sleep(rng.uniform(0, 0.01))
        if hit and _alive(pid):
            os.kill(pid, signal.SIGKILL)
        (code,) = driver.wait()
        if code == -signal.SIGKILL:
            kills += 1
            how[strategy] += 1
        else:
            assert code == 0, driver.log.read_text()[-3000:]
            finished += 1
        check_consistent(inbox, complete=False)
    assert kills >= 10, f"only {kills} kills landed ({finished} runs finished first)"

    driver.start(settings)
    assert driver.wait() == [0], driver.log.read_text()[-3000:]
    check_consistent(inbox, complete=True)
    before = scalar(settings, "select count(*) from ops.submissions")
    driver.start(settings)
    assert driver.wait() == [0]
    assert scalar(settings, "select count(*) from ops.submissions") == before, "a rerun processed files again"
    print(f"\n{kills} kills ({dict(how)}), {finished} runs finished before their kill")


def test_two_ingests_at_once_never_load_a_file_twice(driver: Driver, server_home: Path, tmp_path: Path) -> None:
    write_registry(tmp_path / "organisations.csv", ["ALPHA", "BETA", "GAMMA"])
    settings = new_settings(server_home, tmp_path)
    inbox = Inbox(settings)
    for r in range(2):
        inbox.add(f"ALPHA/national_{2011 + r}.csv", big_file(2011 + r, 3000), "valid")
        for q in range(1, 3):
            data = small_file(2015 + r, q, 1000 * r + 10 * q)
            inbox.add(f"BETA/q{q}_{r}.csv", data, "valid")
            inbox.add(f"GAMMA/q{q}_{r} (copy).csv", data, "valid")  # same bytes, another organisation's folder
        inbox.add(f"GAMMA/names_{r}.csv", PII, "pii")
        inbox.add(f"GAMMA/names_{r} again.csv", PII, "pii")
        # Overlapping periods of one organisation: whichever comes first is accepted, never both.
        inbox.add(
            f"BETA/year_{r}.csv", csv_bytes(grid(rows(2, start=50 * r + 1, reporting_period=2020 + r))), "overlap"
        )
        inbox.add(
            f"BETA/quarter_{r}.csv",
            csv_bytes(grid(rows(2, start=50 * r + 1, reporting_period=f"{2020 + r}-Q2"))),
            "overlap",
        )
        pids = driver.start(settings, processes=2)
        assert len(pids) == 2
        assert driver.wait() == [0, 0], driver.log.read_text()[-3000:]
        check_consistent(inbox, complete=True)
        pair = query(
            settings,
            "select status from ops.submissions where file_name in (%s, %s)",
            (f"year_{r}.csv", f"quarter_{r}.csv"),
        )
        assert sorted(s for (s,) in pair) == ["accepted", "rejected"]
    statuses = Counter(s for (s,) in query(settings, "select status from ops.submissions"))
    assert statuses == {"accepted": 8, "duplicate": 7, "rejected": 3}, statuses


def test_personal_data_copied_by_a_killed_process_is_removed(server_home: Path, tmp_path: Path) -> None:
    """A loader killed after copying a file locally, before the header check rejects it, leaves the bytes
    in its temporary folder; the next run removes them (and never a live process's folder)."""
    from ingest import pipeline, workspace

    write_registry(tmp_path / "organisations.csv", ["GAMMA"])
    settings = new_settings(server_home, tmp_path)
    source = write_file(Path(settings.inbox_url), "GAMMA/names.csv", PII)
    live = workspace.tmp_dir(settings)  # this process's folder: must survive the sweep
    (live / "incoming-in-use").write_bytes(b"still being read")
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the loader: copies the delivered bytes, then is killed before it gets any further
        try:
            workspace.local_copy(str(source), workspace.tmp_dir(settings))
            os.write(ready_w, b"copied")
            time.sleep(60)
        finally:
            os._exit(0)
    try:
        assert os.read(ready_r, 16) == b"copied"
        assert _personal_data_on_disk(settings), "the copy should exist before the crash"
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert _personal_data_on_disk(settings), "a SIGKILL runs no clean-up"
    pipeline.discover(settings)
    assert not _personal_data_on_disk(settings)
    assert (live / "incoming-in-use").read_bytes() == b"still being read"
