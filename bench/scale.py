"""The scale benchmark: synthetic data at county, province or national scale, imported through the normal
import path, then every query behind the pages timed against a naive pandas baseline in the same run.

    python -m lawstats bench --scale county|province|national [--json FILE] [--repeats N] [--workdir DIR]
                             [--store SETTING]

Measured, in one run:
- the import of the whole data set: ``python -m lawstats import DIR`` in a child process (its wall time and
  peak memory); at national scale with ``--batch-per-file`` (one batch per file, regions first), so that one
  file's rows are in memory at a time;
- p50/p95 of the queries behind the frame (region path, children, years), the overview (indicator inputs,
  rollup check), each domain page (its table's effective rows, its children) and the compare page (the
  region's peers, the heatmap series, at national scale every township of the country), for a township, a
  county and the whole country (the root of the region tree);
- the naive baseline of each: the whole table loaded into pandas and filtered and rolled up there; its answer
  must equal ours (``same_answer``), and ``ratio`` is baseline / ours;
- the pages' script run time in AppTest with a warm cache, a small commit, and the first view after it.

With ``--store`` (a lake, or another DuckDB file) the imported file is moved onto that store (``migrate_store``)
and everything is measured there, each query also timed on the file (``native_ms``: the lower bound).

Every record: name, scale, rows (rows of the result), p50_ms, p95_ms, baseline_ms, ratio, peak_rss_mb,
same_answer (None where there is no baseline), native_ms and native_same (None without ``--store``).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lawstats import storage, summary, synth
from lawstats.registry import TABLES_BY_ID

ROOT = Path(__file__).resolve().parent.parent
PAGE_TARGET_MS = 200  # every query behind a page, p95, national scale
RECORD_KEYS = ("name", "scale", "rows", "p50_ms", "p95_ms", "baseline_ms", "ratio", "peak_rss_mb", "same_answer",
               "native_ms", "native_same")


# ---------------------------------------------------------------------------------------------------------
# Timing


def _time(function, repeats: int) -> tuple[list[float], object]:
    """Wall times in ms of ``repeats`` calls after one warm-up call, and the last result."""
    result = function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def _percentile(times: list[float], q: float) -> float:
    return float(np.percentile(np.array(times), q)) if times else float("nan")


def record(name: str, scale: str, rows: int | None, times: list[float], baseline: list[float] | None = None,
           peak_rss_mb: float | None = None, same_answer: bool | None = None,
           native: list[float] | None = None, native_same: bool | None = None) -> dict:
    """One measurement: p50/p95 of ``times``; the p50 of the pandas ``baseline`` and of the same query on a
    native DuckDB file (``native``, only with ``bench --store``) beside it."""
    p50 = _percentile(times, 50)
    base = _percentile(baseline, 50) if baseline else None
    return {"name": name, "scale": scale, "rows": rows, "p50_ms": round(p50, 2),
            "p95_ms": round(_percentile(times, 95), 2),
            "baseline_ms": round(base, 2) if base is not None else None,
            "ratio": round(base / p50, 1) if base is not None and p50 > 0 else None,
            "peak_rss_mb": round(peak_rss_mb, 1) if peak_rss_mb is not None else None, "same_answer": same_answer,
            "native_ms": round(_percentile(native, 50), 2) if native else None, "native_same": native_same}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------------------
# The naive baseline: whole tables in pandas, regions walked and rolled up there (the same rules as the SQL)


class Naive:
    """Whole tables held in memory as pandas DataFrames, loaded once (what a dashboard without a query layer
    does with ``st.cache_data``), and each question answered in pandas (issue 12's baseline). The load itself is
    not timed: ``warm`` loads everything before the first measurement."""

    def __init__(self, store: storage.Store):
        self.store = store
        self._held: dict[str, pd.DataFrame] = {}

    def warm(self) -> None:
        self.region_tree()
        for table in storage.TABLES:
            self.table(table.id)

    def regions(self) -> pd.DataFrame:
        if "regions" not in self._held:
            self._held["regions"] = self.store.query_df("SELECT * FROM cur_regions")
        return self._held["regions"]

    def table(self, table_id: str) -> pd.DataFrame:
        if table_id not in self._held:
            self._held[table_id] = self.store.query_df(
                f"SELECT * FROM {storage.current_table(TABLES_BY_ID[table_id])}")
        return self._held[table_id]

    def region_tree(self) -> pd.DataFrame:
        if "tree" not in self._held:
            self._held["tree"] = self.tree(self.regions())
        return self._held["tree"]

    @staticmethod
    def tree(regions: pd.DataFrame) -> pd.DataFrame:
        """region_id, parent (0 for top-level regions), depth: walked level by level from the top."""
        tree = regions[["region_id", "parent_id"]].copy()
        known = set(tree["region_id"])
        tree["parent"] = tree["parent_id"].where(tree["parent_id"].isin(known), 0).fillna(0).astype("int64")
        tree["depth"] = 0
        frontier, depth = {0}, 0
        while frontier:
            depth += 1
            level = tree["parent"].isin(frontier) & (tree["depth"] == 0)
            tree.loc[level, "depth"] = depth
            frontier = set(tree.loc[level, "region_id"])
        root = pd.DataFrame({"region_id": [0], "parent_id": [pd.NA], "parent": [-1], "depth": [0]})
        return pd.concat([tree, root], ignore_index=True)

    @staticmethod
    def subtree(tree: pd.DataFrame, region_id: int) -> set[int]:
        found, frontier = {region_id}, {region_id}
        while frontier:
            frontier = set(tree.loc[tree["parent"].isin(frontier), "region_id"]) - found
            found |= frontier
        return found

    def effective(self, table_id: str, region_ids: list[int], years: list[int] | None = None,
                  own: pd.DataFrame | None = None, tree: pd.DataFrame | None = None) -> pd.DataFrame:
        """Effective rows of a simple table, or the training summary ('training'), for some regions."""
        tree = self.region_tree() if tree is None else tree
        wanted = set()
        for r in region_ids:
            wanted |= self.subtree(tree, int(r))
        sub = tree[tree["region_id"].isin(wanted)]
        if own is None:
            own = self.table(table_id) if table_id != "training" else training_summary(self.table("training"))
        own = own[own["region_id"].isin(wanted)]
        additive = (storage.summary_sums(TABLES_BY_ID[table_id]) if table_id == "training"
                    else [c.id for c in storage.additive_columns(TABLES_BY_ID[table_id])])
        children = tree.groupby("parent").size()
        eff = own.copy()
        for depth in sorted(sub["depth"].unique(), reverse=True):
            parents = sub.loc[(sub["depth"] == depth) & sub["region_id"].isin(children.index), "region_id"]
            if parents.empty:
                continue
            kids = sub.loc[sub["parent"].isin(parents), ["region_id", "parent"]]
            rows = eff.merge(kids, on="region_id")
            if rows.empty:
                continue
            grouped = rows.groupby(["parent", "year"])
            sums = grouped[additive].sum(min_count=1)
            counts = grouped[additive].count() if table_id != "training" else None
            reporting = grouped.size()
            n_children = children.reindex(sums.index.get_level_values("parent")).to_numpy()
            if table_id == "training":
                complete = reporting.to_numpy() == n_children
                rolled = sums[complete].reset_index().rename(columns={"parent": "region_id"})
                for name in storage.summary_not_rolled(TABLES_BY_ID[table_id]):
                    rolled[name] = np.nan
                has_own = eff.set_index(["region_id", "year"]).index
                rolled = rolled[~rolled.set_index(["region_id", "year"]).index.isin(has_own)]
                eff = pd.concat([eff, rolled], ignore_index=True)
                continue
            rolled = sums.where(counts.to_numpy() == n_children[:, None]).reset_index().rename(
                columns={"parent": "region_id"})
            merged = eff[eff["region_id"].isin(parents)].merge(rolled, on=["region_id", "year"], how="outer",
                                                                suffixes=("", "__sum"))
            for c in additive:
                merged[c] = merged[c].astype("float64").fillna(merged[f"{c}__sum"].astype("float64"))
            merged = merged.drop(columns=[f"{c}__sum" for c in additive])
            eff = pd.concat([eff[~eff["region_id"].isin(parents)], merged], ignore_index=True)
        eff = eff[eff["region_id"].isin([int(r) for r in region_ids])]
        if years is not None:
            eff = eff[eff["year"].isin(years)]
        return eff.sort_values(["region_id", "year"]).reset_index(drop=True)

    def children(self, region_id: int) -> pd.DataFrame:
        regions = self.regions()
        if region_id == storage.ROOT_ID:  # the top-level regions
            return regions[regions["parent_id"].isna()].sort_values("name")
        return regions[regions["parent_id"] == region_id].sort_values("name")

    def path(self, region_id: int) -> list[int]:
        parents = self.regions().set_index("region_id")["parent_id"]
        path, current = [], region_id
        while current in parents.index:
            path.append(int(current))
            parent = parents[current]
            if pd.isna(parent):
                break
            current = int(parent)
        return path[::-1]

    def level_members(self, scope_id: int, level: str) -> list[int]:
        regions = self.regions()
        tree = self.region_tree()
        inside = self.subtree(tree, scope_id) - {scope_id}
        return sorted(regions.loc[regions["region_id"].isin(inside) & (regions["level"] == level), "region_id"])

    def measure_values(self, region_id: int) -> pd.DataFrame:
        """The numbers of ``storage.measure_values`` for one region, long (region_id, year, measure_id,
        item_id, value): each simple table's effective rows (own values, additive gaps filled by complete
        sums) and the region's own programme rows, unpivoted in pandas. (Synthetic data has no observations.)"""
        tree = self.region_tree()
        frames = []
        for table in storage.simple_tables():
            eff = self.effective(table.id, [region_id], tree=tree)
            numeric = [c.id for c in table.value_columns if c.numeric]
            frames.append(eff.melt(["region_id", "year"], numeric, "measure_id", "value").assign(item_id=""))
        programmes = self.table("training")
        programmes = programmes[programmes["region_id"] == region_id]
        numeric = [c.id for c in TABLES_BY_ID["training"].value_columns if c.numeric]
        frames.append(programmes.melt(["region_id", "year", "programme"], numeric, "measure_id", "value")
                      .rename(columns={"programme": "item_id"}))
        long = pd.concat(frames, ignore_index=True)
        return long[long["value"].notna()]


def training_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """The per-region, per-year training summary in pandas (the figures that add up of the registry's
    training summary, ``registry.TRAINING.summary``)."""
    study, exam = rows["programme_kind"] == "study", rows["programme_kind"] == "exam"
    counted = lambda kind: kind & (rows["required_persons"] > 0) & rows["participants"].notna()  # noqa: E731
    frame = pd.DataFrame({
        "region_id": rows["region_id"], "year": rows["year"],
        "study_sessions_total": rows["sessions"].where(study), "study_rows": study.astype(int),
        "study_counted_rows": counted(study).astype(int),
        "study_rated_rows": (study & (rows["participants"].notna()
                                      | rows["participation_rate_stated"].notna())).astype(int),
        "study_required": rows["required_persons"].where(study),
        "study_participants": rows["participants"].where(study),
        "exam_rows": exam.astype(int), "exam_counted_rows": counted(exam).astype(int),
        "exam_pass_counted_rows": (exam & (rows["participants"] > 0) & rows["passed"].notna()).astype(int),
        "exam_required": rows["required_persons"].where(exam), "exam_participants": rows["participants"].where(exam),
        "exam_passed": rows["passed"].where(exam),
        "two_counts": ((rows[["passed", "participants", "required_persons"]].notna().sum(axis=1)) >= 2).astype(int),
        "training_order_violations": ((rows["passed"] > rows["participants"])
                                      | (rows["participants"] > rows["required_persons"])
                                      | (rows["passed"] > rows["required_persons"])).fillna(False).astype(int)})
    out = frame.groupby(["region_id", "year"]).sum(min_count=1).reset_index()
    out["training_order_violations"] = out["training_order_violations"].where(out.pop("two_counts") > 0)
    for c in ("study_rows", "study_counted_rows", "study_rated_rows", "exam_rows", "exam_counted_rows",
              "exam_pass_counted_rows"):
        out[c] = out[c].fillna(0)
    return out


def same_values(ours: pd.DataFrame, theirs: pd.DataFrame, columns: list[str]) -> bool:
    """Both frames hold the same (region, year) rows with equal values in ``columns`` (NaN equals NaN)."""
    keys = ["region_id", "year"]
    a = ours[keys + columns].sort_values(keys).reset_index(drop=True)
    b = theirs[keys + columns].sort_values(keys).reset_index(drop=True)
    if len(a) != len(b) or not (a[keys].to_numpy() == b[keys].to_numpy()).all():
        return False
    x, y = a[columns].to_numpy(dtype="float64"), b[columns].to_numpy(dtype="float64")
    return bool(np.allclose(x, y, rtol=1e-9, atol=1e-6, equal_nan=True))


def same_long_values(ours: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    """Both long frames hold the same numbers per (region, year, measure, item); ``ours``' texts aside."""
    keys = ["region_id", "year", "measure_id", "item_id"]
    a = ours[ours["value"].notna()][keys + ["value"]].astype({"item_id": str}).sort_values(keys)
    b = theirs[keys + ["value"]].astype({"item_id": str}).sort_values(keys)
    if len(a) != len(b) or [tuple(r) for r in a[keys].itertuples(index=False)] != \
            [tuple(r) for r in b[keys].itertuples(index=False)]:
        return False
    return bool(np.allclose(a["value"].to_numpy("float64"), b["value"].to_numpy("float64"), rtol=1e-9, atol=1e-6))


# ---------------------------------------------------------------------------------------------------------
# Import (a child process, so that its peak memory is its own)


IMPORT_COMMAND = ("import json, resource, sys; from lawstats.cli import main; code = main(sys.argv[1:]); "
                  "print(json.dumps({'code': code, 'peak_rss_mb': "
                  "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")


def import_in_child(db_path: Path, data_dir: Path, batch_per_file: bool = False) -> dict:
    """``python -m lawstats import DIR`` (``--batch-per-file`` at national scale) in a child process, exactly
    as a user runs it: its wall time, and its peak memory as the kernel counts it."""
    argv = ["--db", str(db_path), "--no-seed", "import", str(data_dir), "--source", synth.SYNTHETIC_SOURCE,
            "--note", "synthetic benchmark data", "--user", "bench"] + (["--batch-per-file"] if batch_per_file else [])
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", IMPORT_COMMAND, *argv], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"import failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise RuntimeError(f"import exited {result['code']}:\n{done.stderr[-4000:]}")
    store = storage.Store(db_path)
    try:
        rows = sum(storage.count_rows(store, t, current=False) for t in storage.TABLES)
        batches = storage.list_batches(store)
    finally:
        store.close()
    return {"seconds": seconds, "rows": rows, "batches": len(batches), "peak_rss_mb": result["peak_rss_mb"]}


# ---------------------------------------------------------------------------------------------------------
# The measurements


def pick_regions(store: storage.Store) -> dict[str, int]:
    """A township (the default region), its county and the whole country (the root)."""
    township = summary.default_region(store)
    path = storage.region_path(store, township)
    county = int(path.loc[path["level"] == "county", "region_id"].iloc[0])
    return {"township": int(township), "county": county, "country": storage.ROOT_ID}


def measure_queries(store: storage.Store, scale: str, repeats: int, baseline_repeats: int,
                    native: storage.Store | None = None) -> list[dict]:
    """The page queries on ``store``. With ``native`` (the same data in a DuckDB file: ``bench --store``), each
    query also runs there (``native_ms``, the lower bound; ``native_same``: both stores gave the same answer),
    and the pandas baseline reads its tables from the file, so it is the same beside every store."""
    measured = store
    naive = Naive(native or store)
    naive.warm()
    regions = pick_regions(store)
    year = max(storage.effective_years(store, regions["township"]))
    records = []

    def add(name, ours, theirs=None, columns=None, rows_of=_rows):
        nonlocal store
        times, result = _time(ours, repeats)
        native_times, native_same = None, None
        if native is not None:
            store = native  # the query functions below read the name ``store`` when they run
            try:
                native_times, native_result = _time(ours, repeats)
            finally:
                store = measured
            native_same = same_result(result, native_result)
        base_times, same = None, None
        if theirs is not None:
            base_times, expected = _time(theirs, baseline_repeats - 1) if baseline_repeats > 1 else _once(theirs)
            same = _compare(result, expected, columns)
        records.append(record(name, scale, rows_of(result), times, base_times, None, same, native_times,
                              native_same))
        return result

    for label, region_id in regions.items():
        info = storage.region_info(store, region_id)
        add(f"frame.path/{label}", lambda: storage.region_path(store, region_id), lambda: naive.path(region_id))
        add(f"frame.children/{label}", lambda: storage.tree_children(store, region_id),
            lambda: naive.children(region_id))
        add(f"frame.years/{label}", lambda: storage.effective_years(store, region_id))
        add(f"overview.inputs/{label}", lambda: storage.indicator_inputs(store, [region_id]),
            lambda: naive.effective("population", [region_id]),
            [c.id for c in storage.additive_columns(TABLES_BY_ID["population"])])
        add(f"overview.rollup_check/{label}", lambda: storage.rollup_status(store, region_id, [year]))
        for table in storage.simple_tables():
            add(f"{table.id}.rows/{label}", lambda t=table: storage.effective_rows(store, t, [region_id]),
                lambda t=table: naive.effective(t.id, [region_id]), [c.id for c in storage.additive_columns(table)])
        add(f"training.summary/{label}", lambda: storage.indicator_inputs(store, [region_id]),
            lambda: naive.effective("training", [region_id]), ["exam_required", "exam_participants", "exam_passed",
                                                                 "study_sessions_total"])
        children = storage.tree_children(store, region_id)["region_id"].astype(int).tolist()
        if children:
            add(f"domain.children/{label}", lambda: storage.effective_rows(store, TABLES_BY_ID["population"],
                                                                            children, [year]),
                lambda: naive.effective("population", children, [year]), ["registered_persons"])
        scope = storage.ROOT_ID if region_id == storage.ROOT_ID else int(info["parent_id"])
        level = "province" if region_id == storage.ROOT_ID else info["level"]
        peers = add(f"compare.peers/{label}", lambda: storage.compare_inputs(store, scope, level, [year]),
                    lambda: naive.effective("population", naive.level_members(scope, level), [year]),
                    ["registered_persons", "registered_households"])
        ids = tuple(int(r) for r in peers["region_id"][:21])
        add(f"compare.series/{label}", lambda: storage.effective_inputs(store, list(ids)))
        add(f"summary.indicator_table/{label}", lambda: summary.indicator_table(store, region_id, year))
        # the generic domain pages and their menu read every measure of the region (issue 10)
        add(f"domain.measure_values/{label}", lambda: storage.measure_values(store, [region_id]),
            lambda: naive.measure_values(region_id), "long")
        add(f"domain.menu/{label}", lambda: storage.measures_with_data(store, region_id))
    add("compare.all_townships/country", lambda: storage.compare_inputs(store, storage.ROOT_ID, "township", [year]),
        lambda: naive.effective("population", naive.level_members(storage.ROOT_ID, "township"), [year]),
        ["registered_persons", "minority_persons"])
    add("frame.search/country", lambda: storage.search_regions(store, "合成镇000"))
    add("frame.default_region", lambda: storage.default_region_id(store))
    return records


def same_result(ours, theirs) -> bool:
    """Whether two stores answered a query alike: equal values, row order aside where the query sets none."""
    if not isinstance(ours, pd.DataFrame):
        return ours == theirs
    if list(ours.columns) != list(theirs.columns) or len(ours) != len(theirs):
        return False
    text = lambda frame: sorted(map(repr, frame.astype(str).itertuples(index=False)))  # noqa: E731
    return text(ours) == text(theirs)


def _rows(result) -> int:
    return len(result) if hasattr(result, "__len__") else 1


def _once(function):
    start = time.perf_counter()
    result = function()
    return [(time.perf_counter() - start) * 1000], result


def _compare(ours, expected, columns) -> bool:
    """Same regions (in the same order where the answer is a path), or same values in ``columns``, or (columns
    "long") the same numbers per region, year, measure and item."""
    if columns == "long":
        return same_long_values(ours, expected)
    if columns is not None:
        return same_values(ours, expected, columns)
    ours = [int(r) for r in ours["region_id"]] if isinstance(ours, pd.DataFrame) else list(ours)
    if isinstance(expected, pd.DataFrame):
        return sorted(ours) == sorted(int(r) for r in expected["region_id"])
    return ours == list(expected)


PAGES = ("overview", "population", "land", "grid", "training", "governance", "compare")


class PageView:
    """One AppTest session of ``bench/page_view.py`` (the frame, then a page): its reruns are what a browser's
    rerun costs. The session is kept, as a browser keeps it, and Streamlit's caches live in the process."""

    def __init__(self, page: str, region_id: int):
        from streamlit.testing.v1 import AppTest

        self.at = AppTest.from_file(str(ROOT / "bench" / "page_view.py"), default_timeout=600)
        self.at.query_params["page"] = page
        self.at.query_params["region"] = str(region_id)
        self.page = page

    def run(self) -> float:
        start = time.perf_counter()
        self.at.run()
        elapsed = (time.perf_counter() - start) * 1000
        if self.at.exception:
            raise RuntimeError(f"page {self.page} failed: {[e.value for e in self.at.exception]}")
        return elapsed


def measure_pages(db_path: Path | str, scale: str, repeats: int, regions: dict[str, int]) -> list[dict]:
    """AppTest: warm reruns (frame and page) of every page for the township, of the overview and the compare
    page for the county and the country; a small commit, the first view after it (every cache missed), its
    undo and the first view after that. ``db_path``: the DuckDB file, or any store setting."""
    from streamlit import logger

    logger.set_log_level("error")  # AppTest's bare-mode warnings, once per run
    with _app_store(db_path):
        return _measure_pages(db_path, scale, repeats, regions)


@contextlib.contextmanager
def environment(values: dict[str, str]):
    """Set environment variables for the duration, and put back what was there (or nothing) afterwards."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _app_store(db_path: Path | str):
    """Point the app (AppTest, in this process) at ``db_path`` for the duration: a caller running in the same
    process (the test suite) must not find its later servers on the bench's store."""
    return environment({name: str(db_path) for name in ("LAWSTATS_DB", "LAWSTATS_STORE")})


def _measure_pages(db_path: Path | str, scale: str, repeats: int, regions: dict[str, int]) -> list[dict]:
    records = []
    views = [(page, "township") for page in PAGES] + [(page, label) for page in ("overview", "compare")
                                                       for label in ("county", "country")]
    for page, label in views:
        view = PageView(page, regions[label])
        view.run()  # the first view fills the caches
        times = [view.run() for _ in range(repeats)]
        records.append(record(f"page.{page}.warm_rerun/{label}", scale, None, times))
    view = PageView("overview", regions["township"])
    view.run()
    store = storage.Store(db_path)  # the app's database: DuckDB shares one instance per file in a process
    start = time.perf_counter()
    batch_id = small_commit(store)
    records.append(record("commit.one_village", scale, 1, [(time.perf_counter() - start) * 1000]))
    records.append(record("page.overview.first_view_after_commit", scale, None, [view.run()]))
    start = time.perf_counter()
    storage.undo_batch(store, batch_id, user_name="bench")
    records.append(record("undo.one_village", scale, 1, [(time.perf_counter() - start) * 1000]))
    records.append(record("page.overview.first_view_after_undo", scale, None, [view.run()]))
    store.close()
    return records


def move_to_store(db_path: Path, setting: str, scale: str) -> dict:
    """Copy the benchmark's DuckDB file onto the store ``setting`` (which must be empty), as ``lawstats
    migrate-store`` does; the record holds the time it took."""
    source, target = storage.Store(db_path), storage.Store(setting)
    try:
        start = time.perf_counter()
        storage.copy_store(source, target)
        elapsed = (time.perf_counter() - start) * 1000
    finally:
        source.close()
        target.close()
    return record("migrate_store", scale, None, [elapsed])


def small_commit(store: storage.Store) -> int:
    """One village's registered households in the latest year, one higher: what an analyst's correction is."""
    row = store.query_df("""
        SELECT c.* FROM cur_population c JOIN region_tree t USING (region_id)
        WHERE t.level = 'village' ORDER BY c.year DESC, c.region_id LIMIT 1""")
    frame = row[["region_id", "year", "registered_households"]].copy()
    frame["registered_households"] = frame["registered_households"] + 1
    frame["source"] = synth.SYNTHETIC_SOURCE
    frame["section"] = None
    frame["approx"] = [[]]
    batch = storage.NewBatch(file_name="bench-correction.csv", source=synth.SYNTHETIC_SOURCE, synthetic=True,
                             rows={"population": frame})
    return storage.commit_batch(store, batch)


def machine() -> dict:
    import psutil

    return {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}


def run(scale: str = "county", json_path: str | None = None, repeats: int = 30, baseline_repeats: int = 3,
        page_repeats: int = 10, workdir: str | None = None, reuse: bool = False, seed: int = 1,
        years: list[int] | None = None, log=print, store: str | None = None) -> list[dict]:
    """The whole benchmark at one scale. Returns (and with ``json_path`` writes) the records.

    ``store`` (a store setting, ``bench --store``): the data is imported into a DuckDB file as always, moved
    onto that store with ``storage.copy_store`` (what ``migrate-store`` runs), and measured there, each query
    beside its time on the file (``native_ms``)."""
    work = Path(workdir or tempfile.mkdtemp(prefix=f"lawstats_bench_{scale}_"))
    data_dir, db_path = work / "data", work / "bench.duckdb"
    records = []
    if not (reuse and db_path.exists()):
        for leftover in (db_path, db_path.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)
        start = time.perf_counter()
        synth.generate(data_dir, scale, years, seed)
        log(f"synth {scale}: {time.perf_counter() - start:.1f} s")
        # national: one batch per file, so that one file's rows are in memory at a time (one batch of all
        # 26 M rows holds every file's typed rows at once; issue 5 asks for at most 4 GB)
        imported = import_in_child(db_path, data_dir, batch_per_file=scale == "national")
        log(f"import: {imported['seconds']:.1f} s, {imported['rows']:,} rows, peak {imported['peak_rss_mb']:,.0f} MB")
        baseline = None
        if scale == "national":  # the same data as one batch, in the same run: what --batch-per-file saves
            one_batch_db = work / "one_batch.duckdb"
            whole = import_in_child(one_batch_db, data_dir)
            for leftover in (one_batch_db, one_batch_db.with_suffix(".duckdb.wal")):
                leftover.unlink(missing_ok=True)
            log(f"import as one batch: {whole['seconds']:.1f} s, peak {whole['peak_rss_mb']:,.0f} MB")
            records.append(record("import.one_batch", scale, whole["rows"], [whole["seconds"] * 1000],
                                  peak_rss_mb=whole["peak_rss_mb"]))
            baseline = [whole["seconds"] * 1000]
        records.append(record("import", scale, imported["rows"], [imported["seconds"] * 1000], baseline,
                              peak_rss_mb=imported["peak_rss_mb"]))
    measured_store = str(db_path)
    if store:
        records.append(move_to_store(db_path, store, scale))
        log(f"moved onto {store}: {records[-1]['p50_ms'] / 1000:.1f} s")
        measured_store = store
    target = storage.Store(measured_store)
    native = storage.Store(db_path) if store else None
    try:
        regions = pick_regions(target)
        records += measure_queries(target, scale, repeats, baseline_repeats, native)
    finally:
        target.close()
        if native is not None:
            native.close()
    log(f"queries: {len(records)} records")
    records += measure_pages(measured_store, scale, page_repeats, regions)
    peak = peak_rss_mb()
    for r in records:
        if r["peak_rss_mb"] is None and r["name"].startswith(("page.", "commit.", "undo.")):
            r["peak_rss_mb"] = round(peak, 1)
    if json_path:
        Path(json_path).write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return records


def summary_lines(records: list[dict]) -> list[str]:
    """A plain table of the records for the console."""
    lines = [f"{'name':44s} {'rows':>10s} {'p50 ms':>9s} {'p95 ms':>9s} {'base ms':>10s} {'ratio':>7s} "
             f"{'file ms':>9s} same"]
    for r in records:
        native = r.get("native_ms")
        lines.append(f"{r['name']:44s} {r['rows'] if r['rows'] is not None else '':>10} {r['p50_ms']:>9.1f} "
                     f"{r['p95_ms']:>9.1f} {r['baseline_ms'] if r['baseline_ms'] is not None else '':>10} "
                     f"{r['ratio'] if r['ratio'] is not None else '':>7} {native if native is not None else '':>9} "
                     f"{'' if r['same_answer'] is None else r['same_answer']}")
    return lines


def markdown_table(records: list[dict], names: list[str] | None = None) -> str:
    """Records as a Markdown table (for the README)."""
    rows = [r for r in records if names is None or r["name"] in names]
    lines = ["| measurement | rows | p50 ms | p95 ms | pandas baseline ms | ratio | same answer |",
             "|---|---:|---:|---:|---:|---:|:-:|"]
    for r in rows:
        def cell(value, digits=1):
            return "" if value is None else (f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}")
        lines.append(f"| `{r['name']}` | {cell(r['rows'])} | {cell(r['p50_ms'])} | {cell(r['p95_ms'])} | "
                     f"{cell(r['baseline_ms'])} | {cell(r['ratio'])} | "
                     f"{'' if r['same_answer'] is None else ('✓' if r['same_answer'] else '✗')} |")
    return "\n".join(lines)
