"""The Excel submission template: sheets, headers in both languages, drop-downs fed from the code lists,
instructions, and a filled template that reads back (and, once ingest is there, is accepted)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ingest.contract import COLUMNS, PII_HEADERS, code_list
from njia.settings import Settings
from njia.template import (
    DATA_SHEET,
    INSTRUCTIONS_SHEET,
    LISTS_SHEET,
    PERIOD_EXAMPLES,
    drop_down_lists,
    header_name,
    write_template,
)
from njia_demo import generator as demo

LANGS = ("en", "sw")


@pytest.fixture(scope="module", params=LANGS)
def template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    lang = request.param
    return lang, write_template(tmp_path_factory.mktemp(f"template-{lang}") / "sub" / f"njia-{lang}.xlsx", lang)


def _validations(ws: Worksheet) -> dict[str, DataValidation]:
    """Data validation per header, keyed by the column letter range it covers."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for ref in str(dv.sqref).split():
            out[re.match(r"[A-Z]+", ref).group()] = dv
    return out


def test_sheets_headers_and_layout(template: tuple[str, Path]) -> None:
    lang, path = template
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [DATA_SHEET, INSTRUCTIONS_SHEET, LISTS_SHEET]
    assert wb.active.title == DATA_SHEET
    assert wb[LISTS_SHEET].sheet_state == "hidden"
    routes = wb[DATA_SHEET]
    headers = [c.value for c in routes[1]]
    assert headers == [c.name if lang == "en" else c.swahili for c in COLUMNS]
    assert routes.freeze_panes == "A2"
    assert routes.max_row == 1, "no data rows in an empty template"
    for i, column in enumerate(COLUMNS, 1):
        letter = openpyxl.utils.get_column_letter(i)
        assert 14 <= routes.column_dimensions[letter].width <= 40
        assert routes.column_dimensions[letter].number_format == ("0" if column.kind == "count" else "@")
        assert routes.cell(row=1, column=i).font.bold


def test_drop_downs_reference_the_hidden_lists(template: tuple[str, Path]) -> None:
    lang, path = template
    wb = openpyxl.load_workbook(path)
    lists_ws = wb[LISTS_SHEET]
    lists = {ws_col[0].value: [c.value for c in ws_col[1:] if c.value is not None] for ws_col in lists_ws.columns}
    assert lists == drop_down_lists(lang)
    assert len(lists["counties"]) == 47
    labels = "label_en" if lang == "en" else "label_sw"
    assert lists["exploitation_types"] == [r[labels] for r in code_list("exploitation_types")]
    assert "other" in lists["airlines"] and "Kenya Airways" in lists["airlines"]

    validations = _validations(wb[DATA_SHEET])
    assert len(validations) == len(COLUMNS), "every column has an input message"
    for i, column in enumerate(COLUMNS, 1):
        dv = validations[openpyxl.utils.get_column_letter(i)]
        assert dv.showInputMessage and dv.prompt and len(dv.prompt) <= 255
        assert str(dv.sqref).endswith("5001")
        if column.kind == "count":
            assert dv.type == "whole" and dv.errorStyle == "stop"
            assert dv.formula1 == ("1" if column.required else "0") and dv.formula2 == "100000"
        elif column.kind in ("county", "country", "code", "codes", "transit"):
            assert dv.type == "list"
            sheet, cells = dv.formula1.split("!")
            assert sheet == LISTS_SHEET
            first, last = (re.fullmatch(r"\$([A-Z]+)\$(\d+)", part).groups() for part in cells.split(":"))
            header = lists_ws[f"{first[0]}1"].value
            assert first[0] == last[0] and int(last[1]) - int(first[1]) + 1 == len(lists[header])
            # Lists of several items cannot match a drop-down, so those only inform.
            expected = {"code": "stop", "county": "warning"}.get(column.kind, "information")
            assert dv.errorStyle == expected, column.name
        else:
            assert dv.type is None  # periods and the organisation: input message only


def test_instructions_explain_every_column_periods_and_personal_data(template: tuple[str, Path]) -> None:
    lang, path = template
    ws = openpyxl.load_workbook(path)[INSTRUCTIONS_SHEET]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    for column in COLUMNS:
        assert header_name(column, lang) in text
        assert (column.help_en if lang == "en" else column.help_sw) in text
    for example in PERIOD_EXAMPLES:
        assert example in text
    assert "NEVER ENTER PERSONAL DATA" in text if lang == "en" else "USIWEKE KAMWE DATA BINAFSI" in text
    assert ("not kept" in text) if lang == "en" else ("hayahifadhiwi" in text)
    assert sum(h in text for h in PII_HEADERS) >= 10
    for r in code_list("exploitation_types"):
        assert r["code"] in text and r["label_sw"] in text and r["label_en"] in text


def test_same_template_same_bytes(tmp_path: Path) -> None:
    assert write_template(tmp_path / "a.xlsx").read_bytes() == write_template(tmp_path / "b.xlsx").read_bytes()
    assert write_template(tmp_path / "c.xlsx", "sw").read_bytes() != (tmp_path / "a.xlsx").read_bytes()
    with pytest.raises(ValueError, match="lang"):
        write_template(tmp_path / "d.xlsx", "fr")


def _fill(template_path: Path, out: Path, lang: str) -> list[dict]:
    """Fill the routes sheet as a person would: values picked from the drop-downs, typed periods."""
    wb = openpyxl.load_workbook(template_path)
    lists = drop_down_lists(lang)
    rows = [
        {
            "reporting_period": "2024-Q1",
            "origin_county": lists["counties"][21],
            "transit_points": "NBO; DOH",
            "destination_country": "Qatar",
            "exploitation_type": lists["exploitation_types"][1],
            "transport_modes": lists["transport_modes"][0],
            "carriers": "Qatar Airways",
            "recruitment_methods": lists["recruitment_methods"][1],
            "means_of_control": f"{lists['means_of_control'][0]}; {lists['means_of_control'][1]}",
            "cases_estimated": 14,
            "female_cases": 13,
            "male_cases": 1,
        },
        {
            "reporting_period": "2024-Q1",
            "origin_county": "15",
            "transit_points": "Machakos",
            "destination_country": "KE",
            "destination_county": lists["counties"][0],
            "exploitation_type": lists["exploitation_types"][4],
            "transport_modes": lists["transport_modes"][1],
            "cases_estimated": 6,
            "child_cases": 6,
        },
        {
            "reporting_period": "2024-Q2",
            "origin_country": "Uganda",
            "transit_points": "Malaba",
            "destination_country": "Kenya",
            "destination_county": lists["counties"][46],
            "exploitation_type": lists["exploitation_types"][2],
            "cases_estimated": 3,
        },
    ]
    ws = wb[DATA_SHEET]
    for r, row in enumerate(rows, 2):
        for c, column in enumerate(COLUMNS, 1):
            if column.name in row:
                ws.cell(row=r, column=c, value=row[column.name])
    wb.save(out)
    return rows


def test_filled_template_reads_back(template: tuple[str, Path], tmp_path: Path) -> None:
    lang, path = template
    rows = _fill(path, tmp_path / "filled.xlsx", lang)
    wb = openpyxl.load_workbook(tmp_path / "filled.xlsx", read_only=True)
    values = list(wb[DATA_SHEET].iter_rows(values_only=True))
    assert len(values) == 1 + len(rows)
    assert values[1][0] == "2024-Q1" and values[1][11] == 14 and values[3][0] == "2024-Q2"


@pytest.mark.parametrize("lang", LANGS)
def test_filled_template_is_accepted(settings: Settings, tmp_path: Path, lang: str) -> None:
    from ingest import pipeline

    org = demo.Organisation("TEMPLATE", "Template Test Trust (fictional)", "ngo", "047")
    demo.write_registry(settings.organisations_path, [org])
    template = write_template(tmp_path / "template.xlsx", lang)
    target = Path(settings.inbox_url) / org.code / "routes-2024.xlsx"
    target.parent.mkdir(parents=True)
    rows = _fill(template, target, lang)
    [outcome] = pipeline.ingest(settings, [str(target)])
    got = outcome.as_json()
    assert got["status"] == "accepted", got
    assert (got["rows_read"], got["rows_loaded"], got["ignored_columns"]) == (len(rows), len(rows), [])


def test_registry_written_for_template_users(tmp_path: Path) -> None:
    path = demo.write_registry(tmp_path / "orgs" / "organisations.csv", demo.DEMO_ORGANISATIONS)
    with path.open(encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(demo.DEMO_ORGANISATIONS)
