"""Fetching live: one order from every configured system, linked from any system's ref, into the cache.

A ref is looked up in every system at once (a ref from a sync listing: in its
own system first). What the systems hold names more
refs (a Shopify order's "Amazon Order ID" attribute, a NetSuite order's
otherrefnum), which are then looked up in the systems that found nothing yet,
until no new ref appears. A system that answered "nothing" is recorded as absent
together with the query that proved it; a system that could not be read is left
out of the write, so its previous cached record survives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from adapters.base import PayloadError
from adapters.http import FetchError, RetryPolicy
from adapters.live import LiveAdapter, LiveSettings
from adapters.registry import live_platform, platform
from audit.model import UTC, Case, RawPayload, Record, ThreetruthError
from cache.store import Cache, SyncProgress
from tui.config import Config, ConfigError, SystemConfig
from tui.ingest import ImportProblem, build_case

ROUNDS = 3  # ref -> links -> links of links; real stacks link in at most two hops
CASES_AT_ONCE = 8  # cases fetched concurrently; each system's pacer still rules its own rate


def live_settings(system: SystemConfig, *, time_scale: float = 1.0, policy: RetryPolicy | None = None, transport=None,
                  timeout=None) -> LiveSettings:
    base_url = system.options.get("base_url")
    if not base_url:
        raise ConfigError(f"[systems.{system.name}] has no base_url, so it cannot be fetched")
    return LiveSettings(
        name=system.name,
        base_url=str(base_url),
        context=system.context(),
        options=dict(system.options),
        secrets=dict(system.secrets),
        secret_env=dict(system.secret_env),
        policy=policy or RetryPolicy(),
        time_scale=time_scale,
        transport=transport,
        timeout=timeout,
    )


def connect(config: Config, names: Iterable[str] | None = None, **settings_options) -> dict[str, LiveAdapter]:
    """A live adapter per configured system (or per named system) that can be fetched."""
    chosen = sorted(names) if names is not None else sorted(config.systems)
    unknown = [n for n in chosen if n not in config.systems]
    if unknown:
        raise ConfigError(f"no system named {unknown[0]!r} in the config; configured: {', '.join(sorted(config.systems)) or 'none'}")
    if not chosen:
        raise ConfigError("no [systems.NAME] tables in the config: nothing to fetch from (see README, Configuration)")
    adapters = {}
    for name in chosen:
        system = config.systems[name]
        adapters[name] = live_platform(system.platform).connect(live_settings(system, **settings_options))
    return adapters


async def close_all(adapters: Mapping[str, LiveAdapter]) -> None:
    await asyncio.gather(*(a.aclose() for a in adapters.values()), return_exceptions=True)


@dataclass
class Fetched:
    """One ref fetched: the case (None when no system holds it) and what went wrong where."""

    ref: str
    case: Case | None = None
    payloads: list[RawPayload] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # system -> one line

    def summary(self) -> str:
        """One line for a fetched case: its ref in each system. A ref nothing was found for is a problem instead."""
        if self.case is None:
            raise ValueError(f"{self.ref} was not fetched; report it through FetchReport.problems")
        parts = []
        for holding in sorted(self.case.holdings, key=lambda h: h.system.name):
            if holding.records:
                parts.append(f"{holding.system.name} {', '.join(r.ref for r in holding.records)}")
            else:
                parts.append(f"{holding.system.name} holds nothing")
        parts += [f"{name} not read" for name in sorted(self.problems)]
        return f"{self.case.ref}: " + "; ".join(parts)


async def fetch_case(ref: str, config: Config, adapters: Mapping[str, LiveAdapter], *, home: str | None = None) -> Fetched:
    """Find the order ``ref`` names in every system, following the links between them.

    ``home`` is the system the ref comes from, when that is known (a sync listing):
    it is asked first and alone, and the others only for the refs its records name.
    A listing's ref can be a handle only its own system understands (a Shopify GID),
    and asking SP-API for it would spend a getOrders request, one a minute, on nothing.
    """
    outcome = Fetched(ref)
    known: list[str] = [ref]
    asked: dict[str, set[str]] = {name: set() for name in adapters}
    found: dict[str, list[RawPayload]] = {}  # systems whose lookup found records: those payloads
    empty: dict[str, list[RawPayload]] = {}  # systems that only answered "nothing": the proof
    for round_ in range(ROUNDS):
        homing = home is not None and round_ == 0
        if homing:
            waiting = [home]
        else:
            waiting = [n for n in adapters if n not in found and n not in outcome.problems and set(known) - asked[n]]
        if not waiting:
            break
        answers = await asyncio.gather(*(_ask(adapters[n], config.systems[n], known, asked[n]) for n in waiting))
        new_refs: list[str] = []
        for name, (payloads, records, problem) in zip(waiting, answers):
            if problem:
                outcome.problems[name] = problem
            elif records:
                found[name] = payloads
                for record in records:
                    new_refs.extend([record.ref, *sorted(record.links)])
            else:
                empty.setdefault(name, []).extend(payloads)
        if homing:
            known = list(dict.fromkeys(new_refs))  # what the home record names, not the listing's handle
        else:
            known.extend(r for r in dict.fromkeys(new_refs) if r not in known)
    readable = {n: config.systems[n] for n in adapters if n not in outcome.problems}
    if not found:
        return outcome
    by_system = {n: found.get(n) or empty.get(n, []) for n in readable}
    try:
        outcome.case = build_case(readable, by_system, where=ref)
    except ImportProblem as exc:
        outcome.problems["(case)"] = str(exc)
        return outcome
    outcome.payloads = [p for n in sorted(by_system) for p in by_system[n]]
    return outcome


async def _ask(adapter: LiveAdapter, system: SystemConfig, refs: Sequence[str], asked: set[str]) -> tuple[list[RawPayload], list[Record], str | None]:
    """Look up each not-yet-asked ref until one finds records; returns (payloads, records, problem)."""
    proof: list[RawPayload] = []
    for ref in refs:
        if ref in asked:
            continue
        asked.add(ref)
        try:
            payloads = await adapter.lookup(ref)
            records = platform(system.platform).normalise(payloads, system.context()).records
        except (FetchError, PayloadError) as exc:
            return [], [], str(exc) if isinstance(exc, FetchError) else f"{system.name}: {exc}"
        except ThreetruthError as exc:
            return [], [], f"{system.name}: {exc}"
        if records:
            return payloads, records, None
        proof.extend(payloads)
    return proof, [], None


@dataclass
class FetchReport:
    fetched: list[Fetched] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        lines = []
        for item in self.fetched:
            lines += list(dict.fromkeys(item.problems.values()))
            if item.case is None and not item.problems:
                lines.append(f"{item.ref}: no configured system holds an order with this ref")
        return list(dict.fromkeys(lines))


async def fetch_refs(
    refs: Sequence[str],
    config: Config,
    cache: Cache,
    adapters: Mapping[str, LiveAdapter],
    *,
    home: str | None = None,
    on_fetched: Callable[[Fetched], None] | None = None,
) -> FetchReport:
    """Fetch every ref (a few at a time) and write each case as it lands, in its own transaction.

    ``home``: the system every ref comes from, when known (see :func:`fetch_case`).
    """
    report = FetchReport()
    gate = asyncio.Semaphore(CASES_AT_ONCE)

    async def one(ref: str) -> None:
        async with gate:
            item = await fetch_case(ref, config, adapters, home=home)
        if item.case is not None:
            cache.write_case(item.case, item.payloads)
        report.fetched.append(item)
        if on_fetched:
            on_fetched(item)

    await asyncio.gather(*(one(ref) for ref in dict.fromkeys(refs)))
    report.fetched.sort(key=lambda f: refs.index(f.ref))
    return report


# --- sync ------------------------------------------------------------------------------


@dataclass
class SyncStatus:
    """What one system's sync has done so far, for a progress display."""

    system: str
    cases: int = 0
    total: int | None = None
    done: bool = False
    resumed: bool = False
    problem: str | None = None


async def sync_window(
    config: Config,
    cache: Cache,
    adapters: Mapping[str, LiveAdapter],
    since: datetime,
    until: datetime | None,
    *,
    systems: Sequence[str] | None = None,
    on_progress: Callable[[SyncStatus], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[SyncStatus]:
    """Fetch every order each listed system changed in the window; resumable page by page.

    Each system's listing cursor is saved after every page whose cases are all
    written, so an interrupted sync (Ctrl-C, a crash, kill -9) continues where it
    stopped; redoing the last page only rewrites identical data.
    """
    since_key, until_key = since.isoformat(), until.isoformat() if until else ""
    # Every system lists the same orders: a case fetched through one system's listing is not
    # fetched again for another's in the same run. Its refs and ids in every system.
    covered: set[str] = set()

    async def one(name: str) -> SyncStatus:
        saved = cache.sync_progress(name, since_key, until_key)
        if saved.done:
            saved = SyncProgress()  # that window finished before: this is a new sync of it, from the start
        status = SyncStatus(name, saved.cases, saved.total, resumed=saved.cursor is not None)
        if on_progress:
            on_progress(status)
        try:
            async for page in adapters[name].window(since, until, saved.cursor):
                report = await fetch_refs([r for r in page.refs if r not in covered], config, cache, adapters, home=name)
                for item in report.fetched:
                    if item.case is not None:
                        covered.update(key for h in item.case.holdings for r in h.records for key in (r.ref, r.native_id))
                problems = report.problems
                if problems:
                    status.problem = problems[0]
                status.cases += len(page.refs)
                status.total = page.total if page.total is not None else status.total
                status.done = page.cursor is None
                cache.save_sync_progress(
                    name, since_key, until_key, SyncProgress(page.cursor, status.done, status.cases, status.total), clock()
                )
                if on_progress:
                    on_progress(status)
            if not status.done:
                status.done = True
                cache.save_sync_progress(name, since_key, until_key, SyncProgress(None, True, status.cases, status.total), clock())
                if on_progress:
                    on_progress(status)
        except FetchError as exc:
            status.problem = str(exc)
            if on_progress:
                on_progress(status)
        return status

    chosen = list(systems) if systems else sorted(adapters)
    # One system after another: each case fetch already reads every system at once, and a
    # later system's listing then finds most of its orders covered.
    return [await one(name) for name in chosen]
