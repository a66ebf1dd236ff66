"""A progress bar per system while a sync runs: orders done, rate and time left.

Written to a file or a pipe (a cron job, CI), the bars give way to plain lines:
when a system starts, every half minute while it runs, and when it is done or stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from tui.fetching import SyncStatus


LINE_EVERY = 30.0  # seconds between plain progress lines of one system


class SyncProgressDisplay:
    """Rich progress bars, one task per system; plain lines when the output is not a terminal."""

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self._last_line: dict[str, float] = {}
        self._problems: dict[str, str] = {}  # the last problem printed per system
        self.console = Console(file=out)
        self.progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>10}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
            console=self.console,
            disable=not self.console.is_terminal,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> SyncProgressDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, status: SyncStatus) -> None:
        if not self.console.is_terminal:
            self._line(status)
            return
        if status.system not in self.tasks:
            self.tasks[status.system] = self.progress.add_task(
                status.system, total=status.total, completed=status.cases, rate="", note="resumed" if status.resumed else ""
            )
        task = self.tasks[status.system]
        elapsed = self.progress.tasks[task].elapsed or 0.0
        rate = f"{status.cases / elapsed:.1f}/s" if elapsed > 0 and status.cases else ""
        note = f"problem: {status.problem}" if status.problem else ("done" if status.done else "")
        total = status.total if status.total is not None else (status.cases if status.done else None)
        self.progress.update(task, completed=status.cases, total=total, rate=rate, note=note)

    def _line(self, status: SyncStatus) -> None:
        now = self.clock()
        first = status.system not in self._last_line
        problem = status.problem
        new_problem = problem is not None and problem != self._problems.get(status.system)
        if not (first or status.done or new_problem or now - self._last_line[status.system] >= LINE_EVERY):
            return
        self._last_line[status.system] = now
        count = f"{status.cases}" + (f"/{status.total}" if status.total is not None else "") + " orders"
        if status.done:
            state = f"done, {count}"
        elif first:
            state = f"resumed at {count}" if status.resumed else "started"
        else:
            state = count
        if problem is not None and new_problem:
            self._problems[status.system] = problem
            state += f"; problem: {problem}"
        print(f"{status.system}: {state}", file=self.out, flush=True)
