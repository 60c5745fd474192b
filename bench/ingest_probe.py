"""One `njia ingest` in its own process, measured: what `bench/run.py` starts for every ingest figure.

    python bench/ingest_probe.py SOURCE [SOURCE ...] [--profile FILE] [--workers N]

Settings come from the environment (NJIA_HOME, NJIA_ORGANISATIONS, ...), as for `njia ingest`. Prints one
JSON object on stdout:

    startup_s     imports and the Great Expectations context (paid once per process)
    ingest_s      `ingest.pipeline.ingest(settings, sources)`: discovery to the last file's commit
    validate_s    time inside `ingest.validate.validate` (every call, wrapped here), and `validate_calls`
    copy_s        time inside `ingest.load.copy_rows` (the COPY into raw.route_reports)
    peak_rss_mb   the process's peak resident memory (getrusage ru_maxrss), start-up included
    workers       NJIA_INGEST_WORKERS (or --workers); parallel: whether worker processes did the files
    files, rows_read, rows_loaded, rows_quarantined, statuses

The wrappers add two clock reads per call; nothing else about the run changes. They (and the profile and
peak_rss_mb) see this process only: when worker processes did the files (`parallel`), validate_s,
validate_calls and copy_s are 0 because they were not measured; use --workers 1 for those figures.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import argparse  # noqa: E402 - the clock starts before the imports it measures
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402


def _timed(module: object, name: str, totals: dict[str, float], counts: Counter) -> None:
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - started
            counts[name] += 1

    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(module, name, wrapper)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile of the ingest here (text)")
    parser.add_argument("--workers", type=int, help="ingest worker processes (default: NJIA_INGEST_WORKERS)")
    args = parser.parse_args(argv)

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import ingest.analysis as analysis
    import ingest.load as load
    import ingest.parallel as parallel
    import ingest.pipeline as pipeline
    import ingest.validate as validate
    from njia.settings import get_settings

    settings = get_settings(**({"ingest_workers": args.workers} if args.workers else {}))
    validate.warm_up()
    totals: dict[str, float] = {"validate": 0.0, "copy_rows": 0.0}
    counts: Counter = Counter()
    # The analysis holds its own reference (`from ingest.validate import validate`): wrap both, once.
    _timed(validate, "validate", totals, counts)
    analysis.validate = validate.validate
    _timed(load, "copy_rows", totals, counts)
    in_parallel: list[int] = []
    _parallel = parallel.ingest_in_parallel
    parallel.ingest_in_parallel = lambda *a, **k: in_parallel.append(1) or _parallel(*a, **k)
    startup = time.perf_counter() - _T0

    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    started = time.perf_counter()
    outcomes = pipeline.ingest(settings, args.sources)
    elapsed = time.perf_counter() - started
    if profiler is not None:
        profiler.stop()
        args.profile.write_text(profiler.output_text(unicode=False, color=False), encoding="utf-8")

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    json.dump(
        {
            "startup_s": round(startup, 3),
            "ingest_s": round(elapsed, 3),
            "validate_s": round(totals["validate"], 3),
            "validate_calls": counts["validate"],
            "copy_s": round(totals["copy_rows"], 3),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "workers": settings.ingest_workers,
            "parallel": bool(in_parallel),
            "files": len(outcomes),
            "rows_read": sum(o.rows_read for o in outcomes),
            "rows_loaded": sum(o.rows_loaded for o in outcomes),
            "rows_quarantined": sum(o.rows_quarantined for o in outcomes),
            "statuses": dict(Counter(o.status for o in outcomes)),
            "reasons": dict(Counter(o.reason for o in outcomes if o.reason)),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
