"""Import and audit throughput, and peak memory, on synthetic platform-native cases.

Generates N cases by re-keying the bundled sample scenarios (every rule of the
audit model is among them) with a realistic mix: mostly healthy orders, a tail
of every kind of fault. Each N runs in a fresh process so its peak RSS is its own.

    python bench/audit_throughput.py            # N = 10,000 and 100,000
    python bench/audit_throughput.py -n 2000    # a quick look

The import is the real one: the cases are written out as scenario folders and
read back by the code behind ``threetruth import FOLDER`` (read, recognise,
normalise, write). The audit is the code behind ``threetruth audit``.

Floors timed in the same run: plain ``json.loads`` of the same payload texts
(for import) and a bare SQL three-way join over the cached states (for audit).
Targets on a 2-core machine: audit of 100k cases under 10 s and within 5x of the
SQL floor; import within 3x of json.loads.

Two more figures say where the time goes and why those floors are far away: on
a sample, normalising alone and writing already-normalised cases alone (the
cache's write of the required tables and verbatim payloads); and fetching, as
bare tuples, every row the rules read.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.base import make_payload  # noqa: E402
from audit.settings import AuditSettings  # noqa: E402
from cache.store import Cache  # noqa: E402
from tui.auditing import audit_cache  # noqa: E402
from tui.config import parse_config  # noqa: E402
from tui.ingest import WRITE_BATCH, Scenario, _requests, bundled_scenarios, build_case, import_paths, read_scenario  # noqa: E402

# How often each scenario appears: most orders are healthy; every fault shows up.
WEIGHTS = {
    "02-healthy-order": 50,
    "06-web-order-no-marketplace": 12,
    "07-timezone-trap": 6,
    "03-late-sync": 5,
    "15-in-flight-shipment": 5,
}
DEFAULT_WEIGHT = 2

# Identifiers re-keyed per synthetic case, so every case is distinct in the cache.
AMAZON_ID = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
SHOPIFY_NAME = re.compile(r"#1\d{3}\b")
NETSUITE_TRAN = re.compile(r"\b(SO|IF|INV)-?\d{4,5}\b")
TRACKING = re.compile(r"\b1Z999AA\d{11}\b")


@dataclass
class Template:
    folder: Path
    scenario: Scenario
    manifest: str  # scenario.toml as written
    files: dict[str, list[tuple[str, str, str]]]  # system -> [(file name, endpoint, text)]
    requests: dict[str, str]  # system -> requests.toml as written ("" when there is none)


def load_templates() -> list[tuple[Template, int]]:
    templates = []
    for folder in sorted(bundled_scenarios().iterdir()):
        if not (folder / "scenario.toml").exists():
            continue
        scenario = read_scenario(folder)
        files: dict[str, list[tuple[str, str, str]]] = {}
        requests: dict[str, str] = {}
        for name in scenario.systems:
            sub = folder / name
            named = _requests(sub) if sub.is_dir() else {}
            requests[name] = (sub / "requests.toml").read_text() if (sub / "requests.toml").exists() else ""
            for file in sorted(sub.glob("*.json")):
                files.setdefault(name, []).append((file.name, named.get(file.name, file.name), file.read_text()))
        template = Template(folder, scenario, (folder / "scenario.toml").read_text(), files, requests)
        templates.append((template, WEIGHTS.get(folder.name, DEFAULT_WEIGHT)))
    return templates


def rekey(text: str, index: int, table: dict[str, str]) -> str:
    """Give every identifier of one case a value unique to that case, consistently across its systems."""

    def swap(prefix: str):
        def replace(match: re.Match) -> str:
            token = match.group(0)
            if token not in table:
                table[token] = f"{prefix}{index:08d}{len(table):02d}"
            return table[token]

        return replace

    text = AMAZON_ID.sub(lambda m: table.setdefault(m.group(0), f"9{len(table):02d}-{index:07d}-{index * 7 % 10**7:07d}"), text)
    text = SHOPIFY_NAME.sub(swap("#"), text)
    text = NETSUITE_TRAN.sub(swap("T"), text)
    return TRACKING.sub(swap("1ZB"), text)


@dataclass
class Synthetic:
    template: Template
    files: dict[str, list[tuple[str, str, str]]]  # as Template.files, re-keyed
    requests: dict[str, str]


def synthetic_cases(n: int, seed: int = 7) -> Iterator[Synthetic]:
    templates = load_templates()
    chooser = random.Random(seed)
    population = [t for t, _ in templates]
    weights = [w for _, w in templates]
    for index in range(n):
        template = chooser.choices(population, weights)[0]
        table: dict[str, str] = {}
        files = {
            system: [(name, rekey(endpoint, index, table), rekey(text, index, table)) for name, endpoint, text in pairs]
            for system, pairs in template.files.items()
        }
        yield Synthetic(template, files, {system: rekey(text, index, table) for system, text in template.requests.items()})


def write_folders(n: int, root: Path) -> tuple[int, int, float]:
    """N scenario folders under ``root``, as `threetruth import` reads them.

    Returns the number of payloads, their size, and the seconds ``json.loads`` took
    over them: timed in a tight loop over each thousand cases' texts, which are then
    dropped, so no list of every text inflates the peak memory.
    """
    payloads = size = 0
    loads = 0.0
    batch: list[str] = []

    def time_loads() -> float:
        started = time.perf_counter()
        for text in batch:
            json.loads(text)
        elapsed = time.perf_counter() - started
        batch.clear()
        return elapsed

    for index, case in enumerate(synthetic_cases(n)):
        folder = root / f"{index:07d}"
        folder.mkdir(parents=True)
        (folder / "scenario.toml").write_text(case.template.manifest)
        for system, pairs in case.files.items():
            (folder / system).mkdir()
            if case.requests.get(system):
                (folder / system / "requests.toml").write_text(case.requests[system])
            for name, _endpoint, text in pairs:
                (folder / system / name).write_text(text)
                batch.append(text)
                payloads += 1
                size += len(text)
        if index % 1000 == 999:
            loads += time_loads()
    return payloads, size, loads + time_loads()


def storage_floor(path: Path, sample: int) -> tuple[float, float]:
    """Per case: normalising a sample of cases (no writing), and writing them (already normalised).

    The write is the cache's own, of cases already normalised, into a fresh cache file
    beside the benchmark's: what storing the required tables and verbatim payloads
    costs with no normalisation at all.
    """
    cases = []
    synthetic = list(synthetic_cases(sample, seed=8))
    started = time.perf_counter()
    for case in synthetic:
        fetched = case.template.scenario.fetched_at
        payloads = {s: [make_payload(s, e, fetched, t) for _, e, t in pairs] for s, pairs in case.files.items()}
        built = build_case(case.template.scenario.systems, payloads, case.template.scenario.origin)
        cases.append((built, [p for ps in payloads.values() for p in ps]))
    normalise = (time.perf_counter() - started) / sample
    copy = path.with_name("floor.db")
    with Cache.open(copy) as cache:
        started = time.perf_counter()
        for start in range(0, sample, WRITE_BATCH):
            cache.write_cases(cases[start : start + WRITE_BATCH])
        write = (time.perf_counter() - started) / sample
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return normalise, write


def rule_rows_floor(cache: Cache) -> float:
    """Seconds to fetch, as bare tuples, every row the rules read (no objects built, no rules run)."""
    started = time.perf_counter()
    for sql in (
        "SELECT case_ref, system, id, kind, at_earliest, at_latest, at_raw, precision, fulfillment, financial, origin, "
        "record_ref FROM events ORDER BY case_ref, system, seq",
        "SELECT case_ref, system, seq, ref, native_id, native_status, fulfillment, financial, total, currency, created, "
        "updated, tracking, links, unmapped, payload_ids FROM records ORDER BY case_ref, system, seq",
        "SELECT * FROM lines ORDER BY case_ref, system, record_seq, seq",
        "SELECT case_ref, system, presence, fetched_at FROM holdings ORDER BY case_ref, system",
    ):
        for _row in cache.db.execute(sql):
            pass
    return time.perf_counter() - started


def run(n: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="threetruth-bench-"))
    path = workdir / "bench.db"
    figures: dict = {"n": n}
    try:
        figures["payloads"], figures["bytes"], figures["json_loads_s"] = write_folders(n, workdir / "scenarios")

        config = parse_config({"cache": {"path": str(path)}}, None, {})
        with Cache.open(path) as cache:
            # The import as `threetruth import FOLDER` runs it: read, recognise, normalise, write.
            started = time.perf_counter()
            report = import_paths([workdir / "scenarios"], config, cache)
            figures["import_s"] = time.perf_counter() - started
            assert not report.problems and len(report.cases) == n, report.problems[:3]
            shutil.rmtree(workdir / "scenarios")

            settings = AuditSettings()
            # The audit as `threetruth audit` runs it: read, rules, verdicts written back;
            # once in one process, once sliced over every core.
            for label, jobs in (("audit_1job", 1), ("audit", None)):
                started = time.perf_counter()
                run_ = audit_cache(str(path), settings, jobs=jobs)
                figures[f"{label}_s"] = time.perf_counter() - started
                cache.db.execute("UPDATE cases SET verdict = NULL")  # the second run must not find them fresh
                cache.db.conn.commit()
            figures["verdicts"] = dict(run_.verdicts)
            figures["rules"] = dict(cache.db.execute("SELECT rule, count(*) FROM findings GROUP BY rule").fetchall())

            started = time.perf_counter()
            rows = cache.db.execute(
                """
                SELECT c.ref, a.fulfillment, a.financial, s.fulfillment, s.financial, n.fulfillment, n.financial
                FROM cases c
                LEFT JOIN records a ON a.case_ref = c.ref AND a.system = 'amazon' AND a.seq = 0
                LEFT JOIN records s ON s.case_ref = c.ref AND s.system = 'shopify' AND s.seq = 0
                LEFT JOIN records n ON n.case_ref = c.ref AND n.system = 'netsuite' AND n.seq = 0
                """
            ).fetchall()
            figures["sql_floor_s"] = time.perf_counter() - started
            assert len(rows) == n, (len(rows), n)
            figures["rule_rows_s"] = rule_rows_floor(cache)
        figures["db_mb"] = path.stat().st_size / 1e6
        # The import's and the audit's peak; the audit's worker processes count too.
        figures["peak_rss_mb"] = max(
            resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        ) / 1024
        # Last, because it holds a sample of normalised cases in memory.
        figures["normalise_per_case"], figures["write_per_case"] = storage_floor(path, min(n, 5000))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def report(f: dict) -> None:
    n = f["n"]
    audit_total = f["audit_s"]
    per_loads = f["json_loads_s"] / n
    print(f"\n== N = {n:,} cases ({f['payloads']:,} payloads, {f['bytes'] / 1e6:.0f} MB of JSON; cache {f['db_mb']:.0f} MB)")
    print(f"import : {f['import_s']:8.2f} s  {n / f['import_s']:9,.0f} cases/s   floor json.loads {f['json_loads_s']:.2f} s  "
          f"ratio {f['import_s'] / f['json_loads_s']:.1f}x (target <= 3x)")
    print(f"         per case: json.loads {per_loads * 1e6:.0f} us; normalising alone {f['normalise_per_case'] * 1e6:.0f} us "
          f"({f['normalise_per_case'] / per_loads:.1f}x); writing normalised cases alone {f['write_per_case'] * 1e6:.0f} us "
          f"({f['write_per_case'] / per_loads:.1f}x)")
    print(f"audit  : {audit_total:8.2f} s  {n / audit_total:9,.0f} cases/s   (one process: {f['audit_1job_s']:.2f} s)   "
          f"floor SQL join {f['sql_floor_s']:.2f} s  ratio {audit_total / f['sql_floor_s']:.1f}x "
          "(target <= 5x; under 10 s at 100k)")
    print(f"         fetching the rows the rules read, as bare tuples: {f['rule_rows_s']:.2f} s "
          f"({f['rule_rows_s'] / f['sql_floor_s']:.1f}x the join)")
    print(f"peak RSS {f['peak_rss_mb']:.0f} MB (largest single process, import or audit)")
    print("verdicts:", ", ".join(f"{k} {v:,}" for k, v in sorted(f["verdicts"].items())))
    print("rules   :", ", ".join(f"{k} {v:,}" for k, v in sorted(f["rules"].items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, action="append", help="number of cases (repeatable); default 10000 and 100000")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.n[0])))
        return
    for n in args.n or [10_000, 100_000]:
        out = subprocess.run([sys.executable, __file__, "--child", "-n", str(n)], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            sys.exit(out.returncode)
        report(json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
