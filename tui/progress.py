"""A progress bar per system while a sync runs: orders done, rate and time left."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from tui.fetching import SyncStatus


class SyncProgressDisplay:
    """Rich progress bars, one task per system; quiet when the output is not a terminal."""

    def __init__(self, out: TextIO) -> None:
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
        if status.system not in self.tasks:
            self.tasks[status.system] = self.progress.add_task(
                status.system, total=status.total, completed=status.cases, rate="", note="resumed" if status.resumed else ""
            )
        task = self.tasks[status.system]
        elapsed = self.progress.tasks[task].elapsed or 0.0
        rate = f"{status.cases / elapsed:.1f}/s" if elapsed > 0 and status.cases else ""
        note = f"stopped: {status.problem}" if status.problem else ("done" if status.done else "")
        total = status.total if status.total is not None else (status.cases if status.done else None)
        self.progress.update(task, completed=status.cases, total=total, rate=rate, note=note)
