"""Each process's private folder for the local copies of delivered bytes and the spools, under
NJIA_HOME/tmp, and the sweep of the folders of processes that died (their copies may hold personal data)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO

from ingest.discovery import reading
from njia.settings import Settings

_TMP_DIRS: dict[tuple[Path, int], tuple[Path, int]] = {}


def tmp_dir(settings: Settings) -> Path:
    """This process's folder for local copies and spools, under NJIA_HOME/tmp.

    A process killed mid-file leaves its copy of the delivered bytes behind, personal data included
    (docs/contract.md §2.4: those bytes are not kept). Each process holds a lock on its own folder while it lives,
    so a folder whose lock is free belongs to a process that died, and is removed with what it holds.
    """
    root = settings.home_dir / "tmp"
    key = (root, os.getpid())
    if key not in _TMP_DIRS or not _TMP_DIRS[key][0].is_dir():
        if key in _TMP_DIRS:
            os.close(_TMP_DIRS.pop(key)[1])
        root.mkdir(parents=True, exist_ok=True)
        new = Path(tempfile.mkdtemp(dir=root, prefix=".new-"))  # not swept until locked and renamed
        fd = os.open(new, os.O_RDONLY)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _TMP_DIRS[key] = (new.rename(root / f"ingest-{new.name.removeprefix('.new-')}"), fd)
    own = _TMP_DIRS[key][0]
    for other in root.iterdir():
        if other == own:
            continue
        if other.is_dir() and other.name.startswith("ingest-"):
            _remove_if_dead(other)
        elif other.is_file() and other.name.startswith("incoming-"):
            other.unlink(missing_ok=True)  # live copies sit in locked ingest-* folders: this one is nobody's
    return own


def _remove_if_dead(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)  # its process is alive
        return
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        os.close(fd)


def local_copy(file: str, folder: Path) -> tuple[Path, str, int]:
    """Copy the delivered bytes to local disk while hashing them, so every later step reads the same bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="incoming-")

    def copy(fh: IO[bytes]) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        with open(name, "wb") as out:  # truncated on a retry: the copy starts again with the file
            while block := fh.read(1 << 20):
                digest.update(block)
                out.write(block)
                size += len(block)
        return digest.hexdigest(), size

    os.close(fd)
    sha256, size = reading(file, copy)
    return Path(name), sha256, size
