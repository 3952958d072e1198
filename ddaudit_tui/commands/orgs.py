"""Every org at once (issue 16 item 5): `--profile a,b,c` or `--all-profiles` on `key`, `search` and `ai`.

"Did this key, user or IP act in any of our orgs?" The same question goes to each profile's org
concurrently — each with its own settings, credentials, site and client (so its own rate-limit budget) —
and the answers are shown side by side: one header line per org, `org <profile> (<site>): <answer> ·
<completeness>`, then that org's report. One org's failure (refused keys, a site that does not answer) is
named in its own line and does not sink the others.

Exit code: 5 when `--fail-on` matched in any org; else EXIT_ORG_FAILED (8) when some org failed — unless
every org failed the same way (then that failure's own code, e.g. 3 when every org refused the keys); else
7 with `--fail-on partial` when an org's answer is partial; else 0. Profile names and sites are printed, never a credential.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ddaudit_tui.cliutil import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_PARTIAL,
    MAX_PAGES_DEFAULT,
    UsageError,
    err,
    max_pages_setting,
    open_output,
    progress_printer,
    settings_from,
)

# The parts the TUI shares live in ddaudit_tui/orgs.py (no command module before the TUI's first frame).
from ddaudit_tui.orgs import (
    STATUS_FAILED,
    STATUS_NOT_SEEN,
    STATUS_OK,
    OrgAnswer,
    add_orgs_argument,
    completeness_of,
    failure,
    org_namespace,
    requested_profiles,
)

EXIT_ORG_FAILED = 8  # several orgs asked, at least one failed (named on stderr and in the output)

# Work = (namespace for this org, its settings, its source, its window) -> the command's result
Work = Callable[[argparse.Namespace, Any, Any, Any], Awaitable[Any]]


def ask_orgs(
    args: argparse.Namespace, profiles: Sequence[str], work: Work, seen: Callable[[Any], bool]
) -> list[OrgAnswer]:
    """Run `work` against every profile's org concurrently; answers in the order of `profiles`."""
    from ddaudit_tui.source_select import open_source, resolve_source_window

    max_pages_setting(args, None)  # a bad flag is the user's mistake once, not each org's failure
    prepared: list[tuple[str, argparse.Namespace, Any, BaseException | None]] = []
    for profile in profiles:
        ns = org_namespace(args, profile)
        try:
            prepared.append((profile, ns, settings_from(ns), None))
        except Exception as exc:  # e.g. a profile's credential command failed: that org only
            prepared.append((profile, ns, None, exc))

    async def one(ns: argparse.Namespace, settings: Any) -> Any:
        source = open_source(ns, settings)
        try:
            return await work(ns, settings, source, resolve_source_window(ns, source))
        finally:
            await source.aclose()

    waiting = [p for p, _ns, _s, e in prepared if e is None]
    show = progress_printer() is not None  # a terminal: say which orgs are still being asked

    async def answered(profile: str, ns: argparse.Namespace, settings: Any) -> Any:
        try:
            return await one(ns, settings)
        finally:
            waiting.remove(profile)
            if show and waiting:
                sys.stderr.write(f"\r\x1b[Kwaiting for {', '.join(waiting)} ({profile} answered)")
                sys.stderr.flush()

    async def every() -> list[Any]:
        async def failed(exc: BaseException) -> Any:
            raise exc

        return await asyncio.gather(
            *(answered(p, ns, s) if e is None else failed(e) for p, ns, s, e in prepared),
            return_exceptions=True,
        )

    try:
        outcomes = asyncio.run(every())
    finally:
        if show:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
    answers: list[OrgAnswer] = []
    for (profile, ns, settings, _e), outcome in zip(prepared, outcomes, strict=True):
        site = settings.site if settings is not None else (getattr(ns, "site", None) or "?")
        if isinstance(outcome, BaseException):
            if isinstance(outcome, KeyboardInterrupt | asyncio.CancelledError):
                raise outcome
            code, message = failure(outcome)
            answers.append(OrgAnswer(profile, site, STATUS_FAILED, error=message, exit_code=code))
            err(f"org {profile} ({site}) failed: {message}")
        else:
            status = STATUS_OK if seen(outcome) else STATUS_NOT_SEEN
            answers.append(OrgAnswer(profile, site, status, result=outcome))
    return answers


def exit_code(
    answers: Sequence[OrgAnswer], own: Callable[[Any], int] = lambda _r: EXIT_OK, fail_on: str | None = None
) -> int:
    """The orgs' worst, in the documented order: findings (5), an org failed (8), partial with
    `--fail-on partial` (7), the orgs' own codes, 0."""
    codes = [own(a.result) for a in answers if a.result is not None]
    if EXIT_FINDINGS in codes:
        return EXIT_FINDINGS
    failed = [a.exit_code for a in answers if a.status == STATUS_FAILED]
    if failed:
        if len(failed) == len(answers) and len(set(failed)) == 1:
            return failed[0]
        return EXIT_ORG_FAILED
    if "partial" in str(fail_on or "").split(",") and any(not a.complete for a in answers):
        return EXIT_PARTIAL
    return max(codes, default=EXIT_OK)


# -- rendering ----------------------------------------------------------------------------------------


def _answer(a: OrgAnswer, answer_of: Callable[[OrgAnswer], str]) -> str:
    return "" if a.status == STATUS_FAILED else answer_of(a)


def header(a: OrgAnswer, answer: str) -> str:
    """`org prod (datadoghq.com): likely compromised · 12 events · complete: …` — or `failed: <why>`."""
    from ddaudit_tui.safetext import clean

    if a.status == STATUS_FAILED:
        return clean(f"org {a.profile} ({a.site}): failed: {a.error}")
    return clean(f"org {a.profile} ({a.site}): {answer} · {a.completeness}")


def summary(what: str, answers: Sequence[OrgAnswer]) -> str:
    """`key K: seen in 1 of 2 orgs (prod); not seen in eu; failed: x`."""
    seen = [a.profile for a in answers if a.status == STATUS_OK]
    parts = [
        f"{what}: seen in {len(seen)} of {len(answers)} orgs" + (f" ({', '.join(seen)})" if seen else "")
    ]
    not_seen = [a.profile for a in answers if a.status == STATUS_NOT_SEEN]
    if not_seen:
        parts.append("not seen in " + ", ".join(not_seen))
    failed = [a.profile for a in answers if a.status == STATUS_FAILED]
    if failed:
        parts.append("failed: " + ", ".join(failed))
    return "; ".join(parts)


def render_json(kind: str, question: dict[str, Any], answers: Sequence[OrgAnswer], report: Callable) -> str:
    import msgspec

    from ddaudit_tui.safetext import json_safe

    doc = {
        "kind": kind,
        "question": question,
        "orgs": [
            {
                "profile": a.profile,
                "site": a.site,
                "status": a.status,
                "error": a.error,
                "complete": a.complete if a.result is not None else None,
                "completeness": a.completeness_json(),
                "report": report(a.result) if a.result is not None else None,
            }
            for a in answers
        ],
    }
    # msgspec, as the key report: a busy key's timeline has 100k rows per org (json.dumps takes seconds).
    text = msgspec.json.format(msgspec.json.encode(doc, enc_hook=str), indent=2).decode("utf-8")
    return json_safe(text) + "\n"  # C1 / bidi as \uXXXX escapes: msgspec writes them raw


def _demote_md(text: str) -> str:
    """An org's Markdown report under its `## org …` heading: its own headings two levels down (its `#`
    title becomes `###`, below the org's heading)."""
    out, fence = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        out.append("##" + line if not fence and line.startswith("#") else line)
    return "\n".join(out)


def _html_body(page: str) -> str:
    """The body of one of our own HTML reports (already escaped markup), without its <body> tags."""
    start, end = page.find("<body>"), page.rfind("</body>")
    return page[start + len("<body>") : end] if start >= 0 and end > start else ""


def render_registered(
    kind: str, fmt: str, title: str, answers: Sequence[OrgAnswer], answer_of: Callable[[OrgAnswer], str]
) -> str:
    """text / md / html: the summary, then one section per org (its header line, then its report; an org
    where nothing was seen has the header line only)."""
    from ddaudit_tui.report.registry import render
    from ddaudit_tui.safetext import clean

    if fmt == "html":
        from ddaudit_tui.report import html as h

        sections = []
        for a in answers:
            body = h.tag("p", header(a, _answer(a, answer_of)), "muted")
            if a.status == STATUS_OK:
                body = h.Markup(body + h.Markup(_html_body(render(kind, "html", a.result))))
            sections.append(h.section(f"org {a.profile} ({a.site})", body))
        return h.page(title, h.join(sections), subtitle=summary(title, answers))
    out = [f"# {title}" if fmt == "md" else title, "", clean(summary(title, answers)), ""]
    for a in answers:
        if fmt == "md":
            out += [f"## org {a.profile} ({a.site})", "", header(a, _answer(a, answer_of)), ""]
        else:
            out += ["=" * 72, header(a, _answer(a, answer_of))]
        if a.status == STATUS_OK:
            text = render(kind, fmt, a.result).rstrip("\n")
            out += [_demote_md(text) if fmt == "md" else text, ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _csv_cell(value: str) -> str:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([value])
    return buf.getvalue()


def write(text: str, output: str | None) -> None:
    with open_output(output) as out:
        out.write(text)
    if output and output != "-":
        from pathlib import Path

        err(f"wrote the answers of several orgs to {Path(output).expanduser().resolve()}")


def warn(answers: Sequence[OrgAnswer]) -> None:
    for a in answers:
        for warning in getattr(a.result, "warnings", ()) or ():
            if a.status == STATUS_NOT_SEEN and str(warning).startswith("no "):
                continue  # "no events for key K…": the org's header line says "not seen"
            err(f"warning: org {a.profile}: {warning}")


# -- the commands ---------------------------------------------------------------------------------------


def run_key(
    args: argparse.Namespace,
    profiles: Sequence[str],
    key_id: str,
    build_config: Callable[[argparse.Namespace, Any], tuple[Any, Any]],
    verdict_exit: Callable[[str, str | None], int],
) -> int:
    """`ddaudit key K --all-profiles`: the key investigation in every org. `build_config` and
    `verdict_exit` are `commands/key.py`'s (passed in: this module must not import the commands)."""
    from ddaudit_tui.analysis.key_investigation import investigate_key
    from ddaudit_tui.report import key_report

    async def work(ns: argparse.Namespace, settings: Any, source: Any, window: Any) -> Any:
        config, options = build_config(ns, settings)  # each org's own business hours, allowlist
        return await investigate_key(source, key_id, window, config=config, options=options)

    answers = ask_orgs(args, profiles, work, seen=lambda r: r.total_events > 0)
    warn(answers)

    def answer_of(a: OrgAnswer) -> str:
        r = a.result
        if a.status == STATUS_NOT_SEEN:
            return "not seen"
        return f"{r.verdict} · {r.total_events:,} events · {len(r.flags)} flags"

    title = f"key {key_id}"
    if args.format == "json":
        text = render_json("key", {"key_id": key_id}, answers, key_report.key_report_json)
    else:
        text = render_registered("key", args.format, title, answers, answer_of)
    write(text, args.output)
    return exit_code(
        answers,
        lambda r: verdict_exit(r.verdict, getattr(args, "fail_on", None)),
        getattr(args, "fail_on", None),
    )


def run_ai(args: argparse.Namespace, profiles: Sequence[str], config: Any) -> int:
    """`ddaudit ai --all-profiles`: the AI activity audit in every org."""
    from ddaudit_tui.analysis.ai_investigation import investigate_ai
    from ddaudit_tui.report import ai_report

    async def work(ns: argparse.Namespace, settings: Any, source: Any, window: Any) -> Any:
        return await investigate_ai(
            source,
            window,
            query=ns.query,
            config=config,
            user=ns.user,
            baseline=config.baseline_days > 0,
            engine=getattr(ns, "engine", None) or "auto",
            max_pages=max_pages_setting(ns, settings) or MAX_PAGES_DEFAULT,
        )

    # Counted from the summary, not `len(r.calls)`: under DDSQL one call stands for a group of events.
    answers = ask_orgs(args, profiles, work, seen=lambda r: r.counts.get("ai_events", 0) > 0)
    warn(answers)

    def answer_of(a: OrgAnswer) -> str:
        if a.status == STATUS_NOT_SEEN:
            return "not seen"
        r = a.result
        n = r.counts
        return (
            f"{n.get('ai_events', 0):,} AI events · {n.get('calls', 0):,} AI calls · {len(r.users)} users · "
            f"{len(r.flags)} flags"
        )

    title = "AI activity" + (f" of {args.user}" if args.user else "")
    if args.format == "json":
        text = render_json("ai", {"user": args.user, "query": args.query}, answers, ai_report.ai_json)
    else:
        text = render_registered("ai", args.format, title, answers, answer_of)
    write(text, args.output)
    return exit_code(answers, fail_on=getattr(args, "fail_on", None))


def run_search(
    args: argparse.Namespace, profiles: Sequence[str], preset: Any, query: str, columns: list[str]
) -> int:
    """`ddaudit search Q --all-profiles`: the same search in every org; table sections, CSV with an `org`
    column first, or JSON `{"orgs": [...]}` (NDJSON stays one org's raw items: refused here)."""
    import io

    from ddaudit_tui.analysis.explore import add_term
    from ddaudit_tui.analysis.presets import expand_user
    from ddaudit_tui.report.events_output import write_events

    if args.format == "ndjson":
        raise UsageError(
            "--format ndjson writes one org's raw items: use --format json (or csv) with several orgs"
        )
    if args.copy_as:
        raise UsageError("--copy-as prints one search, not one per org: drop --profile a,b / --all-profiles")

    async def work(ns: argparse.Namespace, settings: Any, source: Any, window: Any) -> Any:
        q = query
        if preset is not None and preset.name == "user":
            q = await expand_user(source, window, ns.user)  # each org knows the user by its own ids
            if ns.query:
                q = add_term(q, ns.query.strip())
        return await source.fetch(q, window)

    answers = ask_orgs(args, profiles, work, seen=lambda r: bool(r.events))
    warn(answers)
    local = bool(getattr(args, "local_time", None))

    def rows(result: Any) -> dict[str, Any]:
        import json

        buf = io.StringIO()
        write_events(result.events, buf, "json", columns)
        return {"query": result.query, "count": len(result.events), "events": json.loads(buf.getvalue())}

    if args.format == "json":
        text = render_json("search", {"query": query, "columns": columns}, answers, rows)
    elif args.format == "csv":
        lines: list[str] = []
        for a in answers:
            if a.result is None:
                continue
            buf = io.StringIO()
            write_events(a.result.events, buf, "csv", columns, local=local)
            body = buf.getvalue().splitlines()
            if not lines:
                lines.append("org," + body[0])
            lines += [f"{_csv_cell(a.profile)},{row}" for row in body[1:]]
        if not lines:
            lines.append("org," + ",".join(columns))
        text = "\n".join(lines) + "\n"
        for a in answers:
            if a.status == STATUS_FAILED:
                err(f"org {a.profile}: no rows: {a.error}")
    else:
        from ddaudit_tui.safetext import clean

        out = [clean(summary(f"search {query}", answers)), ""]
        for a in answers:
            n = len(a.result.events) if a.result is not None else 0
            out += ["=" * 72, header(a, "not seen" if a.status == STATUS_NOT_SEEN else f"{n:,} events")]
            if a.status == STATUS_OK:
                buf = io.StringIO()
                write_events(a.result.events, buf, "table", columns, local=local)
                out += [buf.getvalue().rstrip("\n"), ""]
        text = "\n".join(out).rstrip("\n") + "\n"
    write(text, args.output)
    return exit_code(answers, fail_on=getattr(args, "fail_on", None))


__all__ = [
    "EXIT_ORG_FAILED",
    "STATUS_FAILED",
    "STATUS_NOT_SEEN",
    "STATUS_OK",
    "OrgAnswer",
    "add_orgs_argument",
    "ask_orgs",
    "completeness_of",
    "requested_profiles",
]
