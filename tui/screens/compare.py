"""Compare: a second case beside this one, both timelines aligned on each order's birth."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from audit.model import CaseResult, ThreetruthError
from cache.views import CaseLine, ViewError
from tui.present import align, divergence_text, verdict_label
from tui.widgets.aligned import AlignedTimelines


class ChooseCaseScreen(ModalScreen[str | None]):
    """Pick the case to compare with: in-sync orders born in the same system are offered first."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    class Suggested(Message):
        def __init__(self, lines: list[CaseLine]) -> None:
            super().__init__()
            self.lines = lines

    class Located(Message):
        def __init__(self, asked: str, ref: str | None) -> None:
            super().__init__()
            self.asked, self.ref = asked, ref

    def __init__(self, ref: str) -> None:
        super().__init__()
        self.ref = ref

    def compose(self) -> ComposeResult:
        with Vertical(id="choose-box"):
            yield Label(f"Compare {self.ref} with…", id="choose-title")
            yield Input(placeholder="any ref, or pick a healthy order below", id="choose-input")
            yield OptionList(id="choose-list")

    def on_mount(self) -> None:
        self.suggest()

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-suggest")
    def suggest(self) -> None:
        views = self.app.views
        try:
            lines = views.similar(self.ref) if views is not None else []
        except ViewError:
            lines = []
        self.post_message(self.Suggested(lines))

    def on_choose_case_screen_suggested(self, message: Suggested) -> None:
        options = self.query_one("#choose-list", OptionList)
        options.clear_options()
        for line in message.lines:
            options.add_option(Option(f"{line.ref}  {verdict_label(line.verdict)}  born in {line.origin}", id=line.ref))
        if message.lines:
            options.highlighted = 0
        else:
            options.add_option(Option("No in-sync order born in the same system; type a ref above.", disabled=True))

    @on(OptionList.OptionSelected, "#choose-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(event.option.id)

    @on(Input.Submitted, "#choose-input")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.locate(event.value.strip())

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-locate")
    def locate(self, asked: str) -> None:
        views = self.app.views
        try:
            found = views.locate(asked) if views is not None else None
        except ViewError:
            found = None
        self.post_message(self.Located(asked, found[0] if found else None))

    def on_choose_case_screen_located(self, message: Located) -> None:
        if message.ref is None:
            self.notify(f"No case in the cache has the ref or id {message.asked!r}.", title="Not found", severity="warning")
        elif message.ref == self.ref:
            self.notify("That is this case; choose another.", title="Same case", severity="warning")
        else:
            self.dismiss(message.ref)

    def action_cancel(self) -> None:
        self.dismiss(None)


class CompareScreen(Screen[None]):
    """Two cases' timelines, step by step, as time after each order was born."""

    BINDINGS = [Binding("escape,backspace", "back", "Back"), Binding("x", "swap", "Swap sides")]

    class Loaded(Message):
        def __init__(self, left: CaseResult, right: CaseResult) -> None:
            super().__init__()
            self.left, self.right = left, right

    class LoadFailed(Message):
        def __init__(self, title: str, message: str) -> None:
            super().__init__()
            self.title, self.message = title, message

    def __init__(self, left: str, right: str) -> None:
        super().__init__()
        self.left_ref, self.right_ref = left, right
        self.results: tuple[CaseResult, CaseResult] | None = None

    def compose(self) -> ComposeResult:
        yield Static("Loading both cases…", id="compare-head")
        yield AlignedTimelines(id="aligned")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="compare-load")
    def load(self) -> None:
        from tui.screens.case import read_case

        try:
            left, _ = read_case(self.app.cache_path, self.left_ref, self.app.config.audit)
            right, _ = read_case(self.app.cache_path, self.right_ref, self.app.config.audit)
        except ThreetruthError as exc:
            self.post_message(self.LoadFailed(exc.title, exc.message))
            return
        self.post_message(self.Loaded(left, right))

    def on_compare_screen_loaded(self, message: Loaded) -> None:
        self.results = (message.left, message.right)
        self._draw()

    def _draw(self) -> None:
        assert self.results is not None
        left, right = self.results
        head = Content.from_markup(
            "[b]$left[/] $lv · $ld\n[b]$right[/] $rv · $rd\n[$text-muted]time after each order was born; "
            "— where a step never happened[/]",
            left=left.case.ref,
            lv=verdict_label(left.verdict.value),
            ld=divergence_text(left),
            right=right.case.ref,
            rv=verdict_label(right.verdict.value),
            rd=divergence_text(right),
        )
        self.query_one("#compare-head", Static).update(head)
        self.query_one(AlignedTimelines).show(left, right, align(left, right))
        self.query_one(AlignedTimelines).focus()

    def on_compare_screen_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#compare-head", Static).update(Content.from_markup("[b]$t[/]\n$m", t=message.title, m=message.message))

    def action_swap(self) -> None:
        if self.results is not None:
            self.results = (self.results[1], self.results[0])
            self._draw()

    def action_back(self) -> None:
        self.dismiss(None)
