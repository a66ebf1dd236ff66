"""Import and audit throughput, and peak memory, on synthetic platform-native cases.

Generates N cases by re-keying the bundled sample scenarios (every rule of the
audit model is among them) with a realistic mix: mostly healthy orders, a tail
of every kind of fault. Each N runs in a fresh process so its peak RSS is its own.

    python bench/audit_throughput.py            # N = 10,000 and 100,000
    python bench/audit_throughput.py -n 2000    # a quick look

Floors timed in the same run: plain ``json.loads`` of the same payload texts
(for import) and a bare SQL three-way join over the cached states (for audit).
Targets on a 2-core machine: audit of 100k cases under 10 s and within 5x of the
SQL floor; import within 3x of json.loads.
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
from tui.ingest import Scenario, _requests, bundled_scenarios, build_case, read_scenario  # noqa: E402

# How often each scenario appears: most orders are healthy; every fault shows up.
WEIGHTS = {
    "02-healthy-order": 50,
    "06-web-order-no-marketplace": 12,
    "07-timezone-trap": 6,
    "03-late-sync": 5,
    "15-in-flight-shipment": 5,
}
DEFAULT_WEIGHT = 2
BATCH = 1000

# Identifiers re-keyed per synthetic case, so every case is distinct in the cache.
AMAZON_ID = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
SHOPIFY_NAME = re.compile(r"#1\d{3}\b")
NETSUITE_TRAN = re.compile(r"\b(SO|IF|INV)-?\d{4,5}\b")
TRACKING = re.compile(r"\b1Z999AA\d{11}\b")


@dataclass
class Template:
    scenario: Scenario
    files: dict[str, list[tuple[str, str]]]  # system -> [(endpoint, text)]


def load_templates() -> list[tuple[Template, int]]:
    templates = []
    for folder in sorted(bundled_scenarios().iterdir()):
        if not (folder / "scenario.toml").exists():
            continue
        scenario = read_scenario(folder)
        files: dict[str, list[tuple[str, str]]] = {}
        for name in scenario.systems:
            requests = _requests(folder / name) if (folder / name).is_dir() else {}
            for file in sorted((folder / name).glob("*.json")):
                files.setdefault(name, []).append((requests.get(file.name, file.name), file.read_text()))
        templates.append((Template(scenario, files), WEIGHTS.get(folder.name, DEFAULT_WEIGHT)))
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


def synthetic_cases(n: int, seed: int = 7) -> Iterator[tuple[Template, dict[str, list[tuple[str, str]]]]]:
    templates = load_templates()
    chooser = random.Random(seed)
    population = [t for t, _ in templates]
    weights = [w for _, w in templates]
    for index in range(n):
        template = chooser.choices(population, weights)[0]
        table: dict[str, str] = {}
        yield template, {
            system: [(rekey(endpoint, index, table), rekey(text, index, table)) for endpoint, text in files]
            for system, files in template.files.items()
        }


def run(n: int, keep: Path | None) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="threetruth-bench-"))
    path = keep or workdir / "bench.db"
    figures = {"n": n, "payloads": 0, "bytes": 0, "json_loads_s": 0.0, "import_s": 0.0}
    with Cache.open(path) as cache:
        batch: list[tuple[Template, dict[str, list[tuple[str, str]]]]] = []

        def flush() -> None:
            texts = [text for _, files in batch for pairs in files.values() for _, text in pairs]
            figures["payloads"] += len(texts)
            figures["bytes"] += sum(len(t) for t in texts)
            started = time.perf_counter()
            for text in texts:
                json.loads(text)
            figures["json_loads_s"] += time.perf_counter() - started

            started = time.perf_counter()
            items = []
            for template, files in batch:
                fetched = template.scenario.fetched_at
                payloads = {s: [make_payload(s, e, fetched, t) for e, t in pairs] for s, pairs in files.items()}
                case = build_case(template.scenario.systems, payloads, template.scenario.origin)
                items.append((case, [p for ps in payloads.values() for p in ps]))
            cache.write_cases(items)
            figures["import_s"] += time.perf_counter() - started
            batch.clear()

        for item in synthetic_cases(n):
            batch.append(item)
            if len(batch) == BATCH:
                flush()
        if batch:
            flush()

        settings = AuditSettings()
        # The audit as `threetruth audit` runs it: read, rules, verdicts written back;
        # once in one process, once sliced over every core.
        for label, jobs in (("audit_1job", 1), ("audit", None)):
            started = time.perf_counter()
            run_ = audit_cache(str(path), settings, jobs=jobs)
            figures[f"{label}_s"] = time.perf_counter() - started
            cache.db.execute("UPDATE cases SET verdict = NULL")  # the second run must not find them fresh
            cache.db.conn.commit()
        verdicts = dict(run_.verdicts)
        rules = dict(cache.db.execute("SELECT rule, count(*) FROM findings GROUP BY rule").fetchall())

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
    figures["db_mb"] = path.stat().st_size / 1e6
    if keep is None:
        shutil.rmtree(workdir, ignore_errors=True)
    # The audit's worker processes count too: the peak is the largest of any of them.
    figures["peak_rss_mb"] = max(
        resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    ) / 1024
    figures["verdicts"] = verdicts  # type: ignore[assignment]
    figures["rules"] = rules  # type: ignore[assignment]
    return figures


def report(f: dict) -> None:
    n = f["n"]
    audit_total = f["audit_s"]
    print(f"\n== N = {n:,} cases ({f['payloads']:,} payloads, {f['bytes'] / 1e6:.0f} MB of JSON; cache {f['db_mb']:.0f} MB)")
    print(f"import : {f['import_s']:8.2f} s  {n / f['import_s']:9,.0f} cases/s   floor json.loads {f['json_loads_s']:.2f} s  "
          f"ratio {f['import_s'] / f['json_loads_s']:.1f}x (target <= 3x)")
    print(f"audit  : {audit_total:8.2f} s  {n / audit_total:9,.0f} cases/s   (one process: {f['audit_1job_s']:.2f} s)   "
          f"floor SQL join {f['sql_floor_s']:.2f} s  ratio {audit_total / f['sql_floor_s']:.1f}x "
          "(target <= 5x; under 10 s at 100k)")
    print(f"peak RSS {f['peak_rss_mb']:.0f} MB (largest single process)")
    print("verdicts:", ", ".join(f"{k} {v:,}" for k, v in sorted(f["verdicts"].items())))
    print("rules   :", ", ".join(f"{k} {v:,}" for k, v in sorted(f["rules"].items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, action="append", help="number of cases (repeatable); default 10000 and 100000")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.n[0], None)))
        return
    for n in args.n or [10_000, 100_000]:
        out = subprocess.run([sys.executable, __file__, "--child", "-n", str(n)], capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            sys.exit(out.returncode)
        report(json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
