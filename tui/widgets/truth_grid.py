"""The three-truth grid: a column per system's record, a row per value; cells that disagree stand out."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from audit.model import CaseResult
from tui.present import Grid, GridColumn, truth_grid


class TruthGrid(DataTable):
    """What each system holds, side by side. Enter on a cell opens the payload it was read from."""

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | {
        "truth-grid--label",
        "truth-grid--mismatch",
        "truth-grid--missing",
        "truth-grid--delay",
        "truth-grid--differs",
        "truth-grid--unknown",
        "truth-grid--absent",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="cell", zebra_stripes=False)
        self.grid: Grid | None = None
        self.result: CaseResult | None = None

    def on_mount(self) -> None:
        self.watch(self.app, "theme", lambda: self.call_after_refresh(self._redraw), init=False)

    def show(self, result: CaseResult) -> None:
        self.result = result
        self.grid = truth_grid(result)
        self._redraw()

    def _redraw(self) -> None:
        if self.grid is None:
            return
        coordinate = self.cursor_coordinate
        self.clear(columns=True)
        grid = self.grid
        self.add_column("", key="label")
        for index, column in enumerate(grid.columns):
            self.add_column(column.label, key=f"c{index}")
        label = self.get_component_rich_style("truth-grid--label", partial=True)
        absent = self.get_component_rich_style("truth-grid--absent", partial=True)
        self.add_row(Text("role · platform", label), *(Text(f"{c.role} · {c.platform}", absent) for c in grid.columns), key="role")
        self.add_row(Text("ref", label), *(self._ref_cell(c, label, absent) for c in grid.columns), key="ref")
        for row in grid.rows:
            marker = "≠ " if row.disagrees else "  "
            cells = []
            for cell, column in zip(row.cells, grid.columns):
                if cell.state:
                    style = self.get_component_rich_style(f"truth-grid-{cell.state}", partial=True)
                elif column.record is None and row.key != "fetched":
                    style = absent
                else:
                    style = None
                cells.append(Text(cell.text, style or ""))
            self.add_row(Text(marker + row.label, label), *cells, key=row.key)
        # First time: start on the first system's native status, not on a label.
        row, column = (coordinate.row, coordinate.column) if coordinate.column else (2, 1)
        self.move_cursor(row=row, column=column, animate=False)

    @staticmethod
    def _ref_cell(column: GridColumn, label, absent) -> Text:
        if column.record is None:
            return Text(column.missing_text, absent)
        return Text(column.record.ref, label)

    def selected(self) -> tuple[GridColumn | None, str]:
        """The column and row key under the cursor."""
        if self.grid is None:
            return None, ""
        row_key, column_key = self.coordinate_to_cell_key(self.cursor_coordinate)
        column = None
        if column_key.value and column_key.value.startswith("c"):
            column = self.grid.columns[int(column_key.value[1:])]
        return column, str(row_key.value)
