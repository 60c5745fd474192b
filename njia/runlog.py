"""The run log, `ops.runs`: one line per command, DAG run or monitor check, which `njia status` shows."""

from __future__ import annotations

import datetime as dt
import json

import psycopg


def record_run(conn: psycopg.Connection, command: str, started: dt.datetime, ok: bool, detail: str) -> None:
    """One line in ops.runs for `njia status` (detail is stored as a JSON string)."""
    conn.execute(
        "insert into ops.runs (command, started_at, finished_at, ok, detail) values (%s, %s, now(), %s, %s)",
        (command, started, ok, json.dumps(detail)),
    )
