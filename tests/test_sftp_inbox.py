"""A real remote inbox: OpenSSH's sshd on 127.0.0.1, one chrooted SFTP user per organisation, key auth.

The organisations upload with their own accounts (as their SFTP program would); Njia reads every folder as
its own user, archives locally and writes the feedback back over SFTP (docs/interfaces.md §2.5).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_helpers import csv_bytes, grid, new_settings, query, row, rows, write_registry
from sftp_server import SftpServer, unavailable

from ingest.pipeline import ingest
from njia.settings import Settings

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")

ORGS = ["SFTP_A", "SFTP_B"]


@pytest.fixture(scope="module")
def sftp() -> Iterator[SftpServer]:
    import tempfile

    # sshd accepts a chroot only on a path whose every folder is root's and not writable by others (/tmp is).
    root = Path(tempfile.mkdtemp(prefix="njia-sftp-", dir="/run"))
    server = SftpServer(root, ORGS).start()
    try:
        yield server
    finally:
        server.stop()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def _known_hosts(sftp: SftpServer, path: Path, port: int | None = None) -> Path:
    key = (sftp.root / "host_ed25519.pub").read_text().split()
    path.write_text(f"[127.0.0.1]:{port or sftp.port} {key[0]} {key[1]}\n")
    return path


def _settings(server_home: Path, tmp_path: Path, sftp: SftpServer, port: int | None = None, **extra) -> Settings:
    s = new_settings(
        server_home,
        tmp_path,
        sftp_key=sftp.keys[sftp.njia_user],
        sftp_known_hosts=_known_hosts(sftp, tmp_path / "known_hosts", port),
        **extra,
    )
    s = Settings(**{**s.model_dump(), "inbox": f"sftp://{sftp.njia_user}@127.0.0.1:{port or sftp.port}/"})
    write_registry(s.organisations_path, ORGS)
    return s


def _upload(sftp: SftpServer, organisation: str, name: str, data: bytes) -> None:
    client = sftp.client(sftp.users[organisation])
    try:
        with client.open(name, "wb") as fh:  # the organisation starts in its own folder
            fh.write(data)
    finally:
        client.close()


def _listing(sftp: SftpServer, organisation: str, folder: str = ".") -> list[str]:
    client = sftp.client(sftp.users[organisation])
    try:
        return sorted(client.listdir(folder))
    finally:
        client.close()


def _clear(sftp: SftpServer) -> None:
    for organisation in ORGS:
        client = sftp.client(sftp.users[organisation])
        try:
            for folder in (".", "feedback"):
                try:
                    names = client.listdir(folder)
                except OSError:
                    continue
                for name in names:
                    if name != "feedback":
                        client.remove(f"{folder}/{name}")
        finally:
            client.close()


def test_an_organisation_sees_only_its_own_folder(sftp: SftpServer) -> None:
    client = sftp.client(sftp.users["SFTP_A"])
    try:
        for forbidden in ("/", "/SFTP_B", "../SFTP_B"):
            with pytest.raises(PermissionError):
                client.listdir(forbidden)
        with pytest.raises(PermissionError):
            client.open("/SFTP_B/planted.csv", "wb")
    finally:
        client.close()


def test_files_read_over_sftp_archived_locally_feedback_written_back(
    server_home: Path, tmp_path: Path, sftp: SftpServer
) -> None:
    _clear(sftp)
    s = _settings(server_home, tmp_path, sftp)
    _upload(sftp, "SFTP_A", "2020-q1.csv", csv_bytes(grid(rows(5))))
    _upload(sftp, "SFTP_B", "2020-q1.csv", csv_bytes(grid(rows(3) + [row(cases_estimated=99, exploitation_type="")])))
    outcomes = ingest(s, workers=1)
    assert sorted((o.organisation, o.status, o.rows_loaded) for o in outcomes) == [
        ("SFTP_A", "accepted", 5),
        ("SFTP_B", "accepted_with_errors", 3),
    ]
    assert all(o.file.startswith("sftp://") for o in outcomes)
    for o in outcomes:  # the bytes are kept locally, by their SHA-256
        assert (s.archive_dir / o.sha256[:2] / o.sha256).is_file()
    assert query(s, "select count(*) from raw.route_reports") == [(8,)]
    # each organisation reads its own feedback, over its own account
    for organisation in ORGS:
        names = _listing(sftp, organisation, "feedback")
        assert any(n.endswith(".html") for n in names) and any(n.endswith(".csv") for n in names), names
    assert ingest(s, workers=1) == []  # nothing processed twice
    assert query(s, "select count(*) from ops.submissions") == [(2,)]


def test_parallel_workers_read_over_sftp(server_home: Path, tmp_path: Path, sftp: SftpServer) -> None:
    _clear(sftp)
    s = _settings(server_home, tmp_path, sftp)
    for start, organisation in enumerate(ORGS):  # different bytes: the same file twice would be a duplicate
        _upload(sftp, organisation, "2021.csv", csv_bytes(grid(rows(4, start=10 * start + 1, reporting_period="2021"))))
    outcomes = ingest(s, workers=2)
    assert sorted((o.organisation, o.status) for o in outcomes) == [("SFTP_A", "accepted"), ("SFTP_B", "accepted")]


def test_an_unknown_host_key_is_refused(server_home: Path, tmp_path: Path, sftp: SftpServer) -> None:
    _clear(sftp)
    s = _settings(server_home, tmp_path, sftp)
    s.sftp_known_hosts.write_text("")  # the server's key is not known: a man in the middle looks the same
    _upload(sftp, "SFTP_A", "2020-q2.csv", csv_bytes(grid(rows(2, reporting_period="2020-Q2"))))
    with pytest.raises(Exception, match="host key"):
        ingest(s, workers=1)
    assert query(s, "select count(*) from ops.submissions") == [(0,)]


class _FlakyProxy:
    """Forwards TCP to sshd; the first connection is cut after `cut_after` bytes from the server."""

    def __init__(self, target: int, cut_after: int) -> None:
        self.target, self.cut_after = target, cut_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.cut = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            server = socket.create_connection(("127.0.0.1", self.target))
            limit = self.cut_after if not self.cut else None
            if limit is not None:
                self.cut = True
            threading.Thread(target=self._pipe, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, limit), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while data := src.recv(16384):
                if limit is not None and sent + len(data) > limit:
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.listener.close()


def test_a_connection_dropped_mid_file_is_retried_without_a_duplicate(
    server_home: Path, tmp_path: Path, sftp: SftpServer
) -> None:
    _clear(sftp)
    data = csv_bytes(grid(rows(3000, reporting_period="2022")))  # a few hundred KB: the cut falls inside it
    _upload(sftp, "SFTP_A", "2022.csv", data)
    proxy = _FlakyProxy(sftp.port, cut_after=len(data) // 3)
    try:
        s = _settings(server_home, tmp_path, sftp, port=proxy.port)
        outcomes = ingest(s, workers=1)
        assert proxy.cut and proxy.connections >= 2
        assert [(o.status, o.rows_loaded) for o in outcomes] == [("accepted", 3000)]
        assert query(s, "select count(*), count(distinct (submission_id, row_number)) from raw.route_reports") == [
            (3000, 3000)
        ]
        assert ingest(s, workers=1) == []
        assert query(s, "select count(*) from ops.submissions") == [(1,)]
    finally:
        proxy.close()


def test_a_link_to_another_organisations_file_is_not_read(server_home: Path, tmp_path: Path, sftp: SftpServer) -> None:
    _clear(sftp)
    s = _settings(server_home, tmp_path, sftp)
    _upload(sftp, "SFTP_B", "2023.csv", csv_bytes(grid(rows(3, reporting_period="2023"))))
    client = sftp.client(sftp.users["SFTP_A"])
    try:  # SFTP lets a user make links; the chroot does not stop one naming a path it cannot read itself
        client.symlink("/SFTP_B/2023.csv", "borrowed.csv")
    finally:
        client.close()
    outcomes = ingest(s, workers=1)
    assert [(o.organisation, o.status) for o in outcomes] == [("SFTP_B", "accepted")]
