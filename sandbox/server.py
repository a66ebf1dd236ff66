"""Run the three emulators on 127.0.0.1: base port N -> Shopify N, Amazon N+1, NetSuite N+2.

From a test (port 0 = three ephemeral ports)::

    async with Sandbox(Dataset.generate(2, seed=1), EmulatorSettings(time_scale=100)) as box:
        box.urls.shopify, box.urls.amazon, box.urls.netsuite   # "http://127.0.0.1:<port>"
        box.log.entries()

or, from synchronous code, ``with Sandbox() as box:`` runs it in a background thread.
``serve()`` is the blocking entry point behind ``threetruth sandbox``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from aiohttp import web

from sandbox.core import FAULT_PLAN_KEY, PLATFORMS, EmulatorSettings, Fault, RequestLog, instrument
from sandbox.data import Dataset

HOST = "127.0.0.1"
"""The only interface the sandbox listens on: it is a loopback tool, never a public server."""

DEFAULT_PORT = 8700


@dataclass(frozen=True)
class SandboxURLs:
    """The base URL of each emulator (None for a platform that was not started)."""

    shopify: str | None
    amazon: str | None
    netsuite: str | None

    def __getitem__(self, platform: str) -> str | None:
        return getattr(self, platform)


class Sandbox:
    """The three emulators in one process, one aiohttp app and port per platform."""

    def __init__(
        self,
        dataset: Dataset | None = None,
        settings: EmulatorSettings | None = None,
        *,
        port: int = 0,
        log: RequestLog | None = None,
        platforms: Sequence[str] = PLATFORMS,
        shutdown_timeout: float = 0.5,
    ) -> None:
        unknown = set(platforms) - set(PLATFORMS)
        if unknown:
            raise ValueError(f"unknown platforms: {sorted(unknown)}")
        self.dataset = dataset if dataset is not None else Dataset.from_samples()
        self.settings = settings if settings is not None else EmulatorSettings()
        self.log = log if log is not None else RequestLog()
        self.port = port
        self.platforms = tuple(platforms)
        self.shutdown_timeout = shutdown_timeout
        self.apps: dict[str, web.Application] = {}
        self._runners: list[web.AppRunner] = []
        self._urls: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def urls(self) -> SandboxURLs:
        """The base URLs; only meaningful once started."""
        return SandboxURLs(**{p: self._urls.get(p) for p in PLATFORMS})

    def build_app(self, platform: str) -> web.Application:
        """One platform's app with the core's log and fault middleware in front."""
        module = importlib.import_module(f"sandbox.{platform}")
        app = module.make_app(self.dataset, self.settings, self.log)
        return instrument(app, platform, self.settings, self.log)

    async def start(self) -> SandboxURLs:
        """Bind the ports and start serving."""
        try:
            for offset, platform in enumerate(PLATFORMS):
                if platform not in self.platforms:
                    continue
                app = self.build_app(platform)
                runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.shutdown_timeout)
                await runner.setup()
                self._runners.append(runner)
                port = self.port + offset if self.port else 0
                site = web.TCPSite(runner, HOST, port)
                await site.start()
                bound = runner.addresses[0][1]
                self.apps[platform] = app
                self._urls[platform] = f"http://{HOST}:{bound}"
        except BaseException:
            await self.stop()
            raise
        return self.urls

    async def stop(self) -> None:
        """Stop serving and release the ports."""
        runners, self._runners = self._runners, []
        for runner in reversed(runners):
            await runner.cleanup()

    def set_faults(self, rate: float, kinds: Sequence[Fault] | None = None,
                   platforms: Sequence[str] | None = None) -> None:
        """Change the fault rate (and kinds) while serving; the seeded draw sequence goes on."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be in [0, 1], got {rate}")
        for platform, app in self.apps.items():
            if platforms is None or platform in platforms:
                plan = app[FAULT_PLAN_KEY]
                plan.rate = rate
                plan.choose(kinds)

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- a background-thread runner for synchronous callers ----------------------------------

    def start_in_thread(self, timeout: float = 10.0) -> SandboxURLs:
        """Serve from a daemon thread with its own event loop; returns once the ports are bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            stopped = asyncio.Event()
            self._stopped = stopped

            async def main() -> None:
                try:
                    await self.start()
                except BaseException as exc:  # reported to the caller, not lost in the thread
                    failure.append(exc)
                    ready.set()
                    return
                ready.set()
                await stopped.wait()
                await self.stop()

            loop.run_until_complete(main())
            loop.close()

        self._thread = threading.Thread(target=run, name="threetruth-sandbox", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("the sandbox did not start in time")
        if failure:
            raise failure[0]
        return self.urls

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop the background thread started by ``start_in_thread``."""
        if self._thread is None or self._loop is None or self._stopped is None:
            return
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Sandbox:
        self.start_in_thread()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop_thread()


async def serve_async(
    port: int = DEFAULT_PORT,
    dataset: Dataset | None = None,
    settings: EmulatorSettings | None = None,
    *,
    log_path: str | Path | None = None,
    on_ready: Callable[[SandboxURLs], None] | None = None,
) -> None:
    """Serve until cancelled; then write the request log as JSON lines to ``log_path``."""
    sandbox = Sandbox(dataset, settings, port=port)
    await sandbox.start()
    try:
        if on_ready is not None:
            on_ready(sandbox.urls)
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()
        if log_path is not None:
            sandbox.log.dump(log_path)


def serve(
    port: int = DEFAULT_PORT,
    dataset: Dataset | None = None,
    settings: EmulatorSettings | None = None,
    *,
    log_path: str | Path | None = None,
    on_ready: Callable[[SandboxURLs], None] | None = None,
) -> None:
    """Serve in the foreground until Ctrl+C (the ``threetruth sandbox`` command)."""
    try:
        asyncio.run(serve_async(port, dataset, settings, log_path=log_path, on_ready=on_ready))
    except KeyboardInterrupt:
        pass


def build_parser() -> argparse.ArgumentParser:
    """The options of ``threetruth sandbox`` (the CLI may mount this parser as a sub-command)."""
    parser = argparse.ArgumentParser(
        prog="threetruth sandbox",
        description="Serve loopback emulators of Shopify, Amazon SP-API and NetSuite on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="base port N: Shopify N, Amazon N+1, NetSuite N+2 (0 = ephemeral ports)")
    parser.add_argument("--copies", type=int, default=0,
                        help="serve N re-keyed copies of every scenario instead of the samples themselves")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data and of the faults")
    parser.add_argument("--window-days", type=int, default=30, help="days the generated copies spread over")
    parser.add_argument("--today", action="store_true",
                        help="move the generated copies so the newest lands on today (UTC)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply every rate limit by this")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="probability in [0, 1] of a fault")
    parser.add_argument("--timeout-delay", type=float, default=30.0, help="seconds a timeout fault holds")
    parser.add_argument("--log", dest="log_path", default=None, help="write the request log here (JSON lines)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, print the three URLs and serve until Ctrl+C."""
    args = build_parser().parse_args(argv)
    if args.copies:
        anchor = datetime.now(UTC).date() if args.today else None
        dataset = Dataset.generate(args.copies, args.seed, window_days=args.window_days, anchor=anchor)
    else:
        dataset = Dataset.from_samples()
    settings = EmulatorSettings(time_scale=args.time_scale, fault_rate=args.fault_rate, seed=args.seed,
                                timeout_delay=args.timeout_delay)

    def announce(urls: SandboxURLs) -> None:
        print(f"threetruth sandbox: {len(dataset.cases)} cases")
        for platform in PLATFORMS:
            print(f"  {platform:<8} {urls[platform]}")
        print("Ctrl+C to stop.", flush=True)

    serve(args.port, dataset, settings, log_path=args.log_path, on_ready=announce)
    return 0
