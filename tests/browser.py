"""Real-browser helpers: a real ``streamlit run`` server on a free port and Debian's Chromium via Playwright.

Without Chromium the browser tests skip locally with a message saying how to install it; with ``CI=true``
they fail instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("LAWSTATS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
INSTALL_HINT = "apt-get install -y chromium fonts-noto-cjk"


def require_chromium() -> str:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    message = f"Chromium not found at {CHROMIUM}: install it with `{INSTALL_HINT}`"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: browser tests may not skip)")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(db_path: Path, env: dict | None = None, timeout: float = 60.0, root: Path = ROOT):
    """Start ``streamlit run app.py`` (of the project in ``root``) on a free port with its own database; yield
    the base URL. ``env`` adds to the environment; a name given as None is removed from it."""
    port = free_port()
    environment = {**os.environ, "LAWSTATS_DB": str(db_path), **(env or {})}
    environment = {name: value for name, value in environment.items() if value is not None}
    command = [sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    log = open(db_path.with_suffix(".server.log"), "w")
    process = subprocess.Popen(command, cwd=root, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError("streamlit did not start:\n" + db_path.with_suffix(".server.log").read_text())
            time.sleep(0.2)
        yield url
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen) -> None:
    """Stop a server: politely, then for good after 10 seconds."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def chromium_page(width: int = 1440, height: int = 900):
    """A Playwright page in Debian's Chromium (headless, no network but loopback)."""
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
            yield page
        finally:
            browser.close()


def wait_for_app(page, timeout_ms: int = 30_000) -> None:
    """Wait until Streamlit has finished its run: the app is mounted and no status widget is shown."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    # Connected, a run has put something in the main area, and no run is going on. (Before its first run
    # the app shows an empty page and a file-based page list, and says "notRunning": not enough alone.)
    page.wait_for_function(APP_IDLE_WITH_CONTENT, timeout=timeout_ms)
    page.wait_for_timeout(300)  # let the last delta paint, and a rerun it triggers begin
    page.wait_for_function(APP_IDLE_WITH_CONTENT, timeout=timeout_ms)


def overview_text(page, url: str, timeout_ms: int = 120_000, figures: bool = True) -> str:
    """The overview's main-area text (thousands separators dropped), read once its KPI cards have drawn (unless
    ``figures`` is false: a page expected to say why it has none): a card (``st.metric`` with a sparkline) is
    drawn by a component the browser loads on first use, which on a loaded machine can come after the run has
    ended, so "no run going on" alone would read a page without its figures."""
    page.goto(url)
    wait_for_app(page, timeout_ms=timeout_ms)  # a server's first run on a shared, loaded machine
    if figures:
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=timeout_ms)
    return page.locator('[data-testid="stMain"]').inner_text().replace(",", "")


APP_IDLE_WITH_CONTENT = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.dataset.testConnectionState === "CONNECTED" && app.dataset.testScriptState === "notRunning"
        && !document.querySelector('[data-testid="stStatusWidget"]')
        && document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]') !== null;
}"""
