"""“Copy as”: the pup command, the explorer URL and the DDSQL query, for every Datadog site."""

from __future__ import annotations

import shlex
from urllib.parse import parse_qs, urlsplit

import pytest

from ddaudit_tui.report.copy_as import copy_as, ddsql, explorer_url, pup_command, rfc3339
from ddaudit_tui.sources.sites import SITES
from ddaudit_tui.timeutil import Window

# 2026-11-20T00:00:00Z → 2026-11-21T09:30:00.250Z
WINDOW = Window(1_795_132_800_000, 1_795_253_400_250)
QUERY = '@evt.name:"Access Management" @usr.email:o\'brien@example.com -@action:login'

# datadog-api.md §1.2: the UI host of every site.
UI = {
    "datadoghq.com": "https://app.datadoghq.com",
    "us3.datadoghq.com": "https://us3.datadoghq.com",
    "us5.datadoghq.com": "https://us5.datadoghq.com",
    "datadoghq.eu": "https://app.datadoghq.eu",
    "ap1.datadoghq.com": "https://ap1.datadoghq.com",
    "ap2.datadoghq.com": "https://ap2.datadoghq.com",
    "uk1.datadoghq.com": "https://uk1.datadoghq.com",
    "ddog-gov.com": "https://app.ddog-gov.com",
    "us2.ddog-gov.com": "https://us2.ddog-gov.com",
}


def test_the_table_covers_every_site():
    assert set(UI) == set(SITES)


def test_rfc3339_keeps_milliseconds_only_when_present():
    assert rfc3339(WINDOW.start) == "2026-11-20T00:00:00Z"
    assert rfc3339(WINDOW.end) == "2026-11-21T09:30:00.250Z"


@pytest.mark.parametrize("site", sorted(UI))
def test_explorer_url_for_every_site(site):
    url = explorer_url(QUERY, WINDOW, site)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == UI[site]
    assert parts.path == "/audit-trail"
    params = parse_qs(parts.query, strict_parsing=True)
    assert params == {
        "query": [QUERY],
        "from_ts": [str(WINDOW.start)],
        "to_ts": [str(WINDOW.end)],
        "live": ["false"],
    }
    assert " " not in url and '"' not in url  # clickable as one word in a terminal


def test_explorer_url_accepts_site_spellings_and_falls_back_to_us1():
    assert explorer_url("*", WINDOW, "https://app.datadoghq.eu/").startswith(
        "https://app.datadoghq.eu/audit-trail?"
    )
    assert explorer_url("*", WINDOW, "not-a-site").startswith(
        "https://app.datadoghq.com/audit-trail?query=%2A&"
    )
    assert explorer_url("", WINDOW, None).startswith("https://app.datadoghq.com/audit-trail?query=%2A&")


@pytest.mark.parametrize("site", sorted(UI))
def test_pup_command_for_every_site(site):
    cmd = pup_command(QUERY, WINDOW, site)
    argv = shlex.split(cmd)
    env = [a for a in argv if "=" in a and a.startswith("DD_SITE=")]
    assert env == ([] if site == "datadoghq.com" else [f"DD_SITE={site}"])
    argv = argv[len(env) :]
    assert argv == [
        "pup", "audit-logs", "search", "--query", QUERY,
        "--from", "2026-11-20T00:00:00Z", "--to", "2026-11-21T09:30:01Z",
        "--limit", "1000", "-o", "json",
    ]  # fmt: skip


def test_pup_times_are_whole_seconds_that_cover_the_window():
    # pup keeps whole seconds: an end of 09:30:00.250 cut to 09:30:00 would drop the newest event.
    argv = shlex.split(pup_command("*", Window(1_000_999, 2_000_001)))
    start, end = argv[argv.index("--from") + 1], argv[argv.index("--to") + 1]
    assert (start, end) == ("1970-01-01T00:16:40Z", "1970-01-01T00:33:21Z")
    exact = shlex.split(pup_command("*", Window(1_000_000, 2_000_000)))
    assert exact[exact.index("--to") + 1] == "1970-01-01T00:33:20Z"


def test_pup_command_cannot_be_broken_out_of_by_the_query():
    nasty = '@usr.email:"$(rm -rf ~)" `id` ; echo pwned \''
    argv = shlex.split(pup_command(nasty, WINDOW))
    assert argv[argv.index("--query") + 1] == nasty
    assert "$(" not in pup_command(nasty, WINDOW).split("'")[0]  # the expansion sits inside single quotes


def test_ddsql_follows_the_seed_example():
    sql = ddsql(QUERY, WINDOW, ["timestamp", "@usr.email", "actor", "@network.client.ip", "endpoint"])
    assert sql == "\n".join(
        [
            "SELECT * FROM dd.audit(",
            "  columns => ARRAY[",
            "    'timestamp',",
            "    '@usr.email',",
            "    '@network.client.ip',",
            "    '@http.url_details.path'",
            "  ],",
            "  filter => '@evt.name:\"Access Management\" @usr.email:o''brien@example.com -@action:login',",
            "  from_timestamp => '2026-11-20T00:00:00Z',",
            "  to_timestamp => '2026-11-21T09:30:00.250Z'",
            ") AS (",
            "  ts TIMESTAMP,",
            "  usr_email VARCHAR,",
            "  network_client_ip VARCHAR,",
            "  http_url_details_path VARCHAR",
            ");",
        ]
    )


def test_ddsql_without_a_filter_and_with_default_columns():
    sql = ddsql("*", WINDOW)
    assert "filter =>" not in sql
    assert "'@evt.name'," in sql and "evt_name VARCHAR," in sql
    assert sql.endswith("network_client_geoip_country_name VARCHAR\n);")


def test_ddsql_aliases_are_unique_and_typed():
    sql = ddsql("*", WINDOW, ["@usr.id", "@usr_id", "@network.client.geoip.location.latitude"])
    assert "  usr_id VARCHAR," in sql and "  usr_id_2 VARCHAR," in sql
    assert "network_client_geoip_location_latitude DOUBLE" in sql


def test_copy_as_dispatches_and_rejects_unknown_formats():
    assert copy_as("pup", "*", WINDOW, "datadoghq.eu").startswith(
        "DD_SITE=datadoghq.eu pup audit-logs search"
    )
    assert copy_as("url", "*", WINDOW, "datadoghq.eu").startswith("https://app.datadoghq.eu/")
    assert copy_as("ddsql", "*", WINDOW).startswith("SELECT * FROM dd.audit(")
    with pytest.raises(ValueError, match="unknown copy format 'csv'"):
        copy_as("csv", "*", WINDOW)
