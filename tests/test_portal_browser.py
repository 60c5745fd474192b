"""The portal in a real headless Chromium, served by uvicorn on the real app: a person signs in with the
keyboard, uploads an accepted, a partly accepted and a rejected file, reads the feedback and the history in
English and Kiswahili, at phone (360 px) and desktop widths; the pages need no script, break no CSP rule,
load nothing from elsewhere and do not overflow a phone's width. Screenshots are saved (in the test's temp
folder, or in NJIA_PORTAL_SCREENSHOTS when set) for a person to look at."""

from __future__ import annotations

import base64
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from chromium import CHROMIUM, DevTools, evaluate
from portal_helpers import (
    PASSWORD,
    PEOPLE,
    accepted_csv,
    partly_accepted_xlsx,
    portal_settings,
    rejected_csv,
    thousand_rows_csv,
)

PHONE, DESKTOP = 360, 1280


class Browser:
    """One tab driven over the DevTools protocol, as a person would: keys, clicks, a file chooser."""

    def __init__(self, dt: DevTools, base: str, shots: Path) -> None:
        self.dt, self.base, self.shots = dt, base, shots
        target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network", "DOM"):
            self.send(f"{domain}.enable")
        self.width = DESKTOP

    def send(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        return self.dt.send(method, params or {}, self.session, timeout=timeout)

    def js(self, expression: str):
        return evaluate(self.dt, self.session, expression)

    def resize(self, width: int) -> None:
        self.width = width
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": 800 if width == PHONE else 900,
                "deviceScaleFactor": 1,
                "mobile": width == PHONE,
            },
        )

    def wait(self, path_pattern: str, timeout: float = 90) -> str:
        """Wait until a page whose path matches has loaded; returns the path."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.js("({path: location.pathname, ready: document.readyState, href: location.href})")
            assert not state["href"].startswith("chrome-error:"), "the page did not load"
            if re.fullmatch(path_pattern, state["path"]) and state["ready"] == "complete":
                return state["path"]
            time.sleep(0.05)
        raise AssertionError(f"no page {path_pattern} (at {self.js('location.href')})")

    def go(self, path: str) -> None:
        self.send("Page.navigate", {"url": self.base + path})
        self.wait(re.escape(path.split("?")[0]))

    def key(self, key: str, code: str | None = None, text: str | None = None, shift: bool = False) -> None:
        common = {
            "key": key,
            "code": code or key,
            "windowsVirtualKeyCode": {"Tab": 9, "Enter": 13}.get(key, 0),
            "modifiers": 8 if shift else 0,
        }
        self.send("Input.dispatchKeyEvent", {"type": "keyDown", **common, **({"text": text} if text else {})})
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", **common})

    def type(self, text: str) -> None:
        self.send("Input.insertText", {"text": text})

    def focused(self) -> str:
        return self.js("document.activeElement.id || document.activeElement.textContent.trim()")

    def tab_to(self, element_id: str, limit: int = 20) -> None:
        for _ in range(limit):
            self.key("Tab")
            if self.js("document.activeElement.id") == element_id:
                return
        raise AssertionError(f"#{element_id} cannot be reached with the Tab key")

    def shot(self, name: str) -> Path:
        height = self.js("document.documentElement.scrollHeight")
        data = self.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": self.width, "height": min(height, 4000), "scale": 1},
            },
            timeout=60,
        )
        path = self.shots / f"{name}-{self.width}.png"
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def fits(self) -> None:
        """Nothing wider than the window: a phone needs no sideways scrolling (wide tables scroll inside
        their own region)."""
        assert self.js("document.documentElement.scrollWidth") <= self.width, self.js("location.pathname")

    def sign_in(self, email: str) -> None:
        self.go("/signin")
        self.fits()
        assert self.focused() == "email"  # the form has the focus: type at once
        self.type(email)
        self.key("Tab")
        assert self.focused() == "password"
        self.type(PASSWORD)
        self.key("Enter", text="\r")
        self.wait("/files")

    def upload(self, path: Path) -> str:
        self.go("/upload")
        self.fits()
        document = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": document, "selector": "#file"})["nodeId"]
        self.send("DOM.setFileInputFiles", {"files": [str(path)], "nodeId": node})
        self.js("document.querySelector('#file').focus()")
        self.key("Tab")  # from the file chooser to the Send button, then Enter: no mouse needed
        assert self.js("document.activeElement.type") == "submit"
        self.key("Enter", text="\r")
        return self.wait(r"/files/\d+")

    def language(self, lang: str) -> None:
        if self.js("document.documentElement.lang") != lang:
            path = self.js("location.pathname")
            self.js("document.querySelector('#lang-switch').focus()")
            self.key("Enter", text="\r")
            deadline = time.monotonic() + 30
            while (
                self.js("(document.documentElement && document.documentElement.lang) + document.readyState")
                != lang + "complete"
            ):
                assert time.monotonic() < deadline, "the language link did nothing"
                time.sleep(0.05)
            assert self.js("location.pathname") == path


@pytest.fixture
def served(server_home: Path, tmp_path: Path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium); .ci/run installs it")
    settings = portal_settings(server_home, tmp_path / "portal", max_file_bytes=5_000_000)
    dt = DevTools(CHROMIUM, tmp_path / "profile", local_server=True)  # started before the server's thread (it forks)
    import uvicorn

    from njia.portal.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    shots = Path(os.environ.get("NJIA_PORTAL_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield settings, Browser(dt, f"http://127.0.0.1:{port}", shots), tmp_path
    finally:
        dt.close()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.timeout(300)
def test_sign_in_upload_feedback_history_in_both_languages_on_phone_and_desktop(served) -> None:
    settings, b, tmp = served
    files = {
        "accepted.csv": accepted_csv("2020-Q1"),
        "partly.xlsx": partly_accepted_xlsx("2020-Q2"),
        "rejected.csv": rejected_csv(),
        "correction.csv": accepted_csv("2020-Q1", start=50),
    }
    for name, data in files.items():
        (tmp / name).write_bytes(data)

    b.resize(PHONE)
    b.go("/signin")
    b.shot("signin-en")
    b.sign_in(PEOPLE["alpha"])
    expected = {
        "accepted.csv": ("accepted", "Accepted", "Limepokelewa"),
        "partly.xlsx": ("accepted_with_errors", "Partly accepted", "Limepokelewa kwa sehemu"),
        "rejected.csv": ("rejected", "Rejected", "Limekataliwa"),
    }
    for width, name in ((PHONE, "accepted.csv"), (DESKTOP, "partly.xlsx"), (PHONE, "rejected.csv")):
        b.resize(width)
        b.language("en")
        b.upload(tmp / name)
        status, en, sw = expected[name]
        assert b.js("document.querySelector('#status').dataset.status") == status
        assert b.js("document.querySelector('#status').textContent.trim()") == en
        b.fits()
        b.shot(f"feedback-{name.split('.')[0]}-en")
        b.language("sw")
        assert b.js("document.querySelector('#status').textContent.trim()") == sw
        assert b.js("document.querySelector('h1').textContent") == "Maoni"
        b.fits()
        b.shot(f"feedback-{name.split('.')[0]}-sw")
        if name == "partly.xlsx":
            problems = b.js("[...document.querySelectorAll('#problems tbody tr')].map(r => r.cells[0].textContent)")
            assert problems == ["3", "5"]
            assert "Kaunti haijulikani." in b.js("document.querySelector('#problems').textContent")
        if name == "rejected.csv":
            assert "missing_columns" in b.js("document.querySelector('#reason').textContent")

    b.resize(PHONE)
    b.language("en")
    b.upload(tmp / "correction.csv")
    for width in (PHONE, DESKTOP):
        b.resize(width)
        for lang, replaces in (("en", "replaces"), ("sw", "inachukua nafasi ya")):
            b.go("/files")
            b.language(lang)
            text = b.js("document.querySelector('#history').textContent")
            assert text.count(".csv") + text.count(".xlsx") >= 4 and replaces in text
            b.fits()
            b.shot(f"history-{lang}")
    b.resize(PHONE)
    b.language("en")
    b.go("/upload")
    b.shot("upload-en")

    # Keyboard: the first Tab reaches the skip link, and the skip link moves the focus to the content.
    b.go("/files")
    b.key("Tab")
    assert b.js("document.activeElement.className") == "skip"
    b.key("Enter", text="\r")
    assert b.js("location.hash") == "#main"

    # No script, no CSP violation, no console error, nothing fetched from anywhere else.
    events = b.dt.events
    errors = [
        e
        for e in events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == [], [e["params"].get("entry", e["params"]) for e in errors[:3]]
    requested = {e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"}
    assert requested and all(u.startswith(b.base) for u in requested), sorted(requested)[:5]
    assert all(p.stat().st_size > 5_000 for p in b.shots.glob("*.png"))
    assert len(list(b.shots.glob("*.png"))) >= 12


@pytest.mark.timeout(180)
def test_a_thousand_rows_in_the_browser(served, record_property) -> None:
    settings, b, tmp = served
    (tmp / "thousand.csv").write_bytes(thousand_rows_csv())
    b.resize(DESKTOP)
    b.sign_in(PEOPLE["beta"])
    started = time.monotonic()
    b.upload(tmp / "thousand.csv")
    seconds = time.monotonic() - started
    assert b.js("document.querySelector('#rows-loaded').textContent") == "1000"
    record_property("browser_upload_to_feedback_seconds", round(seconds, 2))
    print(f"\n1,000-row file in Chromium: upload to visible feedback in {seconds:.2f} s")
    assert seconds < 60
    b.shot("thousand")
