"""Feedback to the organisation (docs/contract.md §7): for every processed file a CSV and an HTML page,
in English and Swahili, in `<inbox>/<organisation>/feedback/`. Values are masked where they look like
phone numbers or e-mail addresses, and neutralised where a spreadsheet would run them as formulas."""

from __future__ import annotations

import csv
import io
import logging
from functools import cache
from typing import TYPE_CHECKING

import fsspec
from jinja2 import Environment, PackageLoader, select_autoescape

from njia.cells import neutralise

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ingest.outcomes import FileOutcome

# code -> (English, Swahili). Statuses, file-level reasons and row problem codes of docs/contract.md §4.
MESSAGES: dict[str, tuple[str, str]] = {
    "accepted": ("All rows were loaded.", "Safu zote zimepokelewa."),
    "accepted_with_errors": (
        "Valid rows were loaded; the rows listed below were set aside. Correct them and send the whole "
        "period again: a new file for the same period replaces the earlier one.",
        "Safu sahihi zimepokelewa; safu zilizoorodheshwa hapa chini zimewekwa kando. Zirekebishe na utume "
        "kipindi chote tena: faili jipya la kipindi hicho hicho linachukua nafasi ya lile la awali.",
    ),
    "rejected": ("Nothing was loaded from this file.", "Hakuna kilichopokelewa kutoka faili hili."),
    "duplicate": (
        "These exact bytes were already received; nothing changed.",
        "Faili hili hili lilishapokelewa; hakuna kilichobadilika.",
    ),
    "unreadable_file": ("The file could not be read as a table.", "Faili halikuweza kusomwa kama jedwali."),
    "unsupported_file_type": (
        "Only .csv and .xlsx files are accepted.",
        "Faili za .csv na .xlsx pekee ndizo zinazokubaliwa.",
    ),
    "file_too_large": ("The file is larger than the allowed size.", "Faili ni kubwa kuliko kiwango kinachoruhusiwa."),
    "empty_file": ("The file has no data rows.", "Faili halina safu za data."),
    "missing_columns": ("Required columns are missing.", "Safu wima zinazohitajika hazipo."),
    "duplicate_columns": ("A column appears more than once.", "Safu wima moja inaonekana zaidi ya mara moja."),
    "pii_columns": (
        "The file has columns for personal data (names, phone numbers, IDs...). It was not kept. "
        "Remove those columns and send it again.",
        "Faili lina safu wima za taarifa binafsi (majina, namba za simu, vitambulisho...). Halikuhifadhiwa. "
        "Ondoa safu wima hizo kisha ulitume tena.",
    ),
    "unknown_organisation": (
        "This folder's organisation is not in the registry.",
        "Shirika la folda hii halimo kwenye sajili.",
    ),
    "organisation_mismatch": (
        "The organisation column does not match the folder's organisation.",
        "Safu wima ya shirika hailingani na shirika la folda.",
    ),
    "period_overlap": (
        "The file's periods overlap periods already accepted (or each other) without being equal.",
        "Vipindi vya faili vinaingiliana na vipindi vilivyokwisha kupokelewa (au vyenyewe) bila kuwa sawa.",
    ),
    "too_many_invalid_rows": (
        "Too many rows are invalid, so nothing was loaded.",
        "Safu nyingi mno si sahihi, kwa hiyo hakuna kilichopokelewa.",
    ),
    "workbook_too_large": (
        "The workbook unpacks to more than the allowed size.",
        "Kitabu cha kazi kinafunguka kuwa kikubwa kuliko kiwango kinachoruhusiwa.",
    ),
    "compression_ratio_too_high": (
        "The workbook is compressed far more than a real spreadsheet can be, so it was not opened.",
        "Kitabu cha kazi kimebanwa kupita kiasi kuliko lahajedwali halisi, kwa hiyo hakikufunguliwa.",
    ),
    "too_many_parts": (
        "The workbook holds more parts (sheets, pictures...) than allowed.",
        "Kitabu cha kazi kina sehemu nyingi (laha, picha...) kuliko inavyoruhusiwa.",
    ),
    "too_many_rows": ("The sheet has more rows than allowed.", "Laha ina safu nyingi kuliko inavyoruhusiwa."),
    "too_many_columns": (
        "The sheet has values in more columns than allowed.",
        "Laha ina thamani katika safu wima nyingi kuliko inavyoruhusiwa.",
    ),
    "too_many_merged_cells": (
        "The sheet has more merged cells than allowed; unmerge them and send it again.",
        "Laha ina seli zilizounganishwa nyingi kuliko inavyoruhusiwa; zitenganishe kisha uitume tena.",
    ),
    "hidden_routes_sheet": (
        "The sheet named routes is hidden. Unhide it (or remove it) and send the file again.",
        "Laha iitwayo routes imefichwa. Ionyeshe (au iondoe) kisha utume faili tena.",
    ),
    "cell_too_long": (
        "The cell is longer than the allowed length for this column.",
        "Seli ni ndefu kuliko urefu unaoruhusiwa kwa safu wima hii.",
    ),
    "formula_without_value": (
        "The cell holds a formula whose result was never calculated. Open the file in Excel, save it, "
        "and send it again (or type the value).",
        "Seli ina fomula ambayo matokeo yake hayajawahi kukokotolewa. Fungua faili katika Excel, lihifadhi, "
        "kisha ulitume tena (au andika thamani).",
    ),
    "merged_count": (
        "A count is in merged cells, so it is unclear which row it belongs to. Unmerge it and give each row its count.",
        "Idadi iko katika seli zilizounganishwa, kwa hiyo haijulikani ni ya safu ipi. Zitenganishe na uipe kila safu idadi yake.",
    ),
    "inactive_organisation": (
        "This folder's organisation is marked inactive in the registry, so nothing was loaded. Ask the Njia "
        "team to mark it active again, then send the file again.",
        "Shirika la folda hii limewekwa kama lisilo hai kwenye sajili, kwa hiyo hakuna kilichopokelewa. Omba "
        "timu ya Njia ilirudishe kuwa hai, kisha utume faili tena.",
    ),
    "internal_error": (
        "Njia could not process this file because of a problem on our side; the Njia team has been told "
        "(quote the error id). You do not need to change the file; send it again only if the team asks.",
        "Njia haikuweza kushughulikia faili hili kwa sababu ya tatizo upande wetu; timu ya Njia imearifiwa "
        "(taja namba ya kosa). Huhitaji kubadilisha faili; ulitume tena tu timu ikikuomba.",
    ),
    "missing_value": ("A required value is empty.", "Thamani inayohitajika haijajazwa."),
    "invalid_period": (
        "The period is not YYYY, YYYY-Qn or YYYY-MM (year 2010 or later).",
        "Kipindi si YYYY, YYYY-Qn au YYYY-MM (mwaka 2010 au baadaye).",
    ),
    "future_period": ("The period starts in the future.", "Kipindi kinaanza siku zijazo."),
    "county_required": ("A county is required when the country is Kenya.", "Kaunti inahitajika nchi ikiwa Kenya."),
    "unknown_county": ("The county is not a Kenyan county code or name.", "Kaunti haijulikani."),
    "unknown_country": ("The country is not recognised.", "Nchi haijulikani."),
    "unknown_transit_point": (
        "A transit point is not a known airport, border point, county or country.",
        "Kituo cha kupitia hakijulikani.",
    ),
    "unknown_carrier": ("An airline is not in the list (use `other`).", "Shirika la ndege halimo kwenye orodha."),
    "unknown_recruitment_method": ("A recruitment method is not in the list.", "Njia ya kuajiri haimo kwenye orodha."),
    "unknown_means_of_control": ("A means of control is not in the list.", "Njia ya kulazimisha haimo kwenye orodha."),
    "unknown_exploitation_type": (
        "The exploitation type is not in the list.",
        "Aina ya unyonyaji haimo kwenye orodha.",
    ),
    "unknown_transport_mode": ("A transport mode is not in the list.", "Njia ya usafiri haimo kwenye orodha."),
    "invalid_count": (
        "The count is not a whole number in the allowed range.",
        "Idadi si namba kamili ndani ya kiwango.",
    ),
    "inconsistent_counts": (
        "The counts do not add up: female + male, or children, exceed cases_estimated.",
        "Idadi hazilingani: wanawake + wanaume, au watoto, wanazidi idadi_ya_visa.",
    ),
    "duplicate_row": (
        "Same values as an earlier row of this file; the first is kept.",
        "Thamani sawa na safu ya awali ya faili hili; ya kwanza imebaki.",
    ),
    "extra_cells": (
        "The row has more cells than the header (or the file's other rows): the values right of an extra delimiter would land "
        "in the wrong columns, so the row was set aside. The value shows the row as written, then after || the "
        "cells beyond the header. Remove the extra delimiter, or put the cell that holds it in double quotes.",
        "Safu ina visanduku vingi kuliko safu wima za kichwa (au safu nyingine za faili): thamani zilizo kulia kwa kitenganishi cha ziada "
        "zingeingia kwenye safu wima zisizo sahihi, kwa hiyo safu imewekwa kando. Thamani inaonyesha safu kama "
        "ilivyoandikwa, kisha baada ya || visanduku vilivyozidi kichwa. Ondoa kitenganishi cha ziada, au weka "
        'kisanduku chenye kitenganishi ndani ya alama za nukuu (").',
    ),
    "missing_cells": (
        "The row has one cell fewer than the header (or the file's other rows): a delimiter is probably missing, and the values after it "
        "would land one column to the left, so the row was set aside. An empty cell still needs its delimiter.",
        "Safu ina kisanduku kimoja pungufu kuliko kichwa (au safu nyingine za faili): huenda kitenganishi kimekosekana, na thamani "
        "zinazofuata zingesogea safu wima moja kushoto, kwa hiyo safu imewekwa kando. Kisanduku kitupu bado "
        "kinahitaji kitenganishi chake.",
    ),
    "malformed_quotes": (
        "A double quote in this row does not pair up, so cells would run together (or into the next rows); the "
        "row was set aside. The value shows the row as written. A cell that holds the delimiter or a quote must "
        'be in double quotes, with each quote inside it written twice ("").',
        'Alama ya nukuu (") katika safu hii haina jozi yake, kwa hiyo visanduku vingeungana (au kuingia safu '
        "zinazofuata); safu imewekwa kando. Thamani inaonyesha safu kama ilivyoandikwa. Kisanduku chenye "
        "kitenganishi au alama ya nukuu lazima kiwe ndani ya alama za nukuu, na kila nukuu ndani yake iandikwe mara "
        'mbili ("").',
    ),
    "repeated_header": (
        "This row repeats the header (the column names): it is not data and was set aside. The rows after it "
        "are read with the same columns.",
        "Safu hii inarudia kichwa (majina ya safu wima): si data na imewekwa kando. Safu zinazofuata zinasomwa "
        "kwa safu wima zile zile.",
    ),
    "control_character": (
        "The cell holds an invisible control character (such as NUL, shown as \\x00); type the value again.",
        "Kisanduku kina herufi ya udhibiti isiyoonekana (kama NUL, inayoonyeshwa kama \\x00); andika thamani upya.",
    ),
    "ignored_column": ("This column is not part of the contract and was ignored.", "Safu wima hii imepuuzwa."),
}


def message(code: str, lang: str = "en") -> str:
    en, sw = MESSAGES.get(code, (code, code))
    return sw if lang == "sw" else en


@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("ingest", "templates"), autoescape=select_autoescape(["html"]))


def feedback_rows(outcome: FileOutcome) -> list[dict[str, object]]:
    summary = (
        f"{outcome.rows_read} rows read, {outcome.rows_loaded} loaded, {outcome.rows_quarantined} set aside",
        f"safu {outcome.rows_read} zimesomwa, {outcome.rows_loaded} zimepokelewa, "
        f"{outcome.rows_quarantined} zimewekwa kando",
    )
    rows: list[dict[str, object]] = [
        {
            "item": "status",
            "code": outcome.status,
            "message_en": f"{message(outcome.status)} {summary[0]}.",
            "message_sw": f"{message(outcome.status, 'sw')} {summary[1]}.",
        },
    ]
    if outcome.reason:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        detail_sw = f" ({outcome.detail_sw})" if getattr(outcome, "detail_sw", None) else detail
        rows.append(
            {
                "item": "reason",
                "code": outcome.reason,
                "message_en": message(outcome.reason) + detail,
                "message_sw": message(outcome.reason, "sw") + detail_sw,
            }
        )
    for name in outcome.ignored_columns:
        rows.append(
            {
                "item": "ignored_column",
                "column": name,
                "code": "ignored_column",
                "message_en": message("ignored_column"),
                "message_sw": message("ignored_column", "sw"),
            }
        )
    for p in outcome.problems:
        rows.append(
            {
                "item": "problem",
                "row": p.row,
                "column": p.column,
                "value": p.value,
                "code": p.code,
                "message_en": message(p.code),
                "message_sw": message(p.code, "sw"),
            }
        )
    return rows


FIELDS = ("item", "row", "column", "value", "code", "message_en", "message_sw")


def render_csv(outcome: FileOutcome) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in feedback_rows(outcome):
        writer.writerow({k: neutralise(v) if v is not None else "" for k, v in row.items()})
    return out.getvalue()


def render_html(outcome: FileOutcome) -> str:
    return _env().get_template("feedback.html").render(o=outcome, rows=feedback_rows(outcome), message=message)


FALLBACK_FOLDER = "njia-feedback"  # used when something that is not a folder is named `feedback`
_MAX_NAME_BYTES = 150  # of the delivered file's name in a feedback file's name (file systems allow 255)


def write(outcome: FileOutcome, folder_url: str) -> list[str]:
    """Write `<file>.<sha8>.feedback.csv|html` into the organisation's feedback folder; returns their URLs.

    When the organisation folder holds a *file* named `feedback`, the feedback goes to `njia-feedback/`
    beside it (logged), rather than failing the file."""
    fs, base = fsspec.core.url_to_fs(folder_url.rstrip("/"))
    folder = f"{base}/feedback"
    if fs.exists(folder) and not fs.isdir(folder):
        log.warning(
            "%s is a file, not a folder: feedback written to %s/%s instead; rename that file",
            folder,
            base,
            FALLBACK_FOLDER,
        )
        folder = f"{base}/{FALLBACK_FOLDER}"
    fs.makedirs(folder, exist_ok=True)
    stem = f"{_short(outcome.file_name)}.{outcome.sha256[:8]}.feedback"
    written = []
    for suffix, text in ((".csv", "\ufeff" + render_csv(outcome)), (".html", render_html(outcome))):
        path = f"{folder}/{stem}{suffix}"
        with fs.open(path, "wb") as fh:  # a name that is not UTF-8 is shown escaped
            fh.write(text.encode("utf-8", "backslashreplace"))
        written.append(path)
    return written


def _short(name: str) -> str:
    """A file name cut to _MAX_NAME_BYTES UTF-8 bytes (whole characters), so the feedback name stays legal."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= _MAX_NAME_BYTES:
        return name
    return raw[:_MAX_NAME_BYTES].decode("utf-8", "ignore") + "~"
