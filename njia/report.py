"""The yearly report pack (docs/interfaces.md §6): CSV files, one workbook, one HTML page.

The pack reads only the reporting tables, through `njia.transform.reporting_schema(settings, min_cell)`,
so what is published is exactly what dbt aggregated and suppressed; nothing here counts or suppresses.
As a last line of defence it refuses to write a pack in which a visible count lies between 1 and k-1, a
count is marked both withheld and visible, or the attacker's audit (njia.disclosure) can work a withheld
count out to a range narrower than k from the tables of the year, or of any earlier year the page shows.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape
from psycopg import sql

from njia import charts, maps, place_names, reporting_tables, warehouse
from njia.cells import neutralise
from njia.paths import SEEDS_DIR
from njia.reporting_tables import OTHER_ROUTES, ReportingTable
from njia.settings import Settings
from njia.transform import TransformError, reporting_schema

log = logging.getLogger(__name__)

LANGS = ("en", "sw")
TEMPLATES_DIR = Path(__file__).with_name("report_templates")


class ReportError(RuntimeError):
    """The pack cannot be written; the message says why and what to do."""


def _t(en: str, sw: str) -> dict[str, str]:
    return {"en": en, "sw": sw}


# The tables, their CSV columns, keys, titles and additivity: dbt's reporting models (njia.reporting_tables).
TABLES: tuple[ReportingTable, ...] = reporting_tables.load()
TABLE_BY_NAME = {t.name: t for t in TABLES}

# Display names of the former provinces in Swahili (the CSVs keep the English values of the seed).
PROVINCE_SW = {
    "Coast": "Pwani",
    "North Eastern": "Kaskazini Mashariki",
    "Eastern": "Mashariki",
    "Central": "Kati",
    "Rift Valley": "Bonde la Ufa",
    "Western": "Magharibi",
    "Nyanza": "Nyanza",
    "Nairobi": "Nairobi",
}

TEXT: dict[str, dict[str, str]] = {
    "title": _t(
        "Human trafficking routes in Kenya, {year}", "Njia za usafirishaji haramu wa binadamu nchini Kenya, {year}"
    ),
    "subtitle": _t(
        "Yearly report from the route reports of civil-society organisations",
        "Ripoti ya mwaka kutoka kwa ripoti za njia za mashirika ya kiraia",
    ),
    "cases_total": _t("cases reported", "visa vilivyoripotiwa"),
    "organisations": _t("organisations reporting", "mashirika yaliyoripoti"),
    "submissions": _t("files accepted", "mafaili yaliyokubaliwa"),
    "route_records": _t("route records", "rekodi za njia"),
    "periods": _t("reporting periods", "vipindi vya ripoti"),
    "vs_prev": _t(
        "{sign}{pct} compared with {prev} ({prev_total})", "{sign}{pct} ikilinganishwa na {prev} ({prev_total})"
    ),
    "no_prev": _t("No figures were published for {prev}.", "Hakuna takwimu zilizochapishwa kwa {prev}."),
    "routes_h": _t("Where the routes go", "Njia zinakoelekea"),
    "routes_p": _t(
        "The {n} largest routes: where people were recruited, the places they passed through and "
        "where they were taken. Band width is the number of cases.",
        "Njia {n} kubwa zaidi: walikoajiriwa watu, walikopitia na walikopelekwa. Upana wa mkondo ni idadi ya visa.",
    ),
    "routes_withheld": _t(
        "{n} further lines of the route table are withheld or group the routes of one origin "
        "with fewer than {k} cases each (\u201cother routes\u201d); they are not drawn.",
        "Mistari mingine {n} ya jedwali la njia imezuiliwa au inaunganisha njia za asili moja "
        "zenye visa chini ya {k} kila moja (\u201cnjia nyingine\u201d); haijachorwa.",
    ),
    "routes_more": _t(
        "{n} further published routes are listed in the table at the end.",
        "Njia nyingine {n} zilizochapishwa zimeorodheshwa katika jedwali mwishoni.",
    ),
    "maps_h": _t("Maps", "Ramani"),
    "county_map": _t("Cases by county of origin", "Visa kwa kaunti ya asili"),
    "county_map_p": _t(
        "Counties shaded by the cases of routes starting there; the counts are in the county chart below.",
        "Kaunti zimetiwa rangi kulingana na visa vya njia zinazoanzia hapo; idadi ziko katika chati ya kaunti hapa chini.",
    ),
    "route_map": _t("The largest routes", "Njia kubwa zaidi"),
    "route_map_p": _t(
        "The {n} largest published routes from the county of origin through the transit points to the "
        "destination. Line width is the number of cases.",
        "Njia {n} kubwa zaidi zilizochapishwa kutoka kaunti ya asili kupitia vituo hadi mwisho. Upana wa mstari "
        "ni idadi ya visa.",
    ),
    "map_credit": _t(
        "Map: svg-maps (MapSVG), CC BY 4.0. Countries: Natural Earth (public domain) via world-atlas (ISC).",
        "Ramani: svg-maps (MapSVG), CC BY 4.0. Nchi: Natural Earth (kikoa cha umma) kupitia world-atlas (ISC).",
    ),
    "origin_h": _t("Where people came from and where they were taken", "Watu walikotoka na walikopelekwa"),
    "dest_h": _t("Where people were taken", "Watu walikopelekwa"),
    "how_h": _t(
        "How people were exploited, recruited, moved and controlled",
        "Jinsi watu walivyonyonywa, kuajiriwa, kusafirishwa na kudhibitiwa",
    ),
    "change_h": _t("Change from {prev}", "Mabadiliko tangu {prev}"),
    "change_p": _t(
        "Only cells published in both years are compared. A change can also mean that more or fewer "
        "organisations reported ({prev_orgs} in {prev}, {orgs} in {year}).",
        "Ni visanduku vilivyochapishwa katika miaka yote miwili pekee vinavyolinganishwa. Mabadiliko "
        "yanaweza pia kumaanisha kuwa mashirika zaidi au machache yaliripoti ({prev_orgs} mwaka "
        "{prev}, {orgs} mwaka {year}).",
    ),
    "trends_h": _t("Every year since {first}", "Kila mwaka tangu {first}"),
    "trends_p": _t(
        "Each year counts what the organisations that reported in that year saw, so a rise or a fall may "
        "reflect which organisations reported, and how many, rather than a change in trafficking. "
        "Organisations reporting: {orgs}. A withheld figure is a dashed column, never a zero; each chart "
        "has its own scale.",
        "Kila mwaka huhesabu kile ambacho mashirika yaliyoripoti mwaka huo yaliona, kwa hivyo ongezeko au "
        "upungufu unaweza kutokana na mashirika yaliyoripoti, na idadi yao, badala ya mabadiliko katika "
        "usafirishaji haramu. Mashirika yaliyoripoti: {orgs}. Takwimu iliyozuiliwa ni safu ya vistari, "
        "kamwe si sifuri; kila chati ina kipimo chake.",
    ),
    "trends_single": _t(
        "Figures were published for {year} only: the trend over the years starts with a second year.",
        "Takwimu zimechapishwa kwa mwaka {year} pekee: mwenendo wa miaka utaanza na mwaka wa pili.",
    ),
    "trends_total": _t("Cases reported and organisations reporting", "Visa vilivyoripotiwa na mashirika yaliyoripoti"),
    "trends_orgs": _t("{n} organisations", "mashirika {n}"),
    "trends_dest": _t("The {n} largest destinations of {year}", "Nchi {n} kubwa zaidi za mwisho za mwaka {year}"),
    "not_additive": _t(
        "Does not add up to the total: a route counts once for each item it lists.",
        "Hazijumliki kufikia jumla: njia huhesabiwa mara moja kwa kila kipengele inachoorodhesha.",
    ),
    "additive": _t(
        "Adds up to the total, except for withheld cells.",
        "Zinajumlika kufikia jumla, isipokuwa visanduku vilivyozuiliwa.",
    ),
    "kenyan_origin": _t(
        "Adds up to the cases of routes starting in a Kenyan county, except for withheld cells; "
        "routes starting abroad are in no county, so this is less than the total.",
        "Zinajumlika kufikia visa vya njia zinazoanzia katika kaunti ya Kenya, isipokuwa visanduku "
        "vilivyozuiliwa; njia zinazoanzia nje ya nchi hazimo katika kaunti yoyote, kwa hivyo hii ni "
        "chini ya jumla.",
    ),
    "shown_top": _t(
        "The {n} largest are shown; the full list is in the tables at the end.",
        "{n} kubwa zaidi zimeonyeshwa; orodha kamili iko katika jedwali mwishoni.",
    ),
    "empty": _t("No cases in this table.", "Hakuna visa katika jedwali hili."),
    "withheld_list": _t("Withheld:", "Zimezuiliwa:"),
    "about_h": _t("About these figures", "Kuhusu takwimu hizi"),
    "method_h": _t("Method", "Mbinu"),
    "method": _t(
        "Civil-society organisations send route reports to Njia: one row for each route they saw in a reporting "
        "period, with an estimated number of cases. Every file is checked against submission contract {contract}; "
        "for each organisation and period only the latest accepted file counts. The figures are sums of the "
        "estimated cases on those rows, for reporting periods that start in {year}. They describe routes seen by "
        "the organisations, not every victim in Kenya: one person may be reported by two organisations, and many "
        "cases are never reported.",
        "Mashirika ya kiraia hutuma ripoti za njia kwa Njia: safu moja kwa kila njia waliyoiona katika kipindi cha "
        "ripoti, pamoja na makadirio ya idadi ya visa. Kila faili hukaguliwa dhidi ya mkataba wa uwasilishaji "
        "{contract}; kwa kila shirika na kipindi, faili la mwisho lililokubaliwa pekee ndilo huhesabiwa. Takwimu "
        "ni jumla ya makadirio ya visa katika safu hizo, kwa vipindi vya ripoti vinavyoanza mwaka {year}. Zinaeleza "
        "njia zilizoonekana na mashirika, si kila mwathiriwa nchini Kenya: mtu mmoja anaweza kuripotiwa na mashirika "
        "mawili, na visa vingi haviripotiwi kamwe.",
    ),
    "counting_h": _t("Counting rules", "Kanuni za kuhesabu"),
    "counting": _t(
        "By destination country, route and type of exploitation, every case counts once: these tables add up to "
        "the total. By county and former province of origin, every case that started in a Kenyan county counts "
        "once: these add up to the cases of Kenyan origin, not to the total. By airline, recruitment method, means of control and "
        "transit point, a route counts once for each item it lists (\u201ccases on routes involving X\u201d): "
        "these tables do not add up to the total.",
        "Kwa nchi ya mwisho, njia na aina ya unyonyaji, kila kisa huhesabiwa mara moja: jedwali hizi zinajumlika "
        "kufikia jumla. Kwa kaunti na mkoa wa zamani wa asili, kila kisa kilichoanzia katika kaunti ya Kenya "
        "huhesabiwa mara moja: zinajumlika kufikia visa vya asili ya Kenya, si jumla. Kwa shirika la ndege, njia ya kuajiri, njia ya "
        "kulazimisha na kituo cha kupitia, njia huhesabiwa mara moja kwa kila kipengele inachoorodhesha "
        "(\u201cvisa kwenye njia zinazohusisha X\u201d): jedwali hizi hazijumliki kufikia jumla.",
    ),
    "suppression_h": _t("Small numbers are withheld", "Idadi ndogo zimezuiliwa"),
    "suppression": _t(
        "To protect the people behind the figures, every count from 1 to {km1} is withheld (k = {k}), and so are "
        "further counts wherever a withheld one could be worked out, to within {k}, from all the tables of the "
        "year together. Routes with fewer than {k} cases are not listed one by one: each origin's are one line, "
        "\u201cother routes\u201d. Before publication an audit solves every table of the year, as an attacker "
        "would, and checks this. Withheld counts are shown as \u201cwithheld\u201d (an empty cell in the CSV and "
        "Excel files), never as zero.",
        "Ili kulinda watu walio nyuma ya takwimu hizi, kila idadi kutoka 1 hadi {km1} imezuiliwa (k = {k}), pamoja "
        "na idadi nyingine pale ambapo idadi iliyozuiliwa ingeweza kukokotolewa, hadi ndani ya {k}, kutoka kwa "
        "jedwali zote za mwaka pamoja. Njia zenye visa chini ya {k} haziorodheshwi moja moja: za kila asili ni "
        "mstari mmoja, \u201cnjia nyingine\u201d. Kabla ya kuchapishwa, ukaguzi hutatua kila jedwali la mwaka, "
        "kama mshambulizi angefanya, na kuthibitisha hili. Idadi zilizozuiliwa zinaonyeshwa kama "
        "\u201cimezuiliwa\u201d (kisanduku tupu katika mafaili ya CSV na Excel), kamwe si sifuri.",
    ),
    "suppression_off": _t(
        "Suppression is off (k = 1): every count is shown.", "Uzuiaji umezimwa (k = 1): kila idadi inaonyeshwa."
    ),
    "internal": _t(
        "INTERNAL: computed with k = {k}, not the published threshold k = {kp}. Do not publish.",
        "YA NDANI: imekokotolewa kwa k = {k}, si kiwango cha uchapishaji k = {kp}. Usichapishe.",
    ),
    "codes_h": _t("Code lists", "Orodha za misimbo"),
    "codes_p": _t(
        "Versions of the code lists used (SHA-256 of each file, first 12 characters).",
        "Matoleo ya orodha za misimbo yaliyotumika (SHA-256 ya kila faili, herufi 12 za kwanza).",
    ),
    "files_h": _t("The figures", "Takwimu"),
    "files_p": _t(
        "Every table of this report, as published in the CSV files and the Excel workbook.",
        "Kila jedwali la ripoti hii, kama lilivyochapishwa katika mafaili ya CSV na kitabu cha Excel.",
    ),
    "withheld": _t("withheld", "imezuiliwa"),
    "generated": _t(
        "Generated {when} from the reporting tables of the Njia warehouse.",
        "Imetengenezwa {when} kutoka kwa jedwali za ripoti za ghala la Njia.",
    ),
    "lang_label": _t("Language", "Lugha"),
    "regional_h": _t("Regional sections", "Sehemu za mikoa"),
    "regional_p": _t(
        "One section for each former province of origin (routes starting in its counties) whose published "
        "cases are at least {min_cases} ({times} times k) and that has at least one published destination or type "
        "of exploitation. The province's figures come from the regional tables at the end; withheld cells are "
        "shown as withheld.",
        "Sehemu moja kwa kila mkoa wa zamani wa asili (njia zinazoanzia katika kaunti zake) wenye visa "
        "vilivyochapishwa visivyopungua {min_cases} (mara {times} ya k) na angalau nchi moja ya mwisho au aina "
        "moja ya unyonyaji iliyochapishwa. Takwimu za mkoa zinatoka katika jedwali za mikoa mwishoni; visanduku "
        "vilivyozuiliwa vinaonyeshwa kama vilivyozuiliwa.",
    ),
    "regional_thin": _t(
        "Too little published data for a section of its own: {names}.",
        "Takwimu zilizochapishwa hazitoshi kwa sehemu yake: {names}.",
    ),
    "regional_total": _t("{cases} cases of routes starting here", "visa {cases} vya njia zinazoanzia hapa"),
    "region_routes": _t("Largest routes", "Njia kubwa zaidi"),
    "region_destinations": _t("Destinations", "Nchi za mwisho"),
    "region_types": _t("Types of exploitation", "Aina za unyonyaji"),
    "region_carriers": _t("Airlines (routes involving each)", "Mashirika ya ndege (njia zinazohusisha kila moja)"),
    "region_recruitment": _t(
        "Recruitment methods (routes involving each)", "Njia za kuajiri (njia zinazohusisha kila moja)"
    ),
    "region_more": _t("{n} more in the tables at the end.", "{n} zaidi katika jedwali mwishoni."),
    "tip_h": _t(
        "Cases by type of exploitation: the TIP report's shape",
        "Visa kwa aina ya unyonyaji: muundo wa ripoti ya TIP",
    ),
    "tip_p": _t(
        "In the shape of the US Trafficking in Persons report and of the Counter-Trafficking in Persons "
        "Secretariat's returns. Female, male and not stated add up to the type's cases, and so do Kenyan and "
        "foreign origin, and in Kenya and abroad; children (under 18) are counted where organisations reported "
        "them. 0: no cases.",
        "Kwa muundo wa ripoti ya Marekani ya Usafirishaji Haramu wa Binadamu (TIP) na wa taarifa za Sekretarieti "
        "ya Kupambana na Usafirishaji Haramu wa Binadamu. Wanawake, wanaume na wasiotajwa wanajumlika kufikia "
        "visa vya aina hiyo, vivyo hivyo asili ya Kenya na ya nje, na ndani ya Kenya na nje ya nchi; watoto "
        "(chini ya miaka 18) wamehesabiwa pale mashirika yalipowaripoti. 0: hakuna visa.",
    ),
    "tip_note": _t(
        "Each type's cases are split three ways (sex, origin, destination), plus children: the rows do not add "
        "up to the total.",
        "Visa vya kila aina vimegawanywa kwa njia tatu (jinsia, asili, mwisho), pamoja na watoto: safu "
        "hazijumliki kufikia jumla.",
    ),
    "tip_type": _t("Type of exploitation", "Aina ya unyonyaji"),
    "tip_all": _t("All cases", "Visa vyote"),
    "tip_sex": _t("Sex", "Jinsia"),
    "tip_age": _t("Age", "Umri"),
    "tip_origin": _t("Origin", "Asili"),
    "tip_destination": _t("Destination", "Mwisho"),
    "code_list": _t("code list", "orodha"),
    "rows": _t("rows", "safu"),
}

COLUMN_TITLES: dict[str, dict[str, str]] = {
    "county_code": _t("county code", "msimbo wa kaunti"),
    "county_name": _t("county", "kaunti"),
    "former_province": _t("former province", "mkoa wa zamani"),
    "cases": _t("cases", "visa"),
    "suppressed": _t("withheld", "imezuiliwa"),
    "country_code": _t("country code", "msimbo wa nchi"),
    "country_name": _t("country", "nchi"),
    "origin_code": _t("origin", "asili"),
    "transit_codes": _t("transit", "kupitia"),
    "destination_code": _t("destination", "mwisho"),
    "route_label": _t("route", "njia"),
    "exploitation_type": _t("code", "msimbo"),
    "label_en": _t("English", "Kiingereza"),
    "label_sw": _t("Swahili", "Kiswahili"),
    "carrier_code": _t("airline code", "msimbo wa shirika"),
    "carrier_name": _t("airline", "shirika la ndege"),
    "recruitment_method": _t("code", "msimbo"),
    "means_of_control": _t("code", "msimbo"),
    "transit_code": _t("code", "msimbo"),
    "transit_name": _t("transit point", "kituo cha kupitia"),
    "breakdown": _t("breakdown", "mgawanyo"),
    "organisations": TEXT["organisations"],
    "submissions": TEXT["submissions"],
    "route_records": TEXT["route_records"],
    "cases_total": TEXT["cases_total"],
    "periods": TEXT["periods"],
    "report_year": _t("year", "mwaka"),
    "table": _t("table", "jedwali"),
    "code": _t("code", "msimbo"),
    "value": _t("figure", "takwimu"),
}

# The column of a table that names a place, shown with countries in Swahili in the SW view (`_place`).
PLACE_COLUMNS = {
    "cases_by_destination_country": "country_name",
    "cases_by_province_destination": "country_name",
    "cases_by_transit_point": "transit_name",
    "cases_by_route": "route_label",
}

# The trend over every year with figures, one row per published cell it shows: the coverage figures and
# two additive tables. The same rows are csv/trends.csv, the `trends` sheet and the page's trend charts.
TRENDS = ReportingTable(
    name="trends",
    columns=("report_year", "table", "code", "label_en", "label_sw", "value", "suppressed"),
    data_types=("integer", "text", "text", "text", "text", "integer", "boolean"),
    key=("report_year", "table", "code"),
    pack_order=len(TABLES) + 1,
    title=_t("Every year with figures", "Kila mwaka wenye takwimu"),
    adds_up_to=None,
)
TREND_COVERAGE = ("cases_total", "organisations", "submissions")
TREND_TABLES = ("cases_by_exploitation_type", "cases_by_destination_country")
TREND_DESTINATIONS = 6  # the report year's largest destinations get a panel each

# cases_tip's columns on the page, in the TIP report's order, grouped under the splits they belong to.
TIP_COLUMNS: tuple[tuple[str, tuple[tuple[str, dict[str, str]], ...]], ...] = (
    (
        "tip_sex",
        (
            ("female", _t("female", "wanawake")),
            ("male", _t("male", "wanaume")),
            ("sex_not_stated", _t("not stated", "haijatajwa")),
        ),
    ),
    ("tip_age", (("child", _t("children", "watoto")),)),
    ("tip_origin", (("kenyan_origin", _t("Kenyan", "Kenya")), ("foreign_origin", _t("foreign", "nje")))),
    ("tip_destination", (("in_kenya", _t("in Kenya", "ndani ya Kenya")), ("abroad", _t("abroad", "nje ya nchi")))),
)
# A former province gets a regional section when its published cases are at least this many times k and at
# least one of its destinations or types of exploitation is published (docs/decisions.md).
REGION_MIN_K = 3
TOP_REGION = 6  # rows of each small table of a regional section
REGION_PARTS = (  # (part, reporting table) of a regional section, in the order shown
    ("region_routes", "cases_by_route"),
    ("region_destinations", "cases_by_province_destination"),
    ("region_types", "cases_by_province_exploitation"),
    ("region_carriers", "cases_by_province_carrier"),
    ("region_recruitment", "cases_by_province_recruitment"),
)
TOP_ROUTES = 10
TOP_BARS = 15
WITHHELD_INLINE = 3  # up to this many withheld cells are drawn as rows of their chart; more are listed below it


# --------------------------------------------------------------------------------------------- reading


@dataclass
class PackData:
    year: int
    k: int
    published_k: int
    schema: str
    rows: dict[str, list[dict[str, Any]]]
    # Every earlier year with published figures (a coverage row), oldest first, each audited like `rows`.
    history: dict[int, dict[str, list[dict[str, Any]]]]
    code_lists: list[tuple[str, str, int]]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def coverage(self) -> dict[str, Any] | None:
        return self.rows["coverage"][0] if self.rows["coverage"] else None

    @property
    def prev_rows(self) -> dict[str, list[dict[str, Any]]]:
        return self.history.get(self.year - 1, {})

    @property
    def years(self) -> dict[int, dict[str, list[dict[str, Any]]]]:
        """Every year with figures up to the report year, oldest first."""
        return {**self.history, self.year: self.rows}

    @property
    def prev_coverage(self) -> dict[str, Any] | None:
        return self.prev_rows["coverage"][0] if self.prev_rows.get("coverage") else None

    @property
    def internal(self) -> bool:
        return self.k != self.published_k


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value


def _read_table(conn, schema: str, table: ReportingTable, year: int) -> list[dict[str, Any]]:
    present = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            (schema, table.name),
        )
    }
    if not present:
        raise ReportError(f"the reporting table {schema}.{table.name} does not exist: run `njia build` first")
    missing = [c for c in ("report_year", *table.columns) if c not in present]
    if missing:
        raise ReportError(f"{schema}.{table.name} lacks the columns {', '.join(missing)}")
    order = ""
    if "cases" in table.columns:
        order = " order by cases desc nulls last, " + ", ".join(table.key)
    query = sql.SQL("select {cols} from {tbl} where report_year = %s" + order).format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in table.columns),
        tbl=sql.Identifier(schema, table.name),
    )
    cur = conn.execute(query, (year,))
    return [{c: _plain(v) for c, v in zip(table.columns, r, strict=True)} for r in cur]


def _check(table: ReportingTable, rows: list[dict[str, Any]], k: int) -> None:
    """Refuse to publish a visible small count: aggregation and suppression belong to dbt, but a pack that
    leaks one cell cannot be called back."""
    if "cases" not in table.columns:
        return
    for r in rows:
        if r["suppressed"] is None:
            raise ReportError(f"{table.name}: a row has no suppressed flag: {r}")
        if r["suppressed"]:
            if r["cases"] is not None:
                raise ReportError(
                    f"{table.name}: a row is marked withheld but carries a count; rebuild the "
                    "reporting models before publishing"
                )
        elif r["cases"] is None:
            raise ReportError(f"{table.name}: a row has no count but is not marked withheld")
        elif 0 < r["cases"] < k:
            raise ReportError(
                f"{table.name}: a visible count ({r['cases']}) is below k = {k}; refusing to write the pack"
            )


def _audit(rows: dict[str, list[dict[str, Any]]], year: int, k: int) -> None:
    """Refuse a pack whose tables, solved together, pin a withheld count (njia.disclosure): the same audit
    `njia build` passed, run again on exactly what is about to be written."""
    from njia import disclosure

    try:
        result = disclosure.audit_year(rows, year, k)
    except disclosure.DisclosureError as exc:
        raise ReportError(f"the {year} tables cannot be audited: {exc}; refusing to write the pack") from exc
    if not result.ok:
        raise ReportError(
            f"refusing to write the pack: {result.describe()}. Run `njia build` again: it withholds "
            "the further cells these figures need"
        )


def code_list_versions(seeds_dir: Path = SEEDS_DIR) -> list[tuple[str, str, int]]:
    """(code list, sha256 of its seed file, data rows) for every seed, sorted by name."""
    out = []
    for path in sorted(seeds_dir.glob("*.csv")):
        data = path.read_bytes()
        with path.open(encoding="utf-8", newline="") as fh:
            rows = max(sum(1 for _ in csv.reader(fh)) - 1, 0)
        out.append((path.stem, hashlib.sha256(data).hexdigest(), rows))
    return out


def read_pack_data(settings: Settings, year: int, min_cell: int | None = None) -> PackData:
    k = settings.min_cell if min_cell is None else int(min_cell)
    if k < 1:
        raise ReportError("--min-cell must be 1 or more")
    try:
        with reporting_schema(settings, min_cell) as schema, warehouse.connect(settings) as conn:
            conn.read_only = True
            rows = {t.name: _read_table(conn, schema, t, year) for t in TABLES}
            earlier = conn.execute(
                sql.SQL("select distinct report_year from {} where report_year < %s order by 1").format(
                    sql.Identifier(schema, "coverage")
                ),
                (year,),
            ).fetchall()
            history = {y: {t.name: _read_table(conn, schema, t, y) for t in TABLES} for (y,) in earlier}
    except TransformError as exc:  # the reporting tables are not built, or k's private build failed
        raise ReportError(str(exc)) from exc
    if not rows["coverage"]:
        raise ReportError(
            f"there are no reporting figures for {year}: no accepted route reports for periods "
            f"starting in {year}, or `njia build` has not run since they arrived"
        )
    # The page shows every year's figures (the trends, the change from the previous year): each year is
    # checked and audited on its own, as years share no cells (njia.disclosure).
    for y, year_rows in {year: rows, **history}.items():
        for t in TABLES:
            _check(t, year_rows[t.name], k)
        _audit(year_rows, y, k)
    return PackData(year, k, settings.min_cell, schema, rows, history, code_list_versions())


# --------------------------------------------------------------------------------------------- cells


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return str(neutralise(str(value)))


_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return neutralise(_XLSX_ILLEGAL.sub("", str(value)))


def _public_rows(table: ReportingTable, rows: list[dict[str, Any]]) -> Iterator[list[Any]]:
    for r in rows:
        yield [None if (c == "cases" and r.get("suppressed")) else r[c] for c in table.columns]


def trend_rows(data: PackData) -> list[dict[str, Any]]:
    """The trend's rows (TRENDS.columns), oldest year first: each the published cell of that year's
    reporting table (the coverage figures by their column name)."""
    out: list[dict[str, Any]] = []
    for year, rows in data.years.items():
        cov = rows["coverage"][0]
        for c in TREND_COVERAGE:
            out.append(
                {
                    "report_year": year,
                    "table": "coverage",
                    "code": c,
                    "label_en": TEXT[c]["en"],
                    "label_sw": TEXT[c]["sw"],
                    "value": cov[c],
                    "suppressed": cov[c] is None,
                }
            )
        for name in TREND_TABLES:
            t = TABLE_BY_NAME[name]
            for r in rows[name]:
                label = _label(r, t)
                out.append(
                    {
                        "report_year": year,
                        "table": name,
                        "code": r[t.key[0]],
                        "label_en": charts.label_text(label, "en"),
                        "label_sw": charts.label_text(label, "sw"),
                        "value": None if r["suppressed"] else r["cases"],
                        "suppressed": bool(r["suppressed"]),
                    }
                )
    return out


# --------------------------------------------------------------------------------------------- writers


def write_csvs(data: PackData, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for t, rows in _pack_tables(data):
        path = folder / f"{t.name}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(t.columns)
            for row in _public_rows(t, rows):
                w.writerow([csv_cell(v) for v in row])
        paths.append(path)
    return paths


def _pack_tables(data: PackData) -> list[tuple[ReportingTable, list[dict[str, Any]]]]:
    """Every file's table with its rows: the report year's reporting tables, then the trend."""
    return [*((t, data.rows[t.name]) for t in TABLES), (TRENDS, trend_rows(data))]


def _about_rows(data: PackData) -> list[tuple[str, Any, Any]]:
    from ingest.contract import CONTRACT_VERSION

    def both(key: str, **kw: Any) -> tuple[str, str]:
        return TEXT[key]["en"].format(**kw), TEXT[key]["sw"].format(**kw)

    supp = both("suppression", k=data.k, km1=data.k - 1) if data.k > 1 else both("suppression_off")
    rows: list[tuple[str, Any, Any]] = [
        ("report", f"Njia yearly report {data.year}", f"Ripoti ya mwaka ya Njia {data.year}"),
        ("year", data.year, data.year),
    ]
    if data.internal:
        rows.append(("status", *both("internal", k=data.k, kp=data.published_k)))
    rows += [
        ("generated_at", data.generated_at.strftime("%Y-%m-%d %H:%M UTC"), None),
        ("source", f"warehouse schema {data.schema}", None),
        ("method", *both("method", year=data.year, contract=CONTRACT_VERSION)),
        ("counting_rules", *both("counting")),
        ("suppression_rule", *supp),
        ("min_cell_k", data.k, None),
        ("non_additive_tables", ", ".join(t.name for t in TABLES if not t.additive), TEXT["not_additive"]["sw"]),
        ("submission_contract", CONTRACT_VERSION, None),
    ]
    combined = hashlib.sha256("".join(f"{n}:{h}\n" for n, h, _ in data.code_lists).encode()).hexdigest()
    rows.append(("code_lists_version", combined[:12], None))
    for name, digest, n in data.code_lists:
        rows.append((f"code_list:{name}", f"sha256 {digest}", f"{n} rows"))
    cov = data.coverage or {}
    for c in TABLE_BY_NAME["coverage"].columns:
        rows.append((f"coverage:{c}", cov.get(c), None))
    return rows


def write_xlsx(data: PackData, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    about = wb.active
    about.title = "about"
    head_font, head_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="0F766E")
    about.append(["item", "English", "Kiswahili"])
    for row in _about_rows(data):
        about.append([xlsx_cell(v) for v in row])
    for col, width in zip("ABC", (24, 90, 90), strict=True):
        about.column_dimensions[col].width = width
    for cells in about.iter_rows(min_row=2):
        for c in cells:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    for t, rows in _pack_tables(data):
        ws = wb.create_sheet(t.name)
        ws.append(list(t.columns))
        for row in _public_rows(t, rows):
            ws.append([xlsx_cell(v) for v in row])
        ws.freeze_panes = "A2"
        if ws.max_row > 1:
            ws.auto_filter.ref = ws.dimensions
        for i, col in enumerate(t.columns, start=1):
            longest = max([len(col)] + [len(str(r[col])) for r in rows if r[col] is not None])
            ws.column_dimensions[get_column_letter(i)].width = min(max(longest + 2, 9), 70)
    for ws in wb.worksheets:
        for c in ws[1]:
            c.font, c.fill = head_font, head_fill
    wb.properties.title = f"Njia yearly report {data.year}"
    wb.properties.creator = "Njia"
    wb.save(path)
    return path


# --------------------------------------------------------------------------------------------- HTML


class _Tr:
    """Bilingual text for the page: one span per language, shown by the language toggle's CSS."""

    def __init__(self, langs: Sequence[str]):
        self.langs = tuple(langs)

    def __call__(self, key: str | dict[str, str], **kw: Any) -> Markup:
        texts = TEXT[key] if isinstance(key, str) else key
        return self.spans({lang: texts[lang].format(**kw) if kw else texts[lang] for lang in self.langs})

    def spans(self, texts: dict[str, str]) -> Markup:
        if len(self.langs) == 1:
            return escape(texts[self.langs[0]])
        return Markup("").join(
            Markup('<span class="l-{0}" lang="{0}">{1}</span>').format(lang, texts[lang]) for lang in self.langs
        )


def _place(code: str | None, name: str | None) -> charts.Label:
    """A place as published (English) and in Swahili: a country (`SA` or a typed `country:SA`) by its CLDR
    name (njia.place_names), anything else (counties, airports, border points) by its published name."""

    name, code = name or code or "", code or ""
    country = code.removeprefix("country:")
    if code == OTHER_ROUTES:  # the route table's line for an origin's small routes
        return {"en": name, "sw": "njia nyingine" if name == "other routes" else name}
    if ":" in country or not country:
        return name
    sw = place_names.country_name(country, "sw")
    return {"en": name, "sw": name if sw == country.upper() else sw}  # not a country CLDR knows: as published


def _route_parts(row: dict[str, Any]) -> list[charts.Label] | None:
    """The stops of a published route line, each named as `_place` names it; None when the English label
    does not split into one name per code (a name containing the arrow itself)."""
    codes = reporting_tables.route_stops(row)
    names = (row["route_label"] or "").split(" → ")
    if len(names) != len(codes):
        return None
    return [_place(code, name) for code, name in zip(codes, names, strict=True)]


def _joined(parts: Sequence[charts.Label]) -> charts.Label:
    if all(isinstance(p, str) for p in parts):
        return " → ".join(parts)  # type: ignore[arg-type]
    return {lang: " → ".join(charts.label_text(p, lang) for p in parts) for lang in LANGS}


def _label(row: dict[str, Any], table: ReportingTable) -> charts.Label:
    if "label_en" in table.columns:
        return {"en": row["label_en"] or "", "sw": row["label_sw"] or row["label_en"] or ""}
    if table.name == "cases_by_province":
        name = row["former_province"] or ""
        return {"en": name, "sw": PROVINCE_SW.get(name, name)}
    if "country_name" in table.columns:  # the destination, by country or by province and country
        return _place(row["country_code"], row["country_name"])
    if table.name == "cases_by_transit_point":
        return _place(row["transit_code"], row["transit_name"])
    if table.name == "cases_by_route":
        parts = _route_parts(row)
        return _joined(parts) if parts else row["route_label"] or ""
    for c in ("county_name", "carrier_name"):
        if c in table.columns:
            return row[c] or row[table.key[0]] or ""
    return str(row[table.key[0]])


def _key(row: dict[str, Any], table: ReportingTable) -> str:
    return "|".join("" if row[c] is None else str(row[c]) for c in table.key)


def _bars(
    data: PackData,
    table: ReportingTable,
    *,
    top: int | None = None,
    colours: dict[str, str] | None = None,
    prev: bool = True,
) -> tuple[list[charts.Bar], int]:
    prev_by_key = {_key(r, table): r["cases"] for r in data.prev_rows.get(table.name, []) if not r["suppressed"]}
    rows = data.rows[table.name]
    shown = rows if top is None else rows[:top]
    bars = []
    for r in shown:
        colour = charts.PALETTE[0]
        if colours is not None:
            colour = colours.get(r.get("former_province") or "", charts.PALETTE[-1])
        bars.append(
            charts.Bar(
                key=_key(r, table),
                label=_label(r, table),
                value=None if r["suppressed"] else r["cases"],
                prev=prev_by_key.get(_key(r, table)) if prev and data.prev_coverage else None,
                colour=colour,
            )
        )
    return bars, len(rows) - len(shown)


def _flows(data: PackData) -> tuple[list[charts.Flow], int, int]:

    flows = []
    # An origin's "other routes" line has no path to draw.
    published = [
        r for r in data.rows["cases_by_route"] if not r["suppressed"] and r["destination_code"] != OTHER_ROUTES
    ]
    withheld = len(data.rows["cases_by_route"]) - len(published)
    for r in published[:TOP_ROUTES]:
        parts = _route_parts(r)
        if parts is not None:
            origin, via, dest = parts[0], _joined(parts[1:-1]), parts[-1]
        else:  # a name containing the arrow itself: fall back to the codes
            stops = reporting_tables.route_stops(r)
            origin, via, dest = stops[0], " → ".join(stops[1:-1]), stops[-1]
        flows.append(charts.Flow(_key(r, TABLE_BY_NAME["cases_by_route"]), origin, via, dest, r["cases"]))
    return flows, withheld, max(len(published) - TOP_ROUTES, 0)


def _pairs(data: PackData, table: ReportingTable, top: int = 10) -> list[charts.Pair]:
    prev = {_key(r, table): r for r in data.prev_rows.get(table.name, [])}
    pairs = []
    for r in data.rows[table.name]:
        p = prev.get(_key(r, table))
        if p is None:
            continue
        pairs.append(
            charts.Pair(
                _key(r, table),
                _label(r, table),
                None if p["suppressed"] else p["cases"],
                None if r["suppressed"] else r["cases"],
            )
        )
    pairs.sort(key=lambda p: (p.cur is None or p.prev is None, -(p.cur or 0)))
    return pairs[:top]


def _trend_series(data: PackData, name: str, top: int | None = None) -> list[charts.Series]:
    """One series per cell of a table over the years, the report year's largest first. A year with figures
    but no row for the cell had no such cases (0); a withheld cell is None."""
    t = TABLE_BY_NAME[name]
    labels: dict[str, charts.Label] = {}
    values: dict[str, dict[int, int | None]] = {}
    for year, rows in data.years.items():
        for r in rows[name]:
            labels[_key(r, t)] = _label(r, t)  # the latest year's name
            values.setdefault(_key(r, t), {})[year] = None if r["suppressed"] else r["cases"]
    for v in values.values():
        for year in data.years:
            v.setdefault(year, 0)

    def rank(key: str) -> tuple[bool, int, int]:
        now = values[key][data.year]
        return (now is None, -(now or 0), -sum(v or 0 for v in values[key].values()))

    keys = sorted(values, key=lambda k: (*rank(k), k))[:top]
    return [charts.Series(k, labels[k], values[k], charts.PALETTE[i % len(charts.PALETTE)]) for i, k in enumerate(keys)]


def _trends(data: PackData, langs: Sequence[str], tr: _Tr) -> dict[str, Any]:
    """The trend section: charts over every year with figures, or a note when there is one year only."""
    if len(data.years) < 2:
        return {"first": data.year, "note": tr("trends_single", year=data.year), "charts": []}
    years = list(range(min(data.years), data.year + 1))
    cov = {y: rows["coverage"][0] for y, rows in data.years.items()}
    notes = {
        y: {lang: TEXT["trends_orgs"][lang].format(n=c["organisations"]) for lang in LANGS} for y, c in cov.items()
    }
    total = charts.Series("cases_total", TEXT["cases_total"], {y: c["cases_total"] for y, c in cov.items()})
    dest_title = {lang: TEXT["trends_dest"][lang].format(n=TREND_DESTINATIONS, year=data.year) for lang in LANGS}
    panels = [
        ("cases_total", TEXT["trends_total"], [total], notes, 1, 560),
        (
            "cases_by_exploitation_type",
            TABLE_BY_NAME["cases_by_exploitation_type"].title,
            _trend_series(data, "cases_by_exploitation_type"),
            None,
            3,
            1000,
        ),
        (
            "cases_by_destination_country",
            dest_title,
            _trend_series(data, "cases_by_destination_country", TREND_DESTINATIONS),
            None,
            3,
            1000,
        ),
    ]
    out = [
        (
            name,
            tr(title),
            *(  # the chart, and the same for a phone's screen
                charts.trend_chart(
                    f"trend_{name}",
                    years,
                    series,
                    langs,
                    title=title,
                    notes=year_notes,
                    columns=columns,
                    width=width,
                    narrow=narrow,
                )
                for narrow in (False, True)
            ),
        )
        for name, title, series, year_notes, columns, width in panels
        if series
    ]
    listed = " · ".join(f"{y}: {charts.fmt(c['organisations'])}" for y, c in cov.items())
    return {"first": min(data.years), "note": tr("trends_p", orgs=listed), "charts": out}


def _province_name(name: str) -> dict[str, str]:
    return {"en": name, "sw": PROVINCE_SW.get(name, name)}


def _regional_sections(data: PackData, tr: _Tr) -> tuple[list[dict[str, Any]], Markup | None]:
    """A section per former province of origin with enough published cases (REGION_MIN_K), each part the
    province's rows of one reporting table (routes: those whose origin county is in the province), and the
    sentence naming the provinces with too little published data."""
    province_of = {f"county:{r['county_code']}": r["former_province"] for r in data.rows["cases_by_origin_county"]}
    sections, thin = [], []
    for p in data.rows["cases_by_province"]:
        name = p["former_province"]
        parts = []
        for part, table_name in REGION_PARTS:
            table = TABLE_BY_NAME[table_name]
            rows = [
                r
                for r in data.rows[table_name]
                if (province_of.get(r["origin_code"]) if table_name == "cases_by_route" else r["former_province"])
                == name
            ]
            shown = rows[:TOP_REGION]
            top = max([r["cases"] or 0 for r in shown] + [1])
            parts.append(
                {
                    "name": table_name,
                    "title": tr(part),
                    "rows": [
                        {
                            "key": _key(r, table),
                            "label": _label(r, table),
                            "cases": None if r["suppressed"] else r["cases"],
                            "width": 0 if r["suppressed"] else round(100 * r["cases"] / top, 1),
                        }
                        for r in shown
                    ],
                    "more": len(rows) - len(shown),
                }
            )
        published = any(row["cases"] is not None for part in parts[1:3] for row in part["rows"])
        if p["suppressed"] or p["cases"] < REGION_MIN_K * data.k or not published:
            thin.append(name)
            continue
        for part in parts:
            for row in part["rows"]:
                row["label"] = tr(row["label"]) if isinstance(row["label"], dict) else row["label"]
        sections.append({"province": name, "title": tr(_province_name(name)), "cases": p["cases"], "parts": parts})
    sentence = None
    if thin:
        sentence = tr.spans(
            {
                lang: TEXT["regional_thin"][lang].format(
                    names=", ".join(_province_name(n)[lang] for n in thin if n) or "-"
                )
                for lang in tr.langs
            }
        )
    return sections, sentence


def _tip_table(data: PackData, tr: _Tr) -> dict[str, Any]:
    """cases_tip pivoted: a row per exploitation type (its cases from cases_by_exploitation_type), a column per
    breakdown; a breakdown without a row has no cases (0)."""
    tip = {(r["exploitation_type"], r["breakdown"]): r for r in data.rows["cases_tip"]}
    types = TABLE_BY_NAME["cases_by_exploitation_type"]
    rows = []
    for t in data.rows["cases_by_exploitation_type"]:
        code = t["exploitation_type"]
        cells = [{"key": f"{code}|all", "cases": t["cases"], "withheld": t["suppressed"], "absent": False}]
        for _, columns in TIP_COLUMNS:
            for breakdown, _ in columns:
                r = tip.get((code, breakdown))
                cells.append(
                    {
                        "key": f"{code}|{breakdown}",
                        "cases": None if r is None or r["suppressed"] else r["cases"],
                        "withheld": bool(r and r["suppressed"]),
                        "absent": r is None,
                    }
                )
        rows.append({"label": tr(_label(t, types)), "cells": cells})
    return {
        "groups": [(tr(group), len(columns)) for group, columns in TIP_COLUMNS],
        "columns": [tr(title) for _, columns in TIP_COLUMNS for _, title in columns],
        "rows": rows,
    }


def _html_value(col: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_html(data: PackData, langs: Sequence[str] = LANGS) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from ingest.contract import CONTRACT_VERSION

    langs = tuple(langs)
    tr = _Tr(langs)
    provinces = [r["former_province"] for r in data.rows["cases_by_province"]]
    for r in data.rows["cases_by_origin_county"]:
        if r["former_province"] not in provinces:
            provinces.append(r["former_province"])
    prov_colours = {p: charts.PALETTE[i % len(charts.PALETTE)] for i, p in enumerate(provinces)}
    prev_year = data.year - 1 if data.prev_coverage else None

    def bar_section(
        name: str,
        *,
        top: int | None = TOP_BARS,
        colours: dict[str, str] | None = None,
        width: int = 520,
        label_width: int = 180,
    ) -> dict[str, Any]:
        table = TABLE_BY_NAME[name]
        bars, more = _bars(data, table, top=top, colours=colours)
        withheld = [b for b in bars if b.value is None]
        listed = []
        if len(withheld) > WITHHELD_INLINE:  # many withheld cells: name them under the chart, not as rows
            bars = [b for b in bars if b.value is not None]
            listed = [(b.key, tr(b.label) if isinstance(b.label, dict) else b.label) for b in withheld]

        def chart(**layout: Any) -> Markup | None:
            return (
                charts.bar_chart(name, bars, langs, title=table.title, prev_year=prev_year, **layout) if bars else None
            )

        return {
            "name": name,
            "title": tr(table.title),
            "chart": chart(width=width, label_width=label_width),
            "narrow": chart(narrow=True),  # the same bars for a phone's screen
            "more": more,
            "additive": table.additive,
            "kenyan_origin": table.adds_up_to == "kenyan_origin_cases",
            "withheld": listed,
        }

    flows, routes_withheld, routes_more = _flows(data)
    flow_svg = (
        charts.flow_chart("cases_by_route", flows, langs, title=TABLE_BY_NAME["cases_by_route"].title)
        if flows
        else None
    )

    cov, pcov = data.coverage or {}, data.prev_coverage
    change = None
    if pcov and isinstance(cov.get("cases_total"), int) and isinstance(pcov.get("cases_total"), int):
        cur, old = cov["cases_total"], pcov["cases_total"]
        pct = f"{abs(cur - old) / old * 100:.0f}%" if old else "n/a"
        sign = "+" if cur > old else "−" if cur < old else "±"
        change = {
            "text": tr("vs_prev", sign=sign, pct=pct, prev=data.year - 1, prev_total=charts.fmt(old)),
            "direction": "up" if cur > old else "down" if cur < old else "same",
            "pairs": [
                (
                    tr(TABLE_BY_NAME[n].title),
                    *(  # the chart, and the same for a phone's screen
                        charts.dumbbell_chart(
                            f"change_{n}",
                            pairs,
                            langs,
                            title=TABLE_BY_NAME[n].title,
                            years=(data.year - 1, data.year),
                            narrow=narrow,
                        )
                        for narrow in (False, True)
                    ),
                )
                for n in ("cases_by_province", "cases_by_destination_country", "cases_by_exploitation_type")
                if (pairs := _pairs(data, TABLE_BY_NAME[n]))
            ],
            "note": tr(
                "change_p",
                prev=data.year - 1,
                year=data.year,
                prev_orgs=pcov.get("organisations"),
                orgs=cov.get("organisations"),
            ),
        }

    figure_tables = []
    for t, table_rows in _pack_tables(data):
        rows = []
        for raw, public in zip(table_rows, _public_rows(t, table_rows), strict=True):
            cells = []
            for col, value in zip(t.columns, public, strict=True):
                if col in ("cases", "value"):
                    shown = tr("withheld") if raw["suppressed"] else charts.fmt(value)
                elif col == "suppressed":
                    shown = Markup("&#10003;") if value else ""
                elif col == "former_province" and value in PROVINCE_SW:
                    shown = tr({"en": value, "sw": PROVINCE_SW[value]})
                elif PLACE_COLUMNS.get(t.name) == col and isinstance(place := _label(raw, t), dict):
                    shown = tr(place)  # countries in Swahili in the SW view; the value stays as published
                elif isinstance(value, int) and not isinstance(value, bool):
                    shown = charts.fmt(value)
                else:
                    shown = "" if value is None else str(value)
                cells.append(
                    {
                        "col": col,
                        "value": _html_value(col, value),
                        "shown": shown,
                        "num": col in ("cases", "value", "organisations", "submissions", "route_records", "cases_total")
                        or (col == "periods" and isinstance(value, int)),
                    }
                )
            rows.append({"cells": cells, "withheld": bool(raw.get("suppressed"))})
        figure_tables.append(
            {
                "name": t.name,
                "title": tr(t.title),
                "additive": t.additive or t is TRENDS,  # the trend's rows are no "routes involving X"
                "note": tr("tip_note" if t.name == "cases_tip" else "not_additive"),
                "columns": [(c, tr(COLUMN_TITLES[c])) for c in t.columns],
                "rows": rows,
            }
        )

    key_figures = [(c, cov.get(c)) for c in ("cases_total", "organisations", "submissions", "route_records", "periods")]
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v: charts.fmt(v) if isinstance(v, int) and not isinstance(v, bool) else v
    template = env.get_template("report.html.j2")
    county = bar_section("cases_by_origin_county", top=None, colours=prov_colours, label_width=150)
    county["legend"] = [(tr({"en": p, "sw": PROVINCE_SW.get(p, p)}), prov_colours[p]) for p in provinces if p]
    county_map = maps.county_map(data.rows["cases_by_origin_county"], langs, title=TEXT["county_map"])
    route_map = maps.route_map(
        data.rows["cases_by_route"],
        langs,
        title=TEXT["route_map"],
        label=lambda row: _label(row, TABLE_BY_NAME["cases_by_route"]),
    )
    regions, regions_thin = _regional_sections(data, tr)
    return template.render(
        data=data,
        langs=langs,
        tr=tr,
        year=data.year,
        k=data.k,
        internal=data.internal,
        key_figures=key_figures,
        change=change,
        trends=_trends(data, langs, tr),
        prev_year=data.year - 1,
        flow_svg=flow_svg,
        county_map=county_map,
        route_map=route_map,
        n_mapped=len(maps.drawn_routes(data.rows["cases_by_route"])),
        n_routes=len(flows),
        routes_withheld=routes_withheld,
        routes_more=routes_more,
        province=bar_section("cases_by_province", top=None, label_width=150),
        county=county,
        destination=bar_section("cases_by_destination_country"),
        exploitation=bar_section("cases_by_exploitation_type", label_width=200),
        recruitment=bar_section("cases_by_recruitment_method", label_width=220),
        control=bar_section("cases_by_means_of_control", label_width=220),
        carrier=bar_section("cases_by_carrier"),
        transit=bar_section("cases_by_transit_point", label_width=245),
        figure_tables=figure_tables,
        regions=regions,
        regions_thin=regions_thin,
        region_min_k=REGION_MIN_K,
        tip=_tip_table(data, tr),
        code_lists=data.code_lists,
        contract=CONTRACT_VERSION,
        generated=data.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        top_bars=TOP_BARS,
    )


# --------------------------------------------------------------------------------------------- the pack


def write_pack(
    settings: Settings, year: int, out_dir: Path, min_cell: int | None = None, langs: Sequence[str] = LANGS
) -> Path:
    """Write the yearly report pack for `year` into `out_dir` and return `out_dir`.

    `out_dir/csv/<table>.csv`, `out_dir/njia-report-YYYY.xlsx` and `out_dir/njia-report-YYYY.html`. Files are
    written to a temporary folder beside them and moved into place only when all of them are complete.
    `min_cell` other than the warehouse's k computes the reporting models into a private schema (internal
    use; the page and the workbook say so). Raises ReportError when there is nothing (safe) to publish.
    """
    langs = tuple(dict.fromkeys(lang.strip().lower() for lang in langs if lang.strip()))
    if not langs or any(lang not in LANGS for lang in langs):
        raise ValueError(f"langs must be taken from {LANGS}, got {langs!r}")
    out_dir = Path(out_dir).expanduser().resolve()
    data = read_pack_data(settings, int(year), min_cell)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".njia-report-", dir=out_dir) as tmp:
        stage = Path(tmp)
        write_csvs(data, stage / "csv")
        write_xlsx(data, stage / f"njia-report-{data.year}.xlsx")
        (stage / f"njia-report-{data.year}.html").write_text(render_html(data, langs), encoding="utf-8")
        (out_dir / "csv").mkdir(exist_ok=True)
        for path in sorted((stage / "csv").iterdir()):
            os.replace(path, out_dir / "csv" / path.name)
        for path in sorted(stage.glob("njia-report-*")):
            os.replace(path, out_dir / path.name)
    log.info("wrote the %s report pack (k=%s, schema %s) to %s", data.year, data.k, data.schema, out_dir)
    return out_dir


__all__ = [
    "TABLES",
    "ReportError",
    "code_list_versions",
    "read_pack_data",
    "render_html",
    "write_csvs",
    "write_pack",
    "write_xlsx",
]
