"""Origin classification: the precedence of detections.md §8.4 and the vendored X4B ASN lists."""

from __future__ import annotations

from importlib import resources

import pytest

from ddaudit_tui.analysis.asn import (
    HOSTING,
    ISP,
    PROXY,
    UNKNOWN,
    VPN,
    OriginClass,
    classify_event,
    load_asn_lists,
    parse_asn_list,
)
from ddaudit_tui.events.record import Event


def ev(**kw) -> Event:
    return Event(id="e1", ts=0, raw=b"{}", **kw)


def test_parse_asn_list_reads_numbers_before_the_first_hash():
    text = (
        "# header\n"
        "AS9009 # M247, GB (NordVPN)\n"
        "AS8560  # IONOS SE\n"
        "AS42473 # ANEXIA-AS A-9020 # Klagenfurt, AT\n"
        "AS8560 # duplicate keeps the first comment\n"
        "\n"
        "junk line\n"
        "12345\n"
    )
    assert parse_asn_list(text) == {
        9009: "M247, GB (NordVPN)",
        8560: "IONOS SE",
        42473: "ANEXIA-AS A-9020 # Klagenfurt, AT",
        12345: "",
    }


def test_vendored_lists_load_with_vpn_entries_winning():
    lists = load_asn_lists()
    assert len(lists) == 854
    assert lists.lookup(9009) == ("vpn", "X4B vpn", "M247, GB (NordVPN)")  # on both lists: VPN wins
    assert lists.lookup(209854) == ("vpn", "X4B vpn", "Surfshark")
    assert lists.lookup(16509) == ("hosting", "X4B datacenter", "AMAZON-02 - Amazon.com, Inc., US")
    assert lists.lookup(396982) == ("hosting", "X4B datacenter", "Google Cloud Platform, US")
    assert lists.lookup(8075)[0] == "hosting"
    assert lists.lookup(701) is None  # Verizon: an eyeball network
    assert lists.lookup(None) is None


@pytest.mark.parametrize("name", ["asn_vpn.txt", "asn_datacenter.txt"])
def test_vendored_files_record_source_commit_and_licence(name):
    text = resources.files("ddaudit_tui.analysis").joinpath("data", name).read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("# "))
    assert "https://github.com/X4BNet/lists_vpn" in header
    assert "commit:" in header
    assert "MIT, Copyright (c) 2024 X4B (Mathew Heard)" in header
    readme = resources.files("ddaudit_tui.analysis").joinpath("data", "README.md").read_text(encoding="utf-8")
    assert "Permission is hereby granted, free of charge" in readme
    assert name in readme


def test_threat_intel_tunnel_wins_over_everything():
    c = classify_event(ev(ti_tunnel="VPN NORD_VPN", asn=9009, asn_type="hosting", ti_category="consumer_vpn"))
    assert c == OriginClass(VPN, "threat_intel", "VPN NORD_VPN", False, True)
    assert c.anonymising and c.non_eyeball
    assert c.label == "VPN (threat_intel: VPN NORD_VPN)"  # already a VPN: list membership not repeated


def test_corporate_proxy_is_benign_context():
    c = classify_event(ev(ti_tunnel="PROXY ZSCALER", asn=62044, asn_type="hosting", ti_category="corp_vpn"))
    assert (c.kind, c.source, c.benign) == (PROXY, "threat_intel", True)
    assert not c.anonymising
    assert c.non_eyeball
    assert c.label == "corporate proxy (threat_intel: PROXY ZSCALER)"


def test_risks_and_datacenter_from_threat_intel():
    c = classify_event(ev(ti_risks=("CALLBACK_PROXY",), asn=49981))
    assert (c.kind, c.source, c.detail) == (PROXY, "threat_intel", "CALLBACK_PROXY")
    c = classify_event(ev(ti_infrastructure="DATACENTER", asn=64496))
    assert (c.kind, c.source, c.detail) == (HOSTING, "threat_intel", "DATACENTER")
    assert c.label == "hosting (threat_intel: DATACENTER)"


def test_geoip_hosting_type_before_the_lists():
    c = classify_event(ev(asn=9009, asn_type="hosting"))  # M247 without threat_intel
    assert (c.kind, c.source, c.vpn_listed) == (HOSTING, "as.type", True)
    assert c.label == "hosting (as.type; on the X4B VPN ASN list)"
    assert classify_event(ev(asn=16509, asn_type="Hosting")).label == "hosting (as.type)"


def test_lists_when_datadog_says_nothing():
    c = classify_event(ev(asn=16509))
    assert (c.kind, c.source) == (HOSTING, "list: X4B datacenter")
    assert c.label == "hosting (list: X4B datacenter)"
    c = classify_event(ev(asn=209854))
    assert (c.kind, c.source) == (VPN, "list: X4B vpn")
    assert c.anonymising


def test_isp_and_unknown():
    assert classify_event(ev(asn=701, asn_type="isp")).kind == ISP
    assert classify_event(ev(asn=701)).label == "ISP"
    c = classify_event(ev(client_ip="10.0.0.1"))
    assert (c.kind, c.non_eyeball, c.label) == (UNKNOWN, False, "unknown")
