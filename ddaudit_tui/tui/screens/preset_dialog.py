"""“Investigate…” (Explore's `i`): the security-investigation recipe's questions as presets.

Two steps in one modal:

1. the list: every preset with its title, default window and query template; typing filters it (name,
   title, key words); j/k or ↑/↓ move, Enter picks, Escape closes;
2. the form: the preset's parameters (prefilled from the Explore row under the cursor when it has the
   field: a user email, a client IP, an asset id), its window, and the exact query it will run in an
   editable input. For "what did user U do" the query is first widened, in a worker, with the other
   identities found in U's own events (`presets.expand_user`): the input shows it once it is known.
   Enter in the query runs it in Explore; Escape goes back to the list.

The dialog dismisses with a `PresetRun` (or None). Nothing typed here or taken from an event is parsed
as markup; prefills from events are used only when they are plain, valid values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from ddaudit_tui.analysis.presets import PARAMS, PRESETS, Preset, PresetError, expand_user, user_query
from ddaudit_tui.events.query import QuerySyntaxError, parse_query
from ddaudit_tui.timeutil import TimeParseError, Window, parse_instant
from ddaudit_tui.tui.safe_text import clean
from ddaudit_tui.tui.widgets.error_line import ErrorLine
from ddaudit_tui.tui.widgets.header import window_text

EXPAND_GROUP = "preset-expand"

# Keys the list keeps for itself; any other printable key typed on the list goes to the filter.
_LIST_KEYS = frozenset("jkgGq/")


@dataclass(frozen=True)
class PresetRun:
    """What Explore runs: the (possibly edited) query over the preset's window."""

    preset: str
    query: str
    window: Window
    window_spec: str  # as typed ("7d"); "" = the app's window
    columns: tuple[str, ...]


def preset_matches(preset: Preset, text: str) -> bool:
    """Every word of `text` appears in the preset's name, title, key words or template."""
    hay = " ".join((preset.name, preset.title, *preset.keys, preset.template)).casefold()
    return all(word in hay for word in text.casefold().split())


def prefill_values(
    user: str | None = None, ip: str | None = None, resource: str | None = None
) -> dict[str, str]:
    """Parameter values taken from an event, kept only when plain and valid (event text is hostile)."""
    values: dict[str, str] = {}
    for name, value in (("user", user), ("ip", ip), ("resource", resource)):
        if not value or clean(value) != value:
            continue
        try:
            values[name] = PARAMS[name].check(value)
        except PresetError:
            continue
    return values


class PresetList(OptionList):
    """The presets. Printable keys other than its own (j/k/g/G/q and /) start the filter."""

    HELP_GROUP: ClassVar[str] = "Preset list"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Next preset", show=False, id="presets.down"),
        Binding("k", "cursor_up", "Previous preset", show=False, id="presets.up"),
        Binding("g", "first", "First preset", show=False, id="presets.first"),
        Binding("G", "last", "Last preset", show=False, id="presets.last"),
        Binding("slash", "filter", "Filter", id="presets.filter", tooltip="Type to filter the presets"),
    ]

    def action_filter(self, initial: str = "") -> None:
        box = self.screen.query_one("#preset-filter", Input)
        self.screen.set_focus(box)
        if initial:
            box.insert_text_at_cursor(initial)

    def on_key(self, event: events.Key) -> None:
        char = event.character
        if char and char.isprintable() and char not in _LIST_KEYS and event.key != "space":
            # Typing on the list filters it: the keys must not reach the app's bindings (1–4, z…).
            event.stop()
            event.prevent_default()
            self.action_filter(char)


class PresetFilter(Input):
    """The filter line: ↑/↓ move in the list, Enter picks the highlighted preset, Escape leaves."""

    HELP_GROUP: ClassVar[str] = "Preset filter"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "list_move('cursor_down')", "Next preset", show=False, id="preset-filter.down"),
        Binding("up", "list_move('cursor_up')", "Previous preset", show=False, id="preset-filter.up"),
        Binding("escape", "leave", "Back to the list", id="preset-filter.leave"),
    ]

    def action_list_move(self, action: str) -> None:
        getattr(self.screen.query_one(PresetList), f"action_{action}")()

    def action_leave(self) -> None:
        # Escape clears the filter first; a second Escape (on the list) closes the dialog.
        self.value = ""
        self.screen.query_one(PresetList).focus()


class PresetDialog(ModalScreen[PresetRun | None]):
    """`PresetDialog(end_ms, prefill={"user": …})`: the presets, their form, the query that will run.

    The window of a preset is its recipe window (`Preset.default_from`, e.g. the last 24 h) ending at
    `end_ms` — the end of the app's window, so a file's data and the demo are read where they are,
    as the AI pane does with its 7 days. The user may change it in the form; an empty window means
    the app's own window.
    """

    HELP_GROUP: ClassVar[str] = "Presets dialog"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back / close", id="presets.back"),
        Binding("q", "close", "Close", show=False, id="presets.close"),
    ]

    DEFAULT_CSS = """
    PresetDialog {
        align: center middle;
        & > #preset-frame {
            width: 100;
            max-width: 96%;
            height: auto;
            max-height: 96%;
            border: thick $primary;
            background: $surface;
            padding: 0 1;
        }
        & #preset-title { text-style: bold; height: 1; }
        & .preset-row { height: 1; margin: 0 0 0 0; }
        & .preset-label { width: 12; color: $text-accent; text-style: bold; }
        & #preset-filter, & .preset-input {
            border: none; height: 1; padding: 0; width: 1fr; background: $panel;
        }
        & #preset-filter:focus, & .preset-input:focus { background: $boost; text-style: none; }
        & #preset-pick { height: auto; }
        & #preset-list { height: auto; max-height: 20; border: none; padding: 0; margin: 1 0 0 0; }
        & #preset-form { display: none; height: auto; }
        & #preset-heading { height: auto; margin: 1 0 0 0; }
        & #preset-window-text { height: 1; color: $text-muted; padding: 0 0 0 12; }
        & #preset-preview { height: auto; max-height: 6; padding: 0 0 0 12; color: $text-muted; }
        & #preset-error { display: none; height: auto; color: $error; text-style: bold; }
        & #preset-error.-visible { display: block; }
        & #preset-status { height: auto; color: $text-muted; }
        & #preset-hint { height: auto; color: $text-muted; margin: 1 0 0 0; }
    }
    PresetDialog.-form {
        & #preset-pick { display: none; }
        & #preset-form { display: block; }
    }
    PresetDialog.-short #preset-list { max-height: 14; }
    App:nocolor PresetDialog .preset-input:focus, App:nocolor PresetDialog #preset-filter:focus {
        text-style: underline;
    }
    App:nocolor PresetDialog #preset-list > .option-list--option-highlighted { text-style: reverse bold; }
    """

    def __init__(self, end_ms: int, prefill: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.end_ms = end_ms
        self.prefill = dict(prefill or {})
        self.preset: Preset | None = None
        self.shown: list[Preset] = list(PRESETS)
        self._generated = ""  # the query the dialog last put in the input (to tell a hand edit)
        self._expanded_for: str | None = None  # the user value the shown query was widened for
        self._expanding: str | None = None  # the user value a worker is widening the query for

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="preset-frame"):
            yield Static(Text("Investigate — pick a question", end=""), id="preset-title")
            with Vertical(id="preset-pick"):
                with Horizontal(classes="preset-row"):
                    yield Static(Text("filter ›"), classes="preset-label")
                    yield PresetFilter(
                        placeholder="type to filter: login, key, delete, ip…",
                        id="preset-filter",
                        select_on_focus=False,
                    )
                yield PresetList(id="preset-list")
            with Vertical(id="preset-form"):
                yield Static(id="preset-heading")
                for name, param in PARAMS.items():
                    with Horizontal(classes="preset-row", id=f"row-{name}"):
                        yield Static(Text(f"{name} ›"), classes="preset-label")
                        yield Input(
                            placeholder=f"{param.label.lower()}, e.g. {param.example}",
                            id=f"param-{name}",
                            classes="preset-input",
                            select_on_focus=False,
                        )
                with Horizontal(classes="preset-row"):
                    yield Static(Text("window ›"), classes="preset-label")
                    yield Input(
                        placeholder="e.g. 24h, 7d, 2026-07-01T00:00Z — empty: the app's window",
                        id="preset-window",
                        classes="preset-input",
                        select_on_focus=False,
                    )
                yield Static(id="preset-window-text")
                with Horizontal(classes="preset-row"):
                    yield Static(Text("query ›"), classes="preset-label")
                    yield Input(id="preset-query", classes="preset-input", select_on_focus=False)
                yield Static(id="preset-preview")
                yield ErrorLine(id="preset-error")
                yield Static(id="preset-status")
            yield Static(id="preset-hint")

    def on_mount(self) -> None:
        self._fill_list()
        self.query_one(PresetList).focus()
        self._set_hint()

    # -- step 1: the list ----------------------------------------------------------------------

    def _fill_list(self) -> None:
        plist = self.query_one(PresetList)
        plist.set_options(_option(p) for p in self.shown)
        if self.shown:
            plist.highlighted = 0

    @on(Input.Changed, "#preset-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.shown = [p for p in PRESETS if preset_matches(p, event.value)]
        self._fill_list()
        if not self.shown:
            self.query_one(PresetList).set_options(
                [Option(Text("no preset matches: escape clears the filter", style="italic"), disabled=True)]
            )

    @on(Input.Submitted, "#preset-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose_highlighted()

    @on(OptionList.OptionSelected, "#preset-list")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose_highlighted()

    def _choose_highlighted(self) -> None:
        index = self.query_one(PresetList).highlighted
        if index is None or not 0 <= index < len(self.shown):
            return
        self.choose(self.shown[index])

    # -- step 2: the form ----------------------------------------------------------------------

    def choose(self, preset: Preset) -> None:
        """Open the form of `preset` (what Enter on the list does)."""
        self.preset = preset
        self.workers.cancel_group(self, EXPAND_GROUP)
        self._expanding = None
        self._expanded_for = None
        heading = Text(end="")
        heading.append(preset.title, style="bold")
        heading.append(f"  ({preset.name}, default window {preset.default_from})", style="dim")
        if preset.note:
            heading.append(f"\n{preset.note}", style="italic")
        self.query_one("#preset-heading", Static).update(heading)
        for name in PARAMS:
            row = self.query_one(f"#row-{name}")
            row.display = name in preset.params
            box = self.query_one(f"#param-{name}", Input)
            if name in preset.params and not box.value and name in self.prefill:
                box.value = self.prefill[name]
        self.query_one("#preset-window", Input).value = preset.default_from
        self._show_window()
        self._clear_error()
        self.add_class("-form")
        self.query_one("#preset-title", Static).update(
            Text("Investigate — check the query, then enter", end="")
        )
        self._rebuild_query()
        missing = [n for n in preset.params if not self.query_one(f"#param-{n}", Input).value.strip()]
        if missing:
            self.set_focus(self.query_one(f"#param-{missing[0]}", Input))
        else:
            self._focus_query()
            self._maybe_expand()
        self._set_hint()

    @property
    def in_form(self) -> bool:
        return self.has_class("-form")

    def values(self) -> dict[str, str]:
        preset = self.preset
        names = preset.params if preset is not None else ()
        return {n: self.query_one(f"#param-{n}", Input).value for n in names}

    @property
    def query_value(self) -> str:
        return self.query_one("#preset-query", Input).value

    def _set_query(self, query: str) -> None:
        self._generated = query
        box = self.query_one("#preset-query", Input)
        box.value = query
        box.cursor_position = len(query)
        self._show_preview(query)

    def _show_preview(self, query: str) -> None:
        # The whole query, wrapped: the input above scrolls sideways when the query is long.
        text = Text(end="")
        text.append("runs: ", style="bold")
        text.append(clean(query) or "*")
        self.query_one("#preset-preview", Static).update(text)

    def _rebuild_query(self) -> bool:
        """The query from the parameters as typed (the user preset: before widening). False when a
        parameter is missing or malformed (said inline)."""
        preset = self.preset
        if preset is None:
            return False
        try:
            query = preset.build(self.values())
        except PresetError as exc:
            self._set_query("")
            self._show_error(_form_message(str(exc)))
            self.query_one("#preset-preview", Static).update(Text("runs: nothing yet — fix the field above"))
            return False
        self._clear_error()
        self._expanded_for = None
        self._set_query(query)
        return True

    def _focus_query(self) -> None:
        box = self.query_one("#preset-query", Input)
        self.set_focus(box)
        box.cursor_position = len(box.value)

    @on(Input.Changed, ".preset-input")
    def _field_changed(self, event: Input.Changed) -> None:
        event.stop()
        box = event.input
        if box.id == "preset-query":
            self._show_preview(box.value)
            if self.query_error is not None:
                self._clear_error()
        elif box.id == "preset-window":
            self._show_window()
        elif self.preset is not None:
            # A parameter changed: the query follows it (a widening in flight is for the old value).
            self.workers.cancel_group(self, EXPAND_GROUP)
            self._expanding = None
            self._rebuild_query()
            self._set_status(Text(""))

    @on(Input.Submitted, ".preset-input")
    def _field_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = event.input
        if box.id == "preset-query":
            self.run()
        elif box.id == "preset-window":
            if self.window() is not None:
                self._focus_query()
        else:
            if not self._rebuild_query():
                return
            names = [f"param-{n}" for n in (self.preset.params if self.preset else ())]
            later = names[names.index(box.id) + 1 :] if box.id in names else []
            if later:
                self.set_focus(self.query_one(f"#{later[0]}", Input))
            else:
                self._focus_query()
                self._maybe_expand()

    # -- the window ------------------------------------------------------------------------------

    def window(self) -> Window | None:
        """The window typed (relative to the end of the app's window); None when malformed (said)."""
        spec = self.query_one("#preset-window", Input).value.strip()
        app_window = getattr(self.app, "window", None)
        if not spec:
            return app_window  # type: ignore[no-any-return]
        try:
            start = parse_instant(spec, now=self.end_ms / 1000)
        except TimeParseError as exc:
            self._show_error(f"window: {exc}")
            return None
        if start >= self.end_ms:
            self._show_error(f"window: {spec!r} starts after the end of the app's window")
            return None
        return Window(start, self.end_ms)

    def _show_window(self) -> None:
        spec = self.query_one("#preset-window", Input).value.strip()
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        local = bool(getattr(self.app, "local_time", False))
        try:
            window = (
                Window(parse_instant(spec, now=self.end_ms / 1000), self.end_ms)
                if spec
                else getattr(self.app, "window", None)
            )
        except TimeParseError:
            window = None
        if window is None:
            text.append("✖ not a time: e.g. 24h, 7d, 2026-07-01T00:00Z", style="bold")
        else:
            text.append(window_text(window, local))
            text.append(" (the app's window)" if not spec else "")
        self.query_one("#preset-window-text", Static).update(text)

    # -- widening the user preset ------------------------------------------------------------------

    def _maybe_expand(self) -> None:
        preset = self.preset
        if preset is None or preset.name != "user":
            return
        user = self.values().get("user", "").strip()
        if not user or user in (self._expanded_for, self._expanding):
            return
        try:
            PARAMS["user"].check(user)
        except PresetError:
            return
        window = self.window()
        if window is None:
            return
        self._expanding = user
        self._set_status(
            Text(f"⟳ looking for {clean(user, max_len=60)}'s ids and names in their own events…", end="")
        )
        self._expand(user, window)

    @work(exclusive=True, exit_on_error=False, group=EXPAND_GROUP, description="Widening the user preset")
    async def _expand(self, user: str, window: Window) -> None:
        query = await expand_user(self.app.source, window, user)  # type: ignore[attr-defined]
        if get_current_worker().is_cancelled or self._expanding != user:
            return
        self._expanding = None
        self._expanded_for = user
        plain = user_query(user)
        current = self.query_value
        if current != self._generated:
            # Hand-edited meanwhile: the user's text wins, the widening is offered in the status line.
            self._set_status(Text(f"not applied (the query was edited): {clean(query)}", end=""))
            return
        self._set_query(query)
        extra = "no other identity found" if query == plain else "widened with the ids and names found"
        self._set_status(Text(f"✓ {extra} · enter runs it", end=""))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != EXPAND_GROUP or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = clean(str(error) or type(error).__name__, max_len=200)
        user = self._expanding
        self._expanding = None
        self._expanded_for = user  # do not retry on every Enter: the email-only query is still valid
        self._set_status(
            Text(f"✖ could not look up the user's other identities ({message}): the query matches "
                 "the email and delegator id only", end="")
        )  # fmt: skip

    # -- running --------------------------------------------------------------------------------

    def run(self) -> None:
        """Enter in the query: validate and dismiss with the run, or say inline what is wrong."""
        preset = self.preset
        if preset is None:
            return
        if self.query_value == self._generated:
            # The query is still the parameters' (not hand-edited): they must be right before it runs.
            try:
                preset.build(self.values())
            except PresetError as exc:
                self._show_error(_form_message(str(exc)))
                wrong = next((n for n in preset.params if f"--{n}" in str(exc)), preset.params[0])
                self.set_focus(self.query_one(f"#param-{wrong}", Input))
                return
        if self._expanding is not None:
            self._show_error("still looking up the user's other identities: enter again once the query shows")
            return
        if preset.name == "user" and self.query_value == self._generated and self._expanded_for is None:
            # Not widened yet (the email was typed, then Enter went straight here): widen first, show it.
            self._maybe_expand()
            if self._expanding is not None:
                return
        query = self.query_value.strip() or "*"
        try:
            parse_query(query)
        except QuerySyntaxError as exc:
            self._show_error(f"query: {exc}")
            return
        window = self.window()
        if window is None:
            return
        spec = self.query_one("#preset-window", Input).value.strip()
        self.dismiss(PresetRun(preset.name, query, window, spec, preset.columns))

    # -- errors, status, hint ----------------------------------------------------------------------

    def _show_error(self, message: str) -> None:
        self.query_one("#preset-error", ErrorLine).show(Text("✖ " + clean(message), end=""))

    def _clear_error(self) -> None:
        self.query_one("#preset-error", ErrorLine).clear()

    @property
    def query_error(self) -> str | None:
        return self.query_one("#preset-error", ErrorLine).message

    def _set_status(self, text: Text) -> None:
        self.query_one("#preset-status", Static).update(text)

    @property
    def status_text(self) -> str:
        return str(self.query_one("#preset-status", Static).render())

    def _set_hint(self) -> None:
        if self.in_form:
            hint = "enter: next field / run the query · tab moves · esc back to the list"
        else:
            hint = "type to filter · j/k or ↑/↓ choose · enter picks · esc closes"
        self.query_one("#preset-hint", Static).update(Text(hint, end=""))

    # -- actions ---------------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.in_form:
            self.workers.cancel_group(self, EXPAND_GROUP)
            self._expanding = None
            self.remove_class("-form")
            self.query_one("#preset-title", Static).update(Text("Investigate — pick a question", end=""))
            self._set_status(Text(""))
            self.query_one(PresetList).focus()
            self._set_hint()
            return
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


def _form_message(message: str) -> str:
    # PresetError speaks the CLI's language (`--user`): here the fields are named without dashes.
    return message.replace("needs --", "needs the ").replace("--", "")


def _option(preset: Preset) -> Option:
    # The question (with its --preset name and window), then its query template.
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    text.append(preset.title, style="bold")
    text.append(f"  {preset.name} · {preset.default_from}", style="dim")
    text.append("\n  ")
    text.append(preset.template, style="italic")
    return Option(text, id=preset.name)
