"""Personal data by meaning (docs/contract.md §2): which headers name a person, a contact or an identity
document, in English or Swahili, however they are spelled; and a bounded look at a file's first rows.

A header is cut into words (case, accents, fullwidth forms, zero-width characters, punctuation, camelCase,
plurals and `No`/`No.`/`#`/`nbr` as `number` all normalised away) and judged word by word, so that
`Phone No.`, `ＰＨＯＮＥ` and `Survivor's name` match while `organisation_name` and `phone_calls_received`
do not: a person word (`name`, `jina`) is personal only when every other word is about a person, and a
contact or document word (`phone`, `passport`) is personal unless a word says the column counts or
describes something else (`calls`, `received`, `confiscated`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

from njia.cells import looks_like_contact, mask_contacts

_NUMBER = "number"
_NUMBER_WORDS = {"no", "nbr", "num", "nr", "number", "namba", "nambari", "numero"}

# Words that name a person: personal when the header says nothing but whose (victim, survivor...) it is.
_NAME_WORDS = {
    "name",
    "jina",
    "majina",
    "surname",
    "username",
    "fullname",
    "firstname",
    "lastname",
    "middlename",
    "givenname",
    "familyname",
    "othername",
    "forename",
    "nickname",
    "jinakamili",
}
# Words that may stand beside a name and keep it a person's name.
_PERSON_WORDS = {
    "victim",
    "survivor",
    "person",
    "persons",
    "people",
    "individual",
    "client",
    "beneficiary",
    "child",
    "parent",
    "guardian",
    "mother",
    "father",
    "relative",
    "witness",
    "suspect",
    "trafficker",
    "recruiter",
    "employer",
    "agent",
    "kin",
    "next",
    "full",
    "first",
    "last",
    "middle",
    "given",
    "family",
    "other",
    "maiden",
    "christian",
    "baptismal",
    "legal",
    "real",
    "his",
    "her",
    "their",
    "your",
    "s",
    "of",
    "the",
    "a",
    "la",
    "ya",
    "wa",
    "cha",
    "za",
    "kamili",
    "kwanza",
    "mwisho",
    "ukoo",
    "mwathiriwa",
    "waathiriwa",
    "mtu",
    "mtoto",
    "mzazi",
    "mlezi",
    "mama",
    "baba",
    "ndugu",
    "shahidi",
    "mteja",
    _NUMBER,
    "and",
    "na",
    "or",
    "au",
}
# Words that are personal on their own: contacts, identity documents, birth, location of a person.
_CONTACT_WORDS = {
    "phone",
    "mobile",
    "telephone",
    "tel",
    "cellphone",
    "msisdn",
    "whatsapp",
    "simu",
    "rununu",
    "email",
    "mail",
    "barua",
    "pepe",
    "address",
    "anwani",
    "contact",
    "mawasiliano",
    "passport",
    "pasipoti",
    "kitambulisho",
    "vitambulisho",
    "huduma",
    "nid",
    "ssn",
    "identity",
    "identification",
    "dob",
    "birthdate",
    "birthday",
    "birth",
    "kuzaliwa",
    "kin",
    "gps",
    "latitude",
    "longitude",
    "coordinates",
    "lat",
    "lng",
    "signature",
    "photo",
    "photograph",
    "fingerprint",
    "kra",  # a Kenyan tax PIN identifies a person
}
# Words that make a contact or document word describe something other than a person's details.
_INNOCENT_WORDS = {
    "call",
    "sms",
    "message",
    "received",
    "made",
    "count",
    "total",
    "cases",
    "case",
    "visa",
    "idadi",
    "confiscated",
    "withheld",
    "withholds",
    "kunyang",
    "anywa",
    "taken",
    "money",
    "network",
    "operator",
    "provider",
    "hotline",
    "helpline",
    "organisation",
    "organization",
    "shirika",
    "office",
    "ofisi",
    "type",
    "aina",
    "rate",
}
# `id` is an identity number only beside a document or person word (`organisation_id` is a key).
_ID_PARTNERS = {
    "national",
    "card",
    "document",
    "doc",
    "identity",
    "kitaifa",
    "passport",
    "alien",
    "refugee",
    _NUMBER,
} | _PERSON_WORDS
# Joined spellings (`FullName` is split by case; `fullname` is not).
_COMPOUNDS = {
    "fullname": ("full", "name"),
    "firstname": ("first", "name"),
    "lastname": ("last", "name"),
    "phoneno": ("phone", _NUMBER),
    "phonenumber": ("phone", _NUMBER),
    "mobileno": ("mobile", _NUMBER),
    "mobilenumber": ("mobile", _NUMBER),
    "telno": ("tel", _NUMBER),
    "idno": ("id", _NUMBER),
    "idnumber": ("id", _NUMBER),
    "nationalid": ("national", "id"),
    "emailaddress": ("email", "address"),
    "dateofbirth": ("date", "of", "birth"),
    "nextofkin": ("next", "of", "kin"),
    "victimname": ("victim", "name"),
}
_VOCABULARY = _NAME_WORDS | _PERSON_WORDS | _CONTACT_WORDS | _INNOCENT_WORDS | _ID_PARTNERS | {"id", "date"}

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_LETTERS_OR_DIGITS = re.compile(r"[a-z]+|[0-9]+")
# Words people write as one that camelCase or a space splits: `SurName`, `Nick name`, `Birth Date`.
_SPLIT_COMPOUNDS = {
    ("sur", "name"): "surname",
    ("fore", "name"): "forename",
    ("nick", "name"): "nickname",
    ("user", "name"): "username",
    ("birth", "date"): "birthdate",
    ("tele", "phone"): "telephone",
    ("cell", "phone"): "cellphone",
    ("pass", "port"): "passport",
}


def _join_split_compounds(parts: list[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if out and (out[-1], part) in _SPLIT_COMPOUNDS:
            out[-1] = _SPLIT_COMPOUNDS[(out[-1], part)]
        else:
            out.append(part)
    return out


MAX_HEADER_WORDS = 6
MAX_HEADER = 200  # characters of a header judged; a longer cell is not a header a person wrote


def words(header: str) -> list[str]:
    """A header as its normalised words."""
    text = unicodedata.normalize("NFKC", header[:MAX_HEADER])
    # Zero-width and other format characters (Cf) would split or hide a word: removed.
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if unicodedata.category(ch) not in ("Cf", "Mn"))
    text = _CAMEL.sub(" ", text).replace("#", " number ").casefold()
    text = re.sub(r"\be[\s_.\-]*mail", "email", text)  # e-mail, e mail, E_Mail
    text = text.replace("whats app", "whatsapp")
    # Letters and digits apart (`Phone1`, `simu2`); numbers alone name no kind of data.
    raw = [part for w in _NOT_WORD.split(text) for part in _LETTERS_OR_DIGITS.findall(w) if not part.isdigit()]
    raw = _join_split_compounds(raw)
    if len(raw) > 1 and all(len(w) == 1 for w in raw):
        raw = ["".join(raw)]  # initials: D.O.B, I.D
    out: list[str] = []
    for word in raw:
        for part in _COMPOUNDS.get(word, (word,)):
            out.append(_NUMBER if part in _NUMBER_WORDS else _singular(part))
    return out


def _singular(word: str) -> str:
    if word in _VOCABULARY:
        return word
    for cut in ("es", "s"):
        if word.endswith(cut) and word[: -len(cut)] in _VOCABULARY:
            return word[: -len(cut)]
    return word


def is_personal_header(header: str) -> bool:
    """Whether a column with this header would hold personal data (names, contacts, identity documents)."""
    found = words(header)
    if not found or len(found) > MAX_HEADER_WORDS:  # a sentence (instructions), not a column's header
        return False
    present = set(found)
    if present & _INNOCENT_WORDS:
        return False
    if present & _CONTACT_WORDS:
        return True
    if "date" in present and "birth" in present:
        return True
    if "id" in present and present - {"id"} <= _ID_PARTNERS:
        return True
    if present & _NAME_WORDS:
        return present - _NAME_WORDS <= _PERSON_WORDS
    return False


# --- a bounded look at the first rows ---------------------------------------------------------------

SCAN_ROWS = 50  # first rows of each sheet looked at
SCAN_CELLS = 200  # cells of a row looked at


def personal_data_in(
    rows: Iterable[Sequence[str]], skip: Iterable[int] = (), skip_from: int = 0, *, headers: bool = True
) -> str | None:
    """What first shows personal data in these rows (a header by meaning, or a value that looks like a
    phone number or an e-mail address), described without the value itself; None when nothing does.

    Cells at the positions in `skip` are not looked at from row `skip_from` (0-based) on: those are the
    contract's own columns, whose values are validated and masked where they are echoed."""
    skipped = set(skip)
    for r, cells in enumerate(islice(rows, SCAN_ROWS)):
        for c, cell in enumerate(islice(cells, SCAN_CELLS)):
            if not cell or (r >= skip_from and c in skipped):
                continue
            if headers and is_personal_header(cell):
                return f"row {r + 1}, column {c + 1}: {mask_contacts(cell[:MAX_HEADER])!r}"
            if looks_like_contact(cell):
                return f"row {r + 1}, column {c + 1}: a phone number or e-mail address"
    return None


# What any contact needs: 9 digits in a run, or an `@` (bounded repetition, no backtracking over the text:
# the chunk is searched in C, linear in its length; the e-mail part only runs where there is an `@`).
_PHONE_HINT = re.compile(r"\d(?:[ .()\-]{0,2}\d){8}")
_EMAIL_HINT = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}\.\w")


def _hints(text: str) -> Iterator[re.Match[str]]:
    yield from _PHONE_HINT.finditer(text)
    if "@" in text:
        yield from _EMAIL_HINT.finditer(text)


def first_contact_cell(numbers: Sequence[int], rows: Sequence[Sequence[str]]) -> tuple[int, int] | None:
    """(row number, 1-based column) of the first cell in a chunk of rows that looks like a phone number or
    an e-mail address, in any column, or None. The chunk is searched as one text first; cells only when it
    has a hint, and each hint is confirmed by `looks_like_contact` around it (so periods stay periods)."""
    if not rows:
        return None
    text = "|".join("|".join(r) for r in rows)
    if _PHONE_HINT.search(text) is None and ("@" not in text or _EMAIL_HINT.search(text) is None):
        return None
    for number, cells in zip(numbers, rows, strict=True):
        for position, cell in enumerate(cells):
            for hint in _hints(cell):
                if looks_like_contact(cell[max(0, hint.start() - 64) : hint.end() + 256]):
                    return number, position + 1
    return None
