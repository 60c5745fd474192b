"""A real Airflow 3 stack started by a test, and its REST client: the Celery stack (tests/test_celery_stack.py)
and `make airflow`'s standalone one (tests/test_airflow_standalone.py). Every process runs in its own process
group and is stopped with everything it forked; a failure shows the tails of the processes' and tasks' logs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

BIN = Path(sys.executable).parent
TIMEOUT = 240  # seconds for a run to finish on a busy 2-core machine
T = TypeVar("T")


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_environment() -> dict[str, str]:
    """This process's environment without Airflow's, Njia's or pytest's settings (conftest.py sets some)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NJIA_", "PYTEST"))}


class Stack:
    """The Airflow processes, their environment and a REST client. `home` is AIRFLOW_HOME."""

    def __init__(self, home: Path, env: dict[str, str], port: int) -> None:
        self.home, self.env, self.port = home, env, port
        self.processes: dict[str, subprocess.Popen] = {}
        self.token: str | None = None

    def spawn(self, name: str, argv: list[str], **extra_env: str) -> None:
        log = open(self.home / f"{name}.log", "wb")  # the child holds it; closed with the process
        self.processes[name] = subprocess.Popen(
            argv, env=self.env | extra_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )  # its own process group: stopped with everything it forked

    def start(self, name: str, *args: str, **extra_env: str) -> None:
        """One Airflow component: `airflow <args>`."""
        self.spawn(name, [str(BIN / "airflow"), *args], **extra_env)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def stop_all(self) -> None:
        stopping = time.monotonic()
        for name in list(self.processes):
            self.stop(name)
        print(f"\nAirflow stopped in {time.monotonic() - stopping:.0f} s")

    def output(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")

    def logs(self, lines: int = 15) -> str:
        """The last lines of every process's output, then of the four task logs written last."""
        tasks = sorted((self.home / "logs").glob("dag_id=*/**/*.log"), key=lambda p: p.stat().st_mtime)[-4:]
        return "\n".join(
            f"--- {p.relative_to(self.home)} (last lines)\n"
            + "\n".join(p.read_text(errors="replace").splitlines()[-lines:])
            for p in [*sorted(self.home.glob("*.log")), *tasks]
        )

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            headers=headers,
            data=None if body is None else json.dumps(body).encode(),
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def log_in(self, password_file: Path) -> None:
        """Once the api-server answers, a JWT for the admin user, with the password Airflow's simple auth
        manager generated."""
        self.wait_for("the api-server", lambda: self.api("GET", "/api/v2/monitor/health"))
        password = json.loads(password_file.read_text())["admin"]
        self.token = self.api("POST", "/auth/token", {"username": "admin", "password": password})["access_token"]

    def wait_for(self, what: str, check: Callable[[], T], timeout: float = TIMEOUT) -> T:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.processes.items():
                assert p.poll() is None, f"{name} exited ({p.returncode}) while waiting for {what}\n{self.logs()}"
            try:
                found = check()
            except (OSError, ValueError):  # not up yet
                found = None
            if found:
                return found
            time.sleep(2)
        pytest.fail(f"timed out waiting for {what}\n{self.logs()}")

    def runs(self, dag_id: str) -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=run_after")["dag_runs"]

    def finished(self, dag_id: str, run_id: str) -> dict | None:
        """The run once it succeeded; fails as soon as it or one of its tasks failed (not minutes later, after
        the retries: none is expected in these tests)."""
        run = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        failed = [
            f"{ti['task_id']}[{ti['map_index']}] {ti['state']}"
            for ti in self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
            if ti["state"] in ("failed", "up_for_retry")
        ]
        assert run["state"] != "failed" and not failed, f"{dag_id} {run_id}: {failed}\n{self.logs(lines=30)}"
        return run if run["state"] == "success" else None

    def trigger_and_wait(self, dag_id: str) -> tuple[str, float]:
        """Triggers a run through the REST API and waits for its success: (run id, seconds)."""
        run = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})
        started = time.monotonic()
        self.wait_for(f"{dag_id} {run['dag_run_id']}", lambda: self.finished(dag_id, run["dag_run_id"]))
        return run["dag_run_id"], time.monotonic() - started
