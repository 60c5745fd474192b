"""The `njia` command line (docs/interfaces.md §1). Commands are thin: each calls the library function the DAGs
and the tests call too. Exit codes: 0 fine, 1 data problems or failed build, 2 usage or configuration."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click

from njia.settings import Settings, get_settings

CONFIG_ERROR = 2


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic's message names the bad variable
        raise click.ClickException(f"configuration error: {exc}") from exc


class _ConfigError(click.ClickException):
    exit_code = CONFIG_ERROR


def _ready(settings: Settings) -> None:
    from njia import warehouse

    try:
        if not warehouse.is_initialised(settings):
            raise _ConfigError("the warehouse is not initialised: run `njia init` first")
        if pending := warehouse.pending_migrations(settings):
            raise _ConfigError(
                f"the warehouse is older than this version of Njia ({len(pending)} migration(s) "
                f"not applied: {', '.join(pending)}): run `njia init` to upgrade it"
            )
    except warehouse.WarehouseError as exc:
        raise _ConfigError(str(exc)) from exc


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what each step does.")
def main(verbose: bool) -> None:
    """Njia: route reports from civil-society organisations to marts and the yearly report."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@main.command()
def init() -> None:
    """Create or upgrade the warehouse (schemas, roles, grants). Safe to run again."""
    from njia import access, warehouse

    settings = _settings()
    try:
        applied = warehouse.migrate(settings)
        access.apply(settings)
    except warehouse.WarehouseError as exc:
        raise _ConfigError(str(exc)) from exc
    where = "embedded PostgreSQL under " + str(settings.home_dir) if settings.embedded else "NJIA_WAREHOUSE_URL"
    click.echo(f"warehouse ready ({where}); migrations applied now: {', '.join(applied) or 'none'}")


_WORKERS_HELP = (
    "Processes ingesting different organisations' files in parallel (an organisation's files stay "
    "in delivery order in one process); 1 = one file at a time here. Default: NJIA_INGEST_WORKERS."
)


def _with_workers(settings: Settings, workers: int | None) -> Settings:
    return settings if workers is None else settings.model_copy(update={"ingest_workers": workers})


def _progress(i: int, total: int, outcome) -> None:
    if outcome is not None:
        _echo_err(f"[{i}/{total}] {outcome.status:<20} {outcome.reason or '':<22} {outcome.file}")


@main.command()
@click.argument("sources", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file (docs/interfaces.md §1.3).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help=_WORKERS_HELP)
def ingest(sources: tuple[str, ...], as_json: bool, workers: int | None) -> None:
    """Process every new file in the given inbox(es) or files (default: the configured inbox)."""
    from ingest.pipeline import ingest as run_ingest
    from ingest.registry import RegistryError

    settings = _with_workers(_settings(), workers)
    _ready(settings)
    try:
        outcomes = run_ingest(settings, list(sources) or None, progress=_progress)
    except (RegistryError, FileNotFoundError) as exc:
        raise _ConfigError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps([o.as_json() for o in outcomes], indent=2, ensure_ascii=False))
    else:
        for o in outcomes:
            click.echo(f"{o.status:<20} {o.rows_loaded:>7} loaded {o.rows_quarantined:>6} set aside  {o.file}")
        click.echo(f"{len(outcomes)} new file(s); feedback is in each organisation's feedback/ folder")
    sys.exit(0 if all(o.status in ("accepted", "duplicate") for o in outcomes) else 1)


@main.command()
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
def build(full_refresh: bool) -> None:
    """Run the dbt project: seeds, models, tests, snapshots. Marts change only when all tests pass."""
    from njia import transform

    settings = _settings()
    _ready(settings)
    result = transform.build(settings, full_refresh=full_refresh)
    click.echo(result.summary)
    sys.exit(0 if result.ok else 1)


@main.command()
@click.option("--inbox", "sources", multiple=True, help="Inbox path or URL (repeatable).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help=_WORKERS_HELP)
def run(sources: tuple[str, ...], workers: int | None) -> None:
    """`ingest` then `build`: one pass of the whole pipeline."""
    from njia.pipeline import run as run_pipeline

    settings = _with_workers(_settings(), workers)
    _ready(settings)
    result = run_pipeline(settings, list(sources) or None, progress=_progress)
    click.echo(f"{len(result.outcomes)} new file(s); build: {result.build_summary}")
    sys.exit(0 if result.ok else 1)


def _parse_langs(value: str) -> tuple[str, ...]:
    langs = tuple(v.strip() for v in value.split(",") if v.strip())
    if not langs or any(lang not in ("en", "sw") for lang in langs):
        raise click.BadParameter("use en, sw or en,sw")
    return langs


@main.command()
@click.option("--year", type=click.IntRange(2010, 2100), required=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--min-cell",
    type=click.IntRange(min=1),
    default=None,
    help="Small-cell threshold k (internal use; 1 turns suppression off). Default: NJIA_MIN_CELL.",
)
@click.option("--lang", default="en,sw", show_default=True, help="Languages of the HTML page.")
def report(year: int, out_dir: Path, min_cell: int | None, lang: str) -> None:
    """Write the yearly report pack (XLSX, CSV, HTML) for YEAR into OUT."""
    from njia import report as reporting

    settings = _settings()
    _ready(settings)
    try:
        written = reporting.write_pack(settings, year, out_dir, min_cell=min_cell, langs=_parse_langs(lang))
    except reporting.ReportError as exc:  # type: ignore[attr-defined]
        raise click.ClickException(str(exc)) from exc
    click.echo(f"report pack for {year} written to {written}")


@main.command()
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--lang", type=click.Choice(["en", "sw"]), default="en", show_default=True)
def template(out_file: Path, lang: str) -> None:
    """Write the Excel submission template with drop-down lists."""
    from njia.template import write_template

    click.echo(f"template written to {write_template(out_file, lang)}")


@main.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Ledger summary: submissions per organisation and period, who has not reported, the last run of each step,
    the portal's audit, the alerts sent, source freshness."""
    from njia.status import summary

    settings = _settings()
    _ready(settings)
    data = summary(settings)
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    click.echo(f"{'organisation':<14}{'files':>6}{'accepted':>10}{'rejected':>10}{'rows':>9}  periods")
    for o in data["organisations"]:
        click.echo(
            f"{o['organisation']:<14}{o['files']:>6}{o['accepted']:>10}{o['rejected']:>10}"
            f"{o['rows_loaded'] or 0:>9}  {', '.join(o['periods'])}"
        )
    if data["never_submitted"]:
        click.echo("registered but never accepted: " + ", ".join(data["never_submitted"]))
    missing = data["missing_last_quarter"]
    if missing["organisations"] is None:
        click.echo(f"missing for {missing['quarter']}: unknown ({missing['why_unknown']})")
    elif missing["organisations"]:
        click.echo(
            f"nothing received for {missing['quarter']} from: "
            + ", ".join(m["organisation_code"] for m in missing["organisations"])
        )
    if data["last_runs"]:
        click.echo("last runs (latest of each step):")
    for r in data["last_runs"]:
        state = "ok" if r["ok"] else "FAILED" if r["ok"] is not None else "running"
        click.echo(f"  {r['started_at'][:19]}  {r['command']:<40}{state:<8}{(r['detail'] or '')[:100]}")
    portal = data["portal"]
    if portal["last_7_days"]:
        click.echo(
            "portal (last 7 days): "
            + ", ".join(f"{e['event']} {'ok' if e['ok'] else 'failed'} {e['count']}" for e in portal["last_7_days"])
        )
        for e in portal["recent"]:
            click.echo(
                f"  {e['at'][:19]}  {e['event']:<17}{'ok' if e['ok'] else 'FAILED':<7}"
                f"{e['organisation'] or '-':<14}{e['email'] or '-'}  {e['ip'] or ''}  {e['detail'] or ''}"
            )
    for a in data["alerts"]:
        where = ", ".join(a["sent"]) or "no channel configured"
        failed = f"; not delivered: {', '.join(a['failed'])}" if a["failed"] else ""
        click.echo(f"alert {a['sent_at'][:19]} {a['kind']}: {a['subject']} ({where}{failed})")
    _echo_freshness(data["source_freshness"])


def _echo_freshness(sources: list[dict]) -> None:
    from njia.transform import describe_age

    if not sources:
        click.echo("source freshness: not checked yet (the transform and monitor DAGs check it; or `njia freshness`)")
        return
    click.echo("source freshness (dbt; thresholds from the sources' YAML):")
    for s in sources:
        limits = f"warn after {s['warn_after']}, error after {s['error_after']}"
        click.echo(
            f"  {s['source']:<22}{s['status']:<15}{describe_age(s['age_seconds']):<26}"
            f"checked {s['checked_at']}; {limits}"
        )


@main.command()
def freshness() -> None:
    """Check how recently raw data arrived (dbt source freshness); recorded for `njia status`."""
    from njia import transform

    settings = _settings()
    _ready(settings)
    try:
        result = transform.freshness(settings)
    except transform.TransformError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"source freshness: {result.summary}")
    sys.exit(0 if result.ok else 1)


@main.command()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo keeps its state (default: NJIA_HOME).",
)
def demo(home: Path | None) -> None:
    """Generate fictional submissions and run the whole pipeline on the embedded warehouse (never on the server
    NJIA_WAREHOUSE_URL names: the demo refuses to run while it is set)."""
    from njia.pipeline import DemoRefused, run_demo

    try:
        code = run_demo(home, echo=click.echo)
    except DemoRefused as exc:
        raise _ConfigError(str(exc)) from exc
    sys.exit(code)


@main.group()
def portal() -> None:
    """The organisations' portal: serve it, and manage the people who sign in (docs/interfaces.md §9)."""


def _portal_settings() -> Settings:
    from njia.portal.accounts import tables_ready

    settings = _settings()
    _ready(settings)
    if not tables_ready(settings):
        raise _ConfigError("the warehouse has no portal tables yet: run `njia init`")
    return settings


@portal.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 in a container).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Server processes.")
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Proxies trusted to say the client's address (X-Forwarded-For), e.g. the TLS proxy's.",
)
def serve(host: str, port: int, workers: int, forwarded_allow_ips: str) -> None:
    """Serve the portal (HTTP; put it behind a TLS proxy and set NJIA_PORTAL_SECURE_COOKIES=true)."""
    import uvicorn

    from njia.portal.app import create_app
    from njia.portal.files import PortalConfigError

    settings = _portal_settings()
    try:
        create_app(settings)  # fails here, with its message, rather than in every worker
    except PortalConfigError as exc:
        raise _ConfigError(str(exc)) from exc
    click.echo(
        f"Njia portal on http://{host}:{port} (warehouse: "
        f"{'embedded under ' + str(settings.home_dir) if settings.embedded else 'NJIA_WAREHOUSE_URL'}; "
        f"inbox: {settings.inbox_url})"
    )
    uvicorn.run(
        "njia.portal.app:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        log_level="info",
    )


def _print_links(created) -> None:
    for user, link in created:
        click.echo(f"{user.organisation_code}\t{user.email}\t{link}")


@portal.command("add-user")
@click.argument("organisation")
@click.argument("email")
def add_user(organisation: str, email: str) -> None:
    """Create an account for EMAIL in ORGANISATION; prints the one-time link to set its password."""
    from ingest.registry import RegistryError
    from njia.portal import accounts

    settings = _portal_settings()
    try:
        created = [accounts.add_user(settings, organisation, email)]
    except (accounts.AccountError, RegistryError) as exc:
        raise click.ClickException(str(exc)) from exc
    _print_links(created)
    click.echo(f"send the link to its owner (it works once, for {settings.portal_link_hours} hours)", err=True)


@portal.command("add-users")
@click.argument("csv_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def add_users(csv_file: Path) -> None:
    """Create the accounts listed in CSV_FILE (columns organisation_code, email): all or none. Prints one
    line per account: organisation, e-mail, one-time link."""
    from ingest.registry import RegistryError
    from njia.portal import accounts

    settings = _portal_settings()
    try:
        created = accounts.add_users(settings, csv_file)
    except (accounts.AccountError, RegistryError) as exc:
        raise click.ClickException(str(exc)) from exc
    _print_links(created)
    click.echo(
        f"{len(created)} account(s); send each link to its owner (each works once, for "
        f"{settings.portal_link_hours} hours)",
        err=True,
    )


@portal.command("reset-link")
@click.argument("email")
def reset_link(email: str) -> None:
    """Print a new one-time link for EMAIL to set a password (earlier links stop working)."""
    from njia.portal import accounts

    settings = _portal_settings()
    try:
        click.echo(accounts.reset_link(settings, email))
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc


@portal.command()
@click.argument("email")
def disable(email: str) -> None:
    """Stop the account of EMAIL (someone who left): no sign-in, its sessions and links end."""
    from njia.portal import accounts

    settings = _portal_settings()
    try:
        accounts.disable(settings, email)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{accounts.normal_email(email)}: disabled")
