"""`ddaudit case …` and `--case NAME` on the work commands: a scripted investigation lands in one case."""

from __future__ import annotations

import gzip
import json
import subprocess

import pytest

from ddaudit_tui import cli
from ddaudit_tui.case.store import CaseStore
from ddaudit_tui.cliutil import EXIT_INPUT, EXIT_OK, EXIT_USAGE
from ddaudit_tui.demo.org import PLANTED

KEY = PLANTED.compromised_key
IP = PLANTED.attacker_vpn_ip


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("DDAUDIT_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("DDAUDIT_CASES_DIR", str(tmp_path / "cases"))
    monkeypatch.setenv("USER", "responder")
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DDAUDIT_ANALYST", "DDAUDIT_EXPORT_DIR"):
        monkeypatch.delenv(name, raising=False)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    # One fixed demo file: two commands read the same events (the live demo is stamped with "now").
    path = tmp_path_factory.mktemp("demo") / "demo.ndjson"
    assert cli.main(["demo-data", "-f", "ndjson", "-o", str(path)]) == EXIT_OK
    return path


def test_headless_investigation_flow(capsys, tmp_path, demo_file):
    code, out, err = run(capsys, "key", KEY, "--input", str(demo_file), "--case", "inc-4711", "-f", "json")
    assert code == EXIT_OK, err
    assert json.loads(out)["key_id"] == KEY  # the report is still written as usual
    assert "case inc-4711: journaled" in err
    code, out, err = run(
        capsys, "search", "--preset", "ip", "--ip", IP, "--input", str(demo_file), "--case", "inc-4711",
        "--mark-all", "-f", "ndjson",
    )  # fmt: skip
    assert code == EXIT_OK, err
    searched = [json.loads(line)["id"] for line in out.splitlines()]
    assert searched

    case = CaseStore.open("inc-4711").load()
    assert case.analyst == "responder" and case.problems == []
    key_entry, query_entry = case.work()
    assert key_entry.kind == "key" and key_entry.key_id == KEY and key_entry.verdict == "likely compromised"
    assert key_entry.counts["flags"] == len(key_entry.findings) - key_entry.counts["destructive"] > 0
    assert query_entry.query == f'@network.client.ip:"{IP}"' and query_entry.counts["events"] == len(searched)
    assert query_entry.complete is True and query_entry.window is not None
    assert key_entry.source.kind == "files" and len(key_entry.source.files[0].sha256) == 64
    assert sorted(case.marked_ids()) == sorted(searched)

    # show, in every format
    code, out, _ = run(capsys, "case", "show", "inc-4711")
    assert (
        code == EXIT_OK
        and f"marked {len(searched)} events from the query" in out  # --mark-all: one journal row
        and f"key {KEY}" in out
        and f"marks ({len(searched)})" in out
    )
    code, out, _ = run(capsys, "case", "show", "inc-4711", "--format", "json")
    assert json.loads(out)["name"] == "inc-4711"
    code, out, _ = run(capsys, "case", "show", "inc-4711", "--format", "md")
    assert out.startswith("# Case inc-4711") and "API key investigation" in out
    code, out, _ = run(capsys, "case", "list")
    assert code == EXIT_OK and "inc-4711" in out and "responder" in out

    # export, then verify and reopen the evidence
    code, out, err = run(capsys, "case", "export", "inc-4711", "-o", str(tmp_path / "out"))
    assert code == EXIT_OK, err
    folder = tmp_path / "out" / out.strip().rsplit("/", 1)[1]
    assert out.strip() == str(folder)
    assert subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder).returncode == 0
    evidence = [
        json.loads(x)["id"]
        for x in gzip.decompress((folder / "evidence.ndjson.gz").read_bytes()).splitlines()
    ]
    expected = set(case.evidence_ids())
    assert set(evidence) == expected and len(evidence) == len(expected)
    assert set(searched) <= expected  # the marked results, plus the key lookup's findings
    for path in (folder / "evidence.ndjson.gz", folder):
        code, out, err = run(capsys, "search", "*", "--input", str(path), "-f", "ndjson")
        assert code == EXIT_OK, err
        assert sorted(json.loads(x)["id"] for x in out.splitlines()) == sorted(evidence)
    report = (folder / "report.md").read_text()
    # The story in order: the key lookup, then the search, then the marks.
    assert (
        report.index(f"| key lookup | key {KEY}")
        < report.index("| query | searched")
        < report.index("| mark |")
    )
    assert f"ddaudit search --preset ip --ip {IP}" in report and "pup audit-logs search" in report


def test_case_journals_ai_and_compliance(capsys, demo_file):
    code, _, err = run(capsys, "ai", "--input", str(demo_file), "--case", "c1", "-f", "json")
    assert code == EXIT_OK, err
    code, _, err = run(
        capsys,
        "report",
        "compliance",
        "--framework",
        "soc2",
        "--input",
        str(demo_file),
        "--case",
        "c1",
        "-f",
        "json",
    )
    assert code == EXIT_OK, err
    kinds = [e.kind for e in CaseStore.open("c1").load().entries]
    assert kinds == ["ai", "compliance"]


def test_case_journals_watch_once(capsys, tmp_path):
    state = str(tmp_path / "state")
    code, _, err = run(
        capsys, "watch", "--once", "--demo", "--case", "c2", "--state-dir", state, "-f", "json"
    )
    assert code == 5, err  # alerts fired
    store = CaseStore.open("c2")
    entry = store.load().entries[0]
    assert entry.kind == "watch" and entry.counts["alerts"] == len(entry.findings) > 0
    # Every alert's events are kept (fetched again over the poll's window).
    cited = {i for f in entry.findings for i in f.event_ids}
    assert cited and cited <= set(store.events())
    code, _, err = run(capsys, "watch", "--demo", "--case", "c2", "--state-dir", state)
    assert code == EXIT_USAGE and "--once" in err


def test_usage_errors(capsys):
    code, _, err = run(capsys, "search", "*", "--demo", "--mark-all")
    assert code == EXIT_USAGE and "--case" in err
    code, _, err = run(capsys, "key", KEY, "--demo", "--case", "../etc")
    assert code == EXIT_USAGE and "invalid case name" in err and err.count("\n") == 1
    code, _, err = run(capsys, "case", "show", "nope")
    assert code == EXIT_USAGE and "no case named 'nope'" in err
    code, _, err = run(capsys, "case")
    assert code == EXIT_USAGE


def test_corrupt_case_is_one_line_never_a_traceback(capsys):
    store = CaseStore("bad", None).create("a")
    store.record("query", "good", query="x")
    with open(store.journal_path, "ab") as f:
        f.write(b"{garbage\n")
    code, out, err = run(capsys, "case", "show", "bad")
    assert code == EXIT_OK and "good" in out
    assert f"{store.journal_path} line 2:" in err and "Traceback" not in err
    store.header_path.write_text("[]")
    code, out, err = run(capsys, "case", "show", "bad")
    assert code == EXIT_INPUT and err.count("\n") == 1 and f"{store.header_path} line 1" in err


def test_no_secret_is_ever_written_to_a_case_or_its_export(capsys, tmp_path, monkeypatch):
    """Work against a loopback API that accepts only our keys, through a gateway URL with a password:
    neither the keys nor the password (nor 8 characters of any) are in the case or its export."""
    from ddaudit_tui.demo.fake_datadog import FakeCredentials, FakeDatadog
    from ddaudit_tui.demo.loopback import loopback

    api_key, app_key, password = (
        "5ec7e7a91b0c4d2e8f3a6b5c4d3e2f1a",
        "a99c0ffee5ec7e7b10b5a1d2c3e4f5061728394a",
        "gwP4ssW0rdXqJv7",
    )
    monkeypatch.setenv("DD_API_KEY", api_key)
    monkeypatch.setenv("DD_APP_KEY", app_key)
    demo = tmp_path / "demo.json"
    assert cli.main(["demo-data", "-o", str(demo)]) == EXIT_OK
    items = json.loads(demo.read_text())["data"]
    fake = FakeDatadog(items, credentials=FakeCredentials(api_key=api_key, app_key=app_key))
    with loopback(fake) as base_url:
        api = ("--api-url", base_url.replace("http://", f"http://gwuser:{password}@"), "--from", "30d")
        assert run(capsys, "key", KEY, *api, "--case", "s")[0] == EXIT_OK
        assert (
            run(capsys, "search", "--preset", "ip", "--ip", IP, *api, "--case", "s", "--mark-all")[0]
            == EXIT_OK
        )
        assert run(capsys, "ai", *api, "--case", "s")[0] == EXIT_OK
        code = run(capsys, "watch", "--once", *api, "--case", "s", "--state-dir", str(tmp_path / "st"))[0]
        assert code in (EXIT_OK, 5)
    assert len(CaseStore.open("s").load().work()) == 4
    assert run(capsys, "case", "export", "s", "-o", str(tmp_path / "out"))[0] == EXIT_OK
    files = [p for root in (tmp_path / "cases", tmp_path / "out") for p in root.rglob("*") if p.is_file()]
    assert len(files) > 8
    for p in files:
        data = p.read_bytes()
        if p.suffix == ".gz":
            data = gzip.decompress(data)
        for secret in (api_key, app_key, password):
            runs = {secret[i : i + 8] for i in range(len(secret) - 7)}
            assert not any(r.encode() in data for r in runs), (p, secret[:4])
