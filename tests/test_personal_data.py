"""Personal data by meaning (ingest.personal_data) and contact masking (njia.cells): header variants
people really write, innocent look-alikes, and masking that is linear and spares periods and counts."""

from __future__ import annotations

import pytest

from ingest.contract import HEADER_ALIASES, code_list
from ingest.personal_data import is_personal_header, personal_data_in
from ingest.prepare import map_header
from njia import cells
from njia.cells import looks_like_contact, mask_contacts

PERSONAL = [
    # found by attacking the rule: a digit suffix, a compound split by case, a Kenyan tax PIN
    "Phone1",
    "Simu2",
    "SurName",
    "Nick name",
    "KRA PIN",
    "Birth Date",
    "name",
    "Name",
    "NAMES",
    "Full name",
    "full_name",
    "FullName",
    "fullname",
    "First Name",
    "Last name",
    "Surname",
    "surnames",
    "Name of victim",
    "Victim name",
    "victim_name",
    "Survivor's name",
    "Survivor Name",
    "Names of survivors",
    "Child's name",
    "jina",
    "Jina",
    "majina",
    "Jina la mwathiriwa",
    "Mwathiriwa Jina",
    "jina kamili",
    "Jina la mtoto",
    "phone",
    "Phone",
    "Phone No.",
    "Phone No",
    "phone_no",
    "Phone #",
    "Phone number",
    "PhoneNumber",
    "phone numbers",
    "Mobile",
    "Mobile number",
    "Mobile No.",
    "Telephone",
    "Telephone number",
    "Tel",
    "Tel.",
    "Tel no",
    "Simu",
    "Namba ya simu",
    "namba_ya_simu",
    "Nambari ya Simu",
    "E-mail",
    "email",
    "Email address",
    "E mail",
    "e_mail",
    "Barua pepe",
    "Contact",
    "Contacts",
    "Contact details",
    "Mawasiliano",
    "Address",
    "Home address",
    "Anwani",
    "ID No",
    "ID No.",
    "ID number",
    "ID #",
    "National ID",
    "NationalID",
    "National ID No.",
    "Kitambulisho",
    "Namba ya kitambulisho",
    "Huduma Namba",
    "Passport",
    "Passport No",
    "Passport number",
    "Pasipoti",
    "Date of birth",
    "DOB",
    "D.O.B",
    "Birth date",
    "Tarehe ya kuzaliwa",
    "Next of kin",
    "GPS",
    "Latitude",
    "Longitude",
    "ＰＨＯＮＥ",
    "Ｅｍａｉｌ",
    "p\u200bhone",
    "na\u200dme",
    "e\u00admail",
    "Pásspórt",
    "  Phone  ",
    "WhatsApp",
]

INNOCENT = [
    "organisation_name",
    "Organisation name",
    "organization name",
    "airline_name",
    "Airline Name",
    "carrier_name",
    "route_name",
    "county_name",
    "country name",
    "phone_calls_received",
    "Phone calls",
    "sms_received",
    "number_of_cases",
    "notes",
    "remarks",
    "comments",
    "age",
    "age_group",
    "sex",
    "gender",
    "year",
    "month",
    "quarter",
    "organisation_id",
    "submission_id",
    "row_id",
    "case id",
    "Passport or ID confiscated",
    "Kunyang'anywa pasipoti au kitambulisho",
    "hotline phone",
    "jina la shirika",
    "mobile money",
    "total",
    "source",
    "",
]


@pytest.mark.parametrize("header", PERSONAL)
def test_personal_header_variants_are_found(header: str) -> None:
    assert is_personal_header(header), header
    assert map_header(["reporting_period", header]).pii


@pytest.mark.parametrize("header", INNOCENT)
def test_innocent_headers_are_not_personal(header: str) -> None:
    assert not is_personal_header(header), header


def test_variant_lists_are_big_enough() -> None:
    assert len(PERSONAL) >= 40 and len(INNOCENT) >= 20


def test_no_contract_column_or_alias_is_personal() -> None:
    for alias in HEADER_ALIASES:
        assert not is_personal_header(alias), alias
        assert not is_personal_header(alias.replace("_", " ").title()), alias
    hm = map_header(list(HEADER_ALIASES))
    assert not hm.pii


def test_no_code_or_label_is_personal() -> None:
    # Cells of the contract's columns hold these: a first-rows scan must not take them for personal data.
    for seed in ("exploitation_types", "transport_modes", "recruitment_methods", "means_of_control", "counties"):
        for r in code_list(seed):
            for key in ("code", "label_en", "label_sw", "name"):
                if r.get(key):
                    assert not is_personal_header(r[key]), (seed, r[key])
                    assert not looks_like_contact(r[key]), (seed, r[key])


@pytest.mark.parametrize(
    ("value", "hidden"),
    [
        ("0722345678", "0722345678"),
        ("+254 722 345 678", "722 345"),
        ("+254-722-345-678", "722-345"),
        ("call 0722-345-678 now", "345"),
        ("(020) 123 4567", "123 4"),
        ("722345678", "2345"),
        ("wanjiru@example.org", "wanjiru"),
        ("mail W.K+x@mail.example.co.ke please", "example"),
        ("a phone 0733 111 222 and a@b.ke", "111"),
    ],
)
def test_contacts_are_masked(value: str, hidden: str) -> None:
    masked = mask_contacts(value)
    assert hidden not in masked and "*" in masked
    assert looks_like_contact(value)


@pytest.mark.parametrize(
    "value",
    [
        "2027-01",
        "2027-Q1",
        "2027",
        "2027-01-31",
        "1,200",
        "100000",
        "1 200",
        "2027-01 2027-02",
        "2027-01;2027-02",
        "KQ;QR",
        "county:047",
        "047",
        "NBO;DOH",
        "user@localhost",
        "@handle",
        "10.5",
        "722345",
    ],
)
def test_periods_counts_and_codes_are_left_alone(value: str) -> None:
    assert mask_contacts(value) == value
    assert not looks_like_contact(value)


def test_masking_a_200_kb_cell_is_bounded() -> None:
    # Inputs that make a backtracking pattern quadratic: long runs of local-part characters, digits
    # with separators, and `@`s. The output is cut to MAX_MASKED, so the work is bounded by it too.
    for cell in (
        "a" * 200_000,
        "a." * 100_000 + "@",
        "1 " * 100_000,
        "@" * 200_000,
        "a@" * 100_000,
        "0722345678 " * 20_000,
        "x@y" * 70_000,
    ):
        masked = mask_contacts(cell)
        assert len(masked) <= cells.MAX_MASKED + 1
        looks_like_contact(cell)
    assert "0722345678" not in mask_contacts("0722345678 " * 20_000)


def test_first_rows_scan() -> None:
    assert personal_data_in([["Report of 2027"], ["reporting_period", "phone"]])
    assert personal_data_in([["0722 345 678", "wanjiru@example.org"], ["2027-01", "3"]])
    assert (
        personal_data_in([["reporting_period", "origin_county"], ["2027-01", "0722345678"]], skip=[1], skip_from=1)
        is None
    )
    assert personal_data_in([["reporting_period", "notes"], ["2027-01", "call 0722345678"]], skip=[0], skip_from=1)
    found = personal_data_in([["x", "wanjiru@example.org"]])
    assert found and "wanjiru" not in found
