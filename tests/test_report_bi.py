"""The starter Metabase questions (bi/questions/*.sql) run as the public role on reporting tables of the
published shape, with and without their optional `year` filter, and read nothing outside `reporting`."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from repo_paths import REPO_ROOT as PROJECT_ROOT
from test_report import YEAR, create_reporting, reporting_rows

from njia import reporting_tables, warehouse

QUESTIONS = sorted((PROJECT_ROOT / "bi" / "questions").glob("*.sql"))
OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


def render(sql: str, year: int | None) -> str:
    """What Metabase sends: optional [[ ... ]] clauses kept only when the variable has a value."""
    sql = OPTIONAL.sub(lambda m: m.group(1) if year is not None else "", sql)
    if "{{year}}" in sql and year is None:
        raise ValueError("required variable")
    return sql.replace("{{year}}", str(year))


def test_there_are_questions():
    assert len(QUESTIONS) >= 10
    for q in QUESTIONS:
        text = q.read_text(encoding="utf-8")
        assert text.startswith("--"), f"{q.name}: say what the question shows"
        assert re.findall(r"\b(?:from|join)\s+([a-z_]+)\.", text, re.IGNORECASE), q.name
        assert set(re.findall(r"\b(?:from|join)\s+([a-z_]+)\.", text, re.IGNORECASE)) == {"reporting"}, q.name
        assert "coalesce(cases, 0)" not in text


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.stem for q in QUESTIONS])
def test_question_runs_as_the_public_role(settings, question: Path):
    create_reporting(settings, reporting_rows())
    text = question.read_text(encoding="utf-8")
    required = "{{year}}" in OPTIONAL.sub("", text)
    with warehouse.connect(settings) as conn:
        conn.execute("set role njia_public")
        for year in [YEAR] if required else [None, YEAR]:
            cur = conn.execute(render(text, year))
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
            assert rows, (question.name, year)
            # bi/README.md §5: a question listing cells shows them as `cases_shown` ("withheld" when empty)
            assert "cases_shown" in names or not {"cases", "cases_total"} & set(names), question.name
            if "cases_shown" in names:
                i = names.index("cases" if "cases" in names else "cases_total")
                j = names.index("cases_shown")
                assert all((r[i] is None) == (r[j] == "withheld") for r in rows)
        conn.rollback()


def test_year_on_year_keeps_withheld_cells_withheld(settings):
    create_reporting(settings, reporting_rows())
    text = (PROJECT_ROOT / "bi" / "questions" / "11_destinations_year_on_year.sql").read_text(encoding="utf-8")
    with warehouse.connect(settings) as conn:
        conn.execute("set role njia_public")
        cur = conn.execute(render(text, YEAR))
        names = [d.name for d in cur.description]
        rows = {r[0]: dict(zip(names, r, strict=True)) for r in cur}
    assert rows["QA"]["change"] == 77 - 52
    assert (
        rows["TZ"]["this_year"] == "withheld" and rows["TZ"]["previous_year"] == "11" and rows["TZ"]["change"] is None
    )
    assert rows["SO"]["change"] is None


def test_public_role_cannot_read_marts(settings):
    with warehouse.connect(settings) as conn:
        conn.execute("create table marts.fct_route_reports (cases_estimated integer)")
        conn.commit()
        conn.execute("set role njia_public")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from marts.fct_route_reports")


def test_withheld_cells_question_covers_every_table_with_cells():
    """Metabase needs static SQL, so 12_withheld_cells names the tables: every reporting table with cells."""
    text = (PROJECT_ROOT / "bi" / "questions" / "12_withheld_cells.sql").read_text(encoding="utf-8")
    named = set(re.findall(r"\bfrom\s+reporting\.(\w+)", text))
    assert named == {t.name for t in reporting_tables.load() if "suppressed" in t.columns}
