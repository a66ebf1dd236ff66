"""Two timelines aligned: each step (a system and an event kind) with its time after birth in both cases."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from audit.model import CaseResult
from tui.present import AlignedRow, offset_text


class AlignedTimelines(DataTable):
    """Rows of steps; a step one case never took, or took much later, stands out."""

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {"aligned--missing", "aligned--delay", "aligned--step"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def show(self, left: CaseResult, right: CaseResult, rows: list[AlignedRow]) -> None:
        self.clear(columns=True)
        self.add_column("step", key="step")
        self.add_column(left.case.ref, key="left")
        self.add_column(right.case.ref, key="right")
        self.add_column("difference", key="gap")
        step_style = self.get_component_rich_style("aligned--step", partial=True)
        for row in rows:
            state = self.get_component_rich_style(f"aligned-{row.state}", partial=True) if row.state else None
            gap = "never happened on one side" if row.state == "-missing" else (
                offset_text(row.right - row.left) if row.left is not None and row.right is not None else ""
            )
            self.add_row(
                Text(row.step, step_style),
                Text(offset_text(row.left), state or ""),
                Text(offset_text(row.right), state or ""),
                Text(gap, state or ""),
            )
