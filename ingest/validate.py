"""Row validation with Great Expectations: the suite in `expectations/route_reports.json` is the
contract's row rules, and each failed expectation's `meta.problem_code` becomes the rows' problem code."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache
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
def _context() -> tuple[Any, Any]:
    """The ephemeral GX context's batch definition (a pandas frame) and the `gx` module."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)

    # Ephemeral: a file context would write connection details to disk (docs/decisions.md §9).
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = context.data_sources.add_pandas("njia").add_dataframe_asset("route_rows")
    return gx, batch.add_batch_definition_whole_dataframe("file_chunk")


def _definition(name: str, expectations: list[dict[str, Any]]) -> Any:
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    gx, batch_definition = _context()
    context = batch_definition.data_asset.datasource.data_context
    spec = suite_definition()
    suite = context.suites.add(
        ExpectationSuite(
            name=name,
            meta=spec.get("meta", {}),
            expectations=[ExpectationConfiguration(**e) for e in expectations],
        )
    )
    return context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch_definition, suite=suite))


@cache
def _validation_definition() -> Any:
    """The whole suite, as written."""
    spec = suite_definition()
    return _definition(spec["name"], spec["expectations"])


_RULE = "njia_rule"  # meta key: the rule's position in the suite file, on the rules `_rules_definition` runs


@lru_cache(maxsize=256)
def _rules_definition(rules: tuple[int, ...]) -> Any:
    """Some of the suite's rules (by position), each marked with its position in its meta."""
    spec = suite_definition()
    chosen = [{**spec["expectations"][i], "meta": {**spec["expectations"][i].get("meta", {}), _RULE: i}} for i in rules]
    return _definition(f"{spec['name']}[{','.join(map(str, rules))}]", chosen)


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
    """Run the suite on a pandas frame of normalised rows (with a `row_number` column).

    Every rule of the suite reads one row at a time (`_plan` checks), so a row's findings follow from its
    values in the columns each rule reads, and organisations repeat those values heavily. GX therefore runs
    on one representative row per distinct combination not seen before in this process, with only the
    rules that read it; each combination's verdict is remembered (`_Verdicts`). The findings are those of
    the whole suite on the whole frame, in the same order.
    """
    if frame.empty:
        return []
    day = today or dt.date.today()
    plan = _plan(tuple(frame.columns))
    if plan is None:
        return _findings(_run(_validation_definition(), frame, day))
    return _VERDICTS.findings(frame, plan, day)


def _run(definition: Any, frame: Any, today: dt.date) -> Any:
    """What `definition.run(...)` does, less keeping every result: a context's results store holds each run's
    result, unexpected rows included, for as long as the process lives (about 170 kB a run)."""
    from great_expectations.validator.v1_validator import Validator

    validator = Validator(definition.batch_definition, _RESULT_FORMAT, {"dataframe": frame})
    result = validator.validate_expectation_suite(definition.suite, suite_parameters(today))
    for outcome in result.results:
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            meta = outcome.expectation_config.meta
            raise RuntimeError(
                f"validation rule {meta.get('problem_code')} on {meta.get('column')} failed to run: "
                f"{outcome.exception_info.get('exception_message')}"
            )
    return result


def _unexpected(outcome: Any) -> list[int]:
    if outcome.success:
        return []
    return [int(index["row_number"]) for index in outcome.result.get("unexpected_index_list") or []]


def _findings(result: Any) -> list[Finding]:
    findings: list[Finding] = []
    for outcome in result.results:
        meta = outcome.expectation_config.meta
        findings.extend(Finding(n, meta.get("column"), meta["problem_code"]) for n in _unexpected(outcome))
    return findings


# Rules whose verdict on a row depends on that row's values alone (no `mostly`, no comparison across rows).
_ROW_RULES = frozenset(
    {
        "expect_column_values_to_be_null",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
    }
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _columns_read(kind: str, kwargs: dict[str, Any]) -> tuple[str, ...] | None:
    """The frame columns a rule reads (its columns and those its row condition names); None if unsure."""
    if kind not in _ROW_RULES or kwargs.get("mostly", 1) != 1:
        return None
    names = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    condition = kwargs.get("row_condition")
    if condition:
        if not isinstance(condition, str) or "`" in condition:
            return None
        names += _NAME.findall(condition)  # every name it mentions, string literals included: more is safe
    return tuple(dict.fromkeys(names)) or None


@dataclass(frozen=True)
class _Plan:
    groups: tuple[tuple[str, ...], ...]  # columns no rule reads across
    group_of_rule: tuple[int, ...]  # suite position -> group


@cache
def _plan(frame_columns: tuple[str, ...]) -> _Plan | None:
    """The suite's columns split into groups no rule reads across (a rule's columns are in one group);
    None when some rule is not known to read one row at a time, and the whole frame must be validated."""
    parent: dict[str, str] = {}

    def root(c: str) -> str:
        while parent.setdefault(c, c) != c:
            c = parent[c]
        return c

    firsts: list[str] = []
    for spec in suite_definition()["expectations"]:
        read = _columns_read(spec["type"], spec.get("kwargs", {}))
        if read is None or "row_number" in read:
            return None
        read = tuple(c for c in read if c in frame_columns)  # names that are not columns (literals) read nothing
        if not read:
            return None
        first = root(read[0])
        for c in read[1:]:
            parent[root(c)] = first
        firsts.append(read[0])
    roots = list(dict.fromkeys(root(c) for c in parent))
    groups = tuple(tuple(c for c in parent if root(c) == r) for r in roots)
    return _Plan(groups, tuple(roots.index(root(c)) for c in firsts))


_MAX_VERDICTS = 100_000  # remembered combinations; past it they are forgotten (memory stays bounded)


class _Verdicts:
    """Which rules fail for each distinct combination of a group's values, learnt from GX runs."""

    def __init__(self) -> None:
        self.day: dt.date | None = None
        self.known: dict[tuple, frozenset[int]] = {}  # (group, dtypes, values) -> failing rules
        self.order: tuple[int, ...] | None = None  # the order GX reports the whole suite's rules in

    def findings(self, frame: Any, plan: _Plan, day: dt.date) -> list[Finding]:
        import numpy as np
        import pandas as pd

        if day != self.day or len(self.known) > _MAX_VERDICTS:
            self.day, self.known = day, {}  # `today` is a rule parameter (future periods)
        codes: list[Any] = []  # per group: each frame row's combination number (first appearance order)
        keys: list[list[tuple]] = []  # per group: each combination's key
        firsts: list[Any] = []
        for g, group in enumerate(plan.groups):
            combined = None
            for column in group:
                column_codes, _ = pd.factorize(frame[column], use_na_sentinel=False)
                combined = (
                    column_codes
                    if combined is None
                    else pd.factorize(combined * (int(column_codes.max()) + 1) + column_codes, use_na_sentinel=False)[0]
                )
            _, first = np.unique(combined, return_index=True)
            dtypes = tuple(str(frame[c].dtype) for c in group)
            values = []
            for column in group:
                taken = frame[column].take(first)
                items = [None if na else v for v, na in zip(taken.tolist(), taken.isna().tolist(), strict=True)]
                if taken.dtype == object:  # mixed types: 1, 1.0 and True are equal keys, but not equal values
                    items = [(type(v), v) for v in items]
                values.append(items)
            codes.append(combined)
            firsts.append(first)
            keys.append([(g, dtypes, combo) for combo in zip(*values, strict=True)])

        pending = {
            g: [k for k, key in enumerate(group_keys) if key not in self.known] for g, group_keys in enumerate(keys)
        }
        pending = {g: ks for g, ks in pending.items() if ks}
        if pending:
            self._learn(frame, plan, day, pending, keys, firsts)
        assert self.order is not None

        row_numbers = frame["row_number"].to_numpy()
        spec = suite_definition()["expectations"]
        verdicts = [[self.known[key] for key in group_keys] for group_keys in keys]
        findings: list[Finding] = []
        for rule in self.order:
            g = plan.group_of_rule[rule]
            failing = [k for k, rules in enumerate(verdicts[g]) if rule in rules]
            if not failing:
                continue
            meta = spec[rule].get("meta", {})
            findings.extend(
                Finding(int(n), meta.get("column"), meta["problem_code"])
                for n in row_numbers[np.isin(codes[g], failing)]
            )
        return findings

    def _learn(
        self,
        frame: Any,
        plan: _Plan,
        day: dt.date,
        pending: dict[int, list[int]],
        keys: list[list[tuple]],
        firsts: list[Any],
    ) -> None:
        """Run GX on one row per unknown combination (groups padded by repeating theirs), with the rules
        that read those groups, and remember every combination's failing rules."""
        import numpy as np
        import pandas as pd

        rules = tuple(r for r, g in enumerate(plan.group_of_rule) if g in pending or self.order is None)
        groups = range(len(plan.groups)) if self.order is None else pending.keys()
        todo = {g: pending.get(g) or list(range(len(keys[g]))) for g in groups}
        length = max(len(ks) for ks in todo.values())
        columns = {}
        for g, ks in todo.items():
            take = firsts[g][np.asarray(ks)[np.arange(length) % len(ks)]]
            for column in plan.groups[g]:
                columns[column] = frame[column].take(take).reset_index(drop=True)
        compact = pd.DataFrame(columns)
        compact["row_number"] = np.arange(length)
        result = _run(_rules_definition(rules), compact, day)
        failing: dict[tuple, set[int]] = {keys[g][k]: set() for g, ks in todo.items() for k in ks}
        order = []
        for outcome in result.results:
            rule = int(outcome.expectation_config.meta[_RULE])
            order.append(rule)
            ks = todo[plan.group_of_rule[rule]]
            for index in _unexpected(outcome):
                failing[keys[plan.group_of_rule[rule]][ks[index % len(ks)]]].add(rule)
        if self.order is None:
            self.order = tuple(order)
        shared: dict[frozenset[int], frozenset[int]] = {}
        self.known.update(
            (key, shared.setdefault(frozenset(rules), frozenset(rules))) for key, rules in failing.items()
        )


_VERDICTS = _Verdicts()
