"""The Excel submission template (`njia template`): the contract's columns with drop-down lists.

Everything in it is read from the contract (`ingest.contract.COLUMNS`) and the code lists (the dbt seeds
via `code_list`), so a new county alias or airline reaches the template without editing this file.
The template holds no data rows: an empty template is a valid, empty workbook, and a filled one is read
like any other submission (sheet `routes`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import pycountry
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ingest.contract import COLUMNS, CONTRACT_VERSION, PII_HEADERS, Column, code_list
from njia.cells import neutralise

LANGS = ("en", "sw")
DATA_SHEET = "routes"
LISTS_SHEET = "lists"
INSTRUCTIONS_SHEET = "instructions"
TEMPLATE_ROWS = 5000  # rows 2..TEMPLATE_ROWS+1 carry the drop-downs and input messages
PERIOD_EXAMPLES = ("2024", "2024-Q1", "2024 Q1", "Q1 2024", "2024-03", "2024/03")
# Fixed workbook timestamps: the same template (or demo file) is the same bytes every time.
FIXED_TIME = datetime(2025, 1, 1)

# Which drop-down feeds which column, and how strictly Excel enforces it. Multi-value cells hold several
# items ("KQ; QR") that no list matches, so their lists only suggest (error style "information").
# Counties also accept codes (1-47), so a value outside the list only warns.
_LIST_OF = {
    "origin_country": "countries",
    "destination_country": "countries",
    "origin_county": "counties",
    "destination_county": "counties",
    "transit_points": "transit_points",
    "exploitation_type": "exploitation_types",
    "transport_modes": "transport_modes",
    "carriers": "airlines",
    "recruitment_methods": "recruitment_methods",
    "means_of_control": "means_of_control",
}
_ERROR_STYLE = {"code": "stop", "county": "warning"}  # by Column.kind; anything else: information

_TEXT = {
    "en": {
        "title": "Njia route report template (submission contract {v})",
        "intro": [
            (
                "One row = one route seen in one reporting period. Fill the sheet 'routes' and keep its header row "
                "as it is. A route seen with two exploitation types is two rows."
            ),
            (
                "Save the file as .xlsx (or CSV) and put it in your organisation's folder. The platform answers in "
                "the folder 'feedback' with the status of the file and every problem found (row, column, value)."
            ),
            (
                "To correct a period, send a new file for the same period: it replaces the earlier one. Periods of "
                "one organisation must not overlap (do not send 2024 and 2024-Q1)."
            ),
            "Columns with several values: separate the items with ; (or , or |), for example: KQ; QR.",
            (
                "Counts are whole numbers. female_cases + male_cases must not be more than cases_estimated; "
                "child_cases (under 18) must not be more than cases_estimated."
            ),
        ],
        "pii_title": "NEVER ENTER PERSONAL DATA",
        "pii": "Do not enter names, phone numbers, e-mail addresses, ID or passport numbers, dates of birth, "
        "addresses or GPS positions of victims, survivors or anyone else: send figures only. A file with "
        "a column for personal data ({examples}) is rejected as a whole and its contents are not kept: "
        "only its fingerprint (hash), your organisation, the time and the column names are recorded. "
        "Values that look like phone numbers or e-mail addresses are masked wherever they are stored "
        "or sent back.",
        "periods_title": "Reporting period",
        "periods": "Write a year (YYYY), a quarter (YYYY-Qn) or a month (YYYY-MM). Also accepted: YYYY Qn, "
        "Qn YYYY, YYYY/MM. Examples: {examples}. The period must not start in the future and the "
        "year must be 2010 or later.",
        "columns_title": "Columns",
        "table": ("column", "required", "meaning", "accepted values"),
        "yes": "yes",
        "no": "no",
        "if_kenya": "yes, when Kenya",
        "codes_title": "Code lists (the drop-downs; codes, names and labels are all accepted)",
        "codes_table": ("list", "code", "name", "also accepted"),
        "example_title": "Example rows (do not copy them into your file)",
        "accepted": {
            "period": "{examples}",
            "country": "ISO code (KE, KEN) or English name (Kenya, Saudi Arabia, Tanzania, UAE, Turkey); "
            "drop-down: common countries",
            "county": "code 1-47 (7, 07, 007) or county name; drop-down: county names",
            "transit": "in travel order: airports by IATA or ICAO code (NBO, HKJK), border points by name "
            "(Malaba, Namanga, Sirari), counties, countries",
            "codes": "one or more of: {values}",
            "code": "one of: {values}",
            "airlines": "IATA code, ICAO code or name (KQ, KQA, Kenya Airways), or other",
            "count_required": "whole number 1-100000 (1200, 1,200 and 1200.0 are read as 1200)",
            "count": "whole number 0 or more",
            "text": "your organisation code (the name of your folder)",
        },
        "several": " Several: separate with ;",
        "error_title": "Value not in the list",
        "error": "Choose a value from the drop-down list.",
        "error_county": "Choose a county name from the list, or write a county code 1-47.",
        "error_info": "Not in the list. If this is a list of items, separate them with ;",
        "error_count": "Write a whole number in the accepted range.",
        "lists": {
            "countries": "countries",
            "counties": "counties",
            "transit_points": "transit points",
            "exploitation_types": "exploitation types",
            "transport_modes": "transport modes",
            "airlines": "airlines",
            "recruitment_methods": "recruitment methods",
            "means_of_control": "means of control",
            "airports": "airports",
            "border_points": "border points",
        },
    },
    "sw": {
        "title": "Kiolezo cha ripoti ya njia za Njia (mkataba wa uwasilishaji {v})",
        "intro": [
            (
                "Safu moja = njia moja iliyoonekana katika kipindi kimoja cha ripoti. Jaza karatasi 'routes' na "
                "usibadilishe safu yake ya vichwa. Njia iliyoonekana na aina mbili za unyonyaji ni safu mbili."
            ),
            (
                "Hifadhi faili kama .xlsx (au CSV) na uliweke katika folda ya shirika lako. Jukwaa hujibu katika "
                "folda 'feedback' kwa hali ya faili na kila tatizo lililopatikana (safu, safu wima, thamani)."
            ),
            (
                "Kurekebisha kipindi, tuma faili jipya la kipindi hicho hicho: litachukua nafasi ya lile la awali. "
                "Vipindi vya shirika moja visiingiliane (usitume 2024 pamoja na 2024-Q1)."
            ),
            "Safu wima zenye thamani kadhaa: tenganisha vipengee kwa ; (au , au |), kwa mfano: KQ; QR.",
            (
                "Idadi ni namba kamili. visa_vya_wanawake + visa_vya_wanaume visizidi idadi_ya_visa; "
                "visa_vya_watoto (chini ya miaka 18) visizidi idadi_ya_visa."
            ),
        ],
        "pii_title": "USIWEKE KAMWE DATA BINAFSI",
        "pii": "Usiandike majina, namba za simu, barua pepe, namba za kitambulisho au pasipoti, tarehe za "
        "kuzaliwa, anwani au mahali (GPS) pa waathiriwa, manusura au mtu mwingine yeyote: tuma takwimu "
        "tu. Faili lenye safu wima ya data binafsi ({examples}) hukataliwa lote na maudhui yake "
        "hayahifadhiwi: ni alama yake (hash), shirika lako, muda na majina ya safu wima tu ndivyo "
        "hurekodiwa. Thamani zinazofanana na namba za simu au barua pepe hufichwa popote "
        "zinapohifadhiwa au kurudishwa.",
        "periods_title": "Kipindi cha ripoti",
        "periods": "Andika mwaka (YYYY), robo mwaka (YYYY-Qn) au mwezi (YYYY-MM). Pia vinakubalika: YYYY Qn, "
        "Qn YYYY, YYYY/MM. Mifano: {examples}. Kipindi kisianze siku zijazo na mwaka uwe 2010 au "
        "baadaye.",
        "columns_title": "Safu wima",
        "table": ("safu wima", "inahitajika", "maana", "thamani zinazokubalika"),
        "yes": "ndiyo",
        "no": "hapana",
        "if_kenya": "ndiyo, ikiwa Kenya",
        "codes_title": "Orodha za misimbo (orodha kunjuzi; misimbo, majina na maelezo yote yanakubalika)",
        "codes_table": ("orodha", "msimbo", "jina", "pia inakubalika"),
        "example_title": "Mifano ya safu (usiinakili katika faili lako)",
        "accepted": {
            "period": "{examples}",
            "country": "msimbo wa ISO (KE, KEN) au jina la Kiingereza (Kenya, Saudi Arabia, Tanzania, UAE, "
            "Turkey); orodha kunjuzi: nchi za kawaida",
            "county": "msimbo 1-47 (7, 07, 007) au jina la kaunti; orodha kunjuzi: majina ya kaunti",
            "transit": "kwa mpangilio wa safari: viwanja vya ndege kwa msimbo wa IATA au ICAO (NBO, HKJK), "
            "vituo vya mpakani kwa jina (Malaba, Namanga, Sirari), kaunti, nchi",
            "codes": "moja au zaidi ya: {values}",
            "code": "moja ya: {values}",
            "airlines": "msimbo wa IATA, ICAO au jina (KQ, KQA, Kenya Airways), au other",
            "count_required": "namba kamili 1-100000 (1200, 1,200 na 1200.0 husomwa kama 1200)",
            "count": "namba kamili 0 au zaidi",
            "text": "msimbo wa shirika lako (jina la folda yako)",
        },
        "several": " Kadhaa: tenganisha kwa ;",
        "error_title": "Thamani haimo kwenye orodha",
        "error": "Chagua thamani kutoka orodha kunjuzi.",
        "error_county": "Chagua jina la kaunti kutoka orodha, au andika msimbo wa kaunti 1-47.",
        "error_info": "Haimo kwenye orodha. Ikiwa ni orodha ya vipengee, vitenganishe kwa ;",
        "error_count": "Andika namba kamili iliyo ndani ya kiwango kinachokubalika.",
        "lists": {
            "countries": "nchi",
            "counties": "kaunti",
            "transit_points": "vituo vya kupitia",
            "exploitation_types": "aina za unyonyaji",
            "transport_modes": "njia za usafiri",
            "airlines": "mashirika ya ndege",
            "recruitment_methods": "njia za kuajiri",
            "means_of_control": "njia za kulazimisha",
            "airports": "viwanja vya ndege",
            "border_points": "vituo vya mpakani",
        },
    },
}

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_REQUIRED_FILL = PatternFill("solid", fgColor="1F4E78")
_OPTIONAL_FILL = PatternFill("solid", fgColor="5B8DB8")
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def header_name(column: Column, lang: str) -> str:
    return column.name if lang == "en" else column.swahili


def _label(row: dict[str, str], lang: str) -> str:
    return row["label_en"] if lang == "en" else row["label_sw"]


def _country_name(alpha2: str) -> str:
    c = pycountry.countries.get(alpha_2=alpha2)
    return getattr(c, "common_name", None) or c.name


def drop_down_lists(lang: str) -> dict[str, list[str]]:
    """The values each drop-down offers, all of them accepted by the contract as written."""
    countries = {"KE"}
    countries |= {r["country"] for r in code_list("airports")}
    countries |= {r["home_country"] for r in code_list("airlines")}
    countries |= {r["neighbour_country"] for r in code_list("border_points")}
    return {
        "countries": sorted(_country_name(c) for c in countries),
        "counties": [r["county_name"] for r in code_list("counties")],
        "transit_points": [r["iata_code"] for r in code_list("airports")]
        + [r["border_point"] for r in code_list("border_points")],
        "exploitation_types": [_label(r, lang) for r in code_list("exploitation_types")],
        "transport_modes": [_label(r, lang) for r in code_list("transport_modes")],
        "airlines": [r["airline_name"] for r in code_list("airlines")] + ["other"],
        "recruitment_methods": [_label(r, lang) for r in code_list("recruitment_methods")],
        "means_of_control": [_label(r, lang) for r in code_list("means_of_control")],
    }


def write_template(out: Path, lang: str = "en") -> Path:
    """Writes the submission template in English (`en`) or Swahili (`sw`) headers and instructions."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = _TEXT[lang]
    lists = drop_down_lists(lang)

    wb = Workbook()
    routes = wb.active
    routes.title = DATA_SHEET
    instructions = wb.create_sheet(INSTRUCTIONS_SHEET)
    lists_ws = wb.create_sheet(LISTS_SHEET)

    ranges = _write_lists(lists_ws, lists)
    _write_routes(routes, lang, text, lists, ranges)
    _write_instructions(instructions, lang, text, lists)

    lists_ws.sheet_state = "hidden"
    wb.active = 0
    wb.properties.creator = "Njia"
    wb.properties.title = text["title"].format(v=CONTRACT_VERSION)
    return save_workbook(wb, out)


def _write_lists(ws, lists: dict[str, list[str]]) -> dict[str, str]:
    """One column per list on the hidden sheet; returns the absolute range of each list's values."""
    ranges = {}
    for col, (name, values) in enumerate(lists.items(), 1):
        letter = get_column_letter(col)
        ws.cell(row=1, column=col, value=name).font = _BOLD
        for row, value in enumerate(values, 2):
            ws.cell(row=row, column=col, value=neutralise(value))
        ws.column_dimensions[letter].width = max(len(name), *(len(v) for v in values)) + 2
        ranges[name] = f"{LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def _write_routes(ws, lang: str, text: dict, lists: dict[str, list[str]], ranges: dict[str, str]) -> None:
    last = TEMPLATE_ROWS + 1
    for col, column in enumerate(COLUMNS, 1):
        letter = get_column_letter(col)
        cell = ws.cell(row=1, column=col, value=header_name(column, lang))
        cell.font = _HEADER_FONT
        cell.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        cell.alignment = Alignment(vertical="center")
        width = len(cell.value) + 4
        if column.name in _LIST_OF and column.kind != "codes":
            width = max(width, min(40, max(len(v) for v in lists[_LIST_OF[column.name]]) + 2))
        dim = ws.column_dimensions[letter]
        dim.width = min(max(width, 14), 40 if column.kind != "codes" else 30)
        # Typed text stays text: Excel would turn 2024-03 into a date and 047 into 47.
        dim.number_format = "0" if column.kind == "count" else "@"

        help_text = column.help_en if lang == "en" else column.help_sw
        if column.kind in ("codes", "transit"):
            help_text += text["several"]
        dv = _validation(column, text, ranges)
        dv.showInputMessage = True
        dv.promptTitle = header_name(column, lang)[:32]
        dv.prompt = help_text[:255]
        dv.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 22


def _validation(column: Column, text: dict, ranges: dict[str, str]) -> DataValidation:
    if column.kind == "count":
        low = 1 if column.required else 0
        return DataValidation(
            type="whole",
            operator="between",
            formula1=str(low),
            formula2="100000",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop",
            errorTitle=text["error_title"][:32],
            error=text["error_count"],
        )
    if column.name not in _LIST_OF:
        return DataValidation(allow_blank=True)  # input message only (periods, organisation)
    style = _ERROR_STYLE.get(column.kind, "information")
    message = {"stop": text["error"], "warning": text["error_county"]}.get(style, text["error_info"])
    return DataValidation(
        type="list",
        formula1=ranges[_LIST_OF[column.name]],
        allow_blank=True,
        showErrorMessage=True,
        errorStyle=style,
        errorTitle=text["error_title"][:32],
        error=message,
    )


def _accepted(column: Column, lang: str, text: dict, lists: dict[str, list[str]]) -> str:
    acc = text["accepted"]
    if column.kind == "period":
        return acc["period"].format(examples=", ".join(PERIOD_EXAMPLES))
    if column.kind in ("country", "county", "transit", "text"):
        return acc[column.kind]
    if column.kind == "count":
        return acc["count_required" if column.required else "count"]
    if column.code_list == "airlines":
        return acc["airlines"]
    values = [f"{r['code']} ({_label(r, lang)})" for r in code_list(column.code_list)]
    return acc[column.kind].format(values=", ".join(values))


def _write_instructions(ws, lang: str, text: dict, lists: dict[str, list[str]]) -> None:
    widths = (26, 16, 50, 70)
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    row = 1

    def paragraph(value: str, font: Font | None = None, height_chars: int = 150) -> None:
        nonlocal row
        ws.cell(row=row, column=1, value=value).alignment = _WRAP
        if font:
            ws.cell(row=row, column=1).font = font
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(widths))
        ws.row_dimensions[row].height = 15 * (len(value) // height_chars + 1)
        row += 1

    def table(header: tuple[str, ...], lines: list[tuple]) -> None:
        nonlocal row
        for col, value in enumerate(header, 1):
            ws.cell(row=row, column=col, value=value).font = _BOLD
        row += 1
        for line in lines:
            for col, value in enumerate(line, 1):
                ws.cell(row=row, column=col, value=neutralise(value)).alignment = _WRAP
            longest = max(len(str(v)) / (widths[i] * 1.1) for i, v in enumerate(line))
            ws.row_dimensions[row].height = 15 * (int(longest) + 1)
            row += 1
        row += 1

    paragraph(text["title"].format(v=CONTRACT_VERSION), Font(bold=True, size=14))
    row += 1
    for line in text["intro"]:
        paragraph(line)
    row += 1
    paragraph(text["pii_title"], Font(bold=True, color="C00000", size=12))
    pii_examples = sorted(
        h for h in PII_HEADERS if "_" not in h or h in ("national_id", "date_of_birth", "barua_pepe", "namba_ya_simu")
    )
    paragraph(text["pii"].format(examples=", ".join(pii_examples)), Font(color="C00000"))
    row += 1
    paragraph(text["periods_title"], _BOLD)
    paragraph(text["periods"].format(examples=", ".join(PERIOD_EXAMPLES)))
    row += 1

    paragraph(text["columns_title"], Font(bold=True, size=12))
    lines = []
    for column in COLUMNS:
        required = text["yes"] if column.required else (text["if_kenya"] if column.kind == "county" else text["no"])
        lines.append(
            (
                header_name(column, lang),
                required,
                column.help_en if lang == "en" else column.help_sw,
                _accepted(column, lang, text, lists),
            )
        )
    table(text["table"], lines)

    paragraph(text["codes_title"], Font(bold=True, size=12))
    names = text["lists"]
    code_rows: list[tuple] = []
    for seed in ("exploitation_types", "transport_modes", "recruitment_methods", "means_of_control"):
        other = "label_sw" if lang == "en" else "label_en"
        code_rows += [(names[seed], r["code"], _label(r, lang), r[other]) for r in code_list(seed)]
    code_rows += [(names["airlines"], r["iata_code"], r["airline_name"], r["icao_code"]) for r in code_list("airlines")]
    code_rows += [
        (names["airports"], r["iata_code"], f"{r['airport_name']}, {r['city']}", r["icao_code"])
        for r in code_list("airports")
    ]
    code_rows += [
        (names["border_points"], r["border_point"], r["neighbour_country"], r["aliases"].replace("|", ", "))
        for r in code_list("border_points")
    ]
    code_rows += [
        (names["counties"], r["county_code"], r["county_name"], r["aliases"].replace("|", ", "))
        for r in code_list("counties")
    ]
    table(text["codes_table"], code_rows)

    paragraph(text["example_title"], Font(bold=True, size=12))
    example = _example_rows(lang)
    for col, column in enumerate(COLUMNS, 1):
        ws.cell(row=row, column=col, value=header_name(column, lang)).font = _BOLD
    row += 1
    for values in example:
        for col, value in enumerate(values, 1):
            ws.cell(row=row, column=col, value=value)
        row += 1


def _example_rows(lang: str) -> list[list]:
    """Two fictional rows in column order: a Gulf route by air and a domestic route by road."""
    labels = {
        seed: {r["code"]: _label(r, lang) for r in code_list(seed)}
        for seed in ("exploitation_types", "transport_modes", "recruitment_methods", "means_of_control")
    }
    gulf = {
        "reporting_period": "2024-Q1",
        "origin_country": "KE",
        "origin_county": "Kiambu",
        "transit_points": "NBO; DOH",
        "destination_country": "Qatar",
        "exploitation_type": labels["exploitation_types"]["domestic_servitude"],
        "transport_modes": labels["transport_modes"]["air"],
        "carriers": "QR",
        "recruitment_methods": labels["recruitment_methods"]["unregistered_agent"],
        "means_of_control": f"{labels['means_of_control']['withholds_documents']}; "
        f"{labels['means_of_control']['takes_earnings']}",
        "cases_estimated": 14,
        "female_cases": 13,
        "male_cases": 1,
        "child_cases": 0,
    }
    local = {
        "reporting_period": "2024-Q1",
        "origin_county": "Kitui",
        "transit_points": "Machakos",
        "destination_country": "KE",
        "destination_county": "Mombasa",
        "exploitation_type": labels["exploitation_types"]["child_labour"],
        "transport_modes": labels["transport_modes"]["road"],
        "recruitment_methods": labels["recruitment_methods"]["family"],
        "cases_estimated": 6,
        "child_cases": 6,
    }
    return [[row.get(c.name) for c in COLUMNS] for row in (gulf, local)]


# ---------------------------------------------------------------------------------------------------

_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def save_workbook(wb: Workbook, path: Path, when: datetime = FIXED_TIME) -> Path:
    """Saves `wb` so that the same content gives the same bytes: fixed document and zip timestamps.

    openpyxl stamps the save time into docProps/core.xml and every zip entry; pinning them keeps
    generated files reproducible, so re-running a generator never looks like a new delivery.
    """
    path = Path(path)
    wb.properties.created = when
    wb.save(path)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                pinned = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
                pinned.compress_type = zipfile.ZIP_DEFLATED
                pinned.external_attr = 0o644 << 16
                if info.filename == "docProps/core.xml":
                    dst.writestr(pinned, _CORE_TIMES.sub(rb"\g<1>" + stamp + rb"\g<3>", src.read(info)))
                    continue
                with src.open(info) as fin, dst.open(pinned, "w", force_zip64=info.file_size > 1 << 30) as fout:
                    shutil.copyfileobj(fin, fout, 1 << 20)
        tmp_path.replace(path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return path
