"""The ``threetruth`` command line.

Exit codes: 0 everything in sync, 1 findings present, 2 a usage or input error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from audit.engine import audit_case
from audit.model import UTC, CaseResult, ThreetruthError, Verdict
from audit.report import document, iso
from cache.store import Cache
from tui.config import Config, load_config
from tui.ingest import bundled_scenarios, import_paths

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SAVE_BATCH = 1000  # audited cases written back per transaction


class UsageError(ThreetruthError):
    title = "Usage"


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="FILE", default=argparse.SUPPRESS,
        help="config file (default: $THREETRUTH_CONFIG, else built-in defaults and a cache in your data directory)",
    )
    parser = argparse.ArgumentParser(
        prog="threetruth",
        description="Audit one order across storefront, marketplace and ERP. "
        "With no command: import the bundled samples into an empty cache and show the audit.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    imp = commands.add_parser("import", parents=[common], help="import scenario folders or API response files into the cache")
    imp.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="scenario folder, folder of scenarios, or .json response file")

    aud = commands.add_parser("audit", parents=[common], help="audit cached cases and print the result")
    aud.add_argument("--case", metavar="REF", help="only this case (any system's ref or id)")
    aud.add_argument("--format", choices=("table", "json"), default="table")
    aud.add_argument("--as-of", metavar="ISO", help="audit as of this time instead of each case's newest fetch")

    cases = commands.add_parser("cases", parents=[common], help="list cached cases, one line each, with their verdict")
    cases.add_argument("--verdict", choices=[v.value for v in Verdict], help="only cases with this verdict")
    cases.add_argument("--system", metavar="NAME", help="only cases this system holds")
    cases.add_argument("--rule", metavar="ID", help="only cases where this rule fired")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(getattr(args, "config", None))
        if args.command == "import":
            return run_import(args.paths, config, sys.stdout, sys.stderr)
        if args.command == "audit":
            as_of = parse_as_of(args.as_of) if args.as_of else None
            return run_audit(config, sys.stdout, case=args.case, fmt=args.format, as_of=as_of)
        if args.command == "cases":
            return run_cases(config, sys.stdout, verdict=args.verdict, system=args.system, rule=args.rule)
        return run_default(config, sys.stdout, sys.stderr)
    except ThreetruthError as exc:
        print(f"threetruth: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("threetruth: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`threetruth audit | head`): not an error worth a traceback.
        sys.stderr.close()
        return EXIT_OK


def parse_as_of(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--as-of {text!r} is not an ISO-8601 date-time (e.g. 2026-03-05T12:00:00Z)") from None
    if moment.tzinfo is None:
        raise UsageError(f"--as-of {text!r} needs a UTC offset or Z")
    return moment.astimezone(UTC)


def run_import(paths: Sequence[Path], config: Config, out: TextIO, err: TextIO) -> int:
    with Cache.open(config.cache_path) as cache:
        report = import_paths(paths, config, cache)
    for problem in report.problems:
        print(f"threetruth: {problem}", file=err)
    noun = "case" if len(report.cases) == 1 else "cases"
    print(f"Imported {len(report.cases)} {noun} into {config.cache_path}", file=out)
    return EXIT_ERROR if report.problems else EXIT_OK


def audit_cached(cache: Cache, config: Config, refs: Sequence[str] | None, as_of: datetime | None) -> Iterator[CaseResult]:
    """Audit cached cases; results audited at their own as-of are written back as the stored verdicts."""
    settings = config.audit
    batch: list[CaseResult] = []
    cases = list(cache.iter_cases(refs)) if refs is not None else cache.iter_cases()
    for case in cases:
        result = audit_case(case, settings, as_of)
        if as_of is None:
            batch.append(result)
            if len(batch) >= SAVE_BATCH:
                cache.save_results(batch, settings.fingerprint)
                batch.clear()
        yield result
    if batch:
        cache.save_results(batch, settings.fingerprint)


def run_audit(config: Config, out: TextIO, *, case: str | None = None, fmt: str = "table", as_of: datetime | None = None) -> int:
    with Cache.open(config.cache_path) as cache:
        refs = None
        if case is not None:
            found = cache.find_case(case)
            if found is None:
                raise UsageError(f"no cached case matches {case!r}; `threetruth cases` lists them")
            refs = [found]
        # Materialised before writing back: the scan and the writes share one connection.
        results = list(audit_cached(cache, config, refs, as_of))
    if fmt == "json":
        json.dump(document(results, as_of), out, indent=2)
        out.write("\n")
    else:
        write_table(results, out)
        if not results:
            print(f"No cases in {config.cache_path}. Import some with `threetruth import PATH`.", file=out)
    return exit_code(results)


def exit_code(results: Sequence[CaseResult]) -> int:
    return EXIT_FINDINGS if any(r.findings for r in results) else EXIT_OK


def write_table(results: Sequence[CaseResult], out: TextIO) -> None:
    """The audit as text: one block per case, then a summary line."""
    for result in results:
        case = result.case
        print(f"{case.ref}  {result.verdict.value.upper()}  (born in {case.origin}; as of {iso(result.as_of)})", file=out)
        for holding in sorted(case.holdings, key=lambda h: h.system.name):
            name, role = holding.system.name, holding.system.role.value
            if not holding.records:
                what = "holds no record" if holding.presence.value == "absent" else "not fetched"
                print(f"  {name:<10} {role:<11} {'-':<22} {what}", file=out)
                continue
            for record in holding.records:
                states = f"{record.fulfillment.value} / {record.financial.value}"
                print(f"  {name:<10} {role:<11} {record.ref:<22} {record.native_status:<34} {states}", file=out)
        divergence = result.first_divergence
        if divergence is not None:
            handoff = f"{divergence.handoff.source} -> {divergence.handoff.target}" if divergence.handoff else "(within one system)"
            print(f"  first divergence: {iso(divergence.at)}  {handoff}  {divergence.rule}", file=out)
        for finding in result.findings:
            handoff = f"{finding.handoff.source} -> {finding.handoff.target}" if finding.handoff else "-"
            print(f"  [{finding.kind.value}] {finding.rule} ({handoff}): {finding.message}", file=out)
        print(file=out)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.verdict.value] = counts.get(result.verdict.value, 0) + 1
    if results:
        summary = ", ".join(f"{counts[v.value]} {v.value}" for v in Verdict if v.value in counts)
        print(f"{len(results)} cases: {summary}", file=out)


def run_cases(config: Config, out: TextIO, *, verdict: str | None = None, system: str | None = None, rule: str | None = None) -> int:
    with Cache.open(config.cache_path) as cache:
        stale = cache.case_refs(stale_for=config.audit.fingerprint)
        if stale:
            for _ in audit_cached(cache, config, stale, None):
                pass
        rows = cache.list_cases(verdict=verdict, system=system, rule=rule)
    if not rows:
        print("No cases match." if (verdict or system or rule) else f"No cases in {config.cache_path}.", file=out)
        return EXIT_OK
    width = max(len(r.ref) for r in rows)
    print(f"{'CASE':<{width}}  {'BORN IN':<10} {'VERDICT':<16} {'FINDINGS':>8}  FIRST DIVERGENCE", file=out)
    for row in rows:
        divergence = "-"
        if row.divergence_rule:
            handoff = f"{row.divergence_from} -> {row.divergence_to}" if row.divergence_from else "within one system"
            divergence = f"{(row.divergence_at or '')[:16].replace('T', ' ')}  {handoff}  {row.divergence_rule}"
        print(f"{row.ref:<{width}}  {row.origin:<10} {row.verdict or '?':<16} {row.finding_count or 0:>8}  {divergence}", file=out)
    return EXIT_FINDINGS if any(r.verdict != Verdict.IN_SYNC.value or r.finding_count for r in rows) else EXIT_OK


def run_default(config: Config, out: TextIO, err: TextIO) -> int:
    """No command: on an empty cache import the bundled samples, then show the audit."""
    with Cache.open(config.cache_path) as cache:
        empty = cache.count_cases() == 0
    if empty:
        print(f"The cache at {config.cache_path} is empty: importing the bundled sample scenarios.", file=out)
        status = run_import([bundled_scenarios()], config, out, err)
        if status == EXIT_ERROR:
            return status
        print(file=out)
    return run_audit(config, out)


if __name__ == "__main__":
    sys.exit(main())
