"""The threetruth explorer: a Textual app over the cache.

The app only owns the cache's lifecycle (open or migrate it, import the bundled
samples into an empty one, bring stale verdicts up to date) and the things
every screen shares; each task has its own screen under ``tui/screens``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message

from audit.model import UTC, ThreetruthError
from cache.views import CaseViews, ViewError
from tui.commands import ScreenCommands
from tui.config import Config

STYLES = Path(__file__).parent / "styles"
MIN_WIDTH, MIN_HEIGHT = 60, 16


def _connect(config: Config) -> Mapping[str, Any]:
    from tui.fetching import connect  # the network stack loads on the first refresh, not at start

    return connect(config)


class ThreetruthApp(App[int]):
    """Cases, one case's three truths, and what to check next."""

    TITLE = "threetruth"
    SUB_TITLE = "one order, every system, one timeline"
    CSS_PATH = [STYLES / "app.tcss", STYLES / "cases.tcss", STYLES / "case.tcss", STYLES / "dialogs.tcss"]
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    class CacheOpened(Message):
        def __init__(self, views: CaseViews, imported: int) -> None:
            super().__init__()
            self.views, self.imported = views, imported

    class CacheFailed(Message):
        def __init__(self, title: str, message: str) -> None:
            super().__init__()
            self.title, self.message = title, message

    class AuditFinished(Message):
        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class CaseChanged(Message):
        """A case was re-fetched and re-audited: lists showing it are out of date."""

        def __init__(self, ref: str) -> None:
            super().__init__()
            self.ref = ref

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] | None = None,
        connect: Callable[[Config], Mapping[str, Any]] | None = None,
        export_dir: Path | None = None,
        theme: str | None = None,
        import_samples: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.connect = connect or _connect
        self.export_dir = export_dir or Path.cwd() / "threetruth-export"
        self.import_samples = import_samples
        self.views: CaseViews | None = None
        if theme:
            self.theme = theme

    @property
    def cache_path(self) -> str:
        return str(self.config.cache_path)

    def on_mount(self) -> None:
        from tui.screens.cases import CasesScreen

        self.push_screen(CasesScreen())
        self._check_size()
        self.open_cache()

    @work(thread=True, exclusive=True, exit_on_error=False, group="cache-open")
    def open_cache(self) -> None:
        """Open (migrating if needed) the cache; on a fresh install, fill it with the bundled samples."""
        from cache.store import Cache

        imported = 0
        try:
            with Cache.open(self.config.cache_path) as cache:
                empty = cache.db.execute("SELECT 1 FROM cases LIMIT 1").fetchone() is None
                if empty and self.import_samples:
                    from tui.ingest import bundled_scenarios, import_paths

                    imported = len(import_paths([bundled_scenarios()], self.config, cache).cases)
            views = CaseViews(self.config.cache_path)
        except ThreetruthError as exc:
            self.post_message(self.CacheFailed(exc.title, exc.message))
            return
        except (ViewError, OSError) as exc:
            self.post_message(self.CacheFailed("Cache problem", str(exc)))
            return
        self.post_message(self.CacheOpened(views, imported))

    def on_threetruth_app_cache_opened(self, message: CacheOpened) -> None:
        self.views = message.views
        # Everything loaded so far (Textual, the app, the modules) lives as long as the app: move it out of
        # the collector's reach, or each full collection rescans it all and stalls a keypress by ~100 ms.
        gc.freeze()
        if message.imported:
            self.notify(f"The cache was empty: imported {message.imported} bundled sample cases into {self.cache_path}.", title="Samples")
        self._cases_screen().cache_ready(message.views)

    def on_cases_screen_listed(self) -> None:
        """The first listing is drawn: now bring stale verdicts up to date, without slowing it down."""
        if self.views is not None:
            self.audit_stale(self.views)

    def on_threetruth_app_cache_failed(self, message: CacheFailed) -> None:
        from tui.screens.dialogs import ErrorScreen

        self.push_screen(ErrorScreen(message.title, message.message, fatal=True), lambda _: self.exit(2))

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-stale")
    def audit_stale(self, views: CaseViews) -> None:
        """Audit cases whose stored verdict is missing or was computed under other settings."""
        from tui.auditing import PARALLEL_FROM, audit_cache

        try:
            stale = views.stale_count(self.config.audit.fingerprint)
            if not stale:
                return
            self.call_from_thread(self.notify, f"Auditing {stale:,} cases whose verdicts are out of date…", title="Audit")
            refs = None
            if stale <= PARALLEL_FROM:
                from cache.store import Cache

                with Cache.open(self.config.cache_path, migrate=False) as cache:
                    refs = cache.case_refs(stale_for=self.config.audit.fingerprint)
            run = audit_cache(self.cache_path, self.config.audit, refs=refs, jobs=1 if refs is not None else None)
        except ThreetruthError as exc:
            self.post_message(self.CacheFailed(exc.title, exc.message))
            return
        except (ViewError, ValueError, KeyError) as exc:
            self.call_from_thread(self.notify, f"Some cases could not be audited: {exc}", title="Audit problem", severity="warning")
            return
        self.post_message(self.AuditFinished(run.count))

    def on_threetruth_app_audit_finished(self, message: AuditFinished) -> None:
        self.notify(f"Audited {message.count:,} cases.", title="Audit")
        self._cases_screen().data_changed()

    def on_threetruth_app_case_changed(self, message: CaseChanged) -> None:
        self._cases_screen().data_changed()

    def _cases_screen(self):
        from tui.screens.cases import CasesScreen

        return next(s for s in self.screen_stack if isinstance(s, CasesScreen))

    # --- shared actions ----------------------------------------------------------------

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def copy(self, text: str, what: str) -> None:
        """Copy to the clipboard through the terminal (OSC 52) and say so."""
        self.copy_to_clipboard(text)
        shown = text if len(text) <= 70 else text[:69] + "…"
        self.notify(shown, title=f"Copied {what} to the clipboard")

    # --- a terminal too small ----------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size)

    def _check_size(self, size: Size | None = None) -> None:
        from tui.screens.dialogs import TooSmallScreen

        width, height = size or self.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        showing = isinstance(self.screen, TooSmallScreen)
        if small and not showing:
            self.push_screen(TooSmallScreen(MIN_WIDTH, MIN_HEIGHT))
        elif showing:
            if small:
                self.screen.refresh()
            else:
                self.pop_screen()

    def on_unmount(self) -> None:
        gc.unfreeze()  # give what was frozen back to the collector (matters when apps run one after another, as in tests)
        if self.views is not None:
            self.views.close()


def run_app(config: Config) -> int:
    """Run the explorer on the configured cache; returns the exit code (0, or 2 when the cache cannot be opened)."""
    result = ThreetruthApp(config).run()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # python -m tui.app [CONFIG]: the explorer alone (`threetruth` opens it too)
    import sys

    from tui.config import load_config

    try:
        chosen = load_config(sys.argv[1] if len(sys.argv) > 1 else None)
    except ThreetruthError as exc:
        sys.exit(f"threetruth: {exc}")
    sys.exit(run_app(chosen))
