"""The fault matrix: the real client against the fake Datadog API on a real loopback socket.

Every fault kind the fake can inject, once (one bad answer, then the API behaves) and persistently (every
retry fails too), half way through a fetch and on its first request. For each, the fetch either completes
with every event exactly once — the ids are compared with the fake's ground truth for the window — or it
stops with a precise warning or error (status, slice, events kept) and keeps exactly the events it already
had. Also: the same events in two slices, auth failures, a server that never answers, and what the CLI
prints for each outcome.

Real sockets, real httpx, real timeouts; the client's backoff sleeps are recorded, never slept. One slice
and `concurrency=1` make the request numbering (what `FaultPlan.at` counts) deterministic: request 1 is
page 1, request 2 is page 2 (or its retry), and so on.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from ddaudit_tui.cli import main
from ddaudit_tui.cliutil import EXIT_AUTH, EXIT_ERROR, EXIT_OK
from ddaudit_tui.demo.fake_datadog import (
    DEMO_API_KEY,
    DEMO_APP_KEY,
    FAULT_KINDS,
    FakeDatadog,
    Fault,
    FaultPlan,
    LoggedRequest,
)
from ddaudit_tui.demo.loopback import loopback
from ddaudit_tui.sources import datadog as datadog_module
from ddaudit_tui.sources.datadog import (
    AuthError,
    BadResponse,
    ConnectionFailed,
    Credentials,
    DatadogClient,
    DatadogError,
    RateLimited,
    ServerError,
    Timeout,
)
from ddaudit_tui.sources.datadog_fetch import describe_window
from ddaudit_tui.timeutil import Window, iso, parse_instant

S, M, H, D = 1_000, 60_000, 3_600_000, 86_400_000
T0 = parse_instant("2026-07-25T17:00:00Z")
WINDOW = Window(T0, T0 + H)
SLICE = f"slice {describe_window(WINDOW)}"
KEYS = Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY)
PAGE = 10
N = 40  # events in WINDOW: four full pages, then the terminal empty page
TIMEOUT_S = 0.5  # the client's timeout in these tests
STALL_S = 1.0  # how long a "timeout" fault keeps the server silent (longer than TIMEOUT_S)


def item(event_id: str, ts: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "audit",
        "attributes": {
            "attributes": {
                "evt": {"name": "Request"},
                "action": "accessed",
                "usr": {"email": "a@example.com"},
            },
            "message": "m",
            "service": "audit",
            "tags": ["source:audit"],
            "timestamp": iso(ts),
        },
    }


def window_items() -> list[dict[str, Any]]:
    """N events in WINDOW, the first exactly on its (inclusive) start, plus one just before it and one
    exactly on its (exclusive) end: neither of those two may ever be returned."""
    inside = [item(f"ev-{i:03d}", T0 + i * 90 * S) for i in range(N)]
    return [*inside, item("before-start", T0 - 1), item("on-the-end", T0 + H)]


def truth(fake: FakeDatadog, window: Window = WINDOW) -> list[str]:
    """The fake's ground truth: the ids it holds in `window`, newest first."""
    inside = [e for e in fake.events if window.start <= e.ts < window.end]
    return [e.id for e in sorted(inside, key=lambda e: (e.ts, e.id), reverse=True)]


def ids(result: Any) -> list[str]:
    return [e.id for e in result.events]


def faults_seen(fake: FakeDatadog) -> list[str]:
    return [r.fault for r in fake.requests if r.fault]


def make_client(
    base_url: str, credentials: Credentials = KEYS, **kwargs: Any
) -> tuple[DatadogClient, list[float]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0)

    kwargs.setdefault("concurrency", 1)
    kwargs.setdefault("page_limit", PAGE)
    kwargs.setdefault("max_retries", 2)
    kwargs.setdefault("max_rate_limit_waits", 2)
    kwargs.setdefault("timeout_s", TIMEOUT_S)
    kwargs.setdefault("verify", False)  # plain http: no CA bundle to load (~0.1 s a client)
    return DatadogClient(credentials, base_url=base_url, sleep=sleep, **kwargs), sleeps


async def fetch(fake: FakeDatadog, window: Window = WINDOW, **kwargs: Any) -> tuple[Any, list[float], str]:
    """One `fetch("*", window)` over loopback. Returns (result, backoff sleeps, host as messages name it)."""
    with loopback(fake) as base_url:
        client, sleeps = make_client(base_url, **kwargs)
        async with client:
            result = await client.fetch("*", window)
    return result, sleeps, base_url.removeprefix("http://")


async def fetch_error(fake: FakeDatadog, **kwargs: Any) -> tuple[DatadogError, str]:
    with loopback(fake) as base_url:
        client, _ = make_client(base_url, **kwargs)
        async with client:
            with pytest.raises(DatadogError) as info:
                await client.fetch("*", WINDOW)
    return info.value, base_url.removeprefix("http://")


def plan(fault: Fault, *requests: int) -> FaultPlan:
    return FaultPlan(at=dict.fromkeys(requests, fault))


# -- the matrix ------------------------------------------------------------------------------------------------

SPENT = (
    "the org's API rate limit is spent: wait a few minutes, narrow the window, or lower DDAUDIT_CONCURRENCY"
)
TOO_BROAD = "the query may be too broad: narrow the window or add filters (DDAUDIT_TIMEOUT)"

# Faults the client retries: (fault, error class once retries are spent, the reason in a slice's warning,
# the message when nothing at all could be fetched — `{host}` is the loopback host:port).
RETRIED: dict[str, tuple[Fault, type[DatadogError], str, str]] = {
    "429-headers-json": (
        Fault("429", headers=True, body="json", reset_s=1),
        RateLimited,
        re.escape("rate limited (audit_logs_search)"),
        re.escape(f"429 Too Many Requests from {{host}} (audit_logs_search) after 2 retries: {SPENT}"),
    ),
    "429-bare": (
        Fault("429", headers=False, body="empty"),
        RateLimited,
        re.escape("rate limited"),
        re.escape(f"429 Too Many Requests from {{host}} after 2 retries: {SPENT}"),
    ),
    "500": (
        Fault("500"),
        ServerError,
        re.escape("500 Internal Server Error"),
        re.escape("500 Internal Server Error from {host} after 2 retries"),
    ),
    "502": (
        Fault("502"),  # an HTML body from a gateway: nothing of it is shown
        ServerError,
        re.escape("502 Bad Gateway"),
        re.escape("502 Bad Gateway from {host} after 2 retries"),
    ),
    "503": (
        Fault("503"),
        ServerError,
        re.escape("503 Service Unavailable"),
        re.escape("503 Service Unavailable from {host} after 2 retries"),
    ),
    "reset": (
        Fault("reset"),  # a TCP RST instead of an answer
        ConnectionFailed,
        r"connection failed \((ReadError|RemoteProtocolError)\)",
        re.escape("connection to {host} failed: ") + r".+ after 2 retries",
    ),
    "timeout": (
        Fault("timeout", sleep_s=STALL_S),  # the server stays silent longer than the client waits
        Timeout,
        re.escape("timed out after 1 s"),
        re.escape(f"no answer from {{host}} within 1 s after 2 retries: {TOO_BROAD}"),
    ),
    "truncated": (
        Fault("truncated"),  # a 200 whose body stops half way
        BadResponse,
        re.escape("unusable response body (truncated JSON (the document ends before it is complete))"),
        re.escape("unusable response from {host}: truncated JSON (the document ends before it is complete) ")
        + "after 2 retries",
    ),
}


def test_the_matrix_covers_every_fault_kind_the_fake_knows() -> None:
    covered = {f.kind for f, *_ in RETRIED.values()} | {"partial", "duplicate", "short_page", "bad_cursor"}
    covered |= {"stuck", "empty_cursor", "links_only", "trickle"}  # paging and deadlines, below
    assert covered == set(FAULT_KINDS)


@pytest.mark.parametrize("name", list(RETRIED))
async def test_a_fault_once_is_retried_and_every_event_arrives_once(name: str) -> None:
    fault, *_ = RETRIED[name]
    fake = FakeDatadog(window_items(), faults=plan(fault, 2))
    result, sleeps, _ = await fetch(fake)
    assert result.complete and result.warnings == []
    assert ids(result) == truth(fake) and len(truth(fake)) == N
    assert faults_seen(fake) == [fault.kind]
    assert fake.audit_request_count == 6  # five pages, one of them asked twice
    if fault.kind == "429":
        # Waited X-RateLimit-Reset (1 s) or, without headers, the first backoff step (1 s), plus jitter.
        [wait] = sleeps
        assert 0.9 < wait <= 1.5
    else:
        assert sleeps == [1.0]


@pytest.mark.parametrize("name", list(RETRIED))
async def test_a_persistent_fault_half_way_keeps_the_first_page_and_names_the_slice(name: str) -> None:
    fault, _, reason, _ = RETRIED[name]
    fake = FakeDatadog(window_items(), faults=plan(fault, 2, 3, 4))  # page 2 and both its retries
    result, _, _ = await fetch(fake)
    assert not result.complete
    [warning] = result.warnings
    assert re.fullmatch(
        re.escape(f"{SLICE} failed after 2 retries: ") + reason + re.escape("; 10 events from it kept"),
        warning,
    ), warning
    assert ids(result) == truth(fake)[:PAGE]  # the newest page, each once, nothing invented
    assert fake.audit_request_count == 4  # gave up after the second retry


@pytest.mark.parametrize("name", list(RETRIED))
async def test_a_persistent_fault_from_the_first_request_is_raised_with_a_precise_message(name: str) -> None:
    fault, error, _, message = RETRIED[name]
    fake = FakeDatadog(window_items(), faults=plan(fault, 1, 2, 3))
    exc, host = await fetch_error(fake)
    # Nothing could be fetched: an empty "partial" result would hide the cause, so the error is raised.
    assert type(exc) is error and exc.retries == 2
    assert re.fullmatch(message.replace(re.escape("{host}"), re.escape(host)), str(exc)), str(exc)
    assert fake.audit_request_count == 3
    assert DEMO_API_KEY not in str(exc) and DEMO_APP_KEY not in str(exc)


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "persistent"])
async def test_a_cursor_rejected_half_way_is_not_retried_and_keeps_the_first_page(persistent: bool) -> None:
    # A 400 is the request's fault: asking again cannot help. (The fake only rejects requests that carry a
    # cursor, so "every request" means every page after the first.)
    faults = FaultPlan(rates={"bad_cursor": 1.0}) if persistent else plan(Fault("bad_cursor"), 2)
    fake = FakeDatadog(window_items(), faults=faults)
    result, sleeps, _ = await fetch(fake)
    assert not result.complete
    assert result.warnings == [f"{SLICE} failed: 400 Bad Request (Invalid cursor); 10 events from it kept"]
    assert ids(result) == truth(fake)[:PAGE]
    assert fake.audit_request_count == 2 and sleeps == []


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "persistent"])
async def test_a_partial_page_marks_the_result_partial_yet_every_event_arrives_once(persistent: bool) -> None:
    # `meta.status: timeout`: half a page and a valid cursor. Paging goes on, but the server admitted it
    # may have missed events, so the result cannot claim to be complete.
    requests = (2, 3, 4) if persistent else (2,)
    fake = FakeDatadog(window_items(), faults=plan(Fault("partial"), *requests))
    result, sleeps, _ = await fetch(fake)
    assert ids(result) == truth(fake)
    assert not result.complete and sleeps == []
    also = " (also on 2 other pages)" if persistent else ""
    assert result.warnings == [
        f"page 2 of {SLICE}: server timed out (meta.status=timeout): results may be incomplete{also}",
        f"page 2 of {SLICE}: Datadog warning: Partial results: the query took too long — the query timed "
        f"out before all indexes answered [query_timeout]: results may be incomplete{also}",
    ]
    assert faults_seen(fake) == ["partial"] * len(requests)


@pytest.mark.parametrize("kind", ["duplicate", "short_page"])
@pytest.mark.parametrize("requests", [(2,), (2, 3, 4)], ids=["once", "three-pages"])
async def test_repeated_events_and_short_pages_still_give_every_event_exactly_once(
    kind: str, requests: tuple[int, ...]
) -> None:
    # duplicate: a page repeats the last 3 events of the previous one (the same events on two pages);
    # short_page: fewer events than asked for, with a cursor — stopping there would lose the rest.
    fake = FakeDatadog(window_items(), faults=plan(Fault(kind), *requests))
    result, sleeps, _ = await fetch(fake)
    assert result.complete and result.warnings == [] and sleeps == []
    assert ids(result) == truth(fake) and len(set(ids(result))) == N
    assert faults_seen(fake) == [kind] * len(requests)


async def test_short_pages_on_every_request_still_give_every_event_exactly_once() -> None:
    fake = FakeDatadog(window_items(), faults=FaultPlan(rates={"short_page": 1.0}))
    result, _, _ = await fetch(fake)
    assert result.complete and result.warnings == [] and ids(result) == truth(fake)
    assert faults_seen(fake) == ["short_page"] * fake.audit_request_count
    assert fake.audit_request_count > N // PAGE + 1  # more pages than full ones would have needed


async def test_a_server_repeating_itself_forever_is_stopped_at_the_repeated_cursor() -> None:
    # Every page overlapping the previous one: at the oldest event the server answers the same page, with
    # the same cursor, forever. The client stops there, keeps every event once, and says why.
    fake = FakeDatadog(window_items(), faults=FaultPlan(rates={"duplicate": 1.0}))
    result, _, _ = await fetch(fake)
    assert ids(result) == truth(fake)
    assert not result.complete
    assert result.warnings == [
        f"page 7 of {SLICE}: Datadog returned a cursor it had already returned; stopped paging this slice: "
        "results may be incomplete"
    ]
    assert fake.audit_request_count == 7


# -- the same events in two slices --------------------------------------------------------------------------


class RecordingFake(FakeDatadog):
    """Remembers which ids each audit answer carried, with the window asked for."""

    def __init__(self, *args: Any, inclusive_to: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.served: list[tuple[str, str, list[str]]] = []  # (from, to, ids)
        self.inclusive_to = inclusive_to

    def _match(self, query: str, start: int, end: int) -> Any:
        # A misbehaving server (or a gateway rewriting the query) that treats `to` as inclusive.
        return super()._match(query, start, end + 1 if self.inclusive_to else end)

    def _audit(self, req: LoggedRequest, base_url: str, fault: Fault | None) -> tuple[int, bytes]:
        status, payload = super()._audit(req, base_url, fault)
        if status == 200:
            flt = req.json()["filter"]
            data = msgspec.json.decode(payload)["data"]
            self.served.append((flt["from"], flt["to"], [d["id"] for d in data]))
        return status, payload

    def windows_serving(self, event_id: str) -> set[tuple[str, str]]:
        return {(frm, to) for frm, to, served in self.served if event_id in served}


async def test_events_sharing_a_millisecond_across_a_slice_split_arrive_exactly_once() -> None:
    # A full first page with idle workers makes the client hand the rest of the slice, [start, oldest on
    # the page + 1 ms), to new slices. Six events share that oldest millisecond: the two that made it onto
    # the first page are served again by the newest new slice, with the four that did not.
    tie = T0 + 50 * M
    newest = [item(f"new-{i}", T0 + 59 * M - i * S) for i in range(8)]
    tied = [item(f"tie-{i}", tie) for i in range(6)]
    older = [item(f"old-{i:02d}", T0 + M + i * M) for i in range(40)]
    fake = RecordingFake([*newest, *tied, *older])
    result, _, _ = await fetch(fake, concurrency=4)
    assert result.complete and result.warnings == []
    assert sorted(ids(result)) == sorted(truth(fake)) and len(ids(result)) == len(set(ids(result))) == 54
    served_twice = {i for _, _, served in fake.served for i in served if len(fake.windows_serving(i)) > 1}
    assert served_twice == {"tie-5", "tie-4"}, fake.served  # the overlap really happened
    assert len(fake.windows_serving("tie-0")) == 1


async def test_an_event_on_a_slice_boundary_is_fetched_once_by_the_slice_that_owns_it() -> None:
    # Two days, two workers: two initial slices meeting at `edge`. Slices are half-open, so the events
    # stamped exactly `edge` belong to the second one only.
    start = T0 - 2 * D
    window = Window(start, T0)
    edge = start + D
    events = [item(f"edge-{i}", edge) for i in range(3)]
    events += [item(f"a-{i:02d}", start + i * H + 7) for i in range(24)]
    events += [item(f"b-{i:02d}", edge + i * H + 11) for i in range(24)]
    fake = RecordingFake(events)
    result, _, _ = await fetch(fake, window, concurrency=2, page_limit=1000)
    assert result.complete
    assert sorted(ids(result)) == sorted(truth(fake, window)) and len(ids(result)) == 51
    slices = {(frm, to) for frm, to, _ in fake.served}
    assert slices == {(iso(start), iso(edge)), (iso(edge), iso(T0))}
    for i in range(3):
        assert fake.windows_serving(f"edge-{i}") == {(iso(edge), iso(T0))}


async def test_a_server_with_an_inclusive_to_serves_boundary_events_twice_and_they_count_once() -> None:
    start = T0 - 2 * D
    window = Window(start, T0)
    edge = start + D
    events = [item(f"edge-{i}", edge) for i in range(3)] + [item("on-the-end", T0)]
    events += [item(f"a-{i:02d}", start + i * H + 7) for i in range(24)]
    fake = RecordingFake(events, inclusive_to=True)
    result, _, _ = await fetch(fake, window, concurrency=2, page_limit=1000)
    assert result.complete
    assert sorted(ids(result)) == sorted(truth(fake, window)) and len(ids(result)) == 27
    for i in range(3):  # served by both slices, kept once
        assert fake.windows_serving(f"edge-{i}") == {(iso(start), iso(edge)), (iso(edge), iso(T0))}
    # Served (the server's `to` is inclusive) but outside the window asked for: dropped.
    assert fake.windows_serving("on-the-end") and "on-the-end" not in ids(result)


# -- authentication ---------------------------------------------------------------------------------------------


class UnauthorizedGateway(FakeDatadog):
    """An identity-aware gateway in front of the API whose token has expired: 401 on everything."""

    def _authenticate(self, req: LoggedRequest) -> tuple[int, bytes] | None:
        return 401, b'{"errors":["Unauthorized"]}'


async def test_403_wrong_application_key_is_an_auth_error_with_the_hint_and_no_retry() -> None:
    fake = FakeDatadog(window_items())
    wrong = Credentials(api_key=DEMO_API_KEY, app_key="0" * 40)
    exc, host = await fetch_error(fake, credentials=wrong)
    assert type(exc) is AuthError and exc.status == 403
    assert str(exc) == (
        f"403 Forbidden from {host}: the application key lacks audit_logs_read, "
        f"or the gateway at {host} refused them"
    )
    assert fake.audit_request_count == 1


async def test_403_missing_permission_names_it() -> None:
    fake = FakeDatadog(window_items(), permissions={"api_keys_read"})
    exc, host = await fetch_error(fake)
    assert type(exc) is AuthError
    assert str(exc) == (
        f"403 Forbidden from {host} (Failed permission authorization checks): the application key lacks "
        f"audit_logs_read, or the gateway at {host} refused them"
    )
    assert fake.audit_request_count == 1


async def test_401_from_a_gateway_says_the_token_is_invalid_or_expired() -> None:
    fake = UnauthorizedGateway(window_items())
    exc, host = await fetch_error(fake, credentials=Credentials(access_token="expired-token-1234"))
    assert type(exc) is AuthError and exc.status == 401
    assert str(exc) == (
        f"401 Unauthorized from {host}: the access token is invalid or expired, "
        f"or the gateway at {host} refused them"
    )
    assert fake.audit_request_count == 1 and "expired-token-1234" not in str(exc)


async def test_401_on_validate_with_revoked_keys() -> None:
    fake = FakeDatadog(window_items())
    with loopback(fake) as base_url:
        client, _ = make_client(base_url, credentials=Credentials(api_key="1" * 32, app_key="2" * 40))
        async with client:
            with pytest.raises(AuthError) as info:
                await client.validate()
    host = base_url.removeprefix("http://")
    assert str(info.value) == (
        f"401 Unauthorized from {host}: the API key or application key is invalid or revoked, "
        f"or the gateway at {host} refused them"
    )


async def test_an_auth_failure_half_way_aborts_the_fetch() -> None:
    # Every other request would fail the same way: no partial result pretends otherwise.
    class RevokedAfterPageOne(FakeDatadog):
        def _authenticate(self, req: LoggedRequest) -> tuple[int, bytes] | None:
            if self.audit_request_count >= 2:
                return 403, b'{"errors":["Forbidden"]}'
            return super()._authenticate(req)

    fake = RevokedAfterPageOne(window_items())
    exc, _ = await fetch_error(fake)
    assert type(exc) is AuthError and exc.status == 403 and fake.audit_request_count == 2


# -- a server that never answers --------------------------------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A socket that accepts connections (the kernel's backlog) but never reads nor answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


async def test_a_server_that_never_answers_the_first_request_times_out_with_the_hint(
    silent_port: int,
) -> None:
    client, sleeps = make_client(f"http://127.0.0.1:{silent_port}", max_retries=1)
    async with client:
        with pytest.raises(Timeout) as info:
            await client.fetch("*", WINDOW)
    assert str(info.value) == (
        f"no answer from 127.0.0.1:{silent_port} within 1 s after 1 retry: {TOO_BROAD}"
    )
    assert sleeps == [1.0]


async def test_a_first_request_left_unanswered_once_is_retried_and_the_fetch_completes() -> None:
    fake = FakeDatadog(window_items(), faults=plan(Fault("timeout", sleep_s=STALL_S), 1))
    result, sleeps, _ = await fetch(fake)
    assert result.complete and ids(result) == truth(fake) and sleeps == [1.0]


# -- what the CLI prints -----------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """`ddaudit search` against a loopback fake: its keys in the environment, no config file, and a client
    with small pages and instant backoff (the only differences from a real run)."""
    for name in ("DD_ACCESS_TOKEN", "DDAUDIT_PROFILE", "DD_SITE", "DDAUDIT_API_URL", "DDAUDIT_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DD_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("DD_APP_KEY", DEMO_APP_KEY)
    monkeypatch.setenv("DDAUDIT_CONCURRENCY", "1")
    monkeypatch.setenv("DDAUDIT_TIMEOUT", str(TIMEOUT_S))

    async def no_sleep(_: float) -> None:
        return None

    class SmallPages(DatadogClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["verify"] = False  # plain http: no CA bundle to load
            super().__init__(*args, page_limit=PAGE, max_retries=2, sleep=no_sleep, **kwargs)

    monkeypatch.setattr(datadog_module, "DatadogClient", SmallPages)


def cli_search(capsys: pytest.CaptureFixture[str], base_url: str) -> tuple[int, str, str]:
    argv = ["search", "*", "--api-url", base_url, "--from", str(WINDOW.start), "--to", str(WINDOW.end)]
    code = main([*argv, "--format", "ndjson"])
    out, err = capsys.readouterr()
    assert DEMO_API_KEY not in out + err and DEMO_APP_KEY not in out + err
    return code, out, err


@pytest.mark.usefixtures("cli_env")
async def test_cli_partial_result_prints_what_it_kept_and_one_warning_line(capsys) -> None:
    fake = FakeDatadog(window_items(), faults=plan(Fault("503"), 2, 3, 4))
    with loopback(fake) as base_url:
        code, out, err = await asyncio.to_thread(cli_search, capsys, base_url)
    assert code == EXIT_OK
    assert [json.loads(line)["id"] for line in out.splitlines()] == truth(fake)[:PAGE]
    warning, completeness = err.splitlines()
    assert warning == (
        f"ddaudit: warning: {SLICE} failed after 2 retries: 503 Service Unavailable; 10 events from it kept"
    )
    # The completeness line (issue 16): partial, and why in short.
    assert completeness.startswith(
        "ddaudit: completeness: PARTIAL: engine search, 4 requests, 10 events fetched"
    )
    assert "— a slice failed after 2 retries: 503 Service Unavailable" in completeness


@pytest.mark.usefixtures("cli_env")
async def test_cli_failure_is_one_line_and_exit_1(capsys) -> None:
    fake = FakeDatadog(window_items(), faults=FaultPlan(rates={"502": 1.0}))
    with loopback(fake) as base_url:
        code, out, err = await asyncio.to_thread(cli_search, capsys, base_url)
    host = base_url.removeprefix("http://")
    assert (code, out) == (EXIT_ERROR, "")
    assert err == f"ddaudit: 502 Bad Gateway from {host} after 2 retries\n"


@pytest.mark.usefixtures("cli_env")
async def test_cli_auth_failure_is_one_line_with_the_hint_and_exit_3(capsys) -> None:
    fake = FakeDatadog(window_items(), permissions={"api_keys_read"})
    with loopback(fake) as base_url:
        code, out, err = await asyncio.to_thread(cli_search, capsys, base_url)
    host = base_url.removeprefix("http://")
    assert (code, out) == (EXIT_AUTH, "")
    assert err == (
        f"ddaudit: 403 Forbidden from {host} (Failed permission authorization checks): the application key "
        f"lacks audit_logs_read, or the gateway at {host} refused them\n"
    )


@pytest.mark.usefixtures("cli_env")
async def test_cli_partial_pages_are_reported_and_every_event_printed(capsys) -> None:
    fake = FakeDatadog(window_items(), faults=plan(Fault("partial"), 3))
    with loopback(fake) as base_url:
        code, out, err = await asyncio.to_thread(cli_search, capsys, base_url)
    assert code == EXIT_OK
    assert [json.loads(line)["id"] for line in out.splitlines()] == truth(fake)
    assert err.splitlines()[:-1] == [
        f"ddaudit: warning: page 3 of {SLICE}: server timed out (meta.status=timeout): results may be incomplete",
        f"ddaudit: warning: page 3 of {SLICE}: Datadog warning: Partial results: the query took too long — the "
        "query timed out before all indexes answered [query_timeout]: results may be incomplete",
    ]
    assert err.splitlines()[-1].startswith(
        "ddaudit: completeness: PARTIAL: engine search, 6 requests, 40 events"
    )


# -- refusals that echo the credentials (issue 13, items 1 and 2) ------------------------------------------------

ECHO_API_KEY = "5ec7e7a91b0c4d2e8f3a6b5c4d3e2f1a"
ECHO_APP_KEY = "a99c0ffee5ec7e7b10b5a1d2c3e4f5061728394a"
GW_PASSWORD = "gwP4ssW0rdXqJv7"


def _runs_of(secret: str, n: int = 8) -> list[str]:
    return [secret[i : i + n] for i in range(len(secret) - n + 1)]


def _b64_cores(secret: str) -> list[str]:
    import base64

    out = []
    for pad in range(3):
        b64 = base64.b64encode(b"\0" * pad + secret.encode()).decode()
        out.append(b64[4:-4] if len(b64) > 12 else b64)
    return out


def assert_no_trace_of(text: str, *secrets: str) -> None:
    for secret in secrets:
        for run in [*_runs_of(secret), *_b64_cores(secret)]:
            assert run not in text, (run, text)


@pytest.mark.parametrize("echo", ["after160", "prefix"])
async def test_a_refusal_echoing_the_key_late_or_in_part_shows_no_part_of_it(echo: str) -> None:
    fake = FakeDatadog(window_items(), auth_echo=echo)  # expects the demo keys: ours are refused
    creds = Credentials(api_key=ECHO_API_KEY, app_key=ECHO_APP_KEY)
    exc, _ = await fetch_error(fake, credentials=creds)
    assert type(exc) is AuthError and exc.status == 401
    assert "****" in str(exc)
    assert_no_trace_of(str(exc) + repr(exc) + exc.reason, ECHO_API_KEY, ECHO_APP_KEY)


async def test_a_gateway_echoing_basic_auth_shows_neither_the_password_nor_its_base64() -> None:
    fake = FakeDatadog(window_items(), auth_echo="basic")
    with loopback(fake) as base_url:
        host = base_url.removeprefix("http://")
        client, _ = make_client(f"http://gwuser:{GW_PASSWORD}@{host}", credentials=Credentials())
        async with client:
            with pytest.raises(AuthError) as info:
                await client.fetch("*", WINDOW)
    sent = fake.requests[0].headers["authorization"]
    assert sent.startswith("Basic ")  # the password really went out, as Basic auth
    text = str(info.value)
    assert "Authorization: ****" in text
    assert_no_trace_of(text, GW_PASSWORD, f"gwuser:{GW_PASSWORD}")
    assert sent[6:14] not in text


# -- paging that makes no progress, odd cursors, deadlines (issue 13, items 5, 6 and 7) ---------------------------


async def test_a_server_serving_the_same_page_with_new_cursors_is_stopped_at_once() -> None:
    # Every answer is the first page again, with a cursor never seen before: the cursor check cannot
    # catch it. The page that adds nothing stops the slice; the first page is kept.
    fake = FakeDatadog(window_items(), faults=FaultPlan(rates={"stuck": 1.0}))
    result, _, _ = await fetch(fake)
    assert ids(result) == truth(fake)[:PAGE] and not result.complete
    assert result.warnings == [
        f"page 2 of {SLICE}: Datadog returned only events this slice already had, with a new cursor (no "
        "progress); stopped paging this slice: results may be incomplete"
    ]
    assert fake.audit_request_count == 2


async def test_an_empty_page_with_a_cursor_does_not_end_paging() -> None:
    fake = FakeDatadog(window_items(), faults=plan(Fault("empty_cursor"), 1, 3))
    result, _, _ = await fetch(fake)
    assert result.complete and result.warnings == [] and ids(result) == truth(fake)
    assert fake.audit_request_count == 7  # five pages and the two empty ones


async def test_empty_pages_with_cursors_forever_are_stopped_and_said() -> None:
    from ddaudit_tui.sources.datadog_fetch import MAX_EMPTY_PAGES

    fake = FakeDatadog(window_items(), faults=FaultPlan(rates={"empty_cursor": 1.0}))
    result, _, _ = await fetch(fake)
    assert ids(result) == [] and not result.complete
    assert result.warnings == [
        f"page {MAX_EMPTY_PAGES} of {SLICE}: {MAX_EMPTY_PAGES} empty pages in a row, each with a new cursor; "
        "stopped paging this slice: results may be incomplete"
    ]


async def test_links_next_is_followed_when_it_is_the_only_cursor() -> None:
    fake = FakeDatadog(window_items(), faults=FaultPlan(rates={"links_only": 1.0}))
    result, _, _ = await fetch(fake)
    assert result.complete and result.warnings == [] and ids(result) == truth(fake)


async def test_links_next_without_a_cursor_stops_paging_and_says_so() -> None:
    class NoCursorLink(FakeDatadog):
        def _next_link(self, *args: Any) -> str:  # type: ignore[override]
            return "http://gateway.example/api/v2/audit/events?page=2"

    fake = NoCursorLink(window_items(), faults=FaultPlan(rates={"links_only": 1.0}))
    result, _, _ = await fetch(fake)
    assert ids(result) == truth(fake)[:PAGE] and not result.complete
    assert result.warnings == [
        f"page 1 of {SLICE}: Datadog linked a next page (links.next) without a cursor to follow; stopped "
        "paging this slice: results may be incomplete"
    ]


async def test_a_trickling_body_is_cut_by_the_request_total_and_retried() -> None:
    # One byte every 0.1 s: each read succeeds well inside the 0.5 s timeout, the page would take minutes.
    fake = FakeDatadog(window_items(), faults=plan(Fault("trickle", sleep_s=0.1), 2))
    result, sleeps, _ = await fetch(fake)
    assert result.complete and ids(result) == truth(fake) and sleeps == [1.0]


async def test_a_persistent_trickle_fails_the_slice_with_a_precise_reason() -> None:
    fake = FakeDatadog(window_items(), faults=plan(Fault("trickle", sleep_s=0.1), 2, 3, 4))
    result, _, _ = await fetch(fake)
    assert ids(result) == truth(fake)[:PAGE] and not result.complete
    assert result.warnings == [
        f"{SLICE} failed after 2 retries: answer not complete after 1 s; 10 events from it kept"
    ]


async def test_the_fetch_deadline_stops_a_fetch_and_keeps_what_it_had() -> None:
    fake = FakeDatadog(
        window_items(), faults=FaultPlan(at={n: Fault("trickle", sleep_s=0.1) for n in range(2, 99)})
    )
    result, _, _ = await fetch(fake, max_retries=50, deadline_s=1.5)
    assert ids(result) == truth(fake)[:PAGE] and not result.complete
    assert result.warnings == [
        "stopped at the deadline of 2 s (DDAUDIT_DEADLINE): every event fetched by then is kept: results are "
        "incomplete"
    ]


async def test_a_deadline_before_any_page_is_an_error() -> None:
    fake = FakeDatadog(window_items(), faults=FaultPlan(rates={"trickle": 1.0}))
    exc, host = await fetch_error(fake, max_retries=50, deadline_s=1.5)
    assert type(exc) is Timeout
    assert str(exc) == (
        f"no complete answer from {host} within the deadline of 2 s: narrow the window or the query, or raise "
        "the deadline (DDAUDIT_DEADLINE)"
    )


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("kind", ["links_only", "empty_cursor"])
async def test_cli_prints_every_event_when_paging_by_links_or_past_empty_pages(capsys, kind: str) -> None:
    fake = FakeDatadog(
        window_items(),
        faults=FaultPlan(rates={kind: 1.0} if kind == "links_only" else {}, at={1: kind, 3: kind}),
    )
    with loopback(fake) as base_url:
        code, out, err = await asyncio.to_thread(cli_search, capsys, base_url)
    assert (code, err) == (EXIT_OK, "")
    assert [json.loads(line)["id"] for line in out.splitlines()] == truth(fake)


@pytest.mark.usefixtures("cli_env")
async def test_cli_paging_that_makes_no_progress_is_said_and_keeps_what_it_had(capsys) -> None:
    fake = FakeDatadog(window_items(), faults=FaultPlan(rates={"stuck": 1.0}))
    with loopback(fake) as base_url:
        code, out, err = await asyncio.to_thread(cli_search, capsys, base_url)
    assert code == EXIT_OK  # a partial result: printed, with the warning saying why
    assert [json.loads(line)["id"] for line in out.splitlines()] == truth(fake)[:PAGE]
    warning, completeness = err.splitlines()
    assert warning == (
        f"ddaudit: warning: page 2 of {SLICE}: Datadog returned only events this slice already had, with a new "
        "cursor (no progress); stopped paging this slice: results may be incomplete"
    )
    assert completeness.startswith("ddaudit: completeness: PARTIAL: ")


async def test_pages_that_go_back_in_time_with_new_ids_are_stopped() -> None:
    # The first page again under new ids (a server re-numbering its results): every event is "new", yet
    # nothing older ever comes — paging would go on for ever.
    class Renumbering(FakeDatadog):
        def _audit(self, req: LoggedRequest, base_url: str, fault: Fault | None) -> tuple[int, bytes]:
            status, payload = super()._audit(req, base_url, Fault("stuck"))
            n = self.audit_request_count
            return status, payload if n == 1 else payload.replace(b'"id":"ev-', f'"id":"r{n}-'.encode())

    from ddaudit_tui.sources.datadog_fetch import MAX_STALLED_PAGES

    fake = Renumbering(window_items())
    result, _, _ = await fetch(fake)
    stop = MAX_STALLED_PAGES + 1  # the first page, then the pages standing still
    assert not result.complete and fake.audit_request_count == stop
    assert len(ids(result)) == stop * PAGE
    assert result.warnings == [
        f"page {stop} of {SLICE}: Datadog returned no event older than those already fetched (time not "
        "advancing); stopped paging this slice: results may be incomplete"
    ]
