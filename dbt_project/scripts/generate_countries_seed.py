"""Writes seeds/countries.csv from pycountry (ISO 3166-1), the contract's source of country names.

Run it again when pycountry is upgraded; tests/test_dbt_project.py fails while the seed and pycountry differ.
`country_name` is the short name people read in reports (pycountry's common name where ISO's is formal,
e.g. "Tanzania" for "Tanzania, United Republic of"); `iso_name` keeps the ISO English short name.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pycountry

SEED = Path(__file__).resolve().parents[1] / "seeds" / "countries.csv"
COLUMNS = ("country_code", "alpha3_code", "iso_name", "country_name")


def rows() -> list[dict[str, str]]:
    out = []
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        out.append(
            {
                "country_code": country.alpha_2,
                "alpha3_code": country.alpha_3,
                "iso_name": country.name,
                "country_name": getattr(country, "common_name", None) or country.name,
            }
        )
    return out


def render() -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows())
    return buffer.getvalue()


if __name__ == "__main__":
    SEED.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {SEED} ({len(rows())} countries)\n")
