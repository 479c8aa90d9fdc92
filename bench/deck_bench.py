"""How long the PowerPoint deck of one region and year takes to build (target: ≤ 2 s), against baselines
measured in the same run.

    python bench/deck_bench.py [--runs 7] [--cli-runs 3]

On a fresh temporary database (never data/lawstats.duckdb) it times, as the median of several runs:

- ``indicators``: ``summary.indicator_table`` alone, the numbers a deck shows (baseline 1);
- ``blank deck``: python-pptx writing an empty 16:9 deck with as many blank slides (baseline 2);
- ``slides``: ``slides.build``, every slide as data, read from the store;
- ``pptx``: ``deck.build_pptx``, the slides written with native charts, tables and fonts;
- ``deck``: both together, what the download button and ``python -m lawstats deck`` do;
- ``cli``: ``python -m lawstats deck OUT.pptx`` in a new process (interpreter start, imports, opening the
  database included).

Two cases: 西堡镇 2024 (the real data, one year) and a synthetic township with ten years of synthetic data
(``lawstats.synth``, labelled 合成数据 everywhere), which adds trend, comparison and village slides.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pptx import Presentation  # noqa: E402

from lawstats import deck, seed, slides, summary, synth  # noqa: E402

TARGET_SECONDS = 2.0
SYNTHETIC_YEARS = list(range(2015, 2025))


def median_seconds(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def blank_deck(slide_count: int) -> bytes:
    prs = Presentation()
    prs.slide_width, prs.slide_height = deck.SLIDE_WIDTH, deck.SLIDE_HEIGHT
    for _ in range(slide_count):
        prs.slides.add_slide(prs.slide_layouts[6])
    buffer = io.BytesIO()
    prs.save(buffer)
    return buffer.getvalue()


def add_synthetic_county(db: Path, folder: Path) -> None:
    """Ten years of a synthetic county, imported the way an analyst would (the CLI)."""
    synth.generate(folder, scale="county", years=SYNTHETIC_YEARS, seed=1)
    subprocess.run([sys.executable, "-m", "lawstats", "--db", str(db), "import", *map(str, synth.data_files(folder))],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def cli_seconds(db: Path, region: str, year: int, out: Path | None, runs: int) -> float:
    """``python -m lawstats deck`` in a new process; with ``out=None``, ``python -m lawstats indicators`` for the
    same region and year instead (the baseline: interpreter, imports, opening the database, the numbers)."""
    command = [sys.executable, "-m", "lawstats", "--db", str(db)]
    command += ["deck", str(out)] if out else ["indicators", "--format", "csv"]
    command += ["--region", region, "--year", str(year)]
    return median_seconds(lambda: subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL), runs)


def measure(db: Path, region: str, year: int, runs: int, cli_runs: int, out: Path) -> dict:
    store = seed.open_store(db)
    try:
        region_id = summary.find_region(store, region)
        built = slides.build(store, region_id, year)
        row = {
            "case": f"{region} {year}", "slide count": len(built.slides),
            "charts": sum(1 for s in built.slides if s.chart is not None),
            "indicators": median_seconds(lambda: summary.indicator_table(store, region_id, year), runs),
            "blank deck": median_seconds(lambda: blank_deck(len(built.slides)), runs),
            "slides": median_seconds(lambda: slides.build(store, region_id, year), runs),
            "pptx": median_seconds(lambda: deck.build_pptx(built), runs),
            "deck": median_seconds(lambda: deck.build_pptx(slides.build(store, region_id, year)), runs),
        }
    finally:
        store.close()  # the CLI opens the file in its own process
    row["cli indicators"] = cli_seconds(db, region, year, None, cli_runs)
    row["cli"] = cli_seconds(db, region, year, out, cli_runs)
    row["size_kb"] = out.stat().st_size / 1024
    return row


def machine() -> str:
    memory = ""
    try:
        import psutil

        memory = f", {psutil.virtual_memory().total / 2**30:.0f} GiB"
    except ImportError:
        pass
    load = ", load average {:.1f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else ""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores{memory}, "
            f"Python {platform.python_version()}{load}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cli-runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        db = folder / "bench.duckdb"
        seed.open_store(db).close()
        add_synthetic_county(db, folder / "synthetic")
        rows = [measure(db, "西堡镇", 2024, args.runs, args.cli_runs, folder / "real.pptx"),
                measure(db, "合成镇00001", SYNTHETIC_YEARS[-1], args.runs, args.cli_runs, folder / "synthetic.pptx")]
    print(f"deck_bench: {machine()}; median of {args.runs} runs ({args.cli_runs} for cli), seconds")
    columns = ["indicators", "blank deck", "slides", "pptx", "deck", "cli indicators", "cli"]
    print(f"{'case':<18}{'slides':>7}{'charts':>7}" + "".join(f"{c:>15}" for c in columns)
          + f"{'deck/indic.':>12}{'deck/blank':>11}{'cli/cli ind.':>13}{'KB':>6}")
    worst = 0.0
    for r in rows:
        print(f"{r['case']:<18}{r['slide count']:>7}{r['charts']:>7}" + "".join(f"{r[c]:>15.3f}" for c in columns)
              + f"{r['deck'] / r['indicators']:>12.1f}{r['deck'] / r['blank deck']:>11.1f}"
              + f"{r['cli'] / r['cli indicators']:>13.2f}{r['size_kb']:>6.0f}")
        worst = max(worst, r["deck"])
    verdict = "OK" if worst <= TARGET_SECONDS else "TOO SLOW"
    print(f"slowest deck build (slides + pptx, in process): {worst:.2f} s; target ≤ {TARGET_SECONDS:.0f} s: {verdict}")
    return 0 if worst <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
