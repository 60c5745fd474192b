"""Finding delivered files: the inbox's organisation folders in delivery order, opening and hashing a file
wherever fsspec reaches it, and who delivered it (docs/contract.md §1)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import fsspec

if TYPE_CHECKING:
    from njia.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

READ_ATTEMPTS = 3  # a remote inbox's connection may drop mid-file: read the file again from the start
REMOTE_TIMEOUT = 30  # seconds for an SFTP server to answer (connect, banner, authentication)


class InboxConfigError(ValueError):
    """The inbox URL or its connection settings cannot work; the message says what to change."""


def use_settings(settings: Settings) -> None:
    """fsspec's options for remote inboxes in this process, from the settings (docs/interfaces.md §2.5).

    SFTP: Njia's key (`NJIA_SFTP_KEY`; else the user's ~/.ssh keys and agent) and host keys checked against
    `NJIA_SFTP_KNOWN_HOSTS`: fsspec alone would trust whatever server answers first, and a man in the middle
    would then read every organisation's files. Called by `discover` and `process`, so worker processes and
    the portal get the same options.
    """
    inbox = urlsplit(settings.inbox_url)
    if inbox.password is not None:
        raise InboxConfigError(
            "NJIA_INBOX holds a password: it would be written into the ledger and the logs with every file's "
            "path. Use key authentication instead (NJIA_SFTP_KEY, docs/interfaces.md §2.5)."
        )
    key = str(settings.sftp_key.expanduser()) if settings.sftp_key else None
    fsspec.config.conf["sftp"] = {
        "host_key_policy": _known_hosts_policy(settings.sftp_known_hosts.expanduser()),
        **({"key_filename": key, "look_for_keys": False, "allow_agent": False} if key else {}),
        "timeout": REMOTE_TIMEOUT,
        "banner_timeout": REMOTE_TIMEOUT,
        "auth_timeout": REMOTE_TIMEOUT,
    }


_POLICIES: dict[Path, Any] = {}


def _known_hosts_policy(path: Path) -> Any:
    """One policy object per file, so fsspec's cache of connections (keyed by its options) is reused."""
    if path not in _POLICIES:
        import paramiko

        class KnownHostsOnly(paramiko.MissingHostKeyPolicy):
            def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
                known = paramiko.HostKeys(str(path)) if path.exists() else paramiko.HostKeys()
                entry = known.lookup(hostname)
                if entry is None or key.get_name() not in entry:
                    raise paramiko.SSHException(
                        f"the SFTP server {hostname} offered a {key.get_name()} host key that {path} does not list; "
                        f"check its fingerprint with the server's administrator, then add it (ssh-keyscan) to "
                        f"NJIA_SFTP_KNOWN_HOSTS"
                    )
                if entry[key.get_name()] != key:
                    raise paramiko.SSHException(
                        f"the SFTP server {hostname} offered a host key that differs from the one in {path}: "
                        f"someone may be impersonating it; nothing was read"
                    )

        _POLICIES[path] = KnownHostsOnly()
    return _POLICIES[path]


def _remote(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol not in ("file", "local")


def reading(file: str, read: Callable[[IO[bytes]], T]) -> T:
    """`read` applied to the delivered file, opened afresh. On a remote inbox a connection that drops
    mid-file is opened again and the file read again from its start (READ_ATTEMPTS in all): the reader sees
    whole files only, so nothing is loaded twice or half. A missing or forbidden file is not retried."""
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            with open_delivered(file) as fh:
                return read(fh)
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            raise
        except Exception as exc:
            fs, _ = fsspec.core.url_to_fs(file.rsplit("/", 1)[0])
            if not _remote(fs) or attempt == READ_ATTEMPTS:
                raise
            log.warning(
                "%s: the connection failed while reading (%s); reading it again (%d of %d)",
                file,
                type(exc).__name__,
                attempt + 1,
                READ_ATTEMPTS,
            )
            type(fs).clear_instance_cache()  # the cached connection is dead: the next open makes a new one
            time.sleep(attempt)
    raise AssertionError("unreachable")


def _is_candidate(name: str) -> bool:
    # Skip hidden files and the lock files Excel and LibreOffice leave beside an open workbook.
    return not name.startswith((".", "~$", ".~lock"))


def files_in(source: str, known_orgs: Iterable[str]) -> Iterator[str]:
    fs, root = fsspec.core.url_to_fs(source)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    # fsspec lists an SFTP server's paths without the server (`/ORG/x.csv`); a bucket's keep the bucket.
    netloc = urlsplit(source).netloc
    server = "" if not netloc or root.lstrip("/").startswith(netloc) else netloc

    def url(path: str) -> str:
        return path if protocol in ("file", "local") else f"{protocol}://{server}{path}"

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
            if entry.get("islink") or entry["type"] == "link":
                # Whoever can write the folder could point a link at another organisation's file, or at
                # anything Njia can read, and get it loaded and echoed back in their feedback.
                log.warning("%s: a symbolic link is not a delivery; skipped", url(entry["name"]))
            elif entry["type"] == "file" and _is_candidate(name):
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
    def digest_of(fh: IO[bytes]) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
        return digest.hexdigest(), size

    return reading(file, digest_of)


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
