"""Alerts people receive: one notifier, configured from the environment, sending by e-mail and to a webhook.

A failure that is only logged is a failure nobody hears about: the engineers of a small coalition do not watch
the Airflow UI. Every alert goes to every configured channel (SMTP e-mail to `NJIA_ALERT_EMAIL_TO`, a JSON POST
to `NJIA_ALERT_WEBHOOK_URL`, which Slack, Teams and Matrix bridges accept) and is recorded in `ops.alerts` for
`njia status`, whether or not a channel is configured, so what would have been said is never lost.

Sending is best effort and never raises: the callers are failure callbacks and gates whose own error matters
more. Nothing secret reaches a log or the alert itself: the webhook URL (it carries the token) and the SMTP
password are never printed, and every text is passed through the contact masking the feedback uses.

Only the standard library and the core layer are imported: every Airflow task failure may load this module.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from njia.cells import mask_contacts

if TYPE_CHECKING:
    import psycopg

    from njia.settings import Settings

log = logging.getLogger(__name__)

# What an alert can be about (docs/interfaces.md §2.4). A closed list, so a receiver can route on it.
KINDS = frozenset({"task_failed", "publication_blocked", "sources_stale", "submissions_missing", "quarantine_rate"})

TIMEOUT_SECONDS = 10  # one slow receiver must not hold a failure callback or a gate for long
MAX_TEXT = 4_000  # a traceback pasted into an exception message must not become a 1 MB e-mail


@dataclass(frozen=True)
class Alert:
    kind: str
    subject: str  # one line: what happened and where
    details: Sequence[str] = ()
    link: str | None = None  # where to look (the task log), when there is one
    key: str | None = None  # alerts with the same key are sent once per NJIA_ALERT_REPEAT_HOURS

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}; expected one of {sorted(KINDS)}")

    def text(self) -> str:
        lines = [self.subject, *self.details]
        if self.link:
            lines.append(f"Log: {self.link}")
        return _safe("\n".join(lines))

    def payload(self) -> dict[str, Any]:
        return {
            "text": f"[Njia] {self.text()}",
            "kind": self.kind,
            "subject": _safe(self.subject),
            "details": [_safe(d) for d in self.details],
            "link": self.link,
        }


@dataclass
class Delivery:
    """What happened to one alert: the channels that accepted it and why the others did not."""

    alert: Alert
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    repeated: bool = False  # not sent: the same key was sent within the repeat window

    @property
    def ok(self) -> bool:
        return not self.failed


def _safe(text: str) -> str:
    text = mask_contacts(text)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def configured_channels(settings: Settings) -> list[str]:
    channels = []
    if settings.alert_email_to and settings.smtp_host:
        channels.append("email")
    if settings.alert_webhook_url is not None:
        channels.append("webhook")
    return channels


def send_email(settings: Settings, alert: Alert) -> None:
    message = EmailMessage()
    message["Subject"] = " ".join(f"[Njia] {_safe(alert.subject)}"[:250].split())  # a header is one line
    message["From"] = settings.alert_email_from
    message["To"] = ", ".join(_recipients(settings.alert_email_to or ""))
    message.set_content(alert.text())
    smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(message)


def _recipients(value: str) -> list[str]:
    return [r.strip() for r in value.split(",") if r.strip()]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would resend the alert to an address nobody configured.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send_webhook(settings: Settings, alert: Alert) -> None:
    assert settings.alert_webhook_url is not None
    url = settings.alert_webhook_url.get_secret_value()
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("NJIA_ALERT_WEBHOOK_URL must be an http:// or https:// URL")
    request = urllib.request.Request(
        url,
        data=json.dumps(alert.payload()).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "njia-alerts"},
        method="POST",
    )
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "unexpected status", response.headers, None)


_SENDERS = {"email": send_email, "webhook": send_webhook}


def _describe(exc: BaseException) -> str:
    # The class and the status only: an exception's text may quote the webhook URL (it carries the token).
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}"
    return type(exc).__name__


def notify(settings: Settings, alert: Alert) -> Delivery:
    """Send `alert` on every configured channel and record it in ops.alerts. Never raises."""
    delivery = Delivery(alert)
    attempted = False
    try:
        from njia import warehouse

        with warehouse.connect(settings) as conn:
            if alert.key:
                # Two tasks failing at once for the same reason: the second waits, then sees the first's row.
                conn.execute("select pg_advisory_xact_lock(hashtext('njia.alerts'), hashtext(%s))", (alert.key,))
                if _sent_recently(conn, alert.key, settings.alert_repeat_hours):
                    delivery.repeated = True
                    log.info(
                        "alert %s already sent within %s h: %s",
                        alert.kind,
                        settings.alert_repeat_hours,
                        _safe(alert.subject),
                    )
                    return delivery
            attempted = True
            _deliver(settings, delivery)
            _record(conn, delivery)
    except Exception as exc:  # the warehouse may be the very thing that failed: still tell people
        log.warning("could not record the alert in ops.alerts (%s)", type(exc).__name__)
        if not attempted:
            _deliver(settings, delivery)
    return delivery


def _deliver(settings: Settings, delivery: Delivery) -> None:
    alert = delivery.alert
    log.warning("ALERT %s: %s", alert.kind, _safe(alert.subject))
    for channel in configured_channels(settings):
        try:
            _SENDERS[channel](settings, alert)
        except Exception as exc:
            delivery.failed[channel] = _describe(exc)
            log.error("alert %s not delivered by %s: %s", alert.kind, channel, delivery.failed[channel])
        else:
            delivery.sent.append(channel)


def _sent_recently(conn: psycopg.Connection, key: str, hours: float) -> bool:
    return conn.execute(
        # An alert some channel failed to carry is not counted: the next occasion tries again.
        "select exists (select 1 from ops.alerts where alert_key = %s and channels_failed is null"
        " and sent_at > now() - make_interval(secs => %s))",
        (key, hours * 3600),
    ).fetchone()[0]


def _record(conn: psycopg.Connection, delivery: Delivery) -> None:
    alert = delivery.alert
    conn.execute(
        "insert into ops.alerts (kind, alert_key, subject, detail, channels_sent, channels_failed)"
        " values (%s, %s, %s, %s, %s, %s)",
        (
            alert.kind,
            alert.key,
            _safe(alert.subject),
            "\n".join(_safe(d) for d in alert.details) or None,
            delivery.sent,
            json.dumps(delivery.failed) if delivery.failed else None,
        ),
    )


def check_quarantine_rates(settings: Settings, rows: Mapping[str, tuple[int, int]]) -> list[Delivery]:
    """One alert per organisation whose share of quarantined rows in this run is above the threshold.

    `rows` maps an organisation to (rows read, rows quarantined) over its files of the run; a rejected file
    counts all its rows as quarantined (contract §6: nothing is lost, so everything read is accounted for).
    """
    deliveries = []
    for organisation, (read, quarantined) in sorted(rows.items()):
        if read and quarantined / read > settings.alert_quarantine_rate:
            deliveries.append(
                notify(
                    settings,
                    Alert(
                        "quarantine_rate",
                        f"{organisation}: {quarantined:,} of {read:,} rows quarantined in this run "
                        f"({quarantined / read:.0%}, threshold {settings.alert_quarantine_rate:.0%})",
                        (
                            "The organisation's feedback files say which rows and why; a call may help them fix the template.",
                        ),
                    ),
                )
            )
    return deliveries


def recent(conn: psycopg.Connection, limit: int = 10) -> list[dict[str, Any]]:
    """The last alerts, newest first, for `njia status`."""
    from psycopg.rows import tuple_row

    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            "select sent_at::text, kind, subject, channels_sent, channels_failed from ops.alerts"
            " order by alert_id desc limit %s",
            (limit,),
        )
        .fetchall()
    )
    return [
        {"sent_at": at, "kind": kind, "subject": subject, "sent": list(sent or []), "failed": failed}
        for at, kind, subject, sent, failed in rows
    ]
