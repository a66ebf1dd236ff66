"""Small modal dialogs: an error with a title, a question for a ref, a terminal too small."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static


class ErrorScreen(ModalScreen[None]):
    """An error a person can act on: its title, its message, and how to go on."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, message: str, *, fatal: bool = False) -> None:
        super().__init__(classes="-fatal" if fatal else "")
        self.title_text, self.message, self.fatal = title, message, fatal

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Label(self.title_text, id="error-title")
            yield Static(self.message, id="error-message", markup=False)
            yield Label("Press q to quit." if self.fatal else "Press Esc to close.", id="error-hint")

    def action_close(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """One line of input: a ref to jump to, a filter."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, placeholder: str, *, suggestions: list[str] | None = None, value: str = "") -> None:
        super().__init__()
        self.title_text, self.placeholder, self.suggestions, self.value = title, placeholder, suggestions or [], value

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Label(self.title_text, id="prompt-title")
            yield Input(
                self.value,
                placeholder=self.placeholder,
                suggester=SuggestFromList(self.suggestions, case_sensitive=False) if self.suggestions else None,
                id="prompt-input",
            )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class TooSmallScreen(Screen[None]):
    """Stands in for every screen while the terminal is smaller than the app can use."""

    BINDINGS = [Binding("q,ctrl+c", "app.quit", "Quit", priority=True)]

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.need = (width, height)

    def compose(self) -> ComposeResult:
        yield Static(id="too-small")

    def on_mount(self) -> None:
        self._update()

    def on_resize(self, event) -> None:
        self._update(event.size)

    def _update(self, size=None) -> None:
        width, height = size or self.app.size
        self.query_one("#too-small", Static).update(
            f"Terminal too small: {width}×{height}.\nthreetruth needs at least {self.need[0]}×{self.need[1]}; "
            "enlarge the window, or press q to quit."
        )


def ask(screen: Screen, title: str, placeholder: str, then: Callable[[str | None], None], **options) -> None:
    screen.app.push_screen(PromptScreen(title, placeholder, **options), then)
