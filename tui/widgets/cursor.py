"""The keyboard cursor shared by the scrolling line widgets (the case list, the timeline)."""

from __future__ import annotations

from textual.binding import Binding

CURSOR_BINDINGS = [
    Binding("down,j", "cursor_down", "Down", show=False),
    Binding("up,k", "cursor_up", "Up", show=False),
    Binding("pagedown,ctrl+f", "page_down", "Page down", show=False),
    Binding("pageup,ctrl+b", "page_up", "Page up", show=False),
    Binding("home,g", "first", "First", show=False),
    Binding("end,G", "last", "Last", show=False),
]


class LineCursor:
    """j/k, page, g/G over ``line_count`` lines; the widget supplies ``cursor``, ``move_to`` and its height."""

    cursor: int

    @property
    def line_count(self) -> int:
        raise NotImplementedError

    @property
    def page(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)  # type: ignore[attr-defined]

    def move_to(self, index: int) -> None:
        raise NotImplementedError

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_page_down(self) -> None:
        self.move_to(self.cursor + self.page)

    def action_page_up(self) -> None:
        self.move_to(self.cursor - self.page)

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.line_count - 1)
