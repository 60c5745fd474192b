"""Finding delivered files: the inbox's organisation folders in delivery order, opening and hashing a file
wherever fsspec reaches it, and who delivered it (docs/contract.md §1)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

import fsspec

log = logging.getLogger(__name__)


def _is_candidate(name: str) -> bool:
    # Skip hidden files and the lock files Excel and LibreOffice leave beside an open workbook.
    return not name.startswith((".", "~$", ".~lock"))


def files_in(source: str, known_orgs: Iterable[str]) -> Iterator[str]:
    fs, root = fsspec.core.url_to_fs(source)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]

    def url(path: str) -> str:
        return path if protocol in ("file", "local") else f"{protocol}://{path}"

    if fs.isfile(root):
        yield url(root)
        return
    if not fs.isdir(root):
        raise FileNotFoundError(f"inbox {source} does not exist")
    entries = fs.ls(root, detail=True)
    # A folder named like a registered organisation that holds files is one organisation's folder.
    if PurePosixPath(root).name in known_orgs and any(e["type"] == "file" for e in entries):
        folders = [root]
    else:
        folders = sorted(e["name"] for e in entries if e["type"] == "directory")
    for folder in folders:
        # Delivery order is modification time: a correction is processed after the file it corrects.
        for entry in sorted(fs.ls(folder, detail=True), key=_delivery_order):
            name = PurePosixPath(entry["name"]).name
            if entry["type"] == "file" and _is_candidate(name):
                yield url(entry["name"])


def _delivery_order(entry: dict) -> tuple[float, str]:
    stamp = entry.get("mtime") or entry.get("LastModified") or entry.get("created") or 0
    return (stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp), entry["name"])


def open_delivered(file: str):  # an fsspec file object
    """Open a delivered file for reading. Only its folder is parsed as a URL: a name such as
    `routes::2024.csv` would otherwise be taken for fsspec's URL chaining and crash the whole run."""
    folder, name = file.rsplit("/", 1)
    fs, path = fsspec.core.url_to_fs(folder)
    return fs.open(f"{path.rstrip('/')}/{name}", "rb")


def _hash(file: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open_delivered(file) as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def hash_or_none(file: str) -> str | None:
    """The file's SHA-256, or None (logged) when it vanished or cannot be read: one such file must not
    stop the discovery of the others; it is looked at again by the next run."""
    try:
        return _hash(file)[0]
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        log.warning("%s: cannot be read (%s); skipped until the next run", file, type(exc).__name__)
        return None


def organisation_of(file: str) -> tuple[str, str]:
    """The folder is the authority on who submitted (docs/contract.md §1): (organisation, folder URL)."""
    parent = file.rsplit("/", 1)[0]
    return parent.rsplit("/", 1)[-1], parent


def source_mtime(file: str) -> dt.datetime | None:
    """The delivered file's modification time where its storage gives one (None otherwise)."""
    folder, name = file.rsplit("/", 1)
    try:
        fs, path = fsspec.core.url_to_fs(folder)
        info = fs.info(f"{path.rstrip('/')}/{name}")
    except (OSError, ValueError):
        return None
    return _as_time(info.get("mtime") or info.get("LastModified") or info.get("created"))


def _as_time(stamp: object) -> dt.datetime | None:
    if isinstance(stamp, dt.datetime):
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    if isinstance(stamp, (int, float)) and stamp > 0:
        return dt.datetime.fromtimestamp(stamp, dt.UTC)
    return None

