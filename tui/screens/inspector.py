"""The raw payload inspector: the verbatim response behind a value or an event, with its endpoint and fetch time."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from audit.model import RawPayload
from tui.present import utc
from tui.widgets.payload_view import PayloadView, pretty


def search_term(path: str | None) -> str:
    """What to look for in the payload for a field path: its last name (``order.packages[0].shipTime`` -> ``shipTime``)."""
    if not path:
        return ""
    last = path.replace("]", "").split(".")[-1].split("[")[0]
    return last


class InspectorScreen(Screen[None]):
    """One or more payloads; secrets redacted; ``/`` searches, ``n``/``N`` step, ``[``/``]`` switch payloads."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "search", "Search"),
        Binding("n", "match(1)", "Next match"),
        Binding("N", "match(-1)", "Previous match", key_display="N"),
        Binding("right_square_bracket", "payload(1)", "Next payload", key_display="]"),
        Binding("left_square_bracket", "payload(-1)", "Previous payload", key_display="["),
        Binding("y", "copy", "Copy JSON", show=False),
    ]

    def __init__(self, payloads: list[RawPayload], *, path: str | None = None, what: str = "") -> None:
        super().__init__()
        self.payloads = payloads
        self.path, self.what = path, what
        self.term = search_term(path)
        # Start on the payload that holds the field, when one does.
        self.index = next((i for i, p in enumerate(payloads) if self.term and self.term in p.body), 0)

    def compose(self) -> ComposeResult:
        yield Static(id="inspector-head")
        yield PayloadView(id="payload")
        yield Input(placeholder="search the payload (Enter); Esc closes", id="inspector-search")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show()
        self.query_one(PayloadView).focus()

    def _show(self) -> None:
        payload = self.payloads[self.index]
        lines, is_json = pretty(payload.body)
        view = self.query_one(PayloadView)
        view.show(lines)
        count = view.search(self.term) if self.term else 0
        found = f"{count} match(es) for “{self.term}”" if self.term else ""
        head = Content.from_markup(
            "[b]$what[/]  [$text-muted]payload $n of $total · $system · fetched $fetched[/]\n"
            "[b]$endpoint[/]\n[$text-muted]$field$found · $form · secrets redacted[/]",
            what=self.what or payload.system,
            n=self.index + 1,
            total=len(self.payloads),
            system=payload.system,
            fetched=utc(payload.fetched_at, seconds=True),
            endpoint=payload.endpoint,
            field=f"field {self.path} · " if self.path else "",
            found=found,
            form="JSON indented for reading" if is_json else "not JSON: shown as received",
        )
        self.query_one("#inspector-head", Static).update(head)

    def action_back(self) -> None:
        box = self.query_one("#inspector-search", Input)
        if box.has_class("-shown"):
            box.remove_class("-shown")
            self.query_one(PayloadView).focus()
        else:
            self.dismiss(None)

    def action_search(self) -> None:
        box = self.query_one("#inspector-search", Input)
        box.add_class("-shown")
        box.value = self.term
        box.focus()

    @on(Input.Submitted, "#inspector-search")
    def _searched(self, event: Input.Submitted) -> None:
        event.stop()
        self.term = event.value.strip()
        event.input.remove_class("-shown")
        self._show()
        self.query_one(PayloadView).focus()
        if self.term and not self.query_one(PayloadView).matches:
            self.notify(f"“{self.term}” does not occur in this payload.", title="Search", timeout=3)

    def action_match(self, direction: int) -> None:
        self.query_one(PayloadView).step(direction)

    def action_payload(self, direction: int) -> None:
        if len(self.payloads) > 1:
            self.index = (self.index + direction) % len(self.payloads)
            self._show()

    def action_copy(self) -> None:
        self.app.copy("\n".join(self.query_one(PayloadView).lines), "the payload (redacted)")
