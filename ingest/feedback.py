"""Feedback to the organisation (CONTRACT.md §7): for every processed file a CSV and an HTML page,
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
    from ingest.pipeline import FileOutcome

# code -> (English, Swahili). Statuses, file-level reasons and row problem codes of CONTRACT.md §4.
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
        "Only .csv and .xlsx files are accepted.", "Faili za .csv na .xlsx pekee ndizo zinazokubaliwa."),
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
        "This folder's organisation is not in the registry.", "Shirika la folda hii halimo kwenye sajili."),
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
    "unknown_means_of_control": (
        "A means of control is not in the list.", "Njia ya kulazimisha haimo kwenye orodha."),
    "unknown_exploitation_type": ("The exploitation type is not in the list.", "Aina ya unyonyaji haimo kwenye orodha."),
    "unknown_transport_mode": ("A transport mode is not in the list.", "Njia ya usafiri haimo kwenye orodha."),
    "invalid_count": (
        "The count is not a whole number in the allowed range.", "Idadi si namba kamili ndani ya kiwango."),
    "inconsistent_counts": (
        "The counts do not add up: female + male, or children, exceed cases_estimated.",
        "Idadi hazilingani: wanawake + wanaume, au watoto, wanazidi idadi_ya_visa.",
    ),
    "duplicate_row": (
        "Same values as an earlier row of this file; the first is kept.",
        "Thamani sawa na safu ya awali ya faili hili; ya kwanza imebaki.",
    ),
    "control_character": (
        "The cell holds an invisible control character (such as NUL, shown as \\x00); type the value again.",
        "Kisanduku kina herufi ya udhibiti isiyoonekana (kama NUL, inayoonyeshwa kama \\x00); andika thamani "
        "upya.",
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
        {"item": "status", "code": outcome.status,
         "message_en": f"{message(outcome.status)} {summary[0]}.", "message_sw": f"{message(outcome.status, 'sw')} {summary[1]}."},
    ]
    if outcome.reason:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        rows.append({"item": "reason", "code": outcome.reason,
                     "message_en": message(outcome.reason) + detail, "message_sw": message(outcome.reason, "sw") + detail})
    for name in outcome.ignored_columns:
        rows.append({"item": "ignored_column", "column": name, "code": "ignored_column",
                     "message_en": message("ignored_column"), "message_sw": message("ignored_column", "sw")})
    for p in outcome.problems:
        rows.append({"item": "problem", "row": p.row, "column": p.column, "value": p.value, "code": p.code,
                     "message_en": message(p.code), "message_sw": message(p.code, "sw")})
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
        log.warning("%s is a file, not a folder: feedback written to %s/%s instead; rename that file",
                    folder, base, FALLBACK_FOLDER)
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
