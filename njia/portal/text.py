"""Every word the portal shows, in English and Kiswahili. The feedback's own messages (statuses, reasons,
problems) are ingest's (ingest/feedback.py); these are the portal's pages around them."""

from __future__ import annotations

LANGS = ("en", "sw")

# key -> (English, Kiswahili)
TEXT: dict[str, tuple[str, str]] = {
    "portal": ("Njia portal", "Tovuti ya Njia"),
    "tagline": ("Route reports from your organisation", "Ripoti za njia kutoka shirika lako"),
    "language": ("Language", "Lugha"),
    "skip": ("Skip to the content", "Ruka hadi maudhui"),
    "sign_in": ("Sign in", "Ingia"),
    "sign_out": ("Sign out", "Toka"),
    "email": ("E-mail", "Barua pepe"),
    "password": ("Password", "Nenosiri"),
    "new_password": ("New password (at least 12 characters)", "Nenosiri jipya (angalau herufi 12)"),
    "repeat_password": ("The new password again", "Nenosiri jipya tena"),
    "set_password": ("Set the password", "Weka nenosiri"),
    "password_title": ("Choose your password", "Chagua nenosiri lako"),
    "password_set": ("Your password is set. Sign in with it.", "Nenosiri lako limewekwa. Ingia nalo."),
    "link_invalid": (
        "This link is not valid any more (used, expired or replaced). Ask the Njia team for a new one.",
        "Kiungo hiki si halali tena (kimetumika, kimeisha muda au kimebadilishwa). Omba timu ya Njia kiungo kipya.",
    ),
    "too_short": ("The password must have at least 12 characters.", "Nenosiri lazima liwe na angalau herufi 12."),
    "too_long": ("The password is too long.", "Nenosiri ni refu mno."),
    "mismatch": ("The two passwords differ.", "Manenosiri mawili yanatofautiana."),
    "wrong": ("Wrong e-mail or password.", "Barua pepe au nenosiri si sahihi."),
    "rate_limited": (
        "Too many failed attempts. Wait 15 minutes, then try again.",
        "Majaribio mengi yameshindwa. Subiri dakika 15, kisha ujaribu tena.",
    ),
    "forgot": (
        "Forgot your password? Ask the Njia team for a new link.",
        "Umesahau nenosiri? Omba timu ya Njia kiungo kipya.",
    ),
    "signed_in_as": ("Signed in as", "Umeingia kama"),
    "organisation": ("Organisation", "Shirika"),
    "nav_upload": ("Send a file", "Tuma faili"),
    "nav_files": ("Your files", "Faili zako"),
    "nav_downloads": ("Template and rules", "Kiolezo na kanuni"),
    "upload_title": ("Send a route report", "Tuma ripoti ya njia"),
    "upload_help": (
        "A .csv or .xlsx file filled in from the template, at most {size}. It is checked at once and "
        "the feedback shows here.",
        "Faili la .csv au .xlsx lililojazwa kutoka kwenye kiolezo, lisilozidi {size}. Linakaguliwa "
        "mara moja na maoni yanaonekana hapa.",
    ),
    "file": ("File", "Faili"),
    "send": ("Send", "Tuma"),
    "processing_title": ("Your file is being checked", "Faili lako linakaguliwa"),
    "processing": (
        "This page refreshes by itself; the feedback appears here when it is ready.",
        "Ukurasa huu unajisasisha wenyewe; maoni yataonekana hapa yakiwa tayari.",
    ),
    "refresh": ("Refresh", "Sasisha"),
    "processing_failed": (
        "The file was saved but could not be checked now. It will be checked in the next "
        "scheduled run; come back later. Error id: {error}",
        "Faili limehifadhiwa lakini halikuweza kukaguliwa sasa. Litakaguliwa katika mzunguko "
        "unaofuata; rudi baadaye. Namba ya kosa: {error}",
    ),
    "feedback_title": ("Feedback", "Maoni"),
    "status": ("Status", "Hali"),
    "received": ("Received", "Imepokelewa"),
    "rows_read": ("Rows read", "Safu zilizosomwa"),
    "rows_loaded": ("Rows loaded", "Safu zilizopokelewa"),
    "rows_set_aside": ("Rows set aside", "Safu zilizowekwa kando"),
    "periods": ("Periods", "Vipindi"),
    "reason": ("Reason", "Sababu"),
    "ignored_columns": ("Ignored columns", "Safu wima zilizopuuzwa"),
    "problems": ("Problems", "Matatizo"),
    "row": ("Row", "Safu"),
    "column": ("Column", "Safu wima"),
    "value": ("Value", "Thamani"),
    "code": ("Code", "Msimbo"),
    "message": ("Message", "Ujumbe"),
    "no_problems": ("No problems.", "Hakuna matatizo."),
    "more_problems": ("{n} more problems are in the CSV.", "Matatizo mengine {n} yako kwenye CSV."),
    "download_feedback": ("Download the feedback (CSV)", "Pakua maoni (CSV)"),
    "history_title": ("Your files", "Faili zako"),
    "history_help": (
        "Every file your organisation sent, newest first. For each period the latest accepted file "
        "is in force; a correction replaces the earlier file of the same period.",
        "Kila faili ambalo shirika lako limetuma, la karibuni kwanza. Kwa kila kipindi faili la mwisho "
        "lililopokelewa ndilo linalotumika; marekebisho yanachukua nafasi ya faili la awali la "
        "kipindi hicho.",
    ),
    "no_files": ("No files yet.", "Bado hakuna faili."),
    "replaces": ("replaces", "inachukua nafasi ya"),
    "replaced_by": ("replaced by", "imechukuliwa nafasi na"),
    "in_force": ("in force", "inatumika"),
    "for_period": ("for", "kwa"),
    "duplicate_of": ("same bytes as", "sawa na"),
    "open": ("open", "fungua"),
    "downloads_title": ("Template and rules", "Kiolezo na kanuni"),
    "template_en": ("Excel template (English)", "Kiolezo cha Excel (Kiingereza)"),
    "template_sw": ("Excel template (Kiswahili)", "Kiolezo cha Excel (Kiswahili)"),
    "contract_en": ("The submission rules (English)", "Kanuni za kuwasilisha (Kiingereza)"),
    "contract_sw": ("The submission rules (Kiswahili)", "Kanuni za kuwasilisha (Kiswahili)"),
    "contract_title": ("The submission rules", "Kanuni za kuwasilisha"),
    "contract_intro": (
        "What a route report holds, and what each status, reason and problem in the feedback means. "
        "One row is one route seen in one reporting period; headers may be in English or Kiswahili.",
        "Ripoti ya njia ina nini, na kila hali, sababu na tatizo katika maoni linamaanisha nini. "
        "Safu moja ni njia moja iliyoonekana katika kipindi kimoja cha ripoti; vichwa vinaweza kuwa "
        "kwa Kiingereza au Kiswahili.",
    ),
    "columns": ("Columns", "Safu wima"),
    "english": ("English", "Kiingereza"),
    "kiswahili": ("Kiswahili", "Kiswahili"),
    "required": ("Required", "Inahitajika"),
    "yes": ("yes", "ndiyo"),
    "no": ("no", "hapana"),
    "meaning": ("Meaning", "Maana"),
    "statuses": ("Statuses", "Hali"),
    "reasons": ("Why a file is rejected", "Kwa nini faili linakataliwa"),
    "row_problems": ("Row problems", "Matatizo ya safu"),
    "no_personal_data": (
        "Never send personal data (names, phone numbers, ID numbers, addresses): a file that holds "
        "any is rejected and not kept.",
        "Usitume kamwe taarifa binafsi (majina, namba za simu, namba za vitambulisho, anwani): faili "
        "lenye taarifa hizo linakataliwa na halihifadhiwi.",
    ),
    "refused": ("The file was not accepted", "Faili halikupokelewa"),
    "not_found": ("Not found", "Haikupatikana"),
    "not_found_text": ("There is nothing here.", "Hakuna kitu hapa."),
    "forbidden": ("The form has expired", "Fomu imeisha muda"),
    "forbidden_text": (
        "The form was not sent from this page, or it expired. Go back, reload the page and try again.",
        "Fomu haikutumwa kutoka ukurasa huu, au imeisha muda. Rudi, pakia ukurasa upya na ujaribu tena.",
    ),
    "back": ("Back", "Rudi"),
}

# Why the portal does not save an upload (it never reaches the inbox, so it gets no ledger row).
REFUSALS: dict[str, tuple[str, str]] = {
    "no_file": ("Choose a file to send.", "Chagua faili la kutuma."),
    "unsupported_type": (
        "Only .csv and .xlsx files are accepted.",
        "Faili za .csv na .xlsx pekee ndizo zinazokubaliwa.",
    ),
    "too_large": ("The file is larger than {size}.", "Faili ni kubwa kuliko {size}."),
    "empty": ("The file is empty.", "Faili ni tupu."),
    "not_xlsx": (
        "The file is named .xlsx but is not an Excel workbook. Save it from Excel as .xlsx, or as CSV.",
        "Faili limeitwa .xlsx lakini si kitabu cha kazi cha Excel. Lihifadhi kutoka Excel kama .xlsx, au kama CSV.",
    ),
    "not_csv": (
        'The file is named .csv but is not text. Save it from Excel as "CSV UTF-8".',
        'Faili limeitwa .csv lakini si maandishi. Lihifadhi kutoka Excel kama "CSV UTF-8".',
    ),
    "busy": (
        "Too many files with this name at once; try again.",
        "Faili nyingi zenye jina hili kwa wakati mmoja; jaribu tena.",
    ),
}

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "accepted": ("Accepted", "Limepokelewa"),
    "accepted_with_errors": ("Partly accepted", "Limepokelewa kwa sehemu"),
    "rejected": ("Rejected", "Limekataliwa"),
    "duplicate": ("Already received", "Lilishapokelewa"),
}


def t(key: str, lang: str, **values: object) -> str:
    en, sw = TEXT.get(key) or REFUSALS.get(key) or STATUS_LABELS.get(key) or (key, key)
    text = sw if lang == "sw" else en
    return text.format(**values) if values else text


def size_label(n: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{n} B"
