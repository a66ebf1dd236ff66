"""The counts per verdict above the case list; each count is also a toggle of the verdict filter."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from cache.views import SEVERITY
from tui.present import state_class, verdict_label


class VerdictChip(Static):
    """One verdict and its count; a click toggles it in the filter."""

    def __init__(self, verdict: str) -> None:
        super().__init__(verdict_label(verdict), classes=f"chip {state_class(verdict)}", id=f"chip-{verdict}")
        self.verdict = verdict

    def on_click(self) -> None:
        self.post_message(VerdictBar.Toggled(self.verdict))


class VerdictBar(Horizontal):
    """``MISMATCH 9  NO RECORD 1 …  16 cases``; active filters are marked ``-on``."""

    class Toggled(Message):
        def __init__(self, verdict: str) -> None:
            super().__init__()
            self.verdict = verdict

    def compose(self) -> ComposeResult:
        for verdict in SEVERITY:
            yield VerdictChip(verdict)
        yield Static("", id="chip-total")

    def show_counts(self, counts: dict[str, int]) -> None:
        for chip in self.query(VerdictChip):
            count = counts.get(chip.verdict, 0)
            chip.update(f"{verdict_label(chip.verdict)} {count:,}")
            # An empty "unaudited" count is noise; the other verdicts stay so the keys 1-6 keep their places.
            chip.display = bool(count) or chip.verdict != "not_audited"
        self.query_one("#chip-total", Static).update(f"{sum(counts.values()):,} cases")

    def show_active(self, verdicts: frozenset[str]) -> None:
        for chip in self.query(VerdictChip):
            chip.set_class(chip.verdict in verdicts, "-on")
            chip.set_class(bool(verdicts) and chip.verdict not in verdicts, "-off")
