"""The submission contract v1 (docs/contract.md §2-4) as data: columns, headers, outcomes and codes.

The reader, the validator, the template and the feedback all read these definitions; the code lists
themselves live only in the dbt seeds (`dbt_project/seeds`).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache

import yaml

from njia.paths import DBT_PROJECT_DIR, SEEDS_DIR

CONTRACT_VERSION = "v1"


@dataclass(frozen=True)
class Column:
    name: str
    swahili: str
    required: bool
    kind: str  # period | country | county | transit | code | codes | count | text
    code_list: str | None  # seed the values come from, if coded
    help_en: str
    help_sw: str


COLUMNS: tuple[Column, ...] = (
    Column(
        "reporting_period",
        "kipindi_cha_ripoti",
        True,
        "period",
        None,
        "YYYY, YYYY-Qn or YYYY-MM; not in the future, year 2010 or later",
        "YYYY, YYYY-Qn au YYYY-MM; si kipindi kijacho, mwaka 2010 au baadaye",
    ),
    Column(
        "origin_country",
        "nchi_ya_asili",
        False,
        "country",
        None,
        "country code or name; empty means Kenya (KE)",
        "msimbo au jina la nchi; tupu inamaanisha Kenya (KE)",
    ),
    Column(
        "origin_county",
        "kaunti_ya_asili",
        False,
        "county",
        "counties",
        "county code 1-47 or name; required when the origin is Kenya",
        "msimbo wa kaunti 1-47 au jina; inahitajika asili ikiwa Kenya",
    ),
    Column(
        "transit_points",
        "vituo_vya_kupitia",
        False,
        "transit",
        None,
        "ordered list of airports, border points, counties or countries",
        "orodha kwa mpangilio ya viwanja vya ndege, vituo vya mpakani, kaunti au nchi",
    ),
    Column(
        "destination_country",
        "nchi_ya_mwisho",
        True,
        "country",
        None,
        "country code or name; KE means trafficking inside Kenya",
        "msimbo au jina la nchi; KE inamaanisha usafirishaji ndani ya Kenya",
    ),
    Column(
        "destination_county",
        "kaunti_ya_mwisho",
        False,
        "county",
        "counties",
        "county code or name; required when the destination is Kenya",
        "msimbo au jina la kaunti; inahitajika mwisho ukiwa Kenya",
    ),
    Column(
        "exploitation_type",
        "aina_ya_unyonyaji",
        True,
        "code",
        "exploitation_types",
        "one exploitation type (code or label)",
        "aina moja ya unyonyaji (msimbo au jina)",
    ),
    Column(
        "transport_modes",
        "njia_za_usafiri",
        False,
        "codes",
        "transport_modes",
        "list of transport modes",
        "orodha ya njia za usafiri",
    ),
    Column(
        "carriers",
        "mashirika_ya_ndege",
        False,
        "codes",
        "airlines",
        "list of airlines (IATA, ICAO or name) or other",
        "orodha ya mashirika ya ndege au other",
    ),
    Column(
        "recruitment_methods",
        "njia_za_kuajiri",
        False,
        "codes",
        "recruitment_methods",
        "list of recruitment methods",
        "orodha ya njia za kuajiri",
    ),
    Column(
        "means_of_control",
        "njia_za_kulazimisha",
        False,
        "codes",
        "means_of_control",
        "list of means of control",
        "orodha ya njia za kulazimisha",
    ),
    Column("cases_estimated", "idadi_ya_visa", True, "count", None, "whole number 1-100000", "namba kamili 1-100000"),
    Column(
        "female_cases", "visa_vya_wanawake", False, "count", None, "whole number 0 or more", "namba kamili 0 au zaidi"
    ),
    Column(
        "male_cases",
        "visa_vya_wanaume",
        False,
        "count",
        None,
        "whole number 0 or more; female + male not above cases_estimated",
        "namba kamili 0 au zaidi; wanawake + wanaume wasizidi idadi_ya_visa",
    ),
    Column(
        "child_cases",
        "visa_vya_watoto",
        False,
        "count",
        None,
        "whole number 0 or more, not above cases_estimated (under 18)",
        "namba kamili 0 au zaidi, isizidi idadi_ya_visa (chini ya miaka 18)",
    ),
    Column(
        "organisation",
        "shirika",
        False,
        "text",
        None,
        "if present, your organisation code",
        "ikiwepo, msimbo wa shirika lako",
    ),
)
COLUMN_BY_NAME = {c.name: c for c in COLUMNS}
# The values a row carries (every column but the organisation, which the inbox folder names), in the
# contract's order; two rows with the same values are the same report.
IDENTITY_COLUMNS = tuple(c.name for c in COLUMNS if c.name != "organisation")
# The normalised row as raw.route_reports holds it after (submission_id, row_number): the organisation, the
# period with its dates, then the values. The COPY into raw and the demo's expected rows follow this order.
LOAD_COLUMNS = ("organisation_code", IDENTITY_COLUMNS[0], "period_start", "period_end", *IDENTITY_COLUMNS[1:])
REQUIRED_COLUMNS = tuple(c.name for c in COLUMNS if c.required)

STATUSES = ("accepted", "accepted_with_errors", "rejected", "duplicate")
FILE_REASONS = (
    "unreadable_file",
    "unsupported_file_type",
    "file_too_large",
    "empty_file",
    "missing_columns",
    "duplicate_columns",
    "pii_columns",
    "unknown_organisation",
    "organisation_mismatch",
    "period_overlap",
    "too_many_invalid_rows",
    "inactive_organisation",
    "internal_error",
    "workbook_too_large",
    "compression_ratio_too_high",
    "too_many_parts",
    "too_many_rows",
    "too_many_columns",
    "too_many_merged_cells",
    "hidden_routes_sheet",
)
ROW_PROBLEMS = (
    "missing_value",
    "invalid_period",
    "future_period",
    "county_required",
    "unknown_county",
    "unknown_country",
    "unknown_transit_point",
    "unknown_carrier",
    "unknown_recruitment_method",
    "unknown_means_of_control",
    "unknown_exploitation_type",
    "unknown_transport_mode",
    "invalid_count",
    "inconsistent_counts",
    "duplicate_row",
    "control_character",
    # A row that does not fit the header (CSV): never mapped to columns by position (docs/csv-dialects.md).
    "extra_cells",
    "missing_cells",
    "malformed_quotes",
    "repeated_header",
    "cell_too_long",
    "formula_without_value",
    "merged_count",
)

_PII_BASE = (
    "name",
    "full_name",
    "first_name",
    "last_name",
    "surname",
    "phone",
    "phone_number",
    "mobile",
    "telephone",
    "email",
    "national_id",
    "id_number",
    "passport",
    "passport_number",
    "date_of_birth",
    "dob",
    "address",
    "gps",
    "latitude",
    "longitude",
    "jina",
    "jina_kamili",
    "simu",
    "namba_ya_simu",
    "barua_pepe",
    "kitambulisho",
    "pasipoti",
    "tarehe_ya_kuzaliwa",
    "anwani",
)
PII_HEADERS = frozenset([*_PII_BASE, *(p + b for p in ("victim_", "survivor_", "mwathiriwa_") for b in _PII_BASE)])


def normalise_header(header: str) -> str:
    """Case-insensitive, trimmed, spaces and hyphens as `_` (docs/contract.md §2.1)."""
    return re.sub(r"[\s\-]+", "_", header.strip().lstrip("\ufeff").strip()).lower()


HEADER_ALIASES: dict[str, str] = {
    **{c.name: c.name for c in COLUMNS},
    **{c.swahili: c.name for c in COLUMNS},
}


@cache
def code_list(name: str) -> tuple[dict[str, str], ...]:
    """Rows of one seed (`counties`, `airlines`, ...), as the contract's single source of codes."""
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


@cache
def carrier_transport_mode() -> str:
    """The transport mode a row's carriers imply: the dbt project's var, which its macro with_carrier_mode reads."""
    with (DBT_PROJECT_DIR / "dbt_project.yml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)["vars"]["carriers_imply_transport_mode"]


def with_carrier_mode(modes: list[str], carriers_given: bool) -> list[str]:
    """A row's transport modes, with the one its carriers imply added when missing (docs/contract.md §2.3)."""
    mode = carrier_transport_mode()
    return [*modes, mode] if carriers_given and mode not in modes else list(modes)
