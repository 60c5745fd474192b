"""A real OpenSSH SFTP server on 127.0.0.1 for the remote-inbox tests: one chrooted user per organisation.

Layout (docs/interfaces.md §2.5): every user is chrooted into `<root>/inbox` (root-owned, mode 751: only
Njia's group can list it), starts in its own organisation's folder (owned by the organisation's user, group shared with
the Njia user only, mode 2770), and can do nothing but SFTP. The Njia user reaches every organisation's
folder through its groups. Key authentication only. Needs root (useradd, chroot) and Debian's
openssh-server; the caller skips otherwise.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
PREFIX = "njiasftp"  # every system user and group the harness creates starts with it, so cleanup is exact


def unavailable() -> str | None:
    """Why the SFTP server cannot run here, or None."""
    if os.geteuid() != 0:
        return "the SFTP inbox test needs root (it creates chrooted users)"
    if not Path(SSHD).exists():
        return "sshd is not installed (Debian package openssh-server; .ci/run installs it)"
    if not shutil.which("ssh-keygen") or not shutil.which("useradd"):
        return "ssh-keygen or useradd is missing"
    return None


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SftpServer:
    root: Path
    organisations: list[str]
    port: int = 0
    process: subprocess.Popen | None = None
    keys: dict[str, Path] = field(default_factory=dict)  # user -> private key file
    users: dict[str, str] = field(default_factory=dict)  # organisation -> its user

    njia_user: str = f"{PREFIX}_njia"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    def url(self, user: str | None = None) -> str:
        return f"sftp://{user or self.njia_user}@127.0.0.1:{self.port}/"

    def start(self) -> SftpServer:
        self._cleanup_accounts()
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        keys = self.root / "keys"
        keys.mkdir(mode=0o755)
        _run("groupadd", "--system", self.njia_user)
        _run(
            "useradd",
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "--gid",
            self.njia_user,
            self.njia_user,
        )
        # The chroot must be root's and not writable by a group; Njia's group may list it, others only pass.
        self.inbox.mkdir()
        shutil.chown(self.inbox, "root", self.njia_user)
        os.chmod(self.inbox, 0o751)
        for organisation in self.organisations:
            user = f"{PREFIX}_{organisation.lower()}"
            group = f"{user}_g"
            _run("groupadd", "--system", group)
            _run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--gid", group, user)
            _run("usermod", "--append", "--groups", group, self.njia_user)
            folder = self.inbox / organisation
            folder.mkdir()
            shutil.chown(folder, user, group)
            os.chmod(folder, 0o2770)
            self.users[organisation] = user
        for user in [self.njia_user, *self.users.values()]:
            key = keys / user
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", user, "-f", str(key))
            (keys / f"{user}.authorized").write_text((keys / f"{user}.pub").read_text())
            self.keys[user] = key
        host_key = self.root / "host_ed25519"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key))
        self.port = _free_port()
        config = self.root / "sshd_config"
        starts = "".join(
            f"Match User {user}\n    ForceCommand internal-sftp -u 0007 -d /{organisation}\n"
            for organisation, user in self.users.items()
        )
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {self.root / 'sshd.pid'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            f"AuthorizedKeysFile {keys}/%u.authorized\nStrictModes no\nUsePAM no\n"
            f"AllowUsers {' '.join([self.njia_user, *self.users.values()])}\n"
            f"ChrootDirectory {self.inbox}\nAllowTcpForwarding no\nX11Forwarding no\n"
            "Subsystem sftp internal-sftp\nLogLevel VERBOSE\n"
            f"Match User {self.njia_user}\n    ForceCommand internal-sftp -u 0007\n{starts}"
        )
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
        # sshd refuses accounts whose password field says "locked" even for keys: '*' is no password, not locked.
        for user in [self.njia_user, *self.users.values()]:
            _run("usermod", "-p", "*", user)
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "sshd.log").open("w"),
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.root / 'sshd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("sshd did not start listening within 20 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._cleanup_accounts()

    def _cleanup_accounts(self) -> None:
        for entry in pwd.getpwall():
            if entry.pw_name.startswith(PREFIX):
                subprocess.run(["userdel", entry.pw_name], capture_output=True)
        for entry in grp.getgrall():
            if entry.gr_name.startswith(PREFIX):
                subprocess.run(["groupdel", entry.gr_name], capture_output=True)

    def client(self, user: str):  # a paramiko SFTPClient, as the organisation's own SFTP program would be
        import paramiko

        transport = paramiko.Transport(("127.0.0.1", self.port))
        transport.connect(username=user, pkey=paramiko.Ed25519Key.from_private_key_file(str(self.keys[user])))
        return paramiko.SFTPClient.from_transport(transport)
