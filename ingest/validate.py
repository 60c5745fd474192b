"""Row validation with Great Expectations: the suite in `expectations/route_reports.json` is the
contract's row rules, and each failed expectation's `meta.problem_code` becomes the rows' problem code."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

from ingest.contract import code_list
from njia.paths import EXPECTATIONS_DIR

SUITE_FILE = EXPECTATIONS_DIR / "route_reports.json"
_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["row_number"],
    "return_unexpected_index_query": False,
}


@dataclass(frozen=True)
class Finding:
    row_number: int
    column: str | None
    code: str


def suite_definition() -> dict[str, Any]:
    return json.loads(SUITE_FILE.read_text(encoding="utf-8"))


@cache
def _validation_definition() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)

    # Ephemeral: a file context would write connection details to disk (STACK-NOTES.md).
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = context.data_sources.add_pandas("njia").add_dataframe_asset("route_rows")
    batch_definition = batch.add_batch_definition_whole_dataframe("file_chunk")
    spec = suite_definition()
    suite = context.suites.add(
        ExpectationSuite(
            name=spec["name"],
            meta=spec.get("meta", {}),
            expectations=[ExpectationConfiguration(**e) for e in spec["expectations"]],
        )
    )
    return context.validation_definitions.add(
        gx.ValidationDefinition(name="route_reports", data=batch_definition, suite=suite)
    )


def warm_up() -> None:
    """Build the GX context ahead of time (imports take seconds on a cold start)."""
    _validation_definition()


@cache
def suite_parameters(today: dt.date) -> dict[str, Any]:
    import pycountry

    return {
        "today_ordinal": today.toordinal(),
        "country_codes": sorted(c.alpha_2 for c in pycountry.countries),
        "county_codes": [r["county_code"] for r in code_list("counties")],
        "exploitation_type_codes": [r["code"] for r in code_list("exploitation_types")],
    }


def validate(frame: Any, today: dt.date | None = None) -> list[Finding]:
    """Run the suite on a pandas frame of normalised rows (with a `row_number` column)."""
    if frame.empty:
        return []
    result = _validation_definition().run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=suite_parameters(today or dt.date.today()),
        result_format=_RESULT_FORMAT,
    )
    findings: list[Finding] = []
    for outcome in result.results:
        meta = outcome.expectation_config.meta
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"validation rule {meta.get('problem_code')} on {meta.get('column')} failed to run: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        if outcome.success:
            continue
        for index in outcome.result.get("unexpected_index_list") or []:
            findings.append(Finding(int(index["row_number"]), meta.get("column"), meta["problem_code"]))
    return findings
