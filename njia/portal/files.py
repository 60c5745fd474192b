"""Files through the portal: an upload is checked (name, size, type by content), saved atomically into its
organisation's inbox folder (docs/contract.md §1) and processed by the one ingest entry point the command line
and the DAG call; the outcome and the history are read from the ledger and the feedback files (§4-§7)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import errno
import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from psycopg.rows import dict_row

from ingest import feedback
from njia import warehouse
from njia.settings import Settings

SUFFIXES = ("csv", "xlsx")
HEAD_BYTES = 64 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Signatures of binary formats that are never a CSV, whatever the name says.
_BINARY_MAGIC = (
    b"MZ",
    b"\x7fELF",
    b"%PDF",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class PortalConfigError(RuntimeError):
    """The portal cannot run with this configuration; the message says what to set."""


class UploadRefused(ValueError):
    """An upload the portal does not save; `code` names the reason (text.REFUSALS)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Saved:
    path: Path
    original_name: str
    sha256: str
    size_bytes: int


def inbox_root(settings: Settings) -> Path:
    """The inbox as a local folder: the portal writes files with a local atomic rename."""
    url = settings.inbox_url
    if "://" in url and not url.startswith("file://"):
        raise PortalConfigError(
            f"NJIA_INBOX is {url}: the portal saves uploads into a local (or mounted) inbox "
            "folder; mount the storage and point NJIA_INBOX at the mount"
        )
    return Path(url.removeprefix("file://")).expanduser().resolve()


def safe_name(name: str) -> str:
    """The delivered name reduced to letters, digits, `.`, `_` and `-`, keeping a .csv or .xlsx suffix;
    never hidden (ingest skips names starting with a dot) and never a path."""
    base = unicodedata.normalize("NFKC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    suffix = suffix.lower()
    if not dot or suffix not in SUFFIXES:
        raise UploadRefused("unsupported_type")
    stem = _UNSAFE.sub("_", stem).strip("._-")[:80] or "upload"
    return f"{stem}.{suffix}"


def save_upload(settings: Settings, organisation: str, name: str, source: BinaryIO) -> Saved:
    """Check and save one upload into `<inbox>/<organisation>/`: written under a hidden temporary name (never
    picked up by ingest), then linked to its final name, which never replaces an existing file."""
    final_name = safe_name(name)
    folder = inbox_root(settings) / organisation
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder)
    tmp = folder / f"{_PART_PREFIX}{secrets.token_hex(8)}.part"
    digest, size = hashlib.sha256(), 0
    try:
        with tmp.open("xb") as out:
            while block := source.read(1 << 20):
                size += len(block)
                if size > settings.max_file_bytes:
                    raise UploadRefused("too_large")
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise UploadRefused("empty")
        check_type(tmp, final_name.rsplit(".", 1)[1])
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        for n in range(1, 1000):
            target = folder / (f"{stamp}-{final_name}" if n == 1 else f"{stamp}-{n}-{final_name}")
            try:
                os.link(tmp, target)  # fails when the name exists: a file already delivered is never replaced
                break
            except FileExistsError:
                continue
            except OSError as exc:  # a file system without hard links (some network mounts)
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                    raise
                if not target.exists():
                    os.rename(tmp, target)
                    break
        else:  # pragma: no cover - a thousand uploads of one name in one second
            raise UploadRefused("busy")
    finally:
        tmp.unlink(missing_ok=True)
    return Saved(target, name, digest.hexdigest(), size)


_PART_PREFIX = ".portal-"
_STALE_PART = 3600  # seconds: an upload still being written after an hour belongs to a process that died


def _sweep(folder: Path) -> None:
    """Remove what uploads interrupted by a crash left (they may hold personal data; ingest never reads them)."""
    now = dt.datetime.now().timestamp()
    for part in folder.glob(f"{_PART_PREFIX}*.part"):
        try:
            if now - part.stat().st_mtime > _STALE_PART:
                part.unlink()
        except FileNotFoundError:
            continue


def check_type(path: Path, suffix: str) -> None:
    """By content, not by name: an .xlsx is a real workbook package, a .csv is text."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    if suffix == "xlsx":
        if not head.startswith(b"PK\x03\x04"):
            raise UploadRefused("not_xlsx")
        try:
            with zipfile.ZipFile(path) as zf:
                names = {n.lower() for n in zf.namelist()}
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise UploadRefused("not_xlsx") from exc
        if "[content_types].xml" not in names or "xl/workbook.xml" not in names:
            raise UploadRefused("not_xlsx")
        return
    if head.startswith(_UTF16_BOMS):
        try:
            head[: len(head) // 2 * 2].decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UploadRefused("not_csv") from exc
        return
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise UploadRefused("not_csv")
    control = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D))
    if control > len(head) // 100:
        raise UploadRefused("not_csv")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head.removeprefix(b"\xef\xbb\xbf"), final=False)
    except UnicodeDecodeError:
        try:
            head.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise UploadRefused("not_csv") from exc


def process(settings: Settings, path: Path) -> None:
    """The file through the same entry point as `njia ingest` and the DAG, limited to this one file (so
    another organisation's files are never touched), in this process.

    A file rejected for personal data is then deleted from the inbox: its bytes are not kept (docs/contract.md
    §2.4), and unlike a file an organisation put in its own folder, nobody else can remove it."""
    from ingest.pipeline import ingest

    ingest(settings, [str(path)], workers=1)
    with warehouse.connect(settings) as conn:
        personal = conn.execute(
            "select 1 from ops.submissions s left join ops.submissions first on first.submission_id = s.duplicate_of"
            " where s.file_path = %s and 'pii_columns' in (s.reason, first.reason)",
            (str(path),),
        ).fetchone()
    if personal:
        path.unlink(missing_ok=True)


# --- the ledger, for one organisation --------------------------------------------------------------


def record_upload(settings: Settings, organisation: str, user_id: int, saved: Saved) -> int:
    with warehouse.connect(settings) as conn:
        return conn.execute(
            "insert into ops.portal_uploads (organisation_code, user_id, file_path, original_name, sha256,"
            " size_bytes) values (%s, %s, %s, %s, %s, %s) returning upload_id",
            (organisation, user_id, str(saved.path), saved.original_name[:500], saved.sha256, saved.size_bytes),
        ).fetchone()[0]


def upload_failed(settings: Settings, upload_id: int, error_id: str) -> None:
    with warehouse.connect(settings) as conn:
        conn.execute("update ops.portal_uploads set error_id = %s where upload_id = %s", (error_id, upload_id))


def upload(settings: Settings, organisation: str, upload_id: int) -> dict | None:
    """The upload with the ledger row it became (`submission_id`, None while it is processed)."""
    with warehouse.connect(settings, row_factory=dict_row) as conn:
        return conn.execute(
            "select u.*, (select s.submission_id from ops.submissions s where s.file_path = u.file_path"
            "  and s.sha256 = u.sha256 order by s.submission_id desc limit 1) as submission_id"
            " from ops.portal_uploads u where u.upload_id = %s and u.organisation_code = %s",
            (upload_id, organisation),
        ).fetchone()


_HISTORY = """
select s.submission_id, s.file_name, s.file_path, s.sha256, s.received_at, s.status, s.reason, s.detail,
       s.rows_read, s.rows_loaded, s.rows_quarantined, s.ignored_columns, s.duplicate_of,
       coalesce(s.delivery_seq, s.submission_id) as seq,
       coalesce(array_agg(p.reporting_period order by p.period_start) filter (where p.reporting_period is not null),
                '{}') as periods
from ops.submissions s left join ops.submission_periods p using (submission_id)
where s.organisation_code = %s {only}
group by s.submission_id
order by coalesce(s.delivery_seq, s.submission_id) desc, s.submission_id desc
"""

# Every pair of accepted files of the organisation that cover the same period.
_SAME_PERIOD = """
select p.submission_id, p.reporting_period, q.submission_id as other, t.file_name as other_name,
       coalesce(t.delivery_seq, t.submission_id) as other_seq
from ops.submission_periods p
join ops.submission_periods q on q.organisation_code = p.organisation_code
     and q.reporting_period = p.reporting_period and q.submission_id <> p.submission_id
join ops.submissions t on t.submission_id = q.submission_id
where p.organisation_code = %s
"""


def history(settings: Settings, organisation: str, submission_id: int | None = None) -> list[dict]:
    """Every file of the organisation (newest delivery first) with its periods, and for each period the file
    it replaced (the previous accepted delivery of that period) and the one that replaced it, if any
    (docs/contract.md §5: the latest accepted delivery of a period is in force)."""
    only = "and s.submission_id = %s" if submission_id is not None else ""
    params = (organisation, submission_id) if submission_id is not None else (organisation,)
    with warehouse.connect(settings, row_factory=dict_row) as conn:
        files = conn.execute(_HISTORY.replace("{only}", only), params).fetchall()
        pairs = conn.execute(_SAME_PERIOD, (organisation,)).fetchall() if files else []
    seq = {f["submission_id"]: f["seq"] for f in files}
    for f in files:
        f["replaces"], f["replaced_by"] = [], []
        mine = [p for p in pairs if p["submission_id"] == f["submission_id"]]
        for period in f["periods"]:
            same = [p for p in mine if p["reporting_period"] == period]
            earlier = [p for p in same if p["other_seq"] < seq[f["submission_id"]]]
            later = [p for p in same if p["other_seq"] > seq[f["submission_id"]]]
            if earlier:
                e = max(earlier, key=lambda p: p["other_seq"])
                f["replaces"].append({"period": period, "submission_id": e["other"], "file_name": e["other_name"]})
            if later:
                n = min(later, key=lambda p: p["other_seq"])
                f["replaced_by"].append({"period": period, "submission_id": n["other"], "file_name": n["other_name"]})
    return files


def feedback_csv(ledger: dict) -> Path | None:
    """The feedback CSV ingest wrote for this file (docs/contract.md §7), if it is still there."""
    folder = Path(ledger["file_path"]).parent
    name = f"{feedback._short(ledger['file_name'])}.{ledger['sha256'][:8]}.feedback.csv"
    for sub in ("feedback", feedback.FALLBACK_FOLDER):
        if (folder / sub / name).is_file():
            return folder / sub / name
    return None


def feedback_items(settings: Settings, ledger: dict) -> list[dict[str, str]]:
    """The feedback's lines (item, row, column, value, code, message_en, message_sw): from the feedback CSV
    the organisation's folder received, else rebuilt from the ledger and the quarantine."""
    path = feedback_csv(ledger)
    if path is not None:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        return list(csv.DictReader(io.StringIO(text)))
    items = [
        {
            "item": "status",
            "code": ledger["status"],
            "message_en": feedback.message(ledger["status"]),
            "message_sw": feedback.message(ledger["status"], "sw"),
        }
    ]
    if ledger["reason"]:
        detail = f" ({ledger['detail']})" if ledger["detail"] else ""
        items.append(
            {
                "item": "reason",
                "code": ledger["reason"],
                "message_en": feedback.message(ledger["reason"]) + detail,
                "message_sw": feedback.message(ledger["reason"], "sw") + detail,
            }
        )
    for name in ledger["ignored_columns"]:
        items.append(
            {
                "item": "ignored_column",
                "column": name,
                "code": "ignored_column",
                "message_en": feedback.message("ignored_column"),
                "message_sw": feedback.message("ignored_column", "sw"),
            }
        )
    with warehouse.connect(settings) as conn:
        for row, column, value, code in conn.execute(
            "select row_number, column_name, value, problem_code from ops.quarantine where submission_id = %s"
            " order by row_number, column_name",
            (ledger["submission_id"],),
        ):
            items.append(
                {
                    "item": "problem",
                    "row": str(row or ""),
                    "column": column or "",
                    "value": value or "",
                    "code": code,
                    "message_en": feedback.message(code),
                    "message_sw": feedback.message(code, "sw"),
                }
            )
    return items
