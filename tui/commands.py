"""The command palette (ctrl+p): every action of the current screen, found by name.

Commands come from two places, so that nothing has to be listed twice: every
binding with a description that is active on the screen (its own, its focused
widget's and the app's), and whatever the screen adds through
``palette_commands()`` (one command per filter value, per sort, and so on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

Command = tuple[str, str, Callable[[], object]]


class ScreenCommands(Provider):
    """Every action the screen the palette was opened on can run."""

    def _commands(self) -> list[Command]:
        commands: list[Command] = []
        seen: set[str] = set()
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.system or not active.enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            keys = binding.key_display or key
            name = binding.tooltip or binding.description  # the footer's word is short; the palette says it whole
            commands.append((name, f"key: {keys}", partial(self.app.run_action, binding.action, active.node)))
        extra: Callable[[], Iterator[Command]] | None = getattr(self.screen, "palette_commands", None)
        if extra is not None:
            commands.extend(extra())
        return commands

    async def discover(self) -> Hits:
        for name, help_text, command in self._commands():
            yield DiscoveryHit(name, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, command in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), command, text=name, help=help_text)
