"""Settings from the environment (and a `.env` file), named as in docs/interfaces.md §2.

One object, read once per process, so the CLI, the DAGs and the tests agree on where things live.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NJIA_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".njia"), description="local state: embedded database, archive, logs")
    warehouse_url: SecretStr | None = Field(default=None, description="PostgreSQL URL; unset = embedded")
    inbox: str | None = Field(default=None, description="inbox path or fsspec URL; default $NJIA_HOME/inbox")
    organisations: Path | None = Field(default=None, description="organisation registry CSV")
    min_cell: int = Field(default=11, ge=1, description="small-cell threshold k for published tables")
    max_file_bytes: int = Field(default=100 * 1024 * 1024, ge=1, description="larger files are rejected")
    max_invalid_share: float = Field(default=0.5, ge=0.0, le=1.0, description="above it a file is rejected")
    max_cell_chars: int = Field(
        default=1_000, ge=1, description="a longer cell in a contract column is a row problem (cell_too_long)"
    )
    xlsx_max_unpacked_bytes: int = Field(
        default=256 * 1024 * 1024, ge=1, description="an XLSX that unpacks to more is rejected (workbook_too_large)"
    )
    xlsx_max_ratio: float = Field(
        default=100.0, gt=1.0, description="a part packed more tightly is rejected (compression_ratio_too_high)"
    )
    xlsx_max_parts: int = Field(default=1_000, ge=1, description="zip members of an XLSX (too_many_parts)")
    xlsx_max_rows: int = Field(default=1_048_576, ge=1, description="rows holding values in the sheet (too_many_rows)")
    xlsx_max_columns: int = Field(default=256, ge=1, description="last column holding a value (too_many_columns)")
    xlsx_max_merged_ranges: int = Field(
        default=10_000, ge=0, description="merged ranges in the sheet (too_many_merged_cells)"
    )
    reports_outbox: Path | None = Field(default=None, description="where the yearly DAG writes report packs")
    sftp_key: Path | None = Field(default=None, description="private key for sftp:// inboxes (default: ~/.ssh, agent)")
    sftp_known_hosts: Path = Field(
        default=Path("~/.ssh/known_hosts"),
        description="host keys an sftp:// inbox must match; unknown hosts are refused",
    )
    alert_email_to: str | None = Field(default=None, description="comma-separated addresses that receive alerts")
    alert_email_from: str = Field(default="njia@localhost", description="sender of alert e-mails")
    smtp_host: str | None = Field(default=None, description="SMTP server for alert e-mails")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = Field(default=None)
    smtp_password: SecretStr | None = Field(default=None)
    smtp_starttls: bool = Field(default=False, description="upgrade the SMTP connection with STARTTLS")
    smtp_ssl: bool = Field(default=False, description="SMTP over TLS from the start (port 465)")
    alert_webhook_url: SecretStr | None = Field(default=None, description="URL that receives alerts as JSON")
    alert_repeat_hours: float = Field(
        default=24.0, ge=0, description="an alert with the same key is not repeated sooner"
    )
    alert_quarantine_rate: float = Field(
        default=0.2, ge=0.0, le=1.0, description="share of an organisation's rows quarantined above which to alert"
    )
    ingest_workers: int = Field(
        default_factory=lambda: min(4, os.cpu_count() or 1),
        ge=1,
        description="processes that ingest organisations' files in parallel; 1 = in process",
    )
    # The organisations' portal (njia/portal, docs/interfaces.md §9).
    portal_secret: SecretStr | None = Field(default=None, description="key that signs the portal's cookies")
    portal_url: str = Field(default="http://localhost:8000", description="the portal's address, for one-time links")
    portal_secure_cookies: bool = Field(default=False, description="cookies only over HTTPS (set behind TLS)")
    portal_session_minutes: int = Field(default=480, ge=5, description="a session ends this long after sign-in")
    portal_link_hours: int = Field(default=72, ge=1, description="a one-time password link expires after this")
    portal_wait_seconds: float = Field(
        default=30.0,
        ge=0,
        description="an upload waits this long for its feedback before the page says it is still being processed",
    )

    @field_validator(
        "warehouse_url",
        "portal_secret",
        "smtp_password",
        "alert_webhook_url",
        "alert_email_to",
        "smtp_host",
        "smtp_user",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @cached_property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def inbox_url(self) -> str:
        return self.inbox or str(self.home_dir / "inbox")

    @property
    def organisations_path(self) -> Path:
        return (self.organisations or self.home_dir / "organisations.csv").expanduser().resolve()

    @property
    def archive_dir(self) -> Path:
        return self.home_dir / "archive"

    @property
    def outbox_dir(self) -> Path:
        return (self.reports_outbox or self.home_dir / "reports").expanduser().resolve()

    @property
    def embedded(self) -> bool:
        return self.warehouse_url is None


def get_settings(**overrides: object) -> Settings:
    """Fresh settings from the environment; keyword overrides win (tests and the demo use them)."""
    return Settings(**overrides)  # type: ignore[arg-type]
