"""The demo and the fakes: nothing here is a real source or a real sink.

`org` (with `catalog`, `shapes`, `incidents`) generates the synthetic org "Example Corp"; `heavy` is its
heavy key (a million events as columns, built only when a request names the key);
`fake_datadog` serves any events through the Datadog API's real endpoints and shapes (audit search,
`fake_api_keys` for the API Keys API, the validate endpoints) in-process or, via `loopback`, on a
127.0.0.1 socket; `source.open_demo` is `--demo`: the real `DatadogClient` talking to that fake;
`fake_pagerduty` is a PagerDuty Events API v2 on 127.0.0.1 for tests and demos.

Only `ddaudit_tui.source_select` (the CLI's source selection) and tests import this package
(tests/demo/test_boundary.py checks).
"""
