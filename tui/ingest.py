"""Importing payloads from disk: scenario folders and loose API responses, into the cache.

A scenario folder holds one case: ``scenario.toml`` plus one sub-folder per
system, named as the system, with that system's verbatim API responses
(``*.json``) and optionally ``requests.toml`` naming the request behind each
file. Loose files are recognised by shape, grouped into cases by the refs and
link fields they carry, and attached to cases already in the cache.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.base import PayloadError, make_payload, parse_json
from adapters.registry import platform, recognise
from audit.model import (
    UTC,
    Case,
    Holding,
    Presence,
    RawPayload,
    Record,
    Role,
    ThreetruthError,
)
from cache.store import Cache
from tui.config import Config, ConfigError, SystemConfig, parse_system

DEFAULT_ROLES = {"shopify": Role.STOREFRONT, "amazon": Role.MARKETPLACE, "netsuite": Role.ERP}
# When two systems created the order at the same moment, the likelier birthplace wins.
ORIGIN_PREFERENCE = {Role.MARKETPLACE: 0, Role.STOREFRONT: 1, Role.ERP: 2}


class ImportProblem(ThreetruthError):
    title = "Import problem"


@dataclass(frozen=True)
class Expectation:
    """What a scenario says the audit must find."""

    verdict: str
    divergence: Mapping[str, Any] | None = None  # {"from", "to", "rule"}; from/to absent = no handoff
    rules: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Scenario:
    path: Path
    title: str
    story: str
    fetched_at: datetime
    origin: str | None
    systems: Mapping[str, SystemConfig]
    expected: Expectation | None


@dataclass
class ImportReport:
    cases: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_scenario(folder: Path) -> Scenario:
    """Parse a scenario folder's ``scenario.toml``."""
    manifest = folder / "scenario.toml"
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImportProblem(f"{folder}: no scenario.toml (a scenario folder needs one; see README)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ImportProblem(f"{manifest}: not valid TOML ({exc})") from None
    for key in ("title", "fetched_at", "systems"):
        if key not in data:
            raise ImportProblem(f"{manifest}: missing {key!r}")
    try:
        fetched_at = _aware(data["fetched_at"], f"{manifest}: fetched_at")
        systems = {name: parse_system(name, table, str(manifest), {}) for name, table in data["systems"].items()}
    except ConfigError as exc:
        raise ImportProblem(str(exc)) from None
    expected = None
    if "expected" in data:
        raw = data["expected"]
        expected = Expectation(
            verdict=str(raw.get("verdict", "")),
            divergence=raw.get("first_divergence"),
            rules=tuple(raw["rules"]) if "rules" in raw else None,
        )
    origin = data.get("origin")
    if origin is not None and origin not in systems:
        raise ImportProblem(f"{manifest}: origin {origin!r} is not one of its systems")
    return Scenario(folder, str(data["title"]), str(data.get("story", "")).strip(), fetched_at, origin, systems, expected)


def _aware(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ImportProblem(f"{where}: not an ISO-8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise ImportProblem(f"{where}: give a UTC offset or Z ({value!r})")
    return parsed.astimezone(UTC)


def scenario_case(scenario: Scenario) -> tuple[Case, list[RawPayload]]:
    """Read and normalise every payload of a scenario into one case."""
    payloads: dict[str, list[RawPayload]] = {}
    for name, system in sorted(scenario.systems.items()):
        folder = scenario.path / name
        requests = _requests(folder) if folder.is_dir() else {}
        for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            text = _read(file)
            if platform(system.platform).recognise(_decode(file, text)) is None:
                raise ImportProblem(f"{file}: not a {system.platform} API response this version of threetruth reads")
            endpoint = requests.get(file.name) or f"{system.platform} response from {file.name}"
            payloads.setdefault(name, []).append(make_payload(name, endpoint, scenario.fetched_at, text))
    case = build_case(scenario.systems, payloads, scenario.origin, where=scenario.path)
    return case, [p for name in sorted(payloads) for p in payloads[name]]


def build_case(
    systems: Mapping[str, SystemConfig],
    payloads: Mapping[str, Sequence[RawPayload]],
    origin: str | None = None,
    *,
    where: Path | str = "",
) -> Case:
    """One case from every system's responses: a system with none was not fetched.

    Raises:
        ImportProblem: a payload cannot be read, or no system holds a record.
    """
    holdings = []
    for name, system in sorted(systems.items()):
        if payloads.get(name):
            holdings.append(_holding(system, payloads[name], Path(where) / name))
        else:
            holdings.append(Holding(system.definition, Presence.NOT_FETCHED))
    origin = origin or _infer_origin(holdings)
    if origin is None:
        raise ImportProblem(f"{where}: no system holds a record, so there is no case to import")
    origin_holding = next(h for h in holdings if h.system.name == origin)
    if not origin_holding.records:
        raise ImportProblem(f"{where}: origin {origin!r} holds no record")
    return Case(ref=_primary(origin_holding.records).ref, origin=origin, holdings=tuple(holdings))


def _holding(system: SystemConfig, payloads: Sequence[RawPayload], where: Path) -> Holding:
    try:
        normalised = platform(system.platform).normalise(payloads, system.context())
    except PayloadError as exc:
        raise ImportProblem(f"{where}: {exc}") from None
    fetched_at = max(p.fetched_at for p in payloads)
    if not normalised.records:
        proof = "; ".join(sorted({p.endpoint for p in payloads}))
        return Holding(system.definition, Presence.ABSENT, (), tuple(normalised.events), fetched_at, proof)
    return Holding(system.definition, Presence.PRESENT, tuple(normalised.records), tuple(normalised.events), fetched_at)


def _requests(folder: Path) -> dict[str, str]:
    file = folder / "requests.toml"
    if not file.exists():
        return {}
    try:
        return {str(k): str(v) for k, v in tomllib.loads(file.read_text(encoding="utf-8")).items()}
    except tomllib.TOMLDecodeError as exc:
        raise ImportProblem(f"{file}: not valid TOML ({exc})") from None


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ImportProblem(f"{file}: not UTF-8 text") from None
    except OSError as exc:
        raise ImportProblem(f"{file}: cannot read it ({exc.strerror})") from None


def _decode(file: Path, text: str) -> Any:
    try:
        return parse_json(text)
    except ValueError as exc:
        raise ImportProblem(f"{file}: not valid JSON ({exc})") from None


def _primary(records: Sequence[Record]) -> Record:
    return min(records, key=lambda r: (r.created.sort_key.timestamp() if r.created else float("inf"), r.ref))


def _infer_origin(holdings: Sequence[Holding]) -> str | None:
    """The system whose record was created first: where the order was born."""
    candidates = []
    for holding in holdings:
        if not holding.records:
            continue
        created = _primary(holding.records).created
        born = created.sort_key.timestamp() if created else float("inf")
        candidates.append((born, ORIGIN_PREFERENCE.get(holding.system.role, 9), holding.system.name))
    return min(candidates)[2] if candidates else None


# --- loose payload files ---------------------------------------------------------


def loose_cases(files: Sequence[Path], config: Config, cache: Cache, problems: list[str]) -> Iterator[tuple[Case, list[RawPayload]]]:
    """Group loose API responses into cases by their refs and link fields.

    Each file's fetch time is its modification time, since a saved response
    carries none of its own. A record whose ref or link names a case already in
    the cache joins that case.
    """
    by_system: dict[str, tuple[SystemConfig, list[RawPayload]]] = {}
    for file in files:
        try:
            text = _read(file)
            body = _decode(file, text)
        except ImportProblem as exc:
            problems.append(str(exc))
            continue
        found = recognise(body)
        if found is None:
            problems.append(f"{file}: not a response of any known platform (shopify, amazon, netsuite)")
            continue
        system = _system_for(found[0], config)
        fetched_at = datetime.fromtimestamp(file.stat().st_mtime, tz=UTC)
        payload = make_payload(system.name, f"{found[0]} {found[1]} from {file.name}", fetched_at, text)
        by_system.setdefault(system.name, (system, []))[1].append(payload)

    records: list[tuple[SystemConfig, Record]] = []
    events_by_record: dict[tuple[str, str], list] = {}
    payload_by_id: dict[str, RawPayload] = {}
    for name, (system, payloads) in sorted(by_system.items()):
        try:
            normalised = platform(system.platform).normalise(payloads, system.context())
        except PayloadError as exc:
            problems.append(f"{', '.join(p.endpoint.rsplit(' from ', 1)[-1] for p in payloads)}: {exc}")
            continue
        payload_by_id.update((p.id, p) for p in payloads)
        records.extend((system, r) for r in normalised.records)
        for event in normalised.events:
            events_by_record.setdefault((name, event.record_ref or ""), []).append(event)

    for group in _link(records):
        holdings = []
        payloads: list[RawPayload] = []
        for system_name in sorted({s.name for s, _ in group}):
            system = next(s for s, _ in group if s.name == system_name)
            system_records = tuple(r for s, r in group if s.name == system_name)
            events = tuple(e for r in system_records for e in events_by_record.get((system_name, r.ref), []))
            used = [payload_by_id[i] for r in system_records for i in r.payload_ids if i in payload_by_id]
            payloads.extend(dict.fromkeys(used))
            fetched = max((p.fetched_at for p in used), default=None)
            holdings.append(Holding(system.definition, Presence.PRESENT, system_records, events, fetched))
        existing = next((c for _, r in group for ref in (r.ref, *sorted(r.links)) if (c := cache.find_case(ref))), None)
        if existing is not None:
            stored = cache.load_case(existing)
            origin = stored.origin if stored else _infer_origin(holdings)
            yield Case(existing, origin or holdings[0].system.name, tuple(holdings)), payloads
        else:
            origin = _infer_origin(holdings) or holdings[0].system.name
            origin_holding = next(h for h in holdings if h.system.name == origin)
            yield Case(_primary(origin_holding.records).ref, origin, tuple(holdings)), payloads


def _system_for(platform_name: str, config: Config) -> SystemConfig:
    for system in sorted(config.systems.values(), key=lambda s: s.name):
        if system.platform == platform_name:
            return system
    return SystemConfig(platform_name, DEFAULT_ROLES.get(platform_name, Role.STOREFRONT), platform_name)


def _link(records: list[tuple[SystemConfig, Record]]) -> list[list[tuple[SystemConfig, Record]]]:
    """Union the records whose refs and links meet into groups, one group per real order."""
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for index, (_system, record) in enumerate(records):
        for key in (record.ref, *record.links):
            if key in seen:
                parent[root(index)] = root(seen[key])
            else:
                seen[key] = index
    groups: dict[int, list[tuple[SystemConfig, Record]]] = {}
    for index, item in enumerate(records):
        groups.setdefault(root(index), []).append(item)
    return list(groups.values())


# --- entry point -------------------------------------------------------------------


WRITE_BATCH = 500  # imported cases per transaction: each case stays atomic, and commits are few


def import_paths(paths: Sequence[Path], config: Config, cache: Cache) -> ImportReport:
    """Import scenario folders and payload files; a bad one is reported and the rest still land.

    Cases are written in batches of whole cases (one transaction each), so a crash
    loses at most the batch in progress and never leaves a case half written.
    """
    report = ImportReport()
    loose: list[Path] = []
    pending: list[tuple[Case, list[RawPayload]]] = []

    def add(case: Case, payloads: list[RawPayload]) -> None:
        pending.append((case, payloads))
        report.cases.append(case.ref)
        if len(pending) >= WRITE_BATCH:
            flush()

    def flush() -> None:
        if pending:
            cache.write_cases(pending)
            pending.clear()

    for path in paths:
        if not path.exists():
            report.problems.append(f"{path}: no such file or folder")
        elif path.is_dir() and (path / "scenario.toml").exists():
            _import_scenario(path, report, add)
        elif path.is_dir():
            scenarios = sorted(p.parent for p in path.glob("*/scenario.toml"))
            if scenarios:
                for folder in scenarios:
                    _import_scenario(folder, report, add)
            else:
                loose.extend(sorted(path.rglob("*.json")))
        else:
            loose.append(path)
    # Loose responses join cases already in the cache, so the scenarios go in first.
    flush()
    if loose:
        for case, payloads in loose_cases(loose, config, cache, report.problems):
            add(case, payloads)
        flush()
    return report


def _import_scenario(folder: Path, report: ImportReport, add: Callable[[Case, list[RawPayload]], None]) -> None:
    try:
        case, payloads = scenario_case(read_scenario(folder))
    except ThreetruthError as exc:
        report.problems.append(str(exc))
        return
    add(case, payloads)


def bundled_scenarios() -> Path:
    """The folder of sample scenarios shipped with threetruth."""
    import sample_data

    return Path(sample_data.__file__).parent / "scenarios"

