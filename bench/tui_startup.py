"""How fast the UI opens and scrolls on large caches, and how much memory it takes.

For each size (default 10k, 100k and 1M cases) it builds a cache of minimal
audited cases once (kept in the temp folder and reused), then starts the app
headless in a fresh process and measures:

- launch to first paint: from spawning the process to the first case line drawn
  with its data (interpreter start, imports, opening the cache, the first scan batch
  and the first window read included);
- keypress to repaint while scrolling: from a key press to the cursor's line drawn
  with its data, for ``j`` (line by line through several windows), ``pagedown`` and
  ``G`` (the far end of the list);
- peak RSS of that process.

Targets on the 2-core reference machine: first paint <= 1 s at 1M cases,
<= 50 ms per keypress, RSS <= 200 MB.

    python bench/tui_startup.py [--sizes 10000 100000 1000000] [--keys 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (120, 40)


def cache_for(count: int, folder: Path) -> Path:
    """A bench cache of ``count`` cases, built on first use."""
    from tests.tui.bulk import build_bulk_cache

    path = folder / f"threetruth-bench-{count}.db"
    started = time.perf_counter()
    build_bulk_cache(path, count)
    took = time.perf_counter() - started
    if took > 1:
        print(f"  built {path} ({count:,} cases) in {took:.0f} s", file=sys.stderr)
    return path


def child(path: str, spawned: float, keys: int) -> dict:
    """Runs in the measured process: start the app, wait for the first painted line, then press keys."""
    from dataclasses import replace

    from tui.app import ThreetruthApp
    from tui.config import load_config
    from tui.widgets.case_list import CaseList

    drawn: list[tuple[float, int, bool]] = []  # (when, index, selected) of each data line rendered
    first_paint: list[float] = []
    original = CaseList._render

    def traced(self, index, line, selected, width):
        strip = original(self, index, line, selected, width)
        if line is not None:
            now = time.time()
            if not first_paint:
                first_paint.append(now - spawned)
            drawn.append((time.perf_counter(), index, selected))
        return strip

    CaseList._render = traced
    config = replace(load_config(None, {}), cache_path=Path(path))
    app = ThreetruthApp(config, import_samples=False)
    result: dict = {}

    async def wait_drawn(index: int, since: float, timeout: float = 10.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for when, drawn_index, selected in reversed(drawn):
                if when < since:
                    break
                if drawn_index == index and selected:
                    return when - since
            await asyncio.sleep(0.0005)
        raise TimeoutError(f"line {index} was never drawn")

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            while not first_paint:
                await asyncio.sleep(0.001)
            result["first_paint_s"] = first_paint[0]
            cases = app.screen.query_one(CaseList)
            started = time.perf_counter()
            while cases.scanning:
                await asyncio.sleep(0.005)
            result["listed_s"] = first_paint[0] + time.perf_counter() - started
            result["cases"] = len(cases.rowids)
            timings: dict[str, list[float]] = {"j": [], "pagedown": [], "G": []}
            plan = ["j"] * keys + ["pagedown"] * 20 + ["G"]
            for key in plan:
                target = {"j": cases.cursor + 1, "pagedown": cases.cursor + cases.page, "G": len(cases.rowids) - 1}[key]
                target = min(target, len(cases.rowids) - 1)
                since = time.perf_counter()
                await pilot.press(key)
                timings[key].append(await wait_drawn(target, since))
            for key, values in timings.items():
                values.sort()
                result[f"{key}_median_ms"] = 1000 * statistics.median(values)
                result[f"{key}_p95_ms"] = 1000 * values[min(int(len(values) * 0.95), len(values) - 1)]
                result[f"{key}_max_ms"] = 1000 * values[-1]
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    asyncio.run(run())
    return result


def measure(path: Path, keys: int) -> dict:
    spawned = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), "--spawned", repr(spawned), "--keys", str(keys)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"the measured process failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--keys", type=int, default=300, help="j presses per run (scrolls through several windows)")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.spawned, args.keys)))
        return
    print(f"threetruth UI on {os.cpu_count()} cores, terminal {SIZE[0]}x{SIZE[1]}, {args.keys} x j, 20 x pagedown, 1 x G")
    print(f"{'cases':>10} {'first paint':>12} {'listed':>8} {'j med/p95/max ms':>20} {'pgdn med/max ms':>16} {'G ms':>7} {'peak RSS':>9}")
    for size in args.sizes:
        result = measure(cache_for(size, args.folder), args.keys)
        print(
            f"{result['cases']:>10,} {result['first_paint_s']:>10.2f} s {result['listed_s']:>6.2f} s "
            f"{result['j_median_ms']:>6.1f}/{result['j_p95_ms']:>5.1f}/{result['j_max_ms']:>5.1f} "
            f"{result['pagedown_median_ms']:>7.1f}/{result['pagedown_max_ms']:>6.1f} {result['G_max_ms']:>7.1f} "
            f"{result['peak_rss_mb']:>6.0f} MB"
        )
    print("targets: first paint <= 1 s at 1M cases, <= 50 ms per keypress, peak RSS <= 200 MB")


if __name__ == "__main__":
    main()
