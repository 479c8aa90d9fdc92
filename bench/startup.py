"""How fast lawstats starts and switches pages on this machine, against a bare Streamlit app measured in the
same run (the ratio is what carries over to another machine).

    python bench/startup.py [--repeat 5] [--out bench/startup.json]

Measured, each several times (median and range):
- cold start: ``streamlit run app.py`` process start -> the overview rendered in Chromium with 25,218 shown;
  with the database already built (a restart) and without it (first start: built from data/);
- page switch, server time: one script run of each page with warm caches (AppTest, in this process);
- page switch in the browser: click in the menu -> the new page rendered and the app idle.
Baseline: a hello-world app (one metric; two pages for the switch) measured the same way.
Targets (issue 2): first render <= 3 s, page switch <= 300 ms of server time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lawstats import seed  # noqa: E402
from lawstats.i18n import t  # noqa: E402
from lawstats.navigation import PAGES  # noqa: E402
from tests.browser import CHROMIUM_ARGS, free_port, require_chromium, wait_for_app  # noqa: E402

TARGET_FIRST_RENDER_S = 3.0
TARGET_SWITCH_SERVER_MS = 300.0

HELLO = '''import streamlit as st
st.set_page_config(page_title="hello", layout="wide")
st.sidebar.selectbox("Region", ["A", "B"])
pages = st.navigation([st.Page("one.py", title="One", default=True), st.Page("two.py", title="Two")])
pages.run()
'''
HELLO_PAGE = '''import streamlit as st
st.title("{title}")
st.metric("Registered persons", "25,218")
'''


def summarise(samples: list[float]) -> dict:
    return {"median": round(statistics.median(samples), 4), "min": round(min(samples), 4),
            "max": round(max(samples), 4), "n": len(samples), "samples": [round(s, 4) for s in samples]}


def machine() -> dict:
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    import duckdb
    import streamlit

    return {"cpus": os.cpu_count(), "memory_gib": round(mem_kb / 1024 ** 2, 1), "python": platform.python_version(),
            "streamlit": streamlit.__version__, "duckdb": duckdb.__version__, "platform": platform.platform(),
            "load_average_at_start": os.getloadavg()}


# ---------------------------------------------------------------------------------------------------------
# A real server, timed from the moment its process starts


@contextmanager
def server(script: Path, cwd: Path, env: dict, log: Path):
    """Start ``streamlit run``; yield (base url, start time, time the health check first answered)."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    with open(log, "w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            while True:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None:
                    raise RuntimeError(f"server exited: see {log}")
                time.sleep(0.02)
            yield url, started, time.perf_counter()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_text(page, selector: str, text: str, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(
        "([selector, text]) => [...document.querySelectorAll(selector)].some(e => e.innerText.includes(text))",
        arg=[selector, text], timeout=timeout_ms, polling=20)


def cold_start(browser, script: Path, cwd: Path, env: dict, work: Path) -> dict:
    """Process start -> 25,218 rendered in a fresh browser context (empty cache, as a first visit)."""
    with server(script, cwd, env, work / "server.log") as (url, started, healthy):
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page = context.new_page()
        try:
            page.goto(url)
            wait_for_text(page, '[data-testid="stMetricValue"]', "25,218")
            rendered = time.perf_counter()
        finally:
            context.close()
    return {"total": rendered - started, "to_health": healthy - started, "health_to_render": rendered - healthy}


def cold_starts(browser, repeat: int, work: Path) -> dict:
    """The three variants take turns (app restart, app first start, baseline), so that the machine's load,
    which changes by the minute when it is shared, weighs on all three alike."""
    app, hello = ROOT / "app.py", hello_app(work)
    existing = work / "existing.duckdb"
    seed.open_store(existing).close()
    runs = {"app_existing_db": [], "app_first_start_builds_db": [], "baseline_hello_world": []}
    for i in range(repeat):
        runs["app_existing_db"].append(cold_start(browser, app, ROOT, {"LAWSTATS_DB": str(existing)}, work))
        first = work / f"first-{i}.duckdb"  # does not exist yet: the app builds it from data/
        runs["app_first_start_builds_db"].append(cold_start(browser, app, ROOT, {"LAWSTATS_DB": str(first)}, work))
        runs["baseline_hello_world"].append(cold_start(browser, hello / "hello.py", hello, {}, work))
    return {name: {k: summarise([r[k] for r in samples]) for k in samples[0]} for name, samples in runs.items()}


def hello_app(work: Path) -> Path:
    folder = work / "hello"
    folder.mkdir(exist_ok=True)
    (folder / "hello.py").write_text(HELLO, encoding="utf-8")
    (folder / "one.py").write_text(HELLO_PAGE.format(title="One"), encoding="utf-8")
    (folder / "two.py").write_text(HELLO_PAGE.format(title="Two"), encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------------------------------------
# The first script run of a fresh process, in CPU seconds: what the machine's load does not change


FIRST_RUN = """
import json, sys, time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=120)
cpu, wall = time.process_time(), time.perf_counter()
at.run()
print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}))
"""


def first_run_cpu(repeat: int, work: Path) -> dict:
    """CPU time (all threads) of the first run of app.py in a new process (imports, store, overview), and of
    the hello-world app: on an idle machine the first run's wall time is about its CPU time."""
    db = work / "first-run.duckdb"
    seed.open_store(db).close()
    out = {}
    for name, script, cwd in (("app", ROOT / "app.py", ROOT), ("baseline_hello_world", hello_app(work) / "hello.py",
                                                              work / "hello")):
        runs = []
        for _ in range(repeat):
            result = subprocess.run([sys.executable, "-c", FIRST_RUN, str(script)], cwd=cwd, capture_output=True,
                                    text=True, env={**os.environ, "LAWSTATS_DB": str(db)}, timeout=300)
            runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
        out[name] = {k: summarise([r[k] for r in runs]) for k in ("cpu", "wall")}
    return out


# ---------------------------------------------------------------------------------------------------------
# Page switch, server side: one script run per page with warm caches (AppTest)


def server_switch_times(repeat: int, work: Path) -> dict:
    from streamlit.testing.v1 import AppTest

    db = work / "apptest.duckdb"
    seed.open_store(db).close()
    os.environ["LAWSTATS_DB"] = str(db)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()  # the first run: imports, store, caches of the overview
    pages, first_visit = {}, {}
    for spec in PAGES:  # visit every page once: its caches fill
        at.switch_page(spec.path)
        started = time.perf_counter()
        at.run()
        first_visit[spec.url_path] = time.perf_counter() - started
        if at.exception:
            raise RuntimeError(f"{spec.url_path}: {at.exception[0].value}")
    for spec in PAGES:
        samples = []
        for _ in range(repeat):
            at.switch_page(spec.path)
            started = time.perf_counter()
            at.run()
            samples.append(time.perf_counter() - started)
        pages[spec.url_path] = summarise([s * 1000 for s in samples])
    hello = hello_app(work)
    base = AppTest.from_file(str(hello / "hello.py"), default_timeout=60)
    base.run()
    samples = []
    for i in range(repeat * 2):
        base.switch_page("two.py" if i % 2 == 0 else "one.py")
        started = time.perf_counter()
        base.run()
        samples.append(time.perf_counter() - started)
    return {"pages_ms": pages, "first_visit_ms": {k: round(v * 1000, 1) for k, v in first_visit.items()},
            "baseline_hello_world_ms": summarise([s * 1000 for s in samples])}


# ---------------------------------------------------------------------------------------------------------
# Page switch in the browser: click in the menu -> new page rendered, app idle


def browser_switch_times(browser, repeat: int, work: Path) -> dict:
    db = work / "browser.duckdb"
    seed.open_store(db).close()
    out = {}
    with server(ROOT / "app.py", ROOT, {"LAWSTATS_DB": str(db)}, work / "server-switch.log") as (url, _, _):
        out["app"] = _click_through(browser, url, [t(p.title_key, "zh") for p in PAGES], repeat)
    hello = hello_app(work)
    with server(hello / "hello.py", hello, {}, work / "server-hello.log") as (url, _, _):
        out["baseline_hello_world"] = _click_through(browser, url, ["One", "Two"], repeat * 3)
    return out


def _click_through(browser, url: str, titles: list[str], rounds: int) -> dict:
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        page.goto(url)
        wait_for_app(page)
        for title in titles[1:] + titles[:1]:  # warm: every page once
            _click(page, title)
        samples = []
        for _ in range(rounds):
            for title in titles[1:] + titles[:1]:
                samples.append(_click(page, title))
        return summarise([s * 1000 for s in samples])
    finally:
        page.close()


def _click(page, title: str) -> float:
    link = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True)
    started = time.perf_counter()
    link.click()
    page.wait_for_function(
        """(title) => {
            const active = document.querySelector('[data-testid="stSidebarNavLink"][aria-current="page"]');
            const app = document.querySelector('[data-testid="stApp"]');
            return active && active.innerText.trim().endsWith(title) && app.dataset.testScriptState === "notRunning"
                && !document.querySelector('[data-testid="stStatusWidget"]')
                && document.querySelector('[data-testid="stMain"] h1');
        }""", arg=title, timeout=60_000, polling=10)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------------------


def table(results: dict) -> str:
    cold, switch, clicks = results["cold_start_s"], results["switch_server"], results["switch_browser"]
    base_cold = cold["baseline_hello_world"]["total"]["median"]
    worst_page = max(switch["pages_ms"].items(), key=lambda kv: kv[1]["median"])
    median_page = statistics.median(v["median"] for v in switch["pages_ms"].values())
    base_switch = switch["baseline_hello_world_ms"]["median"]
    rows = [
        ("首次渲染（冷启动，数据库已建）/ cold start, database built", cold["app_existing_db"]["total"], "s",
         base_cold, f"≤ {TARGET_FIRST_RENDER_S:g} s"),
        ("首次启动（从 data/ 建库）/ first start, builds database", cold["app_first_start_builds_db"]["total"], "s",
         base_cold, "—"),
        ("切换页面·服务器（各页中位数）/ page switch, server (median page)",
         {"median": median_page, "min": min(v["min"] for v in switch["pages_ms"].values()),
          "max": max(v["max"] for v in switch["pages_ms"].values())}, "ms", base_switch,
         f"≤ {TARGET_SWITCH_SERVER_MS:g} ms"),
        (f"切换页面·服务器（最慢：{worst_page[0]}）/ page switch, server (slowest page)", worst_page[1], "ms",
         base_switch, f"≤ {TARGET_SWITCH_SERVER_MS:g} ms"),
        ("切换页面·浏览器（点击到显示）/ page switch in Chromium, click to rendered", clicks["app"], "ms",
         clicks["baseline_hello_world"]["median"], "—"),
    ]
    first = results["first_run_s"]
    rows.insert(2, ("首次运行脚本的 CPU 时间（与负载无关）/ first script run, CPU time (load-independent)",
                    first["app"]["cpu"], "s", first["baseline_hello_world"]["cpu"]["median"], "—"))
    lines = ["| 测量 / measure | 中位数 median (范围 range) | 基线 baseline | 倍数 ratio | 目标 target |",
             "|---|---|---|---|---|"]
    for name, s, unit, base, target in rows:
        fmt = (lambda v: f"{v:.2f}") if unit == "s" else (lambda v: f"{v:.0f}")
        lines.append(f"| {name} | {fmt(s['median'])} {unit} ({fmt(s['min'])}–{fmt(s['max'])}) | {fmt(base)} {unit} | "
                     f"{s['median'] / base:.1f}× | {target} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "startup.json"))
    args = parser.parse_args()
    require_chromium()
    from playwright.sync_api import sync_playwright

    results = {"when": datetime.now().isoformat(timespec="seconds"), "machine": machine(), "repeat": args.repeat,
               "targets": {"first_render_s": TARGET_FIRST_RENDER_S, "switch_server_ms": TARGET_SWITCH_SERVER_MS}}
    with tempfile.TemporaryDirectory(prefix="lawstats-bench-") as folder:
        work = Path(folder)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
            results["chromium"] = browser.version
            results["cold_start_s"] = cold_starts(browser, args.repeat, work)
            results["switch_browser"] = browser_switch_times(browser, args.repeat, work)
            browser.close()
        results["first_run_s"] = first_run_cpu(args.repeat, work)
        results["switch_server"] = server_switch_times(args.repeat, work)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["table_markdown"] = table(results)
    Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(results["table_markdown"])
    print(f"\n{results['machine']['cpus']} CPUs, {results['machine']['memory_gib']} GiB; load average "
          f"{results['machine']['load_average_at_start']} -> {results['machine']['load_average_at_end']}; "
          f"written to {args.out}")


if __name__ == "__main__":
    main()
