"""Benchmark inputs: M fictional route-report files of N rows each, plus their registry and answers.

    python bench/generate.py --rows 1000000 --files 1 --out DIR

writes
    DIR/inbox/<BENCHnnnn>/bench_<nnnn>.csv   one organisation per file, so no file replaces another
    DIR/organisations.csv                     the registry for those organisations
    DIR/expected.json                         per file: rows read/valid, cases, periods, invalid rows

Rows come from `njia_demo.generator.iter_rows` (the demo's generator) and stream to disk, so memory stays flat
whatever N is. The expected figures are counted while writing; nothing is read back.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

from njia_demo import generator as demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="rows per file")
    parser.add_argument("--files", type=int, default=1, help="number of files (one organisation each)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--years", type=int, nargs="+", default=[2024, 2025], help="reporting years")
    parser.add_argument("--granularity", choices=("month", "quarter", "year"), default="month")
    parser.add_argument(
        "--style",
        choices=("plain", "messy"),
        default="messy",
        help="plain: canonical codes; messy: every spelling the contract accepts",
    )
    parser.add_argument("--lang", choices=("en", "sw"), default="en", help="header language")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--encoding", default="utf-8", help="CSV encoding (utf-8, utf-8-sig, utf-16, cp1252)")
    parser.add_argument("--delimiter", default=",", help="CSV delimiter: , ; or tab")
    parser.add_argument("--invalid-share", type=float, default=0.0, help="share of deliberately invalid rows")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.files < 1:
        parser.error("--rows and --files must be at least 1")

    style = replace(
        demo.MESSY_STYLE if args.style == "messy" else demo.Style(),
        lang=args.lang,
        period_spelling=demo.PERIOD_SPELLINGS[args.granularity][-1 if args.style == "messy" else 0],
    )
    fmt = demo.FileFormat(
        kind=args.format, encoding=args.encoding, delimiter="\t" if args.delimiter in ("tab", "\\t") else args.delimiter
    )
    periods = demo.periods_of(args.granularity, args.years)
    inbox = args.out / "inbox"
    orgs = [
        demo.Organisation(f"BENCH{i:04d}", f"Benchmark Organisation {i} (fictional)", "ngo", "047")
        for i in range(1, args.files + 1)
    ]
    demo.write_registry(args.out / "organisations.csv", orgs)

    started = time.perf_counter()
    files = []
    for i, org in enumerate(orgs, 1):
        rng = random.Random(f"{args.seed}:{org.code}")
        rows = demo.iter_rows(
            rng, args.rows, organisation_code=org.code, periods=periods, style=style, invalid_share=args.invalid_share
        )
        path = inbox / org.code / f"bench_{i:04d}{fmt.suffix}"
        f = demo.write_submission(path, rows, organisation_code=org.code, style=style, fmt=fmt, keep_rows=False)
        files.append(f.to_json(inbox))
        print(f"{path}: {f.rows_read} rows, {f.path.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    elapsed = time.perf_counter() - started

    total = args.rows * args.files
    summary = {
        "rows_per_file": args.rows,
        "file_count": args.files,
        "rows_total": total,
        "rows_valid": sum(f["rows_valid"] for f in files),
        "cases_total": sum(f["cases_total"] for f in files),
        "seconds": round(elapsed, 2),
        "rows_per_second": round(total / elapsed),
        "options": {k: str(v) for k, v in vars(args).items()},
        "files": files,
    }
    (args.out / "expected.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"{total} rows in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s) -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
