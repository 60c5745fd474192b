"""Njia's benchmark (`make bench`): every figure measured in one run, on one fresh embedded warehouse.

    python bench/run.py                    # full size: 1,000,000 rows; 1,000 files of 1,000 rows
    python bench/run.py --quick            # 100,000 rows; 100 files of 1,000 rows (a few minutes)
    python bench/run.py --rows 200000 --files 200 --json out.json --keep

Steps, in this order, against one embedded PostgreSQL under a temporary NJIA_HOME:

 1. generate the inputs with `njia_demo.generator` (as bench/generate.py does): one big file, a mid-size file, one
    1,000-row addition and many small files, each from its own fictional organisation;
 2. `njia init`, and `njia build` on the empty warehouse (the fixed cost of any build);
 3. ingest the big file (bench/ingest_probe.py in a subprocess: time, GX share, COPY time, peak memory);
 4. the floor: the same rows, already normalised (exported from raw.route_reports), COPYed into an UNLOGGED
    table with no index, as one stream; and as one transaction per small file's worth of rows;
 5. `njia build` (full: the warehouse holds only the big file), then ingest the 1,000-row addition and
    `njia build` again; their ratio;
 6. `njia report --year YEAR`;
 7. ingest the mid-size file (memory should not grow with the file), then the many small files (in parallel
    worker processes, NJIA_INGEST_WORKERS), then a fifth as many in one process (GX and COPY shares).

The embedded server is stopped and the temporary folder deleted at the end (unless --keep). Timings go to
stdout and docs/benchmarks.md, never into tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = Path(__file__).resolve().parent / "ingest_probe.py"
NJIA = str(Path(sys.executable).with_name("njia"))

# The targets each figure is judged against (docs/benchmarks.md#targets).
FLOOR_SHARE, FLOOR_STRETCH = 0.50, 0.70
PIPELINE_SECONDS = 300
INCREMENTAL_RATIO = 0.20
PEAK_MB = 500


# --- inputs --------------------------------------------------------------------------------------------


@dataclass
class Batch:
    """Files of one benchmark step, each from its own organisation, in their own inbox folder."""

    name: str
    inbox: Path
    codes: list[str]
    rows_per_file: int
    rows_valid: int = 0
    files: list[Path] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.rows_per_file * len(self.codes)


def generate(batches: list[Batch], registry: Path, *, years: list[int], invalid_share: float, seed: int) -> float:
    """Writes every batch's files (messy spellings, monthly periods, as bench/generate.py) and one registry."""
    from njia_demo import generator as demo

    style = replace(demo.MESSY_STYLE, period_spelling=demo.PERIOD_SPELLINGS["month"][-1])
    fmt = demo.FileFormat(kind="csv", encoding="utf-8", delimiter=",")
    periods = demo.periods_of("month", years)
    orgs = [
        demo.Organisation(code, f"Benchmark organisation {code} (fictional)", "ngo", "047")
        for b in batches
        for code in b.codes
    ]
    demo.write_registry(registry, orgs)
    started = time.perf_counter()
    for b in batches:
        for i, code in enumerate(b.codes, 1):
            rng = random.Random(f"{seed}:{code}")
            rows = demo.iter_rows(
                rng, b.rows_per_file, organisation_code=code, periods=periods, style=style, invalid_share=invalid_share
            )
            path = b.inbox / code / f"{b.name}_{i:04d}.csv"
            f = demo.write_submission(path, rows, organisation_code=code, style=style, fmt=fmt, keep_rows=False)
            b.files.append(path)
            b.rows_valid += f.rows_valid
    return time.perf_counter() - started


# --- running things ------------------------------------------------------------------------------------


def _env(home: Path, registry: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NJIA_")}
    env.update(
        {
            "NJIA_HOME": str(home),
            "NJIA_WAREHOUSE_URL": "",  # the embedded warehouse, as `make demo`
            "NJIA_ORGANISATIONS": str(registry),
            "NJIA_INBOX": str(home / "inbox-unused"),
            # The 1,000,000-row file is about 160 MB; the default limit (100 MB) would reject it unread.
            "NJIA_MAX_FILE_BYTES": str(1 << 40),
            "GX_ANALYTICS_ENABLED": "false",
        }
    )
    return env


def _run(cmd: list[str], env: dict[str, str], what: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def ingest(batch: Batch, env: dict[str, str], profile_dir: Path | None, workers: int | None = None) -> dict:
    cmd = [sys.executable, str(PROBE), str(batch.inbox), *(["--workers", str(workers)] if workers else [])]
    if profile_dir:
        cmd += ["--profile", str(profile_dir / f"ingest-{batch.name}.txt")]
    wall, out = _run(cmd, env, f"ingest of {batch.name}")
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_s"] = round(wall, 3)
    if result["rows_read"] != batch.rows or result["rows_loaded"] != batch.rows_valid:
        raise SystemExit(
            f"ingest of {batch.name}: read {result['rows_read']} of {batch.rows} rows, loaded "
            f"{result['rows_loaded']} of {batch.rows_valid} valid: {result}"
        )
    print(
        f"  ingest {batch.name}: {result['rows_read']:,} rows in {result['ingest_s']:.1f} s "
        f"(GX {result['validate_s']:.1f} s, peak {result['peak_rss_mb']:.0f} MB)",
        file=sys.stderr,
    )
    return result


def build(env: dict[str, str], label: str) -> dict:
    wall, out = _run([NJIA, "build"], env, f"njia build ({label})")
    m = re.search(r"\(([\d.]+) s\)\s*$", out.strip())
    print(f"  build {label}: {wall:.1f} s", file=sys.stderr)
    return {"wall_s": round(wall, 3), "build_s": float(m.group(1)) if m else None, "summary": out.strip()}


# --- the floor -----------------------------------------------------------------------------------------


def floor(settings, submission_ids: list[int], export: Path, rows_per_txn: int, txns: int) -> dict:
    """COPY of the loaded (normalised) rows into an UNLOGGED table without indexes: the database's own speed."""
    from ingest.contract import LOAD_COLUMNS
    from njia import warehouse

    columns = ", ".join(("submission_id", "row_number", *LOAD_COLUMNS))
    with warehouse.connect(settings, autocommit=True) as conn:
        with (
            export.open("wb") as fh,
            conn.cursor().copy(
                f"copy (select {columns} from raw.route_reports"  # integers only
                f" where submission_id in ({', '.join(str(int(i)) for i in submission_ids)})"
                " order by submission_id, row_number) to stdout with (format csv)"
            ) as copy,
        ):
            for block in copy:
                fh.write(block)
        conn.execute("drop schema if exists bench_floor cascade")
        conn.execute("create schema bench_floor")
        conn.execute("create unlogged table bench_floor.route_reports (like raw.route_reports including defaults)")
        statement = f"copy bench_floor.route_reports ({columns}) from stdin with (format csv)"

        rows = 0
        started = time.perf_counter()
        with conn.transaction(), conn.cursor().copy(statement) as copy, export.open("rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block)
        one_stream = time.perf_counter() - started
        rows = conn.execute("select count(*) from bench_floor.route_reports").fetchone()[0]

        # For reference, not the floor: the same COPY into a logged table shaped like raw.route_reports
        # (primary key and the foreign key to the ledger), which is what ingest's COPY pays for.
        conn.execute("create table bench_floor.raw_like (like raw.route_reports including defaults including indexes)")
        conn.execute("alter table bench_floor.raw_like add foreign key (submission_id) references ops.submissions")
        started = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor().copy(statement.replace(".route_reports", ".raw_like")) as copy,
            export.open("rb") as fh,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        raw_like = time.perf_counter() - started

        conn.execute("truncate bench_floor.route_reports")
        done = 0
        started = time.perf_counter()
        with export.open("rb") as fh:
            for _ in range(txns):
                lines = [line for _, line in zip(range(rows_per_txn), fh, strict=False)]
                if not lines:
                    break
                with conn.transaction(), conn.cursor().copy(statement) as copy:
                    copy.write(b"".join(lines))
                done += len(lines)
        per_file = time.perf_counter() - started
        conn.execute("drop schema bench_floor cascade")
    export.unlink()
    return {
        "rows": rows,
        "seconds": round(one_stream, 3),
        "rows_per_s": rows / one_stream,
        "raw_like_seconds": round(raw_like, 3),
        "raw_like_rows_per_s": rows / raw_like,
        "txn_rows": done,
        "txns": txns,
        "txn_seconds": round(per_file, 3),
        "txn_rows_per_s": done / per_file,
    }


# --- the table -----------------------------------------------------------------------------------------


def _n(v: float) -> str:
    return f"{v:,.0f}"


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    mem = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return {
        "nproc": str(os.cpu_count()),
        "memory_gb": f"{mem / 1024 / 1024:.1f}",
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def table(r: dict) -> str:
    rows: list[tuple[str, str, str, str]] = []  # measure, figure, detail, target

    def mark(ok: bool) -> str:
        return "met" if ok else "MISSED"

    fl = r["floor"]
    rows.append(
        (
            "floor: COPY, UNLOGGED table, one stream",
            f"{_n(fl['rows_per_s'])} rows/s",
            f"{_n(fl['rows'])} rows in {fl['seconds']:.1f} s",
            "",
        )
    )
    rows.append(
        (
            "ref.: same COPY, logged table with raw's PK + FK",
            f"{_n(fl['raw_like_rows_per_s'])} rows/s",
            f"{fl['raw_like_seconds']:.1f} s; {fl['raw_like_rows_per_s'] / fl['rows_per_s']:.0%} of the floor",
            "",
        )
    )
    rows.append(
        (
            f"floor: {fl['txns']:,} COPYs of {_n(fl['txn_rows'] / max(fl['txns'], 1))} rows, a txn each",
            f"{_n(fl['txn_rows_per_s'])} rows/s",
            f"{_n(fl['txn_rows'])} rows in {fl['txn_seconds']:.1f} s",
            "",
        )
    )
    labels = (
        ("big", "ingest: one {rows}-row file"),
        ("many", "ingest: {files} files of {per} rows, {workers} worker processes"),
        ("seq", "ingest: {files} more such files, one process"),
    )
    for key, label in labels:
        if key not in r["ingest"]:
            continue
        ing = r["ingest"][key]
        b = r["batches"][key]
        rate = ing["rows_read"] / ing["ingest_s"]
        share = rate / fl["rows_per_s"]
        rows.append(
            (
                label.format(
                    rows=_n(b["rows"]), files=_n(b["files"]), per=_n(b["rows_per_file"]), workers=ing.get("workers", 1)
                ),
                f"{_n(rate)} rows/s",
                f"{ing['ingest_s']:.1f} s; {share:.1%} of the floor",
                ""
                if key == "seq"
                else f">= 50 % (70 %): {mark(share >= FLOOR_SHARE)}"
                + (" incl. stretch" if share >= FLOOR_STRETCH else ""),
            )
        )
        if ing.get("parallel"):  # the probe times GX and COPY in its own process only
            rows.append(("    GX and COPY shares", "-", "measured on the one-process line", ""))
        else:
            rows.append(
                (
                    "    of which GX validation",
                    f"{ing['validate_s'] / ing['ingest_s']:.0%}",
                    f"{ing['validate_s']:.1f} s in {ing['validate_calls']:,} call(s)",
                    "",
                )
            )
            rows.append(
                ("    of which COPY into raw", f"{ing['copy_s'] / ing['ingest_s']:.0%}", f"{ing['copy_s']:.1f} s", "")
            )
        rows.append(("    process start-up (imports, GX context)", f"{ing['startup_s']:.1f} s", "once per run", ""))
    full, incr, empty = r["build"]["full"], r["build"]["incremental"], r["build"]["empty"]
    ratio = incr["wall_s"] / full["wall_s"]
    rows.append(
        (
            "build: empty warehouse (fixed cost of a build)",
            f"{empty['wall_s']:.1f} s",
            f"{empty['wall_s'] / full['wall_s']:.0%} of the full build",
            "",
        )
    )
    rows.append(
        (
            f"build: full, {_n(r['batches']['big']['rows'])} rows",
            f"{full['wall_s']:.1f} s",
            f"dbt build + publish {full['build_s']} s",
            "",
        )
    )
    rows.append(
        (
            f"build: after one {_n(r['batches']['add']['rows'])}-row submission",
            f"{incr['wall_s']:.1f} s",
            f"ratio to full {ratio:.2f}",
            f"<= 0.20: {mark(ratio <= INCREMENTAL_RATIO)}",
        )
    )
    rows.append((f"report: one year ({r['year']})", f"{r['report_s']:.1f} s", "njia report (XLSX, CSV, HTML)", ""))
    big = r["ingest"]["big"]
    total = big["wall_s"] + full["wall_s"]
    rows.append(
        (
            f"inbox to marts, {_n(r['batches']['big']['rows'])} rows",
            f"{total:.0f} s",
            f"ingest {big['wall_s']:.0f} s + build {full['wall_s']:.0f} s",
            f"<= 300 s: {mark(total <= PIPELINE_SECONDS)}",
        )
    )
    for k in ("add", "mid", "big"):
        n, mb = r["batches"][k]["rows_per_file"], r["ingest"][k]["peak_rss_mb"]
        target = f"< 500 MB: {mark(mb < PEAK_MB)}" if k == "big" else ""
        rows.append((f"peak memory: ingest of a {_n(n)}-row file", f"{mb:.0f} MB", "whole process", target))
    mid, big_mb = r["ingest"]["mid"]["peak_rss_mb"], r["ingest"]["big"]["peak_rss_mb"]
    factor = r["batches"]["big"]["rows_per_file"] / r["batches"]["mid"]["rows_per_file"]
    rows.append(
        (
            "    growth, mid-size to largest file",
            f"{big_mb - mid:+.0f} MB",
            f"file {factor:,.0f}x larger",
            f"flat (< 10 %): {mark(big_mb <= mid * 1.1)}",
        )
    )

    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    head = ("measure", "figure", "detail", "target")
    widths = [max(w, len(h)) for w, h in zip(widths, head, strict=True)]
    lines = [
        " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip(),
        "-|-".join("-" * w for w in widths),
    ]
    for row in rows:
        lines.append(
            " | ".join((row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]), row[3])).rstrip()
        )
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the big file (default 1,000,000)")
    parser.add_argument("--files", type=int, default=1000, help="number of small files (default 1,000)")
    parser.add_argument("--file-rows", type=int, default=1000, help="rows per small file (default 1,000)")
    parser.add_argument("--mid-rows", type=int, help="rows of the mid-size file (default: --rows / 10)")
    parser.add_argument(
        "--add-rows",
        type=int,
        default=1000,
        help="rows of the submission added before the second build (default 1,000)",
    )
    parser.add_argument("--quick", action="store_true", help="100,000 rows and 100 small files")
    parser.add_argument("--year", type=int, default=2025, help="the report's year (default 2025)")
    parser.add_argument(
        "--invalid-share",
        type=float,
        default=0.005,
        help="share of deliberately invalid rows in every file (default 0.005)",
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--work", type=Path, help="working folder (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder and leave it be")
    parser.add_argument("--json", type=Path, help="also write every figure as JSON here")
    parser.add_argument("--profile", type=Path, help="write pyinstrument profiles of each ingest into this folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.files = 100_000, 100
    mid_rows = args.mid_rows or max(args.rows // 10, 1)

    work = args.work or Path(tempfile.mkdtemp(prefix="njia-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    home, data = work / "home", work / "data"
    registry = data / "organisations.csv"
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    env = _env(home, registry)
    os.environ.update({k: v for k, v in env.items() if k.startswith(("NJIA_", "GX_"))})
    for k in [k for k in os.environ if k.startswith("NJIA_") and k not in env]:
        del os.environ[k]

    batches = {
        "big": Batch("big", data / "big", ["BIG0001"], args.rows),
        "add": Batch("add", data / "add", ["ADD0001"], args.add_rows),
        "mid": Batch("mid", data / "mid", ["MID0001"], mid_rows),
        "many": Batch("many", data / "many", [f"SML{i:04d}" for i in range(1, args.files + 1)], args.file_rows),
        # The same shape in one process: the GX and COPY shares the worker processes' line cannot show.
        "seq": Batch(
            "seq", data / "seq", [f"SEQ{i:04d}" for i in range(1, max(args.files // 5, 1) + 1)], args.file_rows
        ),
    }
    print(f"njia bench in {work}", file=sys.stderr)
    results: dict = {
        "machine": machine(),
        "year": args.year,
        "ingest": {},
        "build": {},
        "options": {k: str(v) for k, v in vars(args).items()},
    }
    from njia import warehouse
    from njia.settings import get_settings

    settings = get_settings()
    try:
        seconds = generate(
            list(batches.values()),
            registry,
            years=[args.year - 1, args.year],
            invalid_share=args.invalid_share,
            seed=args.seed,
        )
        print(f"  generated {sum(b.rows for b in batches.values()):,} rows in {seconds:.0f} s", file=sys.stderr)
        results["generate_s"] = round(seconds, 1)
        results["batches"] = {
            k: {"rows": b.rows, "files": len(b.codes), "rows_per_file": b.rows_per_file, "rows_valid": b.rows_valid}
            for k, b in batches.items()
        }

        _run([NJIA, "init"], env, "njia init")
        with warehouse.connect(settings) as conn:
            results["postgres"] = conn.execute("select version()").fetchone()[0]
        # What every build pays whatever the data (parsing, ~200 dbt nodes, publishing): the incremental
        # target has to be read against it.
        results["build"]["empty"] = build(env, "empty warehouse")

        results["ingest"]["big"] = ingest(batches["big"], env, args.profile)
        with warehouse.connect(settings) as conn:
            big_ids = [
                r[0]
                for r in conn.execute(
                    "select submission_id from ops.submissions where organisation_code = 'BIG0001'"
                ).fetchall()
            ]
        results["floor"] = floor(
            settings, big_ids, work / "floor.csv", args.file_rows, min(args.files, args.rows // args.file_rows)
        )
        print(f"  floor: {results['floor']['rows_per_s']:,.0f} rows/s", file=sys.stderr)

        results["build"]["full"] = build(env, "full")
        results["ingest"]["add"] = ingest(batches["add"], env, None)
        results["build"]["incremental"] = build(env, "after the addition")
        with warehouse.connect(settings) as conn:
            in_marts = conn.execute("select count(*) from marts.fct_route_reports").fetchone()[0]
        expected = batches["big"].rows_valid + batches["add"].rows_valid
        if in_marts != expected:
            raise SystemExit(f"marts.fct_route_reports holds {in_marts} rows, expected {expected}")

        wall, _ = _run([NJIA, "report", "--year", str(args.year), "--out", str(work / "report")], env, "njia report")
        results["report_s"] = round(wall, 3)
        print(f"  report: {wall:.1f} s", file=sys.stderr)

        results["ingest"]["mid"] = ingest(batches["mid"], env, args.profile)
        results["ingest"]["many"] = ingest(batches["many"], env, args.profile)
        results["ingest"]["seq"] = ingest(batches["seq"], env, None, workers=1)
    finally:
        warehouse.stop_embedded(settings)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    results["table"] = table(results)
    m = results["machine"]
    print(
        f"\nNjia benchmark: {m['nproc']} cores, {m['memory_gb']} GB, {m['cpu']}; Python {m['python']}; "
        f"{results['postgres'].split(',')[0]} (embedded)\n"
    )
    print(results["table"], flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
