"""Country names in the report's languages: English from ISO 3166 (pycountry's common names), Swahili from
the Unicode CLDR (babel's `sw` locale), so the Swahili view never falls back to English for a country CLDR
names. Codes are ISO 3166-1 alpha-2, as the code lists and the reporting tables hold them.
"""

from __future__ import annotations

from functools import cache

import pycountry
from babel import Locale

LANGS = ("en", "sw")


@cache
def _territories(lang: str) -> dict[str, str]:
    return dict(Locale.parse(lang).territories)


def country_name(code: str, lang: str = "en") -> str:
    """The country's name in `lang`; the code itself when it is not a country (never an error: labels only)."""
    code = (code or "").upper()
    if lang != "en":
        name = _territories(lang).get(code)
        if name:
            return name
    c = pycountry.countries.get(alpha_2=code)
    if c is None:
        return code
    return getattr(c, "common_name", None) or c.name


def country_names(code: str) -> dict[str, str]:
    """One label per report language, as the charts take them."""
    return {lang: country_name(code, lang) for lang in LANGS}
