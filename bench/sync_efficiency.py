"""Sync efficiency: how close a window sync runs to each platform's published limits.

For each platform on its own, a loopback sandbox serves re-keyed copies of the
sample scenarios (by default enough that the platform holds at least 2,000
orders) with that platform's limits time-scaled, and a config holding only that
system syncs a window covering all of them with ``tui.fetching.sync_window``,
the code path of ``threetruth sync``. So the requests counted are that
platform's alone: the window listing and the lookup of every listed order.
The sandbox runs in a child process, as a real platform runs on its own
machine: its CPU time does not slow the client down, nor the other way round.

Per platform it prints the orders synced (that system's records in the cache),
the requests sent (the sandbox's request log), requests per order, the 429s and
Shopify THROTTLED answers received, the wall time T of the sync, and the
achieved rate as a fraction of the allowed rate, "allowed" being the platform's
own limit model, time-scaled as the sandbox enforces it:

    amazon    getOrder requests / (burst + rate x scale x T)
              getOrder is the operation that dominates; its token bucket starts full
    shopify   points spent / (bucket + restoreRate x scale x T)
              spent = the sum of the actualQueryCost the responses report; the bucket starts full
    netsuite  requests / (concurrency x T / service time)
              what the account's slots can serve in T if each request holds one for the service time

Targets: every fraction at least 0.9 and never above 1.0 (above 1.0 would mean
the sandbox let through more than the platform allows), no 429 or THROTTLED,
and as few requests per order as the APIs allow.

    python bench/sync_efficiency.py                                   # all three, >= 2,000 orders each
    python bench/sync_efficiency.py --platform shopify --copies 20    # a quick look at one

The scales are picked so that each run takes about one to two minutes and is
bound by the platform's limit rather than by the loopback sandbox's latency
(see the figures under "client": median latency and mean requests in flight).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audit.model import UTC  # noqa: E402
from cache.store import Cache  # noqa: E402
from sandbox import amazon as amazon_emulator  # noqa: E402
from sandbox.core import EmulatorSettings, LoggedRequest  # noqa: E402
from sandbox.data import Dataset  # noqa: E402
from sandbox.netsuite import RecordStore  # noqa: E402
from sandbox.server import Sandbox, SandboxURLs  # noqa: E402
from sandbox.shopify import OrderStore  # noqa: E402
from tui.config import parse_config  # noqa: E402
from tui.demo import sandbox_systems  # noqa: E402
from tui.fetching import close_all, connect, sync_window  # noqa: E402

PLATFORMS = ("amazon", "shopify", "netsuite")
MIN_ORDERS = 2000
WINDOW_DAYS = 30  # the generated copies spread over this many days before the anchor day

# Each platform's published limits, multiplied by its time scale in the sandbox:
#   amazon    getOrder 0.5/s burst 30 -> 50/s; searchOrders 0.0056/s burst 20 -> 0.56/s
#   shopify   1,000-point bucket restoring 50 points/s -> 600 points/s
#   netsuite  5 requests in flight, each holding its slot for a 1.5 s service time -> 75 ms
SCALES = {"amazon": 100.0, "shopify": 12.0, "netsuite": 20.0}
NETSUITE_SERVICE_TIME = 1.5  # seconds per request before scaling; NetSuite publishes none, 0.5-2 s is usual


def sandbox_settings(platform: str) -> EmulatorSettings:
    settings = EmulatorSettings(time_scale=SCALES[platform], seed=1)
    if platform == "netsuite":
        settings = settings.with_(netsuite_service_time=NETSUITE_SERVICE_TIME)
    return settings


def served_orders(platform: str, dataset: Dataset) -> int:
    """The orders the platform's emulator holds for a dataset."""
    if platform == "amazon":
        return len(amazon_emulator.load_orders(dataset))
    if platform == "shopify":
        return len(OrderStore(dataset).orders)
    return len(RecordStore(dataset.files_for("netsuite")).ids("salesOrder"))


# --- the sandbox, in a child process ----------------------------------------------------------


def serve(platform: str, copies: int, seed: int, anchor: date, log_path: Path) -> None:
    """The child: serve one platform, say where on stdout, and write the request log when stdin closes."""
    dataset = Dataset.generate(copies, seed, window_days=WINDOW_DAYS, anchor=anchor)

    async def main() -> None:
        box = Sandbox(dataset, sandbox_settings(platform), platforms=(platform,))
        await box.start()
        print(json.dumps({"url": box.urls[platform], "served": served_orders(platform, dataset)}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await box.stop()
        box.log.dump(log_path)

    asyncio.run(main())


class ChildSandbox:
    """``with ChildSandbox(...) as (url, served):`` ... then ``.log`` holds what the sandbox saw."""

    def __init__(self, platform: str, copies: int, seed: int, anchor: date, folder: Path) -> None:
        self.log_path = folder / "requests.jsonl"
        self.args = [sys.executable, __file__, "--serve", platform, "--copies", str(copies), "--seed", str(seed),
                     "--anchor", anchor.isoformat(), "--log", str(self.log_path)]
        self.log: list[LoggedRequest] = []

    def __enter__(self) -> tuple[str, int]:
        self.process = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = json.loads(self.process.stdout.readline() or "null")
        if not ready:
            self.process.kill()
            raise RuntimeError("the sandbox child did not start")
        return ready["url"], ready["served"]

    def __exit__(self, *exc: object) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        if self.log_path.exists():
            with self.log_path.open(encoding="utf-8") as lines:
                self.log = [LoggedRequest(**json.loads(line)) for line in lines]


# --- the client's side of the wire ------------------------------------------------------------

GRAPHQL_OPERATION = re.compile(r"query\s+(\w+)")


@dataclass
class Reply:
    """One response as the client received it, and the GraphQL operation that asked for it."""

    sent: float
    received: float
    status: int
    raw: bytes
    query: str

    @property
    def body(self) -> Any:
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            return None


class Tap(httpx.AsyncBaseTransport):
    """Records every response the adapters receive, with its timing; passes the bytes on unchanged.

    The sandbox's log keeps requests and statuses but no response bodies, and Shopify's
    THROTTLED and its cost figures come back in the body of an HTTP 200: they are read here.
    """

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.replies: list[Reply] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.monotonic()
        response = await self.inner.handle_async_request(request)
        raw = await response.aread()  # decoded later: this runs while the request holds its pacing slot
        query = GRAPHQL_OPERATION.search(request.content.decode(errors="replace"))
        self.replies.append(Reply(sent, time.monotonic(), response.status_code, raw, query.group(1) if query else ""))
        return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw),
                              extensions=response.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- one platform's run -----------------------------------------------------------------------


@dataclass
class Run:
    platform: str
    settings: EmulatorSettings
    copies: int
    served: int = 0  # orders the sandbox holds for this platform
    listed: int = 0  # refs the window listing gave
    synced: int = 0  # that system's order records in the cache
    wall: float = 0.0  # T: the sync_window call, start to end
    problem: str | None = None
    cached: list[str] = field(default_factory=list)  # the payload bodies the cache kept for this system
    log: list[LoggedRequest] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)


def run_platform(platform: str, copies: int, seed: int, anchor: date, since: datetime, until: datetime) -> Run:
    settings = sandbox_settings(platform)
    run = Run(platform, settings, copies)
    folder = Path(tempfile.mkdtemp(prefix="threetruth-sync-bench-"))
    try:
        child = ChildSandbox(platform, copies, seed, anchor, folder)
        with child as (url, run.served):
            urls = SandboxURLs(**{p: url if p == platform else None for p in PLATFORMS})
            base = parse_config({"cache": {"path": str(folder / "cache.db")}}, None, {})
            config = replace(base, systems={platform: sandbox_systems(urls, settings)[platform]})
            tap = Tap()
            with Cache.open(config.cache_path) as cache:
                status, run.wall = asyncio.run(_sync(config, cache, tap, settings.time_scale, since, until))
                run.synced = cache.db.execute(
                    "SELECT count(DISTINCT native_id) FROM records WHERE system = ?", (platform,)).fetchone()[0]
                run.cached = [body for (body,) in cache.db.execute("SELECT body FROM payloads WHERE system = ?", (platform,))]
        run.listed, run.problem, run.replies, run.log = status.cases, status.problem, tap.replies, child.log
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return run


async def _sync(config, cache: Cache, tap: Tap, scale: float, since: datetime, until: datetime):
    adapters = connect(config, time_scale=scale, transport=tap)
    try:
        started = time.monotonic()
        [status] = await sync_window(config, cache, adapters, since, until)
        return status, time.monotonic() - started
    finally:
        await close_all(adapters)


# --- figures ----------------------------------------------------------------------------------


def request_kind(entry: LoggedRequest) -> str:
    """What a logged request was for, in the platform's own words."""
    path = entry.path.split("?")[0]
    if entry.platform == "amazon":
        if path == "/auth/o2/token":
            return "LWA token"
        if path.startswith("/orders/2026-01-01/orders/"):
            return "getOrder"
        return {"/orders/2026-01-01/orders": "searchOrders", "/orders/v0/orders": "v0 getOrders"}.get(path, path)
    if entry.platform == "shopify":
        match = GRAPHQL_OPERATION.search(json.loads(entry.body or "{}").get("query", ""))
        return match.group(1) if match else "graphql"
    if path.endswith("/suiteql"):
        q = json.loads(entry.body or "{}").get("q", "")
        return "SuiteQL notes" if "SystemNote" in q else "SuiteQL window" if "t.id > " in q else "SuiteQL order"
    return "record " + path.split("/")[-2] if "/record/" in path else path


def graphql_codes(body: Any) -> set[str]:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return set()
    return {str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}


def actual_cost(body: Any) -> float:
    cost = (body.get("extensions") or {}).get("cost") if isinstance(body, dict) else None
    value = cost.get("actualQueryCost") if isinstance(cost, dict) else None
    return float(value) if isinstance(value, (int, float)) else 0.0


@dataclass
class Figures:
    kinds: Counter  # requests by kind
    refused: int  # 429s
    throttled: int  # Shopify THROTTLED answers, HTTP 200 or 429
    used: float
    allowed: float
    unit: str
    model: str
    notes: list[str]

    @property
    def fraction(self) -> float:
        return self.used / self.allowed if self.allowed else math.nan


def figures(run: Run) -> Figures:
    settings, T = run.settings, run.wall
    kinds = Counter(request_kind(e) for e in run.log)
    refused = sum(1 for e in run.log if e.status == 429)
    bodies = [r.body for r in run.replies]
    throttled = sum(1 for body in bodies if "THROTTLED" in graphql_codes(body))
    latency = sorted(r.received - r.sent for r in run.replies)
    notes = [f"client: median latency {1000 * latency[len(latency) // 2]:.1f} ms, "
             f"mean requests in flight {sum(latency) / T:.2f}"] if latency and T else []
    scale = settings.time_scale
    if run.platform == "amazon":
        rate, burst = amazon_emulator.USAGE_PLANS["getOrder2026"]
        used, allowed, unit = kinds["getOrder"], burst + settings.scaled(rate) * T, "getOrder requests"
        model = f"getOrder bucket, burst {burst} + {rate}/s x{scale:g} = {settings.scaled(rate):g}/s x T"
        search_rate, search_burst = amazon_emulator.USAGE_PLANS["searchOrders"]
        notes.append(f"searchOrders: {kinds['searchOrders']} sent, burst {search_burst} + "
                     f"{settings.scaled(search_rate):g}/s x T = {search_burst + settings.scaled(search_rate) * T:.0f} allowed")
    elif run.platform == "shopify":
        bucket, restore = settings.shopify_bucket_size, settings.scaled(settings.shopify_restore_rate)
        used, allowed, unit = sum(actual_cost(b) for b in bodies), bucket + restore * T, "points (actualQueryCost)"
        model = f"cost bucket, {bucket:g} points + {settings.shopify_restore_rate:g}/s x{scale:g} = {restore:g}/s x T"
        spent = Counter()
        for reply, body in zip(run.replies, bodies):
            spent[reply.query] += actual_cost(body)
        notes.append("points by query: " + ", ".join(f"{name} {points:,.0f}" for name, points in spent.most_common()))
        in_cache = sum(actual_cost(json.loads(body)) for body in run.cached)
        notes.append(f"cross-check: the cached payloads report {in_cache:,.0f} points (lookups only: "
                     "window pages are not cached)")
    else:
        limit, service = settings.netsuite_concurrency, settings.netsuite_service_time / scale
        used, allowed, unit = len(run.log), limit * T / service, "requests"
        model = (f"concurrency, {limit} slots x T / service time "
                 f"({settings.netsuite_service_time:g} s / x{scale:g} = {1000 * service:g} ms)")
    return Figures(kinds, refused, throttled, used, allowed, unit, model, notes)


def report(run: Run) -> None:
    f = figures(run)
    requests = sum(f.kinds.values())
    met = 0.9 <= f.fraction <= 1.0 and f.refused == f.throttled == 0 and run.synced == run.served and not run.problem
    print(f"\n== {run.platform}: limits x{run.settings.time_scale:g}, {run.copies} copies of the samples")
    print(f"orders synced      : {run.synced:,} of {run.served:,} served ({run.listed:,} refs listed)"
          + (f"; PROBLEM: {run.problem}" if run.problem else ""))
    print(f"requests sent      : {requests:,} ({', '.join(f'{k} {v:,}' for k, v in f.kinds.most_common())})")
    print(f"requests per order : {requests / run.synced if run.synced else math.nan:.3f}")
    print(f"429s / THROTTLED   : {f.refused} / {f.throttled}")
    print(f"wall time T        : {run.wall:.1f} s")
    print(f"allowed            : {f.model}")
    print(f"achieved           : {f.used:,.0f} of {f.allowed:,.0f} {f.unit} = {f.fraction:.3f} of allowed "
          f"(target 0.9 to 1.0, no 429s): {'met' if met else 'MISSED'}")
    for note in f.notes:
        print(f"                     {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", choices=PLATFORMS, action="append", help="only this platform (repeatable)")
    parser.add_argument("--copies", type=int, help=f"copies of the 16 samples (default: enough for {MIN_ORDERS:,} orders)")
    parser.add_argument("--seed", type=int, default=3, help="seed of the generated data")
    parser.add_argument("--serve", choices=PLATFORMS, help=argparse.SUPPRESS)  # the sandbox child
    parser.add_argument("--anchor", type=date.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.copies, args.seed, args.anchor, args.log)
        return

    started = time.monotonic()
    now = datetime.now(UTC)
    # Every order last changed before today: inside Amazon's "at least two minutes ago" horizon.
    anchor = (now - timedelta(days=1)).date()
    since = now - timedelta(days=WINDOW_DAYS + 20)  # and under 60 days: no read_all_orders check on Shopify
    one_copy = Dataset.generate(1, args.seed, anchor=anchor)
    for platform in args.platform or PLATFORMS:
        copies = args.copies or math.ceil(MIN_ORDERS / served_orders(platform, one_copy))
        report(run_platform(platform, copies, args.seed, anchor, since, now))
    print(f"\ntotal run time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
