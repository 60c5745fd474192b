"""Alerts reach people: a real SMTP server (aiosmtpd) and a real HTTP receiver on loopback, no mocks."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from njia import alerts, monitor, warehouse
from njia.alerts import Alert
from njia.settings import Settings

TOKEN = "T0KEN-s3cret-in-the-path"
SMTP_PASSWORD = "smtp-pa55word-not-for-logs"


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append((data.login.decode(), data.password.decode()))
            return AuthResult(success=data.password.decode() == SMTP_PASSWORD)
        return AuthResult(success=False)


@pytest.fixture
def mailbox() -> Iterator[tuple[_Mailbox, int]]:
    box = _Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks readiness by connecting, so it needs a real port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=box.authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class _Receiver(ThreadingHTTPServer):
    status = 204
    redirect_to: str | None = None

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.posts: list[tuple[str, str, dict]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/{TOKEN}"


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:  # http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, self.headers["Content-Type"], json.loads(body)))
        if self.server.redirect_to:
            self.send_response(307)
            self.send_header("Location", self.server.redirect_to)
        else:
            self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _with_channels(settings: Settings, port: int | None = None, webhook: str | None = None, **extra: Any) -> Settings:
    update: dict[str, Any] = dict(extra)
    if port is not None:
        update |= {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "alert_email_to": "duty@example.org, lead@example.org",
            "alert_email_from": "njia@example.org",
        }
    if webhook is not None:
        update["alert_webhook_url"] = webhook
    return Settings(**{**settings.model_dump(), **update})


def _recorded(settings: Settings) -> list[tuple]:
    with warehouse.connect(settings) as conn:
        return conn.execute(
            "select kind, subject, channels_sent, channels_failed from ops.alerts order by alert_id"
        ).fetchall()


FAILED = Alert(
    "task_failed",
    "njia_ingest.process_organisation failed",
    ("run manual__1, try 3: disk full",),
    link="http://airflow.example.org/log",
)


def test_email_and_webhook_receive_the_alert(settings: Settings, mailbox, receiver) -> None:
    box, port = mailbox
    s = _with_channels(settings, port, receiver.url)
    delivery = alerts.notify(s, FAILED)
    assert delivery.sent == ["email", "webhook"] and delivery.ok
    [envelope] = box.messages
    assert envelope.rcpt_tos == ["duty@example.org", "lead@example.org"]
    text = envelope.content.decode()
    assert "Subject: [Njia] njia_ingest.process_organisation failed" in text
    assert "disk full" in text and "Log: http://airflow.example.org/log" in text
    [(path, content_type, payload)] = receiver.posts
    assert content_type == "application/json" and path.endswith(TOKEN)
    assert payload["kind"] == "task_failed" and payload["text"].startswith("[Njia] njia_ingest")
    assert payload["details"] == ["run manual__1, try 3: disk full"]
    assert _recorded(s) == [("task_failed", FAILED.subject, ["email", "webhook"], None)]


def test_smtp_login_and_no_secret_in_logs(
    settings: Settings, mailbox, receiver, caplog: pytest.LogCaptureFixture
) -> None:
    box, port = mailbox
    receiver.status = 500
    s = _with_channels(settings, port, receiver.url, smtp_user="njia", smtp_password=SMTP_PASSWORD)
    with caplog.at_level("DEBUG"):
        delivery = alerts.notify(s, FAILED)
    assert box.logins == [("njia", SMTP_PASSWORD)] and len(box.messages) == 1
    assert delivery.sent == ["email"] and delivery.failed == {"webhook": "HTTP 500"}
    assert _recorded(s) == [("task_failed", FAILED.subject, ["email"], {"webhook": "HTTP 500"})]
    assert TOKEN not in caplog.text and SMTP_PASSWORD not in caplog.text
    assert "not delivered by webhook: HTTP 500" in caplog.text


def test_wrong_smtp_password_is_a_failed_channel_not_an_exception(settings: Settings, mailbox) -> None:
    box, port = mailbox
    s = _with_channels(settings, port, smtp_user="njia", smtp_password="wrong")
    delivery = alerts.notify(s, FAILED)
    assert set(delivery.failed) == {"email"} and delivery.sent == [] and box.messages == []


def test_webhook_redirect_is_not_followed(settings: Settings, receiver) -> None:
    elsewhere = _Receiver()
    threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
    try:
        receiver.redirect_to = elsewhere.url
        delivery = alerts.notify(_with_channels(settings, webhook=receiver.url), FAILED)
        assert delivery.failed == {"webhook": "HTTP 307"}
        assert elsewhere.posts == []
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"])
def test_webhook_must_be_http(settings: Settings, url: str) -> None:
    delivery = alerts.notify(_with_channels(settings, webhook=url), FAILED)
    assert delivery.failed == {"webhook": "ValueError"}


def test_contacts_in_an_alert_are_masked(settings: Settings, receiver) -> None:
    alert = Alert("task_failed", "ingest failed on +254 722 345 678", ("value jane.doe@example.org in row 4",))
    alerts.notify(_with_channels(settings, webhook=receiver.url), alert)
    [(_, _, payload)] = receiver.posts
    posted = json.dumps(payload)
    assert "722 345 678" not in posted and "jane.doe@example.org" not in posted
    [(_, subject, _, _)] = _recorded(settings)
    assert "722 345 678" not in subject


def test_an_alert_with_a_key_is_not_repeated_within_the_window(settings: Settings, receiver) -> None:
    s = _with_channels(settings, webhook=receiver.url)
    alert = Alert("submissions_missing", "no submission from LATE for 2025-Q3", key="missing:2025-Q3:LATE")
    assert alerts.notify(s, alert).sent == ["webhook"]
    assert alerts.notify(s, alert).repeated
    assert len(receiver.posts) == 1 and len(_recorded(s)) == 1
    receiver.status = 500  # not delivered: the next occasion tries again, and it counts once it gets through
    other = Alert("submissions_missing", "no submission from SLOW for 2025-Q3", key="missing:2025-Q3:SLOW")
    assert alerts.notify(s, other).failed == {"webhook": "HTTP 500"}
    receiver.status = 204
    assert alerts.notify(s, other).sent == ["webhook"]
    assert alerts.notify(s, other).repeated
    del receiver.posts[1:]
    s0 = _with_channels(settings, webhook=receiver.url, alert_repeat_hours=0)
    assert alerts.notify(s0, alert).sent == ["webhook"]
    assert len(receiver.posts) == 2


def test_no_channel_configured_still_records_the_alert(settings: Settings) -> None:
    delivery = alerts.notify(settings, FAILED)
    assert delivery.sent == [] and delivery.ok
    assert _recorded(settings) == [("task_failed", FAILED.subject, [], None)]


def test_warehouse_down_still_sends(tmp_path: Path, receiver, caplog: pytest.LogCaptureFixture) -> None:
    s = Settings(
        home=tmp_path,
        warehouse_url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
        alert_webhook_url=receiver.url,
    )
    delivery = alerts.notify(s, FAILED)
    assert delivery.sent == ["webhook"] and len(receiver.posts) == 1
    assert "could not record the alert" in caplog.text


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown alert kind"):
        Alert("something", "x")


def test_failure_callback_alerts_with_the_log_link(
    settings: Settings, receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NJIA_WAREHOUSE_URL", settings.warehouse_url.get_secret_value())
    monkeypatch.setenv("NJIA_ALERT_WEBHOOK_URL", receiver.url)
    ti = SimpleNamespace(
        dag_id="njia_transform",
        task_id="build",
        map_index=-1,
        try_number=3,
        log_url="http://localhost:8080/dags/njia_transform/runs/r1/tasks/build",
    )
    monitor.task_failed({"task_instance": ti, "run_id": "r1", "exception": RuntimeError("dbt test failed")})
    [(_, _, payload)] = receiver.posts
    assert payload["kind"] == "task_failed"
    assert payload["subject"] == "Airflow task njia_transform.build failed after its retries"
    assert payload["link"] == ti.log_url
    assert "run r1, try 3: dbt test failed" in payload["details"][0]


def test_submission_monitor_alerts_once_per_quarter(settings: Settings, receiver) -> None:
    s = _with_channels(settings, webhook=receiver.url)
    missing = [monitor.MissingSubmission("LATE", "Last sent Q2", "2025-Q3", "2025-Q2")]
    quarter = monitor.Quarter("2025-Q3", None, None)  # type: ignore[arg-type]
    monitor.alert(s, quarter, missing)
    monitor.alert(s, quarter, missing)  # the DAG runs daily: people are told once
    [(_, _, payload)] = receiver.posts
    assert payload["kind"] == "submissions_missing"
    assert payload["subject"] == "2025-Q3: no submission from LATE"
    assert payload["details"] == ["LATE (Last sent Q2): last accepted period 2025-Q2"]


def test_a_high_quarantine_rate_alerts_after_a_real_ingest(server_home: Path, tmp_path: Path, receiver) -> None:
    from ingest_helpers import csv_bytes, grid, new_settings, row, rows, write_file, write_registry

    from ingest.pipeline import ingest

    s = new_settings(server_home, tmp_path, alert_webhook_url=receiver.url, alert_quarantine_rate=0.2)
    write_registry(s.organisations_path, ["CLEAN_ORG", "SLOPPY_ORG"])
    write_file(tmp_path / "inbox", "CLEAN_ORG/q1.csv", csv_bytes(grid(rows(10))))
    # 3 of 10 rows name no exploitation type: accepted with errors, 30 % quarantined
    sloppy = rows(7) + [row(cases_estimated=100 + i, exploitation_type="") for i in range(3)]
    write_file(tmp_path / "inbox", "SLOPPY_ORG/q1.csv", csv_bytes(grid(sloppy)))
    outcomes = ingest(s, workers=1)
    assert sorted((o.organisation, o.status, o.rows_quarantined) for o in outcomes) == [
        ("CLEAN_ORG", "accepted", 0),
        ("SLOPPY_ORG", "accepted_with_errors", 3),
    ]
    [(_, _, payload)] = receiver.posts
    assert payload["kind"] == "quarantine_rate"
    assert payload["subject"] == "SLOPPY_ORG: 3 of 10 rows quarantined in this run (30%, threshold 20%)"
