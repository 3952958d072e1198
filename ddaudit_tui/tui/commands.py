"""Key bindings as data: the `?` help screen and the command palette are both generated from them.

Nothing here is hand-written per key: a binding added to any widget, screen or the app shows up in
the help and the palette by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.widgets import Input

# Actions that make no sense as palette entries (the palette itself; focus cycling).
_NOT_IN_PALETTE = {"command_palette", "app.command_palette", "app.focus_next", "app.focus_previous"}


@dataclass
class KeyEntry:
    action: str
    description: str
    keys: list[str] = field(default_factory=list)
    tooltip: str = ""
    shown: bool = False  # shown in the footer


@dataclass
class KeyGroup:
    title: str
    node: DOMNode | None  # where the action runs; None for classes listed without an instance
    entries: list[KeyEntry]
    editing: bool = False  # text-editing keys of an input: listed in help, not offered in the palette
    description: str = ""  # one line under the title (a pane: the question it answers)


# The one group every text input's editing keys (cursor, delete, select, copy…) go to: they are the
# same in every input, and help shows them once, collapsed.
TEXT_INPUT_GROUP = "Text input"


def _group_title(node_or_cls: DOMNode | type[DOMNode]) -> str:
    cls = node_or_cls if isinstance(node_or_cls, type) else type(node_or_cls)
    title = getattr(cls, "HELP_GROUP", None) or getattr(cls, "PANE_TITLE", None)
    if title:
        return str(title)
    from textual.app import App

    if issubclass(cls, App):
        return "Global"
    return cls.__name__


def _group_description(node: DOMNode) -> str:
    return str(getattr(node, "pane_description", "") or "")


def _entries(
    bindings: Iterable[tuple[str, Binding]], key_display: Callable[[Binding], str]
) -> list[KeyEntry]:
    by_action: dict[str, KeyEntry] = {}
    described: set[str] = set()  # actions whose entry has a written description
    for _key, binding in bindings:
        entry = by_action.get(binding.action)
        if entry is None:
            description = binding.description or binding.tooltip or binding.action.replace("_", " ")
            entry = by_action[binding.action] = KeyEntry(binding.action, description, tooltip=binding.tooltip)
        elif binding.description and binding.action not in described:
            # A later binding of the same action says what it does (ours over Textual's bare ctrl+c).
            entry.description, entry.tooltip = binding.description, binding.tooltip or entry.tooltip
        if binding.description:
            described.add(binding.action)
        shown = key_display(binding)
        if shown not in entry.keys:
            entry.keys.append(shown)
        entry.shown = entry.shown or binding.show
    return list(by_action.values())


def _absent_actions(node: DOMNode) -> frozenset[str]:
    """What `node` does not offer at all in this session (Key lookup's revoke in read-only mode): left
    out of help and the palette, as its `check_action` leaves it out of the footer."""
    absent = getattr(node, "absent_actions", None)
    return frozenset(absent()) if callable(absent) else frozenset()


def binding_groups(
    app: DOMNode, screen: DOMNode | None, extra: Sequence[type[DOMNode]] = ()
) -> list[KeyGroup]:
    """Every binding reachable from `screen`: the app's, the screen's, each focusable widget's
    (one group per widget class), then those of `extra` classes (screens not open yet)."""
    display = getattr(app, "get_key_display", lambda b: b.key)
    groups: list[KeyGroup] = [KeyGroup(_group_title(app), app, _entries(app._bindings, display))]
    seen: set[type] = {type(app)}
    text_input: KeyGroup | None = None
    if screen is not None:
        nodes = [
            screen,
            *(n for n in screen.walk_children(with_self=False) if getattr(n, "can_focus", False)),
        ]
        for node in nodes:
            if type(node) in seen or not len(node._bindings.key_to_bindings):
                continue
            seen.add(type(node))
            if isinstance(node, Input):
                # Input's own editing keys go to the one "Text input" group; what a subclass adds
                # (Escape back to the table, Down to a list) is an action of its own group.
                editing_actions = {b.action for _k, b in Input._merge_bindings()}
                own = [(k, b) for k, b in node._bindings if b.action not in editing_actions]
                if text_input is None:
                    editing = [(k, b) for k, b in node._bindings if b.action in editing_actions]
                    text_input = KeyGroup(TEXT_INPUT_GROUP, node, _entries(editing, display), editing=True)
                if own:
                    groups.append(KeyGroup(_group_title(node), node, _entries(own, display)))
                continue
            absent = _absent_actions(node)
            groups.append(
                KeyGroup(
                    _group_title(node),
                    node,
                    _entries(((k, b) for k, b in node._bindings if b.action not in absent), display),
                    description=_group_description(node),
                )
            )
    for cls in extra:
        if cls in seen:
            continue
        seen.add(cls)
        merged = cls._merge_bindings()
        if merged.key_to_bindings:
            groups.append(KeyGroup(_group_title(cls), None, _entries(merged, display)))
    if text_input is not None:
        groups.append(text_input)
    return [g for g in groups if g.entries]


class ActionsProvider(Provider):
    """Command palette entries for every action bound on the app, the pane and its widgets."""

    def _commands(self) -> list[tuple[str, str, partial[object]]]:
        commands: list[tuple[str, str, partial[object]]] = []
        groups = binding_groups(self.app, self.screen)
        # The app's own group last: on equal scores the palette lists hits in this order, and the pane's
        # action (Explore's "Export") is the likelier wish than the app-wide one ("Case export").
        for group in [*groups[1:], *groups[:1]]:
            if group.node is None or group.editing:
                continue
            for entry in group.entries:
                if entry.action in _NOT_IN_PALETTE:
                    continue
                title = f"{group.title}: {entry.description}"
                help_text = f"key: {', '.join(entry.keys)}" + (f" — {entry.tooltip}" if entry.tooltip else "")
                run = partial(self.app.call_later, self.app.run_action, entry.action, group.node)
                commands.append((title, help_text, run))
        return commands

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, text=title, help=help_text)
