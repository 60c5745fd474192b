"""docker-compose.yml, checked without Docker (the development machines have none): the services of the
server stack are there, wired to each other, configured only through `.env`, with no secret in the file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from repo_paths import REPO_ROOT as PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"

# docs/interfaces.md §2: what the DAG tasks need in their environment.
NJIA_VARIABLES = ("NJIA_WAREHOUSE_URL", "NJIA_HOME", "NJIA_INBOX", "NJIA_ORGANISATIONS", "NJIA_MIN_CELL")
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
ONE_SHOT = {"airflow-init", "njia-init", "metabase-setup"}
SECRET_NAME = re.compile(r"PASSWORD(?!S_FILE)|PASS$|SECRET|_KEY$|TOKEN", re.IGNORECASE)
REFERENCE = re.compile(r"(?<!\$)\$\{(\w+)(:?[?-])?([^}]*)\}")  # `$${X}` is compose's escape for a shell $
CREDENTIALS_IN_URL = re.compile(r"://[^/:@\s]*:([^@\s]+)@")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _text(value: object) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)


def test_services_of_the_stack(services: dict) -> None:
    assert {
        "warehouse",
        "airflow-db",
        "redis",
        "metabase",
        "metabase-db",
        "portal",
        *AIRFLOW_COMMANDS,
        *ONE_SHOT,
    } <= set(services)


def test_airflow_3_components(services: dict) -> None:
    for name, command in AIRFLOW_COMMANDS.items():
        assert _text(services[name]["command"]) == command, name
    assert _text(services["airflow-init"]["command"]) == "db migrate"
    assert _text(services["njia-init"]["command"]).endswith("njia init")  # warehouse schemas, roles, BI users
    assert not any("webserver" in _text(s.get("command", "")) for s in services.values()), "Airflow 2 command"
    env = _env(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
    # What tests/test_celery_stack.py runs: two Celery workers, one task each at a time, Redis as the broker,
    # results in the metadata PostgreSQL, and one queue: the dag-processor gives it to every task, the workers
    # serve it (`celery worker` above, with no --queues of its own).
    assert env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "${AIRFLOW_WORKER_CONCURRENCY:-1}"
    assert services["airflow-worker"]["deploy"]["replicas"] == "${AIRFLOW_WORKERS:-2}"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].endswith("@airflow-db/airflow")
    queues = {_env(services[name]).get("AIRFLOW__OPERATORS__DEFAULT_QUEUE") for name in AIRFLOW_COMMANDS}
    assert queues == {"default"}
    assert "@airflow-db/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]  # its own metadata PostgreSQL
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"


def test_every_airflow_component_shares_config_and_dags(services: dict) -> None:
    reference = _env(services["airflow-scheduler"])
    for name in [*AIRFLOW_COMMANDS, "airflow-init", "njia-init"]:
        env = _env(services[name])
        # Tokens signed by the api-server must verify on the workers: the same JWT secret everywhere.
        for key in (
            "AIRFLOW__API_AUTH__JWT_SECRET",
            "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        ):
            assert env[key] == reference[key], (name, key)
        assert "./dags:/opt/airflow/dags:ro" in services[name]["volumes"], name
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/airflow/dags"


def test_tasks_get_the_njia_settings(services: dict) -> None:
    for name in ("airflow-worker", "airflow-scheduler", "njia-init"):
        env = _env(services[name])
        missing = [v for v in NJIA_VARIABLES if v not in env]
        assert not missing, (name, missing)
        assert "@warehouse:5432/njia" in env["NJIA_WAREHOUSE_URL"]


def test_inbox_and_outbox_volumes(compose: dict, services: dict) -> None:
    worker = services["airflow-worker"]
    env = _env(worker)
    # source:target[:mode]; a source may be `${VAR:-default}`, a target has no colon
    mounts = {
        target: source for source, target in (re.sub(r":(ro|rw)$", "", v).rsplit(":", 1) for v in worker["volumes"])
    }
    assert mounts[env["NJIA_INBOX"]] in compose["volumes"]
    assert mounts[env["NJIA_REPORTS_OUTBOX"]] in compose["volumes"]
    assert mounts[env["NJIA_HOME"]] in compose["volumes"]  # the archive survives the container
    assert Path(env["NJIA_ORGANISATIONS"]).parent.as_posix() in mounts


def test_portal_serves_the_inbox_the_dags_read(services: dict) -> None:
    portal, worker = services["portal"], services["airflow-worker"]
    assert _text(portal["command"]).endswith(
        "njia portal serve --host 0.0.0.0 --port 8000 --workers 2 --forwarded-allow-ips '*'"
    )
    env, worker_env = _env(portal), _env(worker)
    for key in (*NJIA_VARIABLES, "NJIA_REPORTS_OUTBOX"):  # the same warehouse, inbox, registry and archive
        assert env[key] == worker_env[key], key
    assert set(portal["volumes"]) == set(worker["volumes"])
    assert REFERENCE.fullmatch(env["NJIA_PORTAL_SECRET"])[2] == ":?"  # never starts without its key
    assert REFERENCE.fullmatch(env["NJIA_PORTAL_URL"])[2] == ":?"
    assert env["NJIA_PORTAL_SECURE_COOKIES"] == "true"  # browsers reach it through the TLS proxy only
    assert all(p.startswith("127.0.0.1:") for p in portal["ports"])
    assert portal["depends_on"]["njia-init"]["condition"] == "service_completed_successfully"


def test_metabase_reads_the_warehouse_as_the_public_user(services: dict) -> None:
    assert _env(services["metabase"])["MB_DB_HOST"] == "metabase-db"  # its settings are not in the warehouse
    script = _text(services["metabase-setup"]["command"])
    assert '"user":"njia_public_user"' in script and '"host":"warehouse"' in script
    assert "NJIA_PUBLIC_PASSWORD" in _env(services["metabase-setup"])
    # Metabase encrypts the connection details it stores (the warehouse password) only with this key.
    assert _env(services["metabase"])["MB_ENCRYPTION_SECRET_KEY"] == (
        "${MB_ENCRYPTION_SECRET_KEY:?set MB_ENCRYPTION_SECRET_KEY in .env}"
    )
    assert set(services["metabase-setup"]["depends_on"]) == {"metabase", "njia-init"}  # the password is set


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell to check the script's syntax")
def test_setup_script_is_valid_shell(services: dict) -> None:
    script = _text(services["metabase-setup"]["command"]).replace("$$", "$")  # compose's escaping undone
    done = subprocess.run(["sh", "-n", "-c", script], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


class _FakeMetabase(BaseHTTPRequestHandler):
    """The four calls of metabase-setup, answered as Metabase does on a first run; the bodies are kept."""

    bodies: ClassVar[dict[str, bytes]] = {}

    def _answer(self, payload: object) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()  # compact, as Metabase answers
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/api/session/properties":
            self._answer({"has-user-setup": False, "setup-token": "0b5f9d3e-setup-token"})
        else:
            self._answer({"data": []})

    def do_POST(self) -> None:
        self.bodies[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
        self._answer({"id": "5e55-session" if self.path == "/api/setup" else 1})

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.skipif(shutil.which("sh") is None or shutil.which("curl") is None, reason="no sh or curl here")
@pytest.mark.parametrize("password", ['pl"ain\\pass \\"},"ssl":true,"x":"', "a'b $(id) `id` \\n%s%%"])
def test_setup_script_sends_any_password_as_json(services: dict, password: str) -> None:
    """Passwords with quotes, backslashes and shell or printf syntax reach Metabase intact, as JSON strings."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeMetabase)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _FakeMetabase.bodies.clear()
    script = (
        _text(services["metabase-setup"]["command"])
        .replace("$$", "$")
        .replace("http://metabase:3000", f"http://127.0.0.1:{server.server_address[1]}")
    )
    env = {
        "PATH": os.environ["PATH"],
        "MB_ADMIN_EMAIL": 'admin"@example.org',
        "MB_ADMIN_PASSWORD": password,
        "NJIA_PUBLIC_PASSWORD": password[::-1],
    }
    try:
        done = subprocess.run(["sh", "-c", script], env=env, check=False, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        setup = json.loads(_FakeMetabase.bodies["/api/setup"])
        assert setup["token"] == "0b5f9d3e-setup-token"
        assert setup["user"]["email"] == 'admin"@example.org' and setup["user"]["password"] == password
        database = json.loads(_FakeMetabase.bodies["/api/database"])
        assert database["details"]["password"] == password[::-1]
        assert database["details"]["user"] == "njia_public_user" and database["details"]["ssl"] is False
        assert set(database["details"]) == {
            "host",
            "port",
            "dbname",
            "user",
            "password",
            "ssl",
            "schema-filters-type",
            "schema-filters-patterns",
        }
        # A control character cannot be carried safely: refused, saying where to look.
        refused = subprocess.run(
            ["sh", "-c", script],
            env={**env, "MB_ADMIN_PASSWORD": "line\nbreak"},
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode != 0 and "control character" in refused.stderr
    finally:
        server.shutdown()


def test_images_are_pinned(services: dict) -> None:
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} has no image"
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned by a version tag"
    base = re.search(r"^FROM (\S+)", services["airflow-worker"]["build"]["dockerfile_inline"], re.MULTILINE)
    assert base and base[1] == "apache/airflow:3.3.2-python3.11"


def test_healthchecks_and_start_order(services: dict) -> None:
    for name, service in services.items():
        if name not in ONE_SHOT:
            assert "healthcheck" in service, f"{name} has no healthcheck"
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            wanted = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert rule["condition"] == wanted, (name, dependency)


def _all_strings(node: object):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from ((f"{key}", s) for _, s in _all_strings(value))
    elif isinstance(node, list):
        for item in node:
            yield from _all_strings(item)
    elif node is not None:
        yield "", str(node)


def test_no_literal_secrets(compose: dict, services: dict) -> None:
    for name, service in services.items():
        for key, value in _env(service).items():
            if SECRET_NAME.search(key):
                assert REFERENCE.fullmatch(value), f"{name}.{key} must come from .env as ${{VAR:?...}}"
                assert REFERENCE.fullmatch(value)[2] == ":?", f"{name}.{key} must not have a default"
    for _, text in _all_strings(compose):
        for password in CREDENTIALS_IN_URL.findall(text):
            assert REFERENCE.fullmatch(password), f"a password is written into {text!r}"


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match[1]] = match[2]
    return values


def test_env_example_documents_every_variable(compose: dict) -> None:
    documented = _env_example()
    referenced = {m[0] for _, text in _all_strings(compose) for m in REFERENCE.findall(text)}
    assert not referenced - set(documented), "variables used by docker-compose.yml but not in .env.example"
    assert not set(NJIA_VARIABLES) - set(documented)


def test_env_example_holds_no_secret() -> None:
    for key, value in _env_example().items():
        if SECRET_NAME.search(key) and not key.endswith("_URL"):
            assert value == "", f"{key} in .env.example must be empty: compose then refuses to start without it"
    assert (PROJECT_ROOT / ".env").exists() is False or ".env" in (PROJECT_ROOT / ".gitignore").read_text()


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], check=False, capture_output=True).returncode != 0,
    reason="docker compose is not installed here",
)
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    env = tmp_path / "env"
    env.write_text("".join(f"{k}={v or 'x'}\n" for k, v in _env_example().items()), encoding="utf-8")
    done = subprocess.run(
        ["docker", "compose", "--env-file", str(env), "-f", str(COMPOSE), "config", "-q"],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
