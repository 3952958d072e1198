"""What `m` marks in each pane (the selected thing, with its events and where it lives), and how the
Case view's Enter goes back to it. Kept apart from the panes: they only answer "what is selected".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from ddaudit_tui.case.model import Mark
from ddaudit_tui.case.record import event_label
from ddaudit_tui.case.store import CaseError
from ddaudit_tui.events.record import Event
from ddaudit_tui.safetext import clean
from ddaudit_tui.timeutil import iso
from ddaudit_tui.tui.marks import MarkTarget, item_event_ids

if TYPE_CHECKING:
    pass


def case_name_problem(name: str) -> str | None:
    """Why `name` cannot name the case (None: it can)."""
    from ddaudit_tui.case.store import CaseStore, validate_name

    try:
        validate_name(name)
        if CaseStore(name).exists():
            return f"a case named {name!r} already exists: choose another name"
    except CaseError as exc:
        return str(exc)
    return None


def _event_target(ev: Event | None, **ref: str) -> MarkTarget | None:
    if ev is None:
        return None
    return MarkTarget("event", event_label(ev), [ev], ref={**ref, "event_id": ev.id})


def _focused_in(screen: Screen[Any]) -> Any:
    return screen.focused


# -- per pane ------------------------------------------------------------------------------------------


def explore_target(screen: Any) -> MarkTarget | None:
    from ddaudit_tui.tui.widgets.event_table import EventTable

    table = screen.query_one("#events", EventTable)
    return _event_target(table.cursor_event, query=screen.query_text)


def lookup_target(screen: Any) -> MarkTarget | None:
    from textual.widgets import TabbedContent

    from ddaudit_tui.analysis.keys import SIGNAL_TITLES, Destructive, EndpointGroup, OriginGroup
    from ddaudit_tui.tui.widgets.event_table import EventTable
    from ddaudit_tui.tui.widgets.key_tables import FlagList, KeyTable, NetworkRow

    r = screen.report
    if r is None:
        return None
    by_id = {e.id: e for e in [*getattr(r, "related", ()), *r.events]}
    key = r.key_id
    focused = screen.focused
    if not isinstance(focused, FlagList | KeyTable | EventTable):
        section = screen.query_one("#key-sections", TabbedContent).active or "flags"
        focused = screen._section_widget(section)

    def pick(ids: Sequence[str]) -> tuple[list[Event], tuple[str, ...]]:
        return [by_id[i] for i in ids if i in by_id], tuple(i for i in ids if i not in by_id)

    if isinstance(focused, FlagList):
        f = focused.highlighted_flag
        if f is None:
            return None
        evs, more = pick(f.event_ids)
        title = SIGNAL_TITLES.get(f.signal, f.signal)
        label = clean(f"{f.severity.word} {title}: {f.reason}", max_len=160)
        ref = {"key_id": key, "section": "flags", "signal": f.signal, "subject": f.subject or ""}
        return MarkTarget("flag", label, evs, more, ref)
    if isinstance(focused, EventTable):
        return _event_target(focused.cursor_event, key_id=key, section="timeline")
    if isinstance(focused, KeyTable):
        item = focused.cursor_item
        if item is None:
            return None
        section = (focused.id or "").removeprefix("key-")
        if isinstance(item, Destructive):
            evs, more = pick((item.event_id, *item.related_ids))
            what = " ".join(str(x) for x in (item.resource_type, item.resource_name or item.resource_id) if x)
            label = clean(f"{item.kind}: {what or 'resource'} at {iso(item.ts)}", max_len=160)
            return MarkTarget(
                "deletion", label, evs, more, {"key_id": key, "section": section, "event_id": item.event_id}
            )
        if isinstance(item, OriginGroup):
            country = item.country
            evs = [e for e in r.events if e.country == country]
            label = clean(
                f"origin {country or '(unknown country)'}: {item.count} events, IPs {', '.join(i or '?' for i in item.ips)}",
                max_len=160,
            )
            return MarkTarget(
                "origin", label, evs, (), {"key_id": key, "section": section, "row": country or ""}
            )
        if isinstance(item, EndpointGroup):
            path = item.path
            evs = [e for e in r.events if e.endpoint == path]
            methods = ",".join(m or "?" for m in item.methods)
            label = clean(f"endpoint {methods} {path or '(no path)'}: {item.count} requests", max_len=160)
            return MarkTarget(
                "endpoint", label, evs, (), {"key_id": key, "section": section, "row": path or ""}
            )
        if isinstance(item, NetworkRow):
            from ddaudit_tui.tui.screens.key_lookup import _network_filter

            flt = _network_filter(item)
            evs = [e for e in r.events if flt.predicate(e)]
            label = clean(f"network {flt.label}: {len(evs)} events", max_len=160)
            return MarkTarget(
                "network", label, evs, (), {"key_id": key, "section": section, "row": flt.label}
            )
    return None  # fmt: skip


def watch_target(screen: Any) -> MarkTarget | None:
    """The alert under the cursor, or the actor's row when the actor table has the focus. An alert never
    opened and an actor's row have no events here yet: their target reads them (`fetch`) when marked,
    as Enter would list them, so the mark keeps the raw events and not only their ids."""
    from ddaudit_tui.tui.screens.watch import actor_search, alert_search, read_events
    from ddaudit_tui.tui.widgets.watch_tables import ActorTable, AlertTable

    source = screen.app.source
    snap = screen.shown or screen.latest
    actors = screen.query_one("#watch-actors", ActorTable)
    if screen.focused is actors:
        row = actors.cursor_item
        search = actor_search(row.actor, snap) if row is not None and snap is not None else None
        if row is None or search is None:
            return None
        query, window = search
        rules = ", ".join(f"{clean(k)} {v}" for k, v in sorted(row.counts.items(), key=lambda kv: -kv[1]))
        label = clean(
            f"actor {row.actor}: {row.total} event{'' if row.total == 1 else 's'} "
            f"{iso(window.start)} → {iso(window.end)} ({rules})",
            max_len=160,
        )

        async def read_actor() -> list[Event]:
            return (await read_events(source, query, window))[0]

        return MarkTarget("actor", label, [], (), {"actor": clean(row.actor)}, fetch=read_actor)
    table = screen.query_one("#watch-alerts", AlertTable)
    alert = table.cursor_item
    if alert is None:
        return None
    label = clean(
        f"alert {alert.severity.word} {alert.rule} {alert.group}: {alert.count} events from {iso(alert.first_seen)}",
        max_len=160,
    )
    ref = {"alert": alert.dedup_key, "group": clean(alert.group)}
    evs = screen.alert_events.get(alert.dedup_key)
    if evs is not None:  # opened (or marked) before: its events are here
        have = {e.id for e in evs}
        more = tuple(i for i in alert.event_ids if i not in have)
        return MarkTarget("alert", label, _in_alert_order(evs, alert), more, ref)
    rules = {r.name: r for r in snap.rules} if snap is not None else {}
    query, window, ids = alert_search(alert, rules.get(alert.rule))

    async def read_alert() -> list[Event]:
        events = (await read_events(source, query, window, ids))[0]
        screen.alert_events[alert.dedup_key] = events
        return _in_alert_order(events, alert)

    return MarkTarget("alert", label, [], tuple(alert.event_ids), ref, fetch=read_alert)


def _in_alert_order(events: Sequence[Event], alert: Any) -> list[Event]:
    """The alert's own order (its finding's, `watch --once`'s), not the source's newest first."""
    order = {i: n for n, i in enumerate(alert.event_ids)}
    return sorted(events, key=lambda e: order.get(e.id, len(order)))


def alert_events_target(screen: Any) -> MarkTarget | None:
    from ddaudit_tui.tui.widgets.event_table import EventTable

    table = screen.query_one(EventTable)
    alert = getattr(screen, "alert", None)
    ref = {"alert": alert.dedup_key} if alert is not None else {"query": screen.query_text}
    return _event_target(table.cursor_event, **ref)


def ai_target(screen: Any) -> MarkTarget | None:
    from ddaudit_tui.tui.widgets.ai_flags import AiFlagList
    from ddaudit_tui.tui.widgets.event_table import EventTable
    from ddaudit_tui.tui.widgets.sortable_table import SortableTable

    result = getattr(screen, "result", None) or getattr(screen, "org", None)
    focused = screen.focused
    user = getattr(screen, "user", None)
    base = {"user": user} if isinstance(user, str) else {}
    if isinstance(focused, EventTable):
        return _event_target(focused.cursor_event, **base)
    if result is None:
        return None

    def events_of(ids: Sequence[str]) -> tuple[list[Event], tuple[str, ...]]:
        evs = [c.event for i in ids if (c := result.call(i)) is not None]
        have = {e.id for e in evs}
        return evs, tuple(i for i in ids if i not in have)

    if isinstance(focused, AiFlagList):
        i = focused.highlighted
        if i is None or i >= len(focused.flags):
            return None
        f = focused.flags[i]
        evs, more = events_of(f.event_ids)
        label = clean(f"AI {f.severity.word} {f.signal}: {f.reason}", max_len=160)
        return MarkTarget(
            "ai_flag", label, evs, more, {**base, "signal": f.signal, "subject": f.subject or ""}
        )
    if isinstance(focused, SortableTable):
        item = focused.cursor_item
        if item is None:
            return None
        ids = item_event_ids(item)
        if not ids:
            return None
        evs, more = events_of(ids)
        label = clean(f"AI {focused.id or 'row'}: " + " · ".join(c.plain for c in focused._cells[focused._order[focused.cursor_row]][:3]), max_len=160)  # fmt: skip
        return MarkTarget(
            "row", label, evs, more, {**base, "table": focused.id or "", "row": ",".join(ids[:3])}
        )
    return None


def detail_target(screen: Any) -> MarkTarget | None:
    """The event an event detail shows (opened from any pane's table), placed as that pane's table
    would place it (so `m` in the detail and `m` on the row are the same mark)."""
    pane = screen.app.screen_stack[0]
    ref: dict[str, str] = {}
    if isinstance(getattr(pane, "query_text", None), str) and type(pane).__name__ == "ExploreScreen":
        ref = {"query": pane.query_text}
    elif getattr(pane, "report", None) is not None and type(pane).__name__ == "KeyLookupScreen":
        ref = {"key_id": pane.report.key_id, "section": "timeline"}
    return _event_target(screen.event, **ref)


def target_for(screen: Screen[Any]) -> MarkTarget | None:
    """The thing `m` would mark on `screen` (a pane or a dialog over it)."""
    name = type(screen).__name__
    finder = {
        "ExploreScreen": explore_target,
        "KeyLookupScreen": lookup_target,
        "WatchScreen": watch_target,
        "AlertEventsScreen": alert_events_target,
        "AiScreen": ai_target,
        "AiUserScreen": ai_target,
        "EventDetailScreen": detail_target,
    }.get(name)
    if finder is None:
        return None
    try:
        return finder(screen)
    except Exception:  # a pane not ready (no report yet, widgets not mounted): nothing to mark
        return None


async def mark_when_read(app: Any, target: MarkTarget, pane: str) -> None:
    """`m` on a thing whose events are not read yet: read them (as Enter would list them), then mark it
    with its raw events. A second `m` while they are read is refused, not a second mark."""
    session = app.case
    key = (pane, target.kind, tuple(sorted(target.ref.items())))
    if key in session.reading:
        app.notify("Still reading its events: the mark follows.", markup=False, timeout=4)
        return
    assert target.fetch is not None
    session.reading.add(key)
    try:
        events = await target.fetch()
    except Exception as exc:  # the source failed: said, never a crash of the pane
        message = clean(str(exc) or type(exc).__name__, max_len=300)
        app.notify(message, title="Not marked: the events could not be read", severity="error", markup=False)
        return
    finally:
        session.reading.discard(key)
    have = {e.id for e in events}
    target.events = list(events)
    target.event_ids = tuple(i for i in target.event_ids if i not in have)
    target.fetch = None
    if session.find_mark(target, pane) is None:
        app.mark_target(target, pane)


# -- jumping back (the Case view's Enter) -------------------------------------------------------------


async def jump_to(app: Any, mark: Mark) -> bool:
    """Show the marked thing in its pane. False when the pane cannot show it any more."""
    pane = mark.pane if mark.pane in ("explore", "lookup", "watch", "ai") else None
    if pane is None:
        return False
    from ddaudit_tui.tui.case_restore import forget

    forget(app, pane)  # the marked thing, not the case's last work, when the pane is first made
    screen = await app._pane_on_top(pane)
    ref = mark.ref
    if pane == "explore":
        query = ref.get("query", "*")
        screen.jump_event = ref.get("event_id")
        if query != screen.query_text or screen.result is None:
            from ddaudit_tui.tui.screens.explore import QueryInput

            screen.query_one(QueryInput).value = "" if query == "*" else query
            return bool(screen.run_query(query))
        screen.show_jump()
        return True
    if pane == "lookup":
        key = ref.get("key_id")
        if not key:
            return False
        screen.jump_ref = dict(ref)
        if screen.report is None or screen.report.key_id != key:
            return bool(screen.lookup(key))
        screen.show_jump()
        return True
    if pane == "watch":
        from ddaudit_tui.tui.widgets.watch_tables import ActorTable, AlertTable

        if "actor" in ref:
            actors = screen.query_one("#watch-actors", ActorTable)
            for row, item in enumerate(actors.rows_in_order):
                if clean(item.actor) == ref["actor"]:
                    actors.move_cursor(row=row)
                    actors.focus()
                    return True
            return False
        table = screen.query_one("#watch-alerts", AlertTable)
        for row, alert in enumerate(table.rows_in_order):
            if alert.dedup_key == ref.get("alert"):
                table.move_cursor(row=row)
                table.focus()
                return True
        return False
    if pane == "ai":
        from ddaudit_tui.tui.widgets.ai_flags import AiFlagList

        if ref.get("signal"):
            flags = screen.query_one("#ai-flags", AiFlagList)
            for i, f in enumerate(flags.flags):
                if f.signal == ref["signal"] and (f.subject or "") == ref.get("subject", ""):
                    flags.highlighted = i
                    flags.focus()
                    return True
        return True
    return False
