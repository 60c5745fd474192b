"""Content-addressed archive of received bytes: `<archive>/<sha[:2]>/<sha>`, written atomically,
so a crash never leaves half a file and a rerun finds the copy already there."""

from __future__ import annotations

import os
from pathlib import Path


def archive_path(archive_dir: Path, sha256: str) -> Path:
    return archive_dir / sha256[:2] / sha256


def keep(archive_dir: Path, sha256: str, local_copy: Path) -> Path:
    """Move the local copy into the archive (a no-op when those bytes are already there)."""
    target = archive_path(archive_dir, sha256)
    if target.exists():
        local_copy.unlink(missing_ok=True)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(local_copy, target)  # same filesystem: atomic
    target.chmod(0o440)
    return target
