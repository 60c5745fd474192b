"""Same files, two versions of ingest: do they say exactly the same thing?

    python bench/check_equivalence.py                 # the working tree against HEAD
    python bench/check_equivalence.py --against 4c1234a

Performance work on ingest must not change what organisations are told or what is loaded. This writes a
set of awkward files (messy spellings, deliberately invalid rows, unknown values in every column, ragged and
blank rows, duplicates, an organisation column, optional columns missing, a file spanning several chunks),
runs `ingest.pipeline.analyse` on each with the code of `--against` (from `git archive`) and with the
working tree, and compares status, reason, counts, every problem (row, column, code, masked value), the
periods and the spooled rows byte for byte. No database is needed: analyse stops before the transaction.

Exit status 0 when everything is identical, 1 otherwise. Nothing is timed here.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 1, 1)
WEIRD = [
    "",
    " ",
    "KE",
    "ke",
    "Kenya",
    "047",
    "47",
    "Nairobi County",
    "?",
    "1,200",
    "1 200",
    "12.0",
    "1.000",
    "-3",
    "abc",
    "NBO;DOH",
    "KQ, QR",
    "2024-13",
    "2024 Q5",
    "q2 2025",
    "2009",
    "2031-01",
    "\u0663",
    "\uff11\uff12",
    "None",
    "air;air",
    ";;",
    "other",
    "Mombasa",
    "UG",
    "Uganda",
    "0",
    "100001",
    "99999",
    "+254 712 345678",
    "=cmd()",
    "someone@example.org",
    "C\u00f4te d\u2019Ivoire",
    "  Kisumu  ",
]


def write_files(folder: Path, rows: int, seed: int) -> list[Path]:
    from njia_demo import generator as demo

    rng = random.Random(seed)
    style = replace(demo.MESSY_STYLE, period_spelling=demo.PERIOD_SPELLINGS["month"][-1])
    generated = demo.iter_rows(
        random.Random(seed),
        rows,
        organisation_code="ORG",
        periods=demo.periods_of("month", [2024, 2025], TODAY),
        style=style,
        invalid_share=0.05,
    )
    header = style.header()
    body = [["" if c is None else str(c) for c in r.cells] for r in generated]

    def write(name: str, head: list[str], data: list[list[str]]) -> Path:
        path = folder / name
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(head)
            writer.writerows(data)
        return path

    mutated: list[list[str]] = []
    for row in body[: rows // 3]:
        row = [rng.choice(WEIRD) if rng.random() < 0.03 else c for c in row]
        if rng.random() < 0.02:
            row = row[: rng.randrange(1, len(row))]
        elif rng.random() < 0.01:
            row = [*row, "extra"]
        mutated.append(row)
        if rng.random() < 0.02:
            mutated.append(list(row))  # a duplicate row
        if rng.random() < 0.01:
            mutated.append([""] * len(row) if rng.random() < 0.5 else ["  "] * 3)  # blank lines
    optional = [h for h in header if h not in ("carriers", "transit_points", "female_cases", "means_of_control")]
    keep = [header.index(h) for h in optional]
    many = rows * 2 + 1  # more than one chunk whatever CHUNK_ROWS is, up to rows * 2
    return [
        write("clean.csv", header, body),
        write("mutated.csv", header, mutated),
        write(
            "organisation.csv",
            [*header, "organisation", "notes"],
            [[*r, rng.choice(["ORG", "org", "", " ORG "]), "x" * rng.randrange(0, 60)] for r in body[:3000]],
        ),
        write(
            "organisation_mismatch.csv",
            [*header, "organisation"],
            [[*r, rng.choice(["ORG", "", "OTHER", "+254712345678"])] for r in body[:3000]],
        ),
        write("duplicates.csv", header, body[:2000] + body[:2000] + body[1000:3000]),
        write("optional_missing.csv", optional, [[r[i] for i in keep] for r in body[:5000]]),
        write("several_chunks.csv", header, (body * (many // max(len(body), 1) + 1))[:many]),
    ]


def child(files: list[Path], out: Path) -> None:
    """Analyse each file with whichever `ingest` is first on sys.path; write what it concluded."""
    import ingest
    from ingest import pipeline, registry
    from njia.settings import get_settings

    settings = get_settings(
        home=out.parent / "home", warehouse_url="postgresql://unused@127.0.0.1:1/none", max_file_bytes=1 << 40
    )
    orgs = {"ORG": registry.Organisation("ORG", "Organisation (fictional)", "ngo", "047", True)}
    results = {"_ingest": ingest.__file__}
    for path in files:
        outcome = pipeline.FileOutcome(file=str(path), organisation="ORG", sha256="-", size_bytes=path.stat().st_size)
        spool = out.with_suffix(".spool.csv")
        kept = pipeline.analyse(settings, path, outcome, orgs, spool, TODAY)
        results[path.name] = {
            "bytes_kept": kept,
            **outcome.as_json(),
            "detail": outcome.detail,
            "problem_values": [p.value for p in outcome.problems],
            "periods": [[p.code, str(p.start), str(p.end)] for p in outcome.periods],
            "spool_sha256": hashlib.sha256(spool.read_bytes()).hexdigest() if spool.exists() else None,
        }
        spool.unlink(missing_ok=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default="HEAD", help="git revision to compare the working tree with")
    parser.add_argument("--rows", type=int, default=30_000, help="rows of the generated base file")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.files, args.child)
        return 0

    with tempfile.TemporaryDirectory(prefix="njia-equivalence-") as tmp:
        tmp = Path(tmp)
        (tmp / "files").mkdir()
        (tmp / "old").mkdir()
        files = write_files(tmp / "files", args.rows, args.seed)
        archive = subprocess.run(
            ["git", "archive", args.against, "ingest", "njia", "expectations", "dbt_project"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp / "old")], input=archive, check=True)
        outputs = {}
        for label, path in (("old", str(tmp / "old")), ("new", str(ROOT))):
            env = {**os.environ, "PYTHONPATH": path, "GX_ANALYTICS_ENABLED": "false"}
            env = {k: v for k, v in env.items() if not k.startswith("NJIA_")}
            out = tmp / f"{label}.json"
            subprocess.run(
                [sys.executable, __file__, "--child", str(out), *map(str, files)], env=env, check=True, cwd=tmp
            )
            outputs[label] = json.loads(out.read_text(encoding="utf-8"))
        old, new = outputs["old"], outputs["new"]
        print(f"{args.against}: {old.pop('_ingest')}\nworking tree: {new.pop('_ingest')}")
        same = True
        for name in sorted(old):
            a, b = old[name], new.get(name)
            differing = sorted(k for k in a if b is None or a[k] != b.get(k))
            same &= not differing
            print(
                f"  {name:<28} {a['status']:<22} {a['rows_read']:>6} read {a['rows_loaded']:>6} loaded "
                f"{len(a['problems']):>6} problems  " + ("identical" if not differing else f"DIFFERS: {differing}")
            )
    print("identical" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
