"""`--demo`: the real Datadog client talking to an in-process fake of the Datadog API serving the demo org.

Everything the demo shows has gone through the same HTTP requests, pagination, rate-limit handling and
decoding as a real investigation. The org is generated lazily, off the event loop, on the first request,
so the TUI paints at once and shows "fetching…" while the org is being built.

Opening the demo imports neither httpx nor the fake API (~0.1 s of CPU with what they pull in): the held
demo (the TUI) sends its first request, and so imports them, after its first frame (issue 12).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ddaudit_tui.demo.credentials import DEMO_API_KEY, DEMO_APP_KEY
from ddaudit_tui.sources.datadog import Credentials, DatadogClient

if TYPE_CHECKING:
    import httpx

    from ddaudit_tui.demo.fake_datadog import FakeDatadog

DEMO_LABEL = "demo"


class LazyTransport:
    """An httpx transport (`httpx.AsyncBaseTransport`'s methods, without the base class: httpx is not
    imported before the first request) that builds the wrapped transport on first use, in a worker thread.

    `held`: not before `release()` either; nor does the client send a request before then
    (`wait_released`, its `ready`). The TUI releases it once its first frame is painted: the build holds
    the GIL for seconds, and started by the first pane's first request it would halve the speed of that
    frame (issue 12)."""

    def __init__(self, factory: Callable[[], httpx.AsyncBaseTransport], *, held: bool = False) -> None:
        self._factory = factory
        self._inner: httpx.AsyncBaseTransport | None = None
        self._lock = asyncio.Lock()
        self._held = held
        self._released: asyncio.Event | None = None  # made in the event loop that waits on it

    def release(self) -> None:
        """Let the build start (idempotent)."""
        self._held = False
        if self._released is not None:
            self._released.set()

    async def wait_released(self) -> None:
        """Returns once `release()` was called (at once when not held)."""
        if self._held:
            if self._released is None:
                self._released = asyncio.Event()
            await self._released.wait()

    async def inner(self) -> httpx.AsyncBaseTransport:
        if self._inner is None:
            await self.wait_released()
            async with self._lock:
                if self._inner is None:
                    self._inner = await asyncio.to_thread(self._factory)
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await (await self.inner()).handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()

    async def __aenter__(self) -> LazyTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def open_demo(
    seed: int = 7,
    live: bool = False,
    max_events: int | None = None,
    events: int | None = None,
    latency_s: float = 0.0,
    held: bool = False,
    **fake_kwargs: Any,
) -> DatadogClient:
    """A `DatadogClient` whose transport is the fake API over the demo org (credentials are demo-only).

    `held` (the TUI): the org is not built before the client's `after_first_paint()` is called."""

    def build() -> FakeDatadog:
        from ddaudit_tui.demo.fake_datadog import FakeDatadog

        return FakeDatadog.from_demo(seed=seed, events=events, live=live, latency_s=latency_s, **fake_kwargs)

    transport = LazyTransport(build, held=held)
    client = DatadogClient(
        Credentials(api_key=DEMO_API_KEY, app_key=DEMO_APP_KEY),
        transport=transport,  # type: ignore[arg-type]  # an httpx transport by its methods
        max_events=max_events,
        label=DEMO_LABEL + (" (live)" if live else ""),
        ready=transport.wait_released if held else None,
    )
    if held:
        client.after_first_paint = transport.release  # type: ignore[attr-defined]
    return client
