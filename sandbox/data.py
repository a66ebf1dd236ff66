"""The data the emulators serve: the bundled sample scenarios, or N re-keyed copies of them.

A generated copy is a sample scenario with every identifier replaced by a fresh one,
consistently across its three platform folders (the Amazon order id in Shopify's
"Amazon Order ID" attribute and NetSuite's otherRefNum, the Shopify name "#NNNN" in
NetSuite's otherRefNum, tracking numbers everywhere), and every time moved by a whole
number of days so the copies spread over a window.
"""

from __future__ import annotations

import functools
import json
import random
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PLATFORM_FOLDERS = ("amazon", "shopify", "netsuite")

NETSUITE_ZONE = ZoneInfo("America/Los_Angeles")
"""The sample NetSuite account's time zone: SuiteQL local date-times are rendered in it."""


def samples_root() -> Path:
    """The bundled ``sample_data/scenarios`` folder (read as files, never imported as code)."""
    return Path(__file__).resolve().parent.parent / "sample_data" / "scenarios"


@dataclass
class CaseFiles:
    """One case: the decoded payload files of its three platform folders."""

    name: str
    """Unique case name: the scenario folder, plus ``~NNNN`` for a generated copy."""
    scenario: str
    """The sample scenario folder it comes from."""
    files: dict[str, Any] = field(default_factory=dict)
    """``"netsuite/salesOrder-20482.json"`` -> decoded JSON (re-keyed for a copy)."""
    requests: dict[str, str] = field(default_factory=dict)
    """Same keys as ``files`` -> the request line that produced the file (from requests.toml)."""
    meta: dict[str, Any] = field(default_factory=dict)
    """The decoded scenario.toml (title, story, expected verdict), re-keyed like the files."""
    copy: int | None = None
    """Copy number for generated cases, None for the samples themselves."""
    day_shift: int = 0
    """Days every time of a generated copy was moved by (0 for the samples)."""

    def files_for(self, platform: str) -> Iterator[tuple[str, Any]]:
        """(``"<platform>/<file>"``, decoded JSON) for one platform folder, in name order."""
        prefix = platform + "/"
        for key in sorted(self.files):
            if key.startswith(prefix):
                yield key, self.files[key]


@dataclass
class Dataset:
    """Every case the sandbox serves."""

    cases: list[CaseFiles] = field(default_factory=list)

    def files_for(self, platform: str) -> Iterator[tuple[str, Any]]:
        """(``"<case>/<platform>/<file>.json"``, decoded JSON) for every case, in case order."""
        for case in self.cases:
            for key, data in case.files_for(platform):
                yield f"{case.name}/{key}", data

    @classmethod
    def from_samples(cls, root: str | Path | None = None) -> Dataset:
        """The sample scenarios as they are (``root`` defaults to the bundled sample_data)."""
        base = Path(root) if root is not None else samples_root()
        cases = []
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            case = CaseFiles(name=folder.name, scenario=folder.name)
            meta_path = folder / "scenario.toml"
            if meta_path.is_file():
                case.meta = tomllib.loads(meta_path.read_text("utf-8"))
            for platform in PLATFORM_FOLDERS:
                sub = folder / platform
                if not sub.is_dir():
                    continue
                for path in sorted(sub.glob("*.json")):
                    case.files[f"{platform}/{path.name}"] = json.loads(path.read_text("utf-8"))
                toml_path = sub / "requests.toml"
                if toml_path.is_file():
                    for name, line in tomllib.loads(toml_path.read_text("utf-8")).items():
                        case.requests[f"{platform}/{name}"] = str(line)
            cases.append(case)
        return cls(cases)

    @classmethod
    def current(cls, now: datetime, root: str | Path | None = None) -> Dataset:
        """The samples, each moved by whole days so that it was captured just before ``now``.

        A live fetch stamps its records with the real time, and the audit judges ages
        against it; a scenario captured long ago would age out of what it shows (an
        in-flight shipment would look stuck). Each scenario moves by the whole number
        of days that puts its capture time in ``[now - 20 h, now + 4 h)``: every age a
        scenario relies on (2 h in flight, 6 h missing, 44 h stuck) keeps its meaning,
        and whole days keep NetSuite's date-only values on their local days.
        """
        samples = cls.from_samples(root)
        moved = []
        for case in samples.cases:
            fetched = case.meta.get("fetched_at")
            if not isinstance(fetched, datetime):
                moved.append(case)
                continue
            days = (now - fetched + timedelta(hours=4)) // timedelta(days=1)
            shift = functools.partial(shift_times, days=days)
            moved.append(
                CaseFiles(
                    name=case.name,
                    scenario=case.scenario,
                    files={k: _map_strings(v, shift) for k, v in case.files.items()},
                    requests={k: shift(v) for k, v in case.requests.items()},
                    meta={**_map_strings(case.meta, shift), "fetched_at": fetched + timedelta(days=days)},
                    day_shift=days,
                )
            )
        return cls(moved)

    @classmethod
    def generate(
        cls,
        copies: int,
        seed: int = 0,
        *,
        window_days: int = 30,
        anchor: date | datetime | None = None,
        root: str | Path | None = None,
        include_samples: bool = False,
    ) -> Dataset:
        """``copies`` re-keyed copies of every sample scenario, spread over ``window_days``.

        Copy ``i`` is moved back by ``i * window_days // copies`` days; with ``anchor`` the
        whole set is first moved so the samples' latest fetch day lands on the anchor's day
        (e.g. today, so a "last 30 days" sync finds them). Same arguments, same data.
        """
        if copies < 0:
            raise ValueError("copies must be >= 0")
        samples = cls.from_samples(root)
        base_shift = 0
        if anchor is not None:
            anchor_day = anchor.date() if isinstance(anchor, datetime) else anchor
            base_shift = (anchor_day - _latest_fetch_day(samples.cases)).days
        keys = _KeyFactory(seed)
        generated = []
        for index in range(copies):
            shift = base_shift - (index * window_days // copies if copies else 0)
            for case in samples.cases:
                generated.append(_rekey_case(case, index, shift, keys))
        return cls((samples.cases if include_samples else []) + generated)

    def __len__(self) -> int:
        return len(self.cases)


def _latest_fetch_day(cases: list[CaseFiles]) -> date:
    days = []
    for case in cases:
        fetched = case.meta.get("fetched_at")
        if isinstance(fetched, datetime):
            days.append(fetched.astimezone(UTC).date() if fetched.tzinfo else fetched.date())
    return max(days) if days else date(2026, 3, 5)


# --- identifiers ----------------------------------------------------------------------------

AMAZON_ORDER_ID = re.compile(r"(?<![0-9])\d{3}-\d{7}-\d{7}(?![0-9])")
SHOPIFY_GID = re.compile(r"gid://shopify/(\w+)/(\d+)")
UPS_TRACKING = re.compile(r"(?<![0-9A-Z])1Z[0-9A-Z]{16}(?![0-9A-Z])")
SHOPIFY_NAME = re.compile(r"^#\d+$")
NETSUITE_FILE = re.compile(r"^[a-zA-Z]+-(\d+)\.json$")
TRAN_ID = re.compile(r"^([A-Za-z]+-?)(\d+)$")


class _KeyFactory:
    """Fresh identifiers, unique across every copy of one ``generate`` call."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._used: set[str] = set()
        self._counter = 0

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def amazon_order_id(self) -> str:
        while True:
            r = self._random
            value = f"{r.randint(111, 999)}-{r.randint(0, 9_999_999):07d}-{r.randint(0, 9_999_999):07d}"
            if value not in self._used:
                self._used.add(value)
                return value

    def amazon_item_id(self) -> str:
        while True:
            value = str(self._random.randint(10**13, 10**14 - 1))
            if value not in self._used:
                self._used.add(value)
                return value

    def shopify_numeric(self) -> str:
        # 13 digits starting with 7: never one of the samples' ids (which start with 5, 4, 2, 1, 9).
        return str(7 * 10**12 + self._next())

    def shopify_name(self) -> str:
        return f"#{2000 + self._next()}"

    def netsuite_id(self) -> str:
        return str(100_000 + self._next())

    def tran_number(self) -> str:
        return str(200_000 + self._next())


def _strings(value: Any) -> Iterator[tuple[str | None, str]]:
    """(key, string) for every string in a decoded JSON value (key None in lists)."""
    stack: list[tuple[str | None, Any]] = [(None, value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, str):
            yield key, item
        elif isinstance(item, dict):
            stack.extend(item.items())
        elif isinstance(item, list):
            stack.extend((key, v) for v in item)


def _collect_tokens(case: CaseFiles, copy: int, keys: _KeyFactory) -> dict[str, str]:
    """old identifier -> new identifier for one copy of one case."""
    tokens: dict[str, str] = {}

    def add(old: str, make: Callable[[], str]) -> None:
        if old not in tokens:
            tokens[old] = make()

    texts = [s for data in case.files.values() for _, s in _strings(data)] + list(case.requests.values())
    for text in texts:
        for match in AMAZON_ORDER_ID.finditer(text):
            add(match.group(0), keys.amazon_order_id)
        for match in SHOPIFY_GID.finditer(text):
            add(match.group(2), keys.shopify_numeric)
        for match in UPS_TRACKING.finditer(text):
            # Keep the last three characters: unique within the samples, and a transposed
            # number in one system (scenario 11) stays a transposition of the other's.
            old = match.group(0)
            add(old, lambda old=old: f"1Z999AA19{copy:06d}{old[-3:]}")
    for path, data in case.files.items():
        platform, _, filename = path.partition("/")
        for key, text in _strings(data):
            if platform == "amazon" and key in ("orderItemId", "OrderItemId"):
                add(text, keys.amazon_item_id)
            elif platform == "shopify" and key == "name" and SHOPIFY_NAME.match(text):
                add(text, keys.shopify_name)
            elif platform == "netsuite" and key in ("tranId", "tranid"):
                prefix = TRAN_ID.match(text)
                if prefix:
                    add(text, lambda p=prefix.group(1): p + keys.tran_number())
        if platform == "netsuite":
            file_match = NETSUITE_FILE.match(filename)
            if file_match:
                add(file_match.group(1), keys.netsuite_id)
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                add(data["id"], keys.netsuite_id)
            items = data.get("items") if isinstance(data, dict) and "totalResults" in data else None
            for row in items or []:
                for column in ("id", "createdfrom", "recordid", "previousdoc", "nextdoc", "transaction"):
                    if isinstance(row.get(column), str) and row[column].isdigit():
                        add(row[column], keys.netsuite_id)
    return tokens


# --- times -------------------------------------------------------------------------------------

ISO_INSTANT = re.compile(r"\b(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})")
LOCAL_DATETIME = re.compile(r"\b(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})\b")
# Not after "/": the SP-API version in a path ("/orders/2026-01-01/") is not a time.
ISO_DATE = re.compile(r"(?<![/\w-])(\d{4})-(\d{2})-(\d{2})\b(?![T ]\d)")
US_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")


def shift_times(text: str, days: int) -> str:
    """Every time written in ``text`` moved by ``days`` days, each in its own format.

    Instants move by exactly ``days`` x 24 h; NetSuite's local "YYYY-MM-DD HH:MM:SS"
    values are read in America/Los_Angeles, moved as instants and written back in that
    zone; dates (YYYY-MM-DD and NetSuite's M/D/YYYY) move by ``days`` calendar days.
    (Across a DST change a local time within an hour of midnight can land on a
    neighbouring date; the samples have none.)
    """
    if days == 0 or not any(ch.isdigit() for ch in text):
        return text
    delta = timedelta(days=days)

    def instant(m: re.Match[str]) -> str:
        day = date.fromisoformat(m.group(1)) + delta
        return f"{day.isoformat()}T{m.group(2)}{m.group(3)}"

    def local(m: re.Match[str]) -> str:
        naive = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}")
        moved = (naive.replace(tzinfo=NETSUITE_ZONE).astimezone(UTC) + delta).astimezone(NETSUITE_ZONE)
        return moved.strftime("%Y-%m-%d %H:%M:%S")

    def iso_date(m: re.Match[str]) -> str:
        return (date(int(m.group(1)), int(m.group(2)), int(m.group(3))) + delta).isoformat()

    def us_date(m: re.Match[str]) -> str:
        moved = date(int(m.group(3)), int(m.group(1)), int(m.group(2))) + delta
        return f"{moved.month}/{moved.day}/{moved.year}"

    text = ISO_INSTANT.sub(instant, text)
    text = LOCAL_DATETIME.sub(local, text)
    text = ISO_DATE.sub(iso_date, text)
    return US_DATE.sub(us_date, text)


# --- re-keying -----------------------------------------------------------------------------


def _replacer(tokens: dict[str, str], days: int) -> Callable[[str], str]:
    if tokens:
        alternation = "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
        pattern = re.compile(rf"(?<![0-9A-Za-z])(?:{alternation})(?![0-9A-Za-z])")
    else:
        pattern = None

    def replace(text: str) -> str:
        if pattern is not None:
            text = pattern.sub(lambda m: tokens[m.group(0)], text)
        return shift_times(text, days)

    return replace


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    return value


def _rekey_case(case: CaseFiles, copy: int, days: int, keys: _KeyFactory) -> CaseFiles:
    tokens = _collect_tokens(case, copy, keys)
    replace = _replacer(tokens, days)
    meta = _map_strings(case.meta, replace)
    if isinstance(meta.get("fetched_at"), datetime):
        meta["fetched_at"] = meta["fetched_at"] + timedelta(days=days)
    return CaseFiles(
        name=f"{case.scenario}~{copy:04d}",
        scenario=case.scenario,
        files={replace(k): _map_strings(v, replace) for k, v in case.files.items()},
        requests={replace(k): replace(v) for k, v in case.requests.items()},
        meta=meta,
        copy=copy,
        day_shift=days,
    )
