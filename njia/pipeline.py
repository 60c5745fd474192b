"""One pass of the whole pipeline, `ingest` then `build`: what `njia run` does and what the DAGs do
in two steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.pipeline import FileOutcome, ingest
from njia.settings import Settings


@dataclass
class RunResult:
    outcomes: list[FileOutcome]
    build_ok: bool
    build_summary: str

    @property
    def ok(self) -> bool:
        files_ok = all(o.status in ("accepted", "duplicate") for o in self.outcomes)
        return files_ok and self.build_ok


def run(settings: Settings, sources: list[str] | None = None, progress=None) -> RunResult:
    from njia import transform

    outcomes = ingest(settings, sources, progress=progress)
    result = transform.build(settings)
    return RunResult(outcomes, result.ok, result.summary)


class DemoRefused(Exception):
    """`njia demo` was asked to run where it must not."""


def run_demo(home: Path | None = None, echo: Callable[[str], None] = print) -> int:
    """`njia demo`: fictional submissions through the whole pipeline on the embedded warehouse.

    Never on a server: the fictional rows would count with the organisations' real ones in the marts and the
    published reports, so a configured NJIA_WAREHOUSE_URL is refused rather than ignored or used."""
    import os

    from njia import warehouse
    from njia.settings import get_settings

    if not get_settings().embedded:
        raise DemoRefused(
            "njia demo runs only on its own embedded warehouse: its fictional submissions must never mix with real "
            "ones, and NJIA_WAREHOUSE_URL is set (in the environment or in .env). Unset it for the demo, e.g. "
            "`env -u NJIA_WAREHOUSE_URL njia demo`, or run the demo from a folder without that .env."
        )
    home = (home or Path(os.environ.get("NJIA_HOME", ".njia"))).resolve()
    inbox, registry = home / "demo" / "inbox", home / "demo" / "organisations.csv"
    settings = get_settings(home=home, warehouse_url="", inbox=str(inbox), organisations=registry)
    echo(f"Njia demo: state under {home} (embedded PostgreSQL)")
    out = home / "reports"
    if demo_packs(settings, out, echo) is None:
        return 1
    conninfo = warehouse.url(settings)
    echo(f"marts:    schema marts and reporting in the embedded warehouse ({conninfo})")
    echo(f"feedback: {inbox}/<organisation>/feedback/")
    echo(f"reports:  {out}/<year>/ (njia-report-<year>.xlsx, .html, csv/)")
    return 0


def demo_packs(settings: Settings, out: Path, echo: Callable[[str], None] = print) -> list[int] | None:
    """The demo's work on `settings` (its own warehouse, run_demo checks that): the fictional inbox and registry
    written once, ingest, build, and a report pack per year into `out/<year>`. The years written, or None
    when the build failed. The report's tests run the demo through here."""
    from njia import report, transform, warehouse
    from njia_demo import generator as demo

    inbox, registry = Path(settings.inbox_url), settings.organisations_path
    if not registry.exists():
        manifest = demo.generate_inbox(inbox, registry)
        echo(
            f"wrote {len(manifest.files)} fictional submissions from "
            f"{len({f.organisation_code for f in manifest.files})} invented organisations into {inbox}"
        )
    warehouse.migrate(settings)
    outcomes = ingest(
        settings, progress=lambda i, n, o: o and echo(f"  [{i}/{n}] {o.status:<20} {o.organisation:<10} {o.file_name}")
    )
    echo(f"ingested {len(outcomes)} new file(s); feedback in {inbox}/<organisation>/feedback/")
    result = transform.build(settings)
    echo(result.summary)
    if not result.ok:
        return None
    with warehouse.connect(settings) as conn:
        years = conn.execute(
            "select report_year, sum(cases_estimated), count(*) from marts.fct_route_reports group by 1 order by 1"
        ).fetchall()
    echo("cases in force per year (all organisations, before small-cell suppression):")
    for year, cases, rows in years:
        echo(f"  {year}: {cases:>7} cases on {rows} route rows")
    for year, _, _ in years:
        report.write_pack(settings, int(year), out / str(year))
    return [int(year) for year, _, _ in years]
