"""The ``threetruth`` command line.

Exit codes: 0 everything in sync, 1 findings present, 2 a usage or input error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from audit.model import UTC, ThreetruthError, Verdict
from cache.store import Cache
from tui.auditing import PARALLEL_FROM, audit_cache, json_document, summary_line
from tui.config import Config, load_config
from tui.demo import DEMO_TIME_SCALE, DemoWorld, sandbox_config_text
from tui.fetching import Fetched, FetchReport, close_all, connect, fetch_refs, sync_window
from tui.progress import SyncProgressDisplay
from tui.ingest import bundled_scenarios, import_paths

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


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
        "With no command: open the explorer on the cache (print the audit table when not on a terminal); "
        "with no systems configured, an empty cache is first filled with the bundled samples from the built-in sandbox.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    imp = commands.add_parser("import", parents=[common], help="import scenario folders or API response files into the cache")
    imp.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="scenario folder, folder of scenarios, or .json response file")
    imp.add_argument("--samples", action="store_true", help="import the bundled sample scenarios (offline, as captured)")

    aud = commands.add_parser("audit", parents=[common], help="audit cached cases and print the result")
    aud.add_argument("--case", metavar="REF", help="only this case (any system's ref or id)")
    aud.add_argument("--format", choices=("table", "json"), default="table")
    aud.add_argument("--as-of", metavar="ISO", help="audit as of this time instead of each case's newest fetch")

    fetch = commands.add_parser("fetch", parents=[common], help="fetch orders live from every configured system into the cache")
    fetch.add_argument("refs", nargs="+", metavar="REF", help="any system's ref: an Amazon order id, a Shopify name (#1042), a NetSuite tranId")

    sync = commands.add_parser("sync", parents=[common], help="fetch every order changed in a time window; resumable")
    sync.add_argument("--since", required=True, metavar="ISO", help="start of the window (UTC offset or Z required)")
    sync.add_argument("--until", metavar="ISO", help="end of the window (default: open)")
    sync.add_argument("--system", action="append", metavar="NAME", help="only this system's changes (repeatable)")

    box = commands.add_parser("sandbox", parents=[common], help="serve emulated Shopify, Amazon and NetSuite APIs on 127.0.0.1")
    box.add_argument("--port", type=int, default=8700, help="base port N: Shopify N, Amazon N+1, NetSuite N+2 (0 = any free ports)")
    box.add_argument("--faults", type=float, default=0.0, metavar="RATE", help="probability in [0, 1] that a request meets an injected fault")
    box.add_argument("--data", type=Path, metavar="DIR", help="a folder of scenario folders to serve (default: the bundled samples)")
    box.add_argument("--copies", type=int, default=0, help="also serve N re-keyed copies of every scenario, spread over 30 days up to today")
    box.add_argument("--time-scale", type=float, default=1.0, help="multiply every published rate limit by this")
    box.add_argument("--log", type=Path, metavar="FILE", help="write every request to FILE (JSON lines) on exit")

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
            if not args.paths and not args.samples:
                raise UsageError("import what? give PATH... or --samples")
            paths = [*args.paths, *([bundled_scenarios()] if args.samples else [])]
            return run_import(paths, config, sys.stdout, sys.stderr)
        if args.command == "sandbox":
            return run_sandbox(args, sys.stdout)
        if args.command == "audit":
            as_of = parse_as_of(args.as_of) if args.as_of else None
            return run_audit(config, sys.stdout, case=args.case, fmt=args.format, as_of=as_of)
        if args.command == "fetch":
            return run_fetch(args.refs, config, sys.stdout, sys.stderr)
        if args.command == "sync":
            since = parse_as_of(args.since, "--since")
            until = parse_as_of(args.until, "--until") if args.until else None
            return run_sync(config, sys.stdout, sys.stderr, since=since, until=until, systems=args.system)
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


def parse_as_of(text: str, option: str = "--as-of") -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO-8601 date-time (e.g. 2026-03-05T12:00:00Z)") from None
    if moment.tzinfo is None:
        raise UsageError(f"{option} {text!r} needs a UTC offset or Z")
    return moment.astimezone(UTC)


def run_fetch(refs: Sequence[str], config: Config, out: TextIO, err: TextIO, **connect_options) -> int:
    """Fetch each ref from every system; one line per case, one line per problem."""
    adapters = connect(config, **connect_options)

    def landed(fetched: Fetched) -> None:
        if fetched.case is not None:  # a ref nothing was found for is reported once, below, with the problems
            print(fetched.summary(), file=out, flush=True)

    async def go() -> FetchReport:
        try:
            with Cache.open(config.cache_path) as cache:
                return await fetch_refs(refs, config, cache, adapters, on_fetched=landed)
        finally:
            await close_all(adapters)

    report = asyncio.run(go())
    for problem in report.problems:
        print(f"threetruth: {problem}", file=err)
    fetched = [f.case.ref for f in report.fetched if f.case is not None]
    if not fetched:
        return EXIT_ERROR
    run = audit_cache(str(config.cache_path), config.audit, refs=fetched, fmt=None)
    print(summary_line(run), file=out)
    if report.problems:
        return EXIT_ERROR
    return EXIT_FINDINGS if run.with_findings else EXIT_OK


def run_sync(config: Config, out: TextIO, err: TextIO, *, since: datetime, until: datetime | None,
             systems: Sequence[str] | None = None, **connect_options) -> int:
    """Fetch every order the systems changed in the window, showing a progress bar per system."""
    adapters = connect(config, **connect_options)
    chosen = systems or sorted(adapters)
    for name in chosen:
        if name not in adapters:
            raise UsageError(f"--system {name!r} is not configured; configured: {', '.join(sorted(adapters))}")

    async def go():
        try:
            with Cache.open(config.cache_path) as cache, SyncProgressDisplay(out) as display:
                return await sync_window(config, cache, adapters, since, until, systems=chosen, on_progress=display.update)
        finally:
            await close_all(adapters)

    statuses = asyncio.run(go())
    for status in statuses:
        if status.problem:
            print(f"threetruth: {status.problem}", file=err)
    listed = ", ".join(f"{s.system} {s.cases}" for s in statuses)
    print(f"Synced the orders each system changed in the window ({listed}) into {config.cache_path}", file=out)
    return EXIT_ERROR if any(s.problem for s in statuses) else EXIT_OK


def run_import(paths: Sequence[Path], config: Config, out: TextIO, err: TextIO) -> int:
    with Cache.open(config.cache_path) as cache:
        report = import_paths(paths, config, cache)
    for problem in report.problems:
        print(f"threetruth: {problem}", file=err)
    noun = "case" if len(report.cases) == 1 else "cases"
    print(f"Imported {len(report.cases)} {noun} into {config.cache_path}", file=out)
    return EXIT_ERROR if report.problems else EXIT_OK


def run_audit(config: Config, out: TextIO, *, case: str | None = None, fmt: str = "table", as_of: datetime | None = None) -> int:
    refs = None
    if case is not None:
        with Cache.open(config.cache_path) as cache:
            found = cache.find_case(case)
        if found is None:
            raise UsageError(f"no cached case matches {case!r}; `threetruth cases` lists them")
        refs = [found]
    run = audit_cache(str(config.cache_path), config.audit, refs=refs, as_of=as_of, fmt=fmt)
    if fmt == "json":
        out.write(json_document(run, as_of) + "\n")
    elif run.count:
        out.write("\n".join(run.texts) + "\n")
        print(summary_line(run), file=out)
    else:
        print(f"No cases in {config.cache_path}. Import some with `threetruth import PATH`.", file=out)
    return EXIT_FINDINGS if run.with_findings else EXIT_OK


def run_cases(config: Config, out: TextIO, *, verdict: str | None = None, system: str | None = None, rule: str | None = None) -> int:
    with Cache.open(config.cache_path) as cache:
        stale = cache.case_refs(stale_for=config.audit.fingerprint)
    if stale:
        # Verdicts are stored by the audit; bring any stale ones up to date first.
        audit_cache(str(config.cache_path), config.audit, refs=None if len(stale) > PARALLEL_FROM else stale)
    with Cache.open(config.cache_path) as cache:
        rows = cache.list_cases(verdict=verdict, system=system, rule=rule)
    if not rows:
        print("No cases match." if (verdict or system or rule) else f"No cases in {config.cache_path}.", file=out)
        return EXIT_OK
    width = max(len(r.ref) for r in rows)
    print(f"{'CASE':<{width}}  {'BORN':<16}  {'IN':<10} {'VERDICT':<16} {'FINDINGS':>8}  FIRST DIVERGENCE", file=out)
    for row in rows:
        divergence = "-"
        if row.divergence_rule:
            handoff = f"{row.divergence_from} -> {row.divergence_to}" if row.divergence_from else "within one system"
            divergence = f"{(row.divergence_at or '')[:16].replace('T', ' ')}  {handoff}  {row.divergence_rule}"
        born = (row.created_at or "")[:16].replace("T", " ")
        print(f"{row.ref:<{width}}  {born:<16}  {row.origin:<10} {row.verdict or '?':<16} {row.finding_count or 0:>8}  {divergence}", file=out)
    return EXIT_FINDINGS if any(r.verdict != Verdict.IN_SYNC.value or r.finding_count for r in rows) else EXIT_OK


def run_default(config: Config, out: TextIO, err: TextIO) -> int:
    """No command: open the explorer on the cache (the audit table when output is not a terminal).

    With no systems configured (a fresh install) the demo world runs behind it: the
    sandbox's emulated Shopify, Amazon and NetSuite on loopback ports. An empty cache
    is filled from it through the live adapters, and refresh (r) in the explorer reads it.
    """
    interactive = out.isatty() and sys.stdin.isatty()
    if config.systems:
        return _explore(config, None) if interactive else run_audit(config, out)
    with Cache.open(config.cache_path) as cache:
        empty = cache.count_cases() == 0
    with DemoWorld(config) as world:
        if empty:
            print(f"The cache at {config.cache_path} is empty: fetching the sample orders from the sandbox's "
                  "emulated Shopify, Amazon and NetSuite through the live adapters.", file=out)
            status = run_fetch(list(world.refs), world.config, out, err, time_scale=DEMO_TIME_SCALE)
            if status == EXIT_ERROR:
                return status
            print(file=out)
        if interactive:
            return _explore(world.config, lambda c: connect(c, time_scale=DEMO_TIME_SCALE))
    return run_audit(config, out)


def _explore(config: Config, connect_systems) -> int:
    from tui.app import ThreetruthApp  # Textual loads only when the explorer opens

    app = ThreetruthApp(config, connect=connect_systems, import_samples=False)
    result = app.run()
    return result if isinstance(result, int) else EXIT_OK


def run_sandbox(args: argparse.Namespace, out: TextIO) -> int:
    """Serve the emulators in the foreground until Ctrl-C, with a config snippet that reads them."""
    from sandbox.core import EmulatorSettings
    from sandbox.data import Dataset
    from sandbox.server import serve

    if not 0.0 <= args.faults <= 1.0:
        raise UsageError(f"--faults {args.faults} is not a probability between 0 and 1")
    if args.data is not None and not args.data.is_dir():
        raise UsageError(f"--data {args.data}: no such folder")
    dataset = Dataset.current(datetime.now(UTC), args.data)
    if args.copies:
        dataset.cases += Dataset.generate(args.copies, window_days=30, anchor=datetime.now(UTC), root=args.data).cases
    settings = EmulatorSettings(time_scale=args.time_scale, fault_rate=args.faults)

    def ready(urls) -> None:
        print(f"threetruth sandbox: {len(dataset.cases)} orders; Ctrl-C to stop.", file=out)
        print("\n".join(f"  {name:<9} {urls[name]}" for name in ("shopify", "amazon", "netsuite")), file=out)
        print("\nRead it with a config such as:\n\n" + sandbox_config_text(urls, settings), file=out, flush=True)

    serve(args.port, dataset, settings, log_path=args.log, on_ready=ready)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
