"""The credentials the fake Datadog API accepts by default: fake values in the real formats (32 / 40 hex
characters). Apart from `fake_datadog` (and httpx with it), so that `--demo` opens its client without
importing either before the TUI's first frame (issue 12)."""

from __future__ import annotations

DEMO_API_KEY = "dddd0000demo0000fake0000apikey00"
DEMO_APP_KEY = "aaaa0000demo0000fake0000applicationkey00"
DEMO_TOKEN = "ddat_demo-fake-access-token"
