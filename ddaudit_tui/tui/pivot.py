"""Pivots: from the value under the cursor, in any pane, to the question it raises.

`x` anywhere asks the focused widget (or one of its parents) for `pivot_targets()`: the cells of the
row under its cursor, each a `PivotTarget` (the search field the value lives in, and the raw value).
The `PivotMenu` shows one cell at a time (←/→ moves to the row's other cells) with the actions that
apply to it: filter Explore to it, exclude it, and — by field — investigate an API key in Key lookup,
"what did U do", a person's AI activity, everything from an IP, who touched a resource.

The tables have a row cursor, not a cell cursor: the menu is where the cell is chosen. Values are
attacker-controlled (audit-events.md §8): the menu shows them cleaned, in `Text`, never as markup; the
queries it builds go through `facet_term`, which turns control characters into `?` wildcards, and the
presets are offered only for printable values (they quote the value as is). The app does the work by
direct calls (`DdauditApp.run_pivot`), never by building an action string from event text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ddaudit_tui.analysis.explore import facet_term
from ddaudit_tui.analysis.key_investigation import validate_key_id
from ddaudit_tui.analysis.keys import Destructive, EndpointGroup, OriginGroup
from ddaudit_tui.events.record import Event
from ddaudit_tui.tui.safe_text import clean

# What the menu can do with a target. The app dispatches on these ids (`DdauditApp.run_pivot`).
FILTER = "filter"
EXCLUDE = "exclude"
KEY = "key"  # the API key in Key lookup
USER = "user"  # "what did U do": the user preset, widened by expand_user
ACTOR = "actor"  # "what did this actor do" for an actor that is not an email: its events in Explore
AI = "ai"  # the AI pane's drill-down on the person
IP = "ip"  # the ip preset
RESOURCE = "resource"  # the resource preset

# Rows may hold long lists (an origin's IPs): the menu offers the first few, the timeline has the rest.
MAX_LIST_TARGETS = 12

# Fields that name a person the AI analysis can drill into (it matches the human by email, id,
# delegator id or delegator name, and shows names for people it could not resolve).
_PERSON_FIELDS = frozenset({"@usr.email", "@usr.id", "@usr.name", "@delegator.id", "@delegator.name"})
# Placeholders the analyses use for "nobody known": not values any event holds.
_PLACEHOLDERS = frozenset({"(unknown)", "(system)", "(all)", "(none)"})


@dataclass(frozen=True)
class PivotTarget:
    """One cell: the search field (`@usr.email`) its value lives in, and the raw value (None: the event
    has no such field). `also` names other fields holding the same thing (an actor may be an email, a
    user id or an API key id); `query` stands for a cell that is a whole query (a watch rule)."""

    field: str
    value: str | None
    label: str  # what the cell is, in words: "user", "country", "rule"
    also: tuple[str, ...] = ()
    asset_type: str | None = None  # for `@asset.id`: the row's asset type (an api_key is a key)
    query: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field, *self.also)

    def term(self, exclude: bool = False) -> str:
        """The search term selecting (or excluding) this cell's events."""
        if self.query is not None:
            return f"{'-' if exclude else ''}({self.query.strip() or '*'})"
        if not self.also or self.value is None:
            return facet_term(self.field, self.value, exclude)
        either = " OR ".join(facet_term(f, self.value) for f in self.fields)
        return f"{'-' if exclude else ''}({either})"

    @property
    def is_api_key(self) -> bool:
        if self.value is None or self.query is not None:
            return False
        named = "@metadata.api_key.id" in self.fields or (
            self.field == "@asset.id" and (self.asset_type or "").lower() == "api_key"
        )
        if not named:
            return False
        try:
            validate_key_id(self.value)
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class PivotChoice:
    action: str
    target: PivotTarget


def _param_ok(name: str, value: str) -> bool:
    # The presets quote a value as is: only printable values (no control characters to carry into a
    # query shown on screen) that look like what the preset expects.
    if not value.isprintable():
        return False
    from ddaudit_tui.analysis.presets import PARAMS, PresetError  # (imported on use: first paint, issue 12)

    try:
        return PARAMS[name].check(value) == value
    except PresetError:
        return False


def actions_for(target: PivotTarget) -> list[tuple[str, str]]:
    """(action id, label) of every action that applies to `target`, in menu order."""
    shown = clean(target.term(), max_len=70)
    out = [(FILTER, f"Filter Explore to {shown}"), (EXCLUDE, f"Exclude {shown} from Explore")]
    v = target.value
    if v is None or target.query is not None or v in _PLACEHOLDERS:
        return out
    name = clean(v, max_len=48)
    if target.is_api_key:
        out.append((KEY, f"Investigate key {name} in Key lookup"))
    if (target.field == "@usr.email" or (target.field == "@delegator.id" and "@" in v)) and _param_ok(
        "user", v
    ):
        out.append((USER, f"What did {name} do (incl. AI agents on their behalf)"))
    elif is_actor(target) and v.isprintable() and v.strip():
        out.append((ACTOR, f"What did this actor do ({name}): its events in Explore"))
    if target.field in _PERSON_FIELDS and v.isprintable() and v.strip():
        out.append((AI, f"AI activity of {name}"))
    if target.field == "@network.client.ip" and _param_ok("ip", v):
        out.append((IP, f"Everything from this IP ({name})"))
    if target.field == "@asset.id" and _param_ok("resource", v):
        out.append((RESOURCE, f"Who touched this resource ({name})"))
    return out


def actor_term(target: PivotTarget) -> str:
    """The events the actor made: an API key's are `@metadata.api_key.id` (an alert may name the key as
    the asset it is about), anyone else's are the cell's own term."""
    if target.is_api_key and target.value is not None:
        return facet_term("@metadata.api_key.id", target.value)
    return target.term()


def is_actor(target: PivotTarget) -> bool:
    """Whether the cell names who did something: a person, a user id, an API key, an alert's actor."""
    # An `@asset.id` that is an API key is the object of most events ("key created"): an actor only
    # when the row says so (an alert's group, labelled "actor…").
    return (
        target.label == "user"
        or target.label.startswith("actor")
        or bool(set(target.fields) & (_PERSON_FIELDS | {"@metadata.api_key.id"}))
    )


# -- targets of the things tables show ----------------------------------------------------------------


def enrich_targets(targets: list[PivotTarget], item: object) -> list[PivotTarget]:
    """What the row's item knows and its cells do not. An alert grouped on `asset.id` (the leaked-key
    notification) names an asset whose type its events give: an `api_key` asset is a key to investigate."""
    from ddaudit_tui.analysis.spikes import Alert  # (imported on use: first paint, issue 12)

    if not isinstance(item, Alert) or item.group_field.lstrip("@") != "asset.id":
        return targets
    kinds = {what.rsplit(" ", 1)[0] for what in item.actions} | {
        s.what.rsplit(" ", 1)[0] for s in item.samples
    }
    if len(kinds) != 1:
        return targets
    kind = kinds.pop()
    out = []
    for t in targets:
        if t.field == "@asset.id" and t.asset_type is None and t.value == item.group:
            label = "actor: API key" if kind.lower() == "api_key" else t.label
            t = replace(t, asset_type=kind, label=label)
        out.append(t)
    return out


def person_target(value: str | None, label: str = "user") -> PivotTarget | None:
    """A person as the analyses name them: an email is `@usr.email`, anything else a name."""
    if not value or value in _PLACEHOLDERS:
        return None
    return PivotTarget("@usr.email" if "@" in value else "@usr.name", value, label)


def actor_target(value: str | None, label: str = "actor") -> PivotTarget | None:
    """A spike-watch actor: the first of `usr.email`, `usr.id`, `metadata.api_key.id` an event has
    (spikes.ACTOR_FIELDS). The row does not say which one: an email is `@usr.email`; anything else may
    be a user id or an API key id, so the term matches either."""
    if not value or value in _PLACEHOLDERS:
        return None
    if "@" in value:
        return PivotTarget("@usr.email", value, label)
    return PivotTarget("@usr.id", value, label, also=("@metadata.api_key.id",))


def rule_target(name: str, query: str) -> PivotTarget:
    return PivotTarget("rule", name, f"rule {name}", query=query)


def client_target(value: str | None, label: str = "client") -> PivotTarget | None:
    """An AI client as the analysis groups calls: the OAuth client name, else the MCP client name."""
    if not value or value in _PLACEHOLDERS:
        return None
    return PivotTarget("@metadata.oauth_client.name", value, label, also=("@metadata.client.name",))


def endpoint_target(path: str | None) -> PivotTarget:
    """An endpoint as the key analysis groups it (`Event.endpoint`): `route.path` when the event has
    one, else the request path."""
    if path is None:
        return PivotTarget("@http.url_details.path", None, "endpoint")
    return PivotTarget("@route.path", path, "endpoint", also=("@http.url_details.path",))


def _actor_of(ev: Event) -> PivotTarget | None:
    # Same precedence as `Event.actor` (quirk 5), keeping which field the name came from.
    for field, value in (("@usr.email", ev.usr_email), ("@usr.name", ev.usr_name), ("@usr.id", ev.usr_id)):
        if value:
            return PivotTarget(field, value, "user")
    return None


def event_targets(ev: Event) -> list[PivotTarget]:
    """Every pivotable field the event has, in a fixed order: who, what, on what, with which key,
    from where, how."""
    out: list[PivotTarget | None] = [_actor_of(ev)]

    def add(field: str, value: object, label: str, **kw: Any) -> None:
        if value is not None and value != "":
            out.append(PivotTarget(field, str(value), label, **kw))

    add("@delegator.id", ev.delegator_id, "on behalf of (id)")
    add("@delegator.name", ev.delegator_name, "on behalf of")
    add("@evt.name", ev.evt_name, "event")
    add("@action", ev.action, "action")
    add("@evt.actor.type", ev.actor_type, "actor type")
    add("@asset.type", ev.asset_type, "asset type")
    add("@asset.id", ev.asset_id, "asset", asset_type=ev.asset_type)
    add("@asset.name", ev.asset_name, "asset name")
    add("@metadata.api_key.id", ev.api_key_id, "API key")
    add("@metadata.application_key.id", ev.app_key_id, "application key")
    add("@network.client.ip", ev.client_ip, "IP")
    add("@network.client.geoip.country.name", ev.country, "country")
    add("@network.client.geoip.city.name", ev.city, "city")
    if ev.asn_name:
        add("@network.client.geoip.as.name", ev.asn_name, "ASN")
    else:
        add("@network.client.geoip.as.number", ev.asn, "ASN")
    add("@route.path", ev.route_path, "route")
    add("@http.url_details.path", ev.http_path, "path")
    add("@http.status_code", ev.http_status, "HTTP status")
    add("@metadata.tool.name", ev.tool_name, "MCP tool")
    add("@metadata.oauth_client.name", ev.oauth_client, "OAuth client")
    add("@metadata.client.name", ev.mcp_client, "MCP client")
    return [t for t in out if t is not None]


def _listed(field: str, values: Iterable[str | None], label: str) -> list[PivotTarget]:
    return [PivotTarget(field, v, label) for v in values if v][:MAX_LIST_TARGETS]


def row_targets(item: object) -> list[PivotTarget]:
    """The cells of an analysis row (Key lookup, AI activity), most telling first."""
    # (imported on use: every table imports this module, and the first frame needs no AI analysis)
    from ddaudit_tui.analysis.ai import AiCall, ClientRow, ModifiedResource, ToolRow, UserRow

    out: list[PivotTarget | None] = []
    if isinstance(item, Event):
        return event_targets(item)
    if isinstance(item, AiCall):
        return event_targets(item.event)
    if isinstance(item, OriginGroup):
        out.append(PivotTarget("@network.client.geoip.country.name", item.country, "country"))
        out += _listed("@network.client.geoip.as.name", item.asns, "ASN")
        out += _listed("@network.client.ip", item.ips, "IP")
    elif isinstance(item, EndpointGroup):
        out.append(endpoint_target(item.path))
    elif isinstance(item, Destructive):
        if item.resource_id:
            out.append(PivotTarget("@asset.id", item.resource_id, "resource", asset_type=item.resource_type))
        if item.resource_type:
            out.append(PivotTarget("@asset.type", item.resource_type, "resource type"))
        out += _listed("@network.client.ip", [item.ip], "IP")
        out += _listed("@network.client.geoip.country.name", [item.country], "country")
    elif isinstance(item, UserRow):
        out.append(person_target(item.user))
        out += [client_target(c) for c in item.clients[:MAX_LIST_TARGETS]]
    elif isinstance(item, ToolRow):
        if item.tool:
            out.append(PivotTarget("@metadata.tool.name", item.tool, "MCP tool"))
    elif isinstance(item, ClientRow):
        out.append(client_target(item.client))
        out += _listed("@metadata.client.name", item.mcp_clients, "MCP client")
    elif isinstance(item, ModifiedResource):
        out.append(person_target(item.user))
        if item.resource_id:
            out.append(PivotTarget("@asset.id", item.resource_id, "resource", asset_type=item.resource_type))
        if item.tool:
            out.append(PivotTarget("@metadata.tool.name", item.tool, "MCP tool"))
        out.append(client_target(item.client))
    elif isinstance(item, dict):
        # The AI recipe's summary rows: raw `action` / `asset.type` values of MCP Server events.
        for key, field, label in (("action", "@action", "action"), ("type", "@asset.type", "asset type")):
            if key in item and (item[key] is None or isinstance(item[key], str)):
                out.append(PivotTarget(field, item[key], label))
    return [t for t in out if t is not None]


# -- the menu ------------------------------------------------------------------------------------------


class PivotMenu(ModalScreen[PivotChoice | None]):
    """The actions for one cell of the row under the cursor; ←/→ moves to the row's other cells.

    Keyboard only: ↑/↓ or j/k choose, Enter or the action's digit runs it, Escape (or q, x) closes.
    `narrow`: the pivot comes from Explore itself, whose query a filter narrows (said in the menu)."""

    HELP_GROUP: ClassVar[str] = "Pivot menu"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,x", "close", "Close", id="pivot.close"),
        Binding("j", "move(1)", "Next action", show=False, id="pivot.down"),
        Binding("k", "move(-1)", "Previous action", show=False, id="pivot.up"),
        Binding("l,right", "cell(1)", "Next cell", id="pivot.next-cell", tooltip="The row's next value"),
        Binding("h,left", "cell(-1)", "Previous cell", id="pivot.previous-cell"),
    ]

    DEFAULT_CSS = """
    PivotMenu {
        align: center middle;
        & > #pivot-frame {
            width: 90%;
            max-width: 100;
            height: auto;
            max-height: 90%;
            border: tall $accent;
            border-title-align: left;
            background: $surface;
            padding: 0 1;
        }
        & #pivot-cell { height: auto; }
        & #pivot-actions { height: auto; max-height: 12; border: none; padding: 0; background: $surface; }
        & #pivot-actions:focus { border: none; }
        & #pivot-hint { height: auto; color: $text-muted; }
    }
    """

    def __init__(self, targets: Sequence[PivotTarget], *, narrow: bool = False, index: int = 0) -> None:
        super().__init__()
        if not targets:
            raise ValueError("a pivot menu needs at least one target")
        self.targets: tuple[PivotTarget, ...] = tuple(targets)
        self.narrow = narrow
        self.index = max(0, min(index, len(self.targets) - 1))
        self._actions: list[tuple[str, str]] = []

    @property
    def target(self) -> PivotTarget:
        return self.targets[self.index]

    @property
    def actions(self) -> list[tuple[str, str]]:
        """(action id, label) shown for the current cell."""
        return list(self._actions)

    def compose(self) -> ComposeResult:
        frame = Vertical(id="pivot-frame")
        frame.border_title = "Pivot"
        with frame:
            yield Static(id="pivot-cell")
            yield OptionList(id="pivot-actions", markup=False)
            yield Static(id="pivot-hint")

    def on_mount(self) -> None:
        self._show()
        self.query_one(OptionList).focus()

    def _show(self) -> None:
        t = self.target
        head = Text(no_wrap=True, overflow="ellipsis", end="")
        head.append(clean(t.label, max_len=40), style="bold")
        head.append("  " + clean(" | ".join(t.fields), max_len=80), style="dim")
        if len(self.targets) > 1:
            head.append(f"   ◀ cell {self.index + 1}/{len(self.targets)} ▶", style="bold")
        value = Text(no_wrap=True, overflow="ellipsis", end="")
        if t.query is not None:
            value.append(clean(t.query, max_len=200))
        elif t.value is None:
            value.append("(none: the field is missing)", style="italic")
        elif t.value == "":
            value.append('(empty "")', style="italic")
        else:
            value.append(clean(t.value, max_len=200), style="bold")
        scope = Text(
            "from Explore: a filter narrows the current query"
            if self.narrow
            else "a filter replaces the Explore query",
            style="dim italic",
            end="",
        )
        self.query_one("#pivot-cell", Static).update(Text("\n", end="").join([head, value, scope]))
        self._actions = actions_for(t)
        options = self.query_one(OptionList)
        options.set_options(
            Option(Text(f"{n}  {label}", no_wrap=True, overflow="ellipsis", end=""), id=action)
            for n, (action, label) in enumerate(self._actions, 1)
        )
        options.highlighted = 0
        hint = "↑↓ j/k choose · enter or 1–9 runs · esc closes"
        if len(self.targets) > 1:
            hint = "←→ h/l other cell · " + hint
        self.query_one("#pivot-hint", Static).update(Text(hint, end=""))

    # -- keys ----------------------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        # Digits run the action with that number. Handled here, before the app's bindings (1–4 switch
        # panes): inside the menu a digit always means an action.
        if event.character and event.character in "123456789":
            event.stop()
            event.prevent_default()
            self.action_run(int(event.character) - 1)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_run(event.option_index)

    def action_run(self, index: int) -> None:
        if 0 <= index < len(self._actions):
            self.dismiss(PivotChoice(self._actions[index][0], self.target))

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_cell(self, step: int) -> None:
        if len(self.targets) > 1:
            self.index = (self.index + step) % len(self.targets)
            self._show()

    def action_close(self) -> None:
        self.dismiss(None)
