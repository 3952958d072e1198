"""The static cast of the demo org "Example Corp": places, networks, people, service accounts, keys.

Everything here is fixed data (no randomness) so that the planted incidents can name their actors and
keys in `demo.org.PLANTED`, and tests of other modules can assert on them.

Addresses: residential, VPN and attacker networks use the documentation ranges (RFC 5737:
192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) so no real person's address appears; cloud networks use
addresses from the providers' well-known public blocks (shared infrastructure, not personal data).
ASNs, names and coordinates are the real public ones so ASN lists and travel maths behave as in life.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

ORG_NAME = "Example Corp"
ORG_UUID = "4f6b2c1e-7d3a-4e89-9b21-5c0d8a7e3f10"
SITE_APP_HOST = "app.datadoghq.com"
SITE_API_HOST = "api.datadoghq.com"
SITE_MCP_HOST = "mcp.datadoghq.com"
INTERNAL_HOST = "us1.prod.dog"  # the 2022 recordings' internal host


@dataclass(frozen=True)
class City:
    name: str
    subdivision: str
    subdivision_iso: str
    country: str
    iso: str
    continent_code: str
    continent: str
    lat: float
    lon: float
    tz: str


@dataclass(frozen=True)
class Asn:
    number: int
    name: str
    domain: str
    type: str  # "hosting" for clouds/VPN datacentres, "isp" for eyeball networks (audit-events.md §3.6)
    route: str  # announced prefix shown in geoip.as.route


@dataclass(frozen=True)
class Origin:
    """One client address with everything the geoip (and threat_intel) enrichment says about it."""

    ip: str
    city: str  # key into CITIES
    asn: str  # key into ASNS
    tunnel: tuple[str, str, bool] | None = None  # threat_intel (type, operator, anonymous)
    ti_category: str | None = None  # Spur category, e.g. corp_vpn
    ti_intention: str | None = None
    ti_risks: tuple[str, ...] = ()


CITIES: dict[str, City] = {
    "nyc": City("New York", "New York", "US-NY", "United States", "US", "NA", "North America", 40.71427, -74.00597, "America/New_York"),
    "boston": City("Boston", "Massachusetts", "US-MA", "United States", "US", "NA", "North America", 42.35843, -71.05977, "America/New_York"),
    "sf": City("San Francisco", "California", "US-CA", "United States", "US", "NA", "North America", 37.77493, -122.41942, "America/Los_Angeles"),
    "seattle": City("Seattle", "Washington", "US-WA", "United States", "US", "NA", "North America", 47.60621, -122.33207, "America/Los_Angeles"),
    "austin": City("Austin", "Texas", "US-TX", "United States", "US", "NA", "North America", 30.26715, -97.74306, "America/Chicago"),
    "chicago": City("Chicago", "Illinois", "US-IL", "United States", "US", "NA", "North America", 41.85003, -87.65005, "America/Chicago"),
    "denver": City("Denver", "Colorado", "US-CO", "United States", "US", "NA", "North America", 39.73915, -104.9847, "America/Denver"),
    "toronto": City("Toronto", "Ontario", "CA-ON", "Canada", "CA", "NA", "North America", 43.70011, -79.4163, "America/Toronto"),
    "london": City("London", "England", "GB-ENG", "United Kingdom", "GB", "EU", "Europe", 51.50853, -0.12574, "Europe/London"),
    "dublin": City("Dublin", "Leinster", "IE-L", "Ireland", "IE", "EU", "Europe", 53.33306, -6.24889, "Europe/Dublin"),
    "paris": City("Paris", "Île-de-France", "FR-IDF", "France", "FR", "EU", "Europe", 48.85341, 2.3488, "Europe/Paris"),
    "berlin": City("Berlin", "Land Berlin", "DE-BE", "Germany", "DE", "EU", "Europe", 52.52437, 13.41053, "Europe/Berlin"),
    "bangalore": City("Bengaluru", "Karnataka", "IN-KA", "India", "IN", "AS", "Asia", 12.97194, 77.59369, "Asia/Kolkata"),
    "bucharest": City("Bucharest", "Bucuresti", "RO-B", "Romania", "RO", "EU", "Europe", 44.43225, 26.10626, "Europe/Bucharest"),
    "sao_paulo": City("São Paulo", "São Paulo", "BR-SP", "Brazil", "BR", "SA", "South America", -23.5475, -46.63611, "America/Sao_Paulo"),
    "naaldwijk": City("Naaldwijk", "South Holland", "NL-ZH", "Netherlands", "NL", "EU", "Europe", 51.99417, 4.20972, "Europe/Amsterdam"),
    # cloud regions
    "ashburn": City("Ashburn", "Virginia", "US-VA", "United States", "US", "NA", "North America", 39.04372, -77.48749, "America/New_York"),
    "boardman": City("Boardman", "Oregon", "US-OR", "United States", "US", "NA", "North America", 45.83985, -119.70058, "America/Los_Angeles"),
    "council_bluffs": City("Council Bluffs", "Iowa", "US-IA", "United States", "US", "NA", "North America", 41.26194, -95.86083, "America/Chicago"),
    "clifton": City("Clifton", "New Jersey", "US-NJ", "United States", "US", "NA", "North America", 40.85843, -74.16376, "America/New_York"),
    "singapore": City("Singapore", "Central Singapore", "SG-01", "Singapore", "SG", "AS", "Asia", 1.28967, 103.85007, "Asia/Singapore"),
    "frankfurt": City("Frankfurt am Main", "Hesse", "DE-HE", "Germany", "DE", "EU", "Europe", 50.11552, 8.68417, "Europe/Berlin"),
}  # fmt: skip

ASNS: dict[str, Asn] = {
    "aws": Asn(16509, "Amazon.com, Inc.", "amazon.com", "hosting", "3.224.0.0/12"),
    "aws_west": Asn(16509, "Amazon.com, Inc.", "amazon.com", "hosting", "35.160.0.0/13"),
    "aws_fra": Asn(16509, "Amazon.com, Inc.", "amazon.com", "hosting", "18.192.0.0/12"),
    "gcp": Asn(396982, "Google LLC", "google.com", "hosting", "34.86.0.0/16"),
    "gcp_central": Asn(396982, "Google LLC", "google.com", "hosting", "34.64.0.0/10"),
    "do": Asn(14061, "DigitalOcean, LLC", "digitalocean.com", "hosting", "159.203.0.0/16"),
    "zscaler": Asn(62044, "Zscaler, Inc.", "zscaler.com", "hosting", "165.225.0.0/17"),
    "m247": Asn(9009, "M247 Europe SRL", "m247.com", "hosting", "192.0.2.0/24"),
    "vultr": Asn(20473, "The Constant Company, LLC", "vultr.com", "hosting", "192.0.2.0/24"),
    "worldstream": Asn(49981, "WorldStream B.V.", "worldstream.nl", "hosting", "192.0.2.0/24"),
    "comcast": Asn(7922, "Comcast Cable Communications, LLC", "comcast.net", "isp", "198.51.100.0/24"),
    "verizon": Asn(701, "Verizon Business", "verizon.com", "isp", "198.51.100.0/24"),
    "att": Asn(7018, "AT&T Services, Inc.", "att.com", "isp", "198.51.100.0/24"),
    "charter": Asn(20115, "Charter Communications", "charter.com", "isp", "198.51.100.0/24"),
    "tmobile": Asn(21928, "T-Mobile USA, Inc.", "t-mobile.com", "isp", "198.51.100.0/24"),
    "rogers": Asn(812, "Rogers Communications Canada Inc.", "rogers.com", "isp", "198.51.100.0/24"),
    "bt": Asn(2856, "British Telecommunications PLC", "bt.com", "isp", "203.0.113.0/24"),
    "virgin": Asn(5089, "Virgin Media Limited", "virginmedia.com", "isp", "203.0.113.0/24"),
    "eir": Asn(5466, "Eircom Limited", "eir.ie", "isp", "203.0.113.0/24"),
    "orange": Asn(3215, "Orange S.A.", "orange.com", "isp", "203.0.113.0/24"),
    "dtag": Asn(3320, "Deutsche Telekom AG", "telekom.de", "isp", "203.0.113.0/24"),
    "airtel": Asn(24560, "Bharti Airtel Ltd.", "airtel.in", "isp", "203.0.113.0/24"),
    "rcs": Asn(8708, "RCS & RDS SA", "digi.ro", "isp", "192.0.2.0/24"),
    "claro": Asn(28573, "Claro NXT Telecomunicacoes Ltda", "claro.com.br", "isp", "192.0.2.0/24"),
}

# Spur-style threat_intel for the corporate VPN (benign context) and for the attacker's consumer VPN.
CORP_VPN = ("PROXY", "ZSCALER", False)
NORD_VPN = ("VPN", "NORD_VPN", True)

ORIGINS: dict[str, Origin] = {
    # cloud workloads
    "ci_clean": Origin("3.230.117.42", "ashburn", "aws"),
    "ci_metrics": Origin("34.86.142.19", "ashburn", "gcp"),
    "office_nyc": Origin("198.51.100.120", "nyc", "verizon"),
    "terraform": Origin("35.162.88.201", "boardman", "aws_west"),
    "exporter": Origin("159.203.76.14", "clifton", "do"),
    "bits_gcp": Origin("34.71.203.9", "council_bluffs", "gcp_central"),
    "webhooks_fra": Origin("18.196.45.117", "frankfurt", "aws_fra"),
    "zscaler_nyc": Origin("165.225.38.61", "nyc", "zscaler", CORP_VPN, "corp_vpn", "benign"),
    "zscaler_sf": Origin("165.225.50.17", "sf", "zscaler", CORP_VPN, "corp_vpn", "benign"),
    # planted hostile origins
    "attacker_vpn": Origin("192.0.2.147", "bucharest", "m247", NORD_VPN, "consumer_vpn", "unknown", ("TUNNEL",)),
    "attacker_home": Origin("192.0.2.66", "bucharest", "rcs"),
    "leak_nyc_home": Origin("198.51.100.214", "nyc", "verizon"),
    "bruteforce": Origin("192.0.2.201", "naaldwijk", "worldstream", None, None, None, ("CALLBACK_PROXY",)),
    "unusual_login": Origin("192.0.2.88", "sao_paulo", "claro"),
}  # fmt: skip


@dataclass(frozen=True)
class Person:
    """A human user. `scope` lists the product areas they change in normal (non-AI) work."""

    key: str
    name: str
    email: str
    uuid: str
    city: str
    isp: str
    ip: str
    title: str
    weight: float = 1.0  # share of the org's interactive traffic
    scope: tuple[str, ...] = ("dashboard", "monitor", "notebook")
    vpn: str | None = None  # an ORIGINS key used for part of the traffic
    created: str = "2024-08-23T20:49:04Z"
    quiet: bool = False  # excluded from background changes (their history is planted exactly)
    contractor: bool = False


def _uuid(n: int) -> str:
    # Deterministic, unique, realistic-looking UUIDs for the fixed cast.
    return str(uuid.uuid5(_NS, f"ddaudit-demo-{n}"))


_NS = uuid.UUID("6f1c8a52-3d4e-4b9a-8c7f-2e5d0a1b9c36")


_PEOPLE_ROWS: list[tuple] = [
    # key, full name, city, isp, ip, title, weight, scope, vpn, flags
    ("alice", "Alice Nguyen", "nyc", "verizon", "198.51.100.21", "Head of Platform", 1.4, ("dashboard", "monitor", "role", "user", "api_key"), "zscaler_nyc", ""),
    ("marcus", "Marcus Reed", "boston", "comcast", "198.51.100.22", "Staff SRE", 1.6, ("monitor", "dashboard", "api_key", "pipeline"), None, ""),
    ("priya", "Priya Shah", "sf", "comcast", "198.51.100.23", "Senior SRE", 1.5, ("monitor", "dashboard", "synthetics_test"), "zscaler_sf", ""),
    ("kevin", "Kevin Lee", "seattle", "comcast", "198.51.100.24", "Data Engineer", 1.2, ("dashboard", "notebook", "metric"), None, ""),
    ("emma", "Emma Wilson", "london", "bt", "203.0.113.25", "Product Analyst", 0.9, ("dashboard", "notebook"), None, "quiet"),
    ("tom", "Tom Baker", "chicago", "att", "198.51.100.26", "Backend Engineer", 1.0, ("dashboard", "monitor"), None, "quiet"),
    ("sara", "Sara Lopez", "austin", "att", "198.51.100.27", "SRE", 1.1, ("monitor", "dashboard", "slo"), None, ""),
    ("dave", "Dave Kowalski", "chicago", "comcast", "198.51.100.28", "IT Administrator", 0.8, ("role", "user", "restriction_policy"), None, "quiet"),
    ("rachel", "Rachel Kim", "nyc", "verizon", "198.51.100.29", "Security Engineer", 1.0, ("security_rule", "role", "audit"), "zscaler_nyc", "quiet"),
    ("jonas", "Jonas Becker", "berlin", "dtag", "203.0.113.30", "Platform Engineer", 1.2, ("pipeline", "index", "dashboard"), None, ""),
    ("claire", "Claire Martin", "paris", "orange", "203.0.113.31", "Frontend Engineer", 0.9, ("dashboard", "rum"), None, ""),
    ("liam", "Liam O'Connor", "dublin", "eir", "203.0.113.32", "Support Engineer", 0.8, ("dashboard", "notebook"), None, ""),
    ("ananya", "Ananya Rao", "bangalore", "airtel", "203.0.113.33", "Backend Engineer", 1.0, ("dashboard", "monitor", "apm"), None, ""),
    ("noah", "Noah Campbell", "toronto", "rogers", "198.51.100.34", "Mobile Engineer", 0.7, ("dashboard", "rum"), None, ""),
    ("olivia", "Olivia Brown", "denver", "comcast", "198.51.100.35", "Engineering Manager", 0.6, ("dashboard", "notebook", "slo"), None, ""),
    ("ethan", "Ethan Park", "sf", "att", "198.51.100.36", "ML Engineer", 0.9, ("notebook", "metric", "dashboard"), "zscaler_sf", ""),
    ("mia", "Mia Hoffmann", "berlin", "dtag", "203.0.113.37", "SRE", 1.1, ("monitor", "pipeline", "index"), None, ""),
    ("lucas", "Lucas Silva", "boston", "comcast", "198.51.100.38", "QA Engineer", 0.7, ("synthetics_test", "dashboard"), None, ""),
    ("grace", "Grace Taylor", "london", "virgin", "203.0.113.39", "Finance Analyst", 0.4, ("dashboard",), None, ""),
    ("daniel", "Daniel Cohen", "nyc", "verizon", "198.51.100.40", "Backend Engineer", 1.0, ("dashboard", "monitor", "apm"), None, ""),
    ("sofia", "Sofia Rossi", "paris", "orange", "203.0.113.41", "Data Analyst", 0.8, ("dashboard", "notebook"), None, ""),
    ("ben", "Ben Carter", "austin", "charter", "198.51.100.42", "DevOps Engineer", 1.3, ("monitor", "integration", "pipeline"), None, ""),
    ("hannah", "Hannah Fischer", "berlin", "dtag", "203.0.113.43", "Security Analyst", 0.7, ("security_rule", "dashboard"), None, ""),
    ("ryan", "Ryan Murphy", "dublin", "eir", "203.0.113.44", "Site Reliability Engineer", 1.0, ("monitor", "dashboard"), None, ""),
    ("zoe", "Zoe Adams", "seattle", "tmobile", "198.51.100.45", "Product Manager", 0.5, ("dashboard", "notebook"), None, ""),
    ("arjun", "Arjun Mehta", "bangalore", "airtel", "203.0.113.46", "Platform Engineer", 1.0, ("pipeline", "monitor", "apm"), None, ""),
    ("chloe", "Chloe Dubois", "paris", "orange", "203.0.113.47", "Designer", 0.3, ("dashboard",), None, ""),
    ("matt", "Matt Johnson", "denver", "comcast", "198.51.100.48", "Backend Engineer", 0.9, ("dashboard", "monitor"), None, ""),
    ("nina", "Nina Petrova", "toronto", "rogers", "198.51.100.49", "Data Engineer", 0.8, ("notebook", "metric", "dashboard"), None, ""),
    ("omar", "Omar Haddad", "nyc", "verizon", "198.51.100.50", "Network Engineer", 0.7, ("dashboard", "monitor", "integration"), None, ""),
    # contractors
    ("jdoe", "Jamie Doe", "toronto", "rogers", "198.51.100.51", "Contractor (Observability)", 0.5, ("dashboard", "monitor"), None, "contractor"),
    ("vkral", "Viktor Kral", "frankfurt", "dtag", "203.0.113.52", "Contractor (Security Audit)", 0.3, ("dashboard",), None, "contractor quiet"),
]  # fmt: skip


def _build_people() -> dict[str, Person]:
    out: dict[str, Person] = {}
    for i, (key, name, city, isp, ip, title, weight, scope, vpn, flags) in enumerate(_PEOPLE_ROWS):
        contractor = "contractor" in flags
        first, last = name.lower().replace("'", "").split(" ", 1)
        email = (
            f"{first[0]}.{last.replace(' ', '')}@partners.example.net"
            if contractor
            else f"{first}.{last.replace(' ', '')}@example.com"
        )
        out[key] = Person(
            key=key,
            name=name,
            email=email,
            uuid=_uuid(100 + i),
            city=city,
            isp=isp,
            ip=ip,
            title=title,
            weight=weight,
            scope=scope,
            vpn=vpn,
            created=f"202{3 + i % 2}-{1 + i % 12:02d}-{3 + i % 25:02d}T{8 + i % 9:02d}:{(i * 7) % 60:02d}:{(i * 13) % 60:02d}Z",
            quiet="quiet" in flags,
            contractor=contractor,
        )
    return out


PEOPLE: dict[str, Person] = _build_people()


@dataclass(frozen=True)
class ServiceAccount:
    key: str
    name: str
    email: str
    usr_id: str  # service accounts carry a non-email id (audit-events.md §8 quirk 5)
    uuid: str
    origin: str  # ORIGINS key
    useragent: str


SERVICE_ACCOUNTS: dict[str, ServiceAccount] = {
    "ci_deploy": ServiceAccount("ci_deploy", "CI Deploy Bot", "ci-deploy@example.com", "2841093", _uuid(201), "ci_clean", "datadog-ci/2.48.0 (node v20.11.1; os linux; arch x64)"),
    "status_board": ServiceAccount("status_board", "Office Status Board", "status-board@example.com", "2841131", _uuid(205), "office_nyc", "Python/3.12 aiohttp/3.9.5"),
    "metrics_sync": ServiceAccount("metrics_sync", "Metrics Sync", "metrics-sync@example.com", "2841117", _uuid(202), "ci_metrics", "Datadog/dogapi python-requests/2.31.0"),
    "terraform": ServiceAccount("terraform", "Terraform Automation", "terraform@example.com", "2841160", _uuid(203), "terraform", "terraform-provider-datadog/3.46.0 (+https://registry.terraform.io/providers/DataDog/datadog)"),
    "exporter": ServiceAccount("exporter", "Grafana Exporter", "grafana-exporter@example.com", "2841202", _uuid(204), "exporter", "Go-http-client/2.0"),
}  # fmt: skip


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    owner: str  # SERVICE_ACCOUNTS key (who uses it) or "" for keys only created/deleted
    creator: str  # PEOPLE key of whoever created it
    app_key_id: str = ""
    created_days_ago: float = 200.0  # before end_ms; may lie outside the demo window
    extra: dict = field(default_factory=dict)


CI_KEY = "5c1f0b7e-2a9d-4e63-8f41-3b7d9e2a6c10"
CLEAN_KEY = "a8e3f6d1-7b2c-4e95-9f0a-3c6d1b8e5f27"
COMPROMISED_KEY = "9f3c2e71-4b8a-4d2e-a6f5-1c7b8e9d0a24"
TERRAFORM_KEY = "1e8d4a52-6c3b-47f9-b2a1-0d9e7c6f5b38"
EXPORTER_KEY = "c7a92f10-83d4-4b6e-9a15-e2f0b4d8c391"

API_KEYS: dict[str, ApiKey] = {
    CI_KEY: ApiKey(CI_KEY, "ci-deploy (GitHub Actions)", "ci_deploy", "alice", "8b21d7c4-0f5e-4a39-b6d2-7e1c9a3f4058", 140.0),
    CLEAN_KEY: ApiKey(CLEAN_KEY, "office-status-board", "status_board", "omar", "0c5b9e2d-6a1f-4d83-b7c4-e2f9a0d3c815", 180.0),
    COMPROMISED_KEY: ApiKey(COMPROMISED_KEY, "metrics-sync (Jenkins)", "metrics_sync", "marcus", "3d6f9a0b-2c7e-4d18-85f3-b9a1e4c7d260", 60.0),
    TERRAFORM_KEY: ApiKey(TERRAFORM_KEY, "terraform-prod", "terraform", "ben", "f04c8e13-9b2a-4e7d-a5c6-1d3b8f9e2a47", 310.0),
    EXPORTER_KEY: ApiKey(EXPORTER_KEY, "grafana-exporter", "exporter", "kevin", "6a3e1b9d-4f2c-4a8e-9d7b-c5e0f1a2b384", 420.0),
}  # fmt: skip

# Keys minted in the planted burst (all by `dave` within minutes) and keys with an ordinary
# create → delete history in the background.
MINTED_KEYS = (
    "2b7e9c41-5d0a-4f36-8e1b-a9c3d7f5e102",
    "d41a8f6c-3e9b-4c27-b0d5-6f2e1a8c9b73",
    "7f0c3b95-a2e8-4d61-9c4f-18b5e7d3a2c6",
)
MINTED_APP_KEY = "e93b5d27-1f4c-4a80-b6e9-2c7d0a5f8e14"
HISTORY_KEYS = (
    "0a4d7e2f-9c1b-4e58-a3d6-5b8f2c7e9d01",
    "b58e1c3a-7d2f-4a96-8e0b-c4f9d6a1e372",
    "4c9f2e6b-0a8d-4d13-b7e5-91c3a6f2d8e4",
    "e1d6a94c-58b3-4f2e-9a7c-0b2d8e5f1c63",
)

# Datadog support and the Datadog AI agent identities (as they appear in `usr` / `delegator`).
SUPPORT_USER = {"id": "datadog-support", "name": "Datadog Support", "email": "support@datadoghq.com"}
BITS_AGENT = {"id": "bits-ai", "uuid": "00a1b2c3-d4e5-4f60-8a9b-0c1d2e3f4a5b", "name": "Bits AI"}
AGENT_USR_UUID = "1ad9c690-ee90-4dca-80ad-034e916623ab"  # the 2022 Agent remote-config pseudo-user

# OAuth clients seen on MCP calls (audit-events.md §3.4)
OAUTH_CLIENTS = {
    "cursor": ("Cursor", "7c4e2a91-3b6d-4f08-9e15-a2d8c0f3b6e7", "cursor-vscode", "Cursor/3.14.7 (darwin arm64)"),
    "claude": ("Claude", "2e9f6b13-8a4c-4d7e-b051-6c3a9e2f1d84", "claude-code", "claude-code/2.1.4 (linux x64)"),
    "generic": ("Datadog Generic MCP Client", "5a0d3c8e-1f7b-4e29-a6d4-9b2e7f1c0a35", "mcp-remote", "node-fetch/1.0"),
}  # fmt: skip

# Assets (names include the real-world `[...]` bracket quirk 13).
DASHBOARDS: list[tuple[str, str]] = [
    ("abc-4kq-9zt", "Checkout Service Overview"),
    ("p7x-2mw-k3d", "[Prod] API Latency SLOs"),
    ("h2n-8vc-q5r", "Kubernetes Cluster Health"),
    ("t9e-3jd-m8w", "[Sandboxes] Canary Deployments"),
    ("r4b-7ys-x2c", "Payments Error Budget"),
    ("w6k-1fg-u7p", "Postgres Fleet"),
    ("m3z-5hq-e9v", "Frontend RUM Overview"),
    ("c8u-4rt-b6n", "[Team Data] Kafka Consumers"),
    ("y5d-9pw-a1s", "Edge Cache Hit Ratio"),
    ("f1g-6kx-j4m", "Executive Weekly KPIs"),
    ("q2s-8lb-v3h", "Search Relevance"),
    ("n7w-2ce-z5k", "[Legacy] Monolith Metrics"),
    ("e4h-3vr-p8d", "Mobile Crash Trends"),
    ("k9a-5mt-w2q", "Billing Pipeline"),
    ("u3x-7nd-g6f", "Incident War Room"),
    ("s6p-1qj-c9r", "Auth Service Golden Signals"),
    ("b2m-4wy-t7e", "Redis Hot Keys"),
    ("g8v-6kc-h1x", "CI Pipeline Duration"),
    ("j5r-9ta-m4u", "Cost Explorer (AWS)"),
    ("x1f-3hp-d7b", "Data Warehouse Loads"),
    ("z7c-2gn-s5y", "Notifications Service"),
    ("v4q-8bd-r2j", "[Prod] Order Funnel"),
    ("d9t-5xe-k6a", "Load Balancers"),
    ("l3y-1wm-f8q", "Security Posture"),
]
MONITORS: list[tuple[str, str]] = [
    ("19123273", "[Sandboxes] Canary Success Rate is Low"),
    ("19123301", "[Prod] Checkout p99 latency above 800ms"),
    ("19123322", "High error rate on payments-api"),
    ("19123356", "Kafka consumer lag > 10k on orders"),
    ("19123389", "Disk usage above 90% on {{host.name}}"),
    ("19123412", "[Prod] 5xx rate on edge"),
    ("19123447", "Postgres replication lag"),
    ("19123470", "Synthetic: login flow failing"),
    ("19123501", "Certificate expires in < 14 days"),
    ("19123533", "[Security] Root login on bastion"),
    ("19123560", "Redis memory fragmentation"),
    ("19123598", "Anomalous traffic drop on search"),
    ("19123625", "Auth service error budget burn"),
    ("19123659", "[Staging] Deploy failed"),
]
NOTEBOOKS: list[tuple[str, str]] = [
    ("8812451", "Postmortem: 2026 checkout outage"),
    ("8812477", "Capacity planning Q3"),
    ("8812503", "Investigation: slow search queries"),
    ("8812529", "On-call handbook"),
    ("8812556", "Kafka partition rebalancing notes"),
    ("8812580", "[Draft] SLO review"),
]
PIPELINES: list[tuple[str, str]] = [
    ("kL9xQ2mRTfWz4vB7nH3cJd", "nginx access logs"),
    ("pA4sD8fG2hJ6kL0zX5cV9b", "payments-api JSON"),
    ("mN7bV3cX1zL5kJ9hG2fD4s", "[Security] Cloudtrail"),
    ("qW2eR6tY0uI4oP8aS3dF7g", "kubernetes events"),
]
LOG_INDEXES = ["main", "security", "payments", "debug-7d"]
SYNTHETICS: list[tuple[str, str]] = [
    ("abc-123-xyz", "Login flow (browser)"),
    ("k3m-9zp-2ty", "Checkout API"),
    ("w8r-4tn-6qe", "Status page up"),
]
ROLES: list[tuple[str, str]] = [
    ("f9a8c6a2-5b1d-11ec-9bd6-da7ad0900002", "Datadog Admin Role"),
    ("f9a8d2b4-5b1d-11ec-9bd6-da7ad0900002", "Datadog Standard Role"),
    ("f9a8dca0-5b1d-11ec-9bd6-da7ad0900002", "Datadog Read Only Role"),
    ("3c5e7a91-0d2b-11ef-8f4a-da7ad0900002", "Security Auditors"),
    ("6b8d0f23-0d2b-11ef-8f4a-da7ad0900002", "On-call Responders"),
]
INTEGRATIONS = ["slack", "pagerduty", "aws", "github", "webhooks", "opsgenie"]
METRICS = ["checkout.orders.count", "payments.latency", "search.queries", "kafka.consumer.lag"]
SLOS: list[tuple[str, str]] = [
    ("8b2e6d4f1a9c4e7b", "Checkout availability 99.9%"),
    ("2f7c9a1e5d3b4c8a", "API latency p95 < 300ms"),
]

# Request paths: (method, path template, route template, weight). `{dash}` etc. are filled per event.
SESSION_PATHS: list[tuple[str, str, float]] = [
    ("POST", "/api/v2/query/scalar", 14),
    ("POST", "/api/v2/query/timeseries", 16),
    ("GET", "/api/v1/dashboard/{dash}", 9),
    ("GET", "/api/v1/monitor", 6),
    ("GET", "/api/v1/monitor/{mon}", 4),
    ("POST", "/api/v1/logs-queries/list", 6),
    ("POST", "/api/v2/logs/analytics/aggregate", 5),
    ("GET", "/api/v1/synthetics/enforced_tags", 2),
    ("GET", "/api/v1/synthetics/tests", 2),
    ("GET", "/api/v2/incidents", 2),
    ("GET", "/api/v1/notebooks", 2),
    ("GET", "/api/v2/users", 1),
    ("GET", "/api/v1/hosts", 3),
    ("GET", "/api/v2/services/definitions", 2),
    ("POST", "/series/batch_query", 5),
    ("GET", "/api/v2/spans/events", 2),
    ("GET", "/api/v1/slo", 1),
    ("PUT", "/api/v1/dashboard/{dash}", 1),
    ("GET", "/api/v2/rum/applications", 1),
]
KEY_PATHS: dict[str, list[tuple[str, str, float]]] = {
    # what each service account's key calls (a CI deploy marker, metric sync, terraform, an exporter)
    "ci_deploy": [
        ("POST", "/api/v1/events", 5),
        ("POST", "/api/v2/series", 3),
        ("GET", "/api/v1/validate", 1),
    ],
    "status_board": [
        ("GET", "/api/v1/monitor", 4),
        ("POST", "/api/v2/query/scalar", 5),
        ("GET", "/api/v1/slo", 2),
    ],
    "metrics_sync": [
        ("POST", "/api/v2/series", 6),
        ("POST", "/api/v2/query/scalar", 3),
        ("GET", "/api/v1/validate", 1),
    ],
    "terraform": [
        ("GET", "/api/v1/monitor/{mon}", 5),
        ("GET", "/api/v1/dashboard/{dash}", 4),
        ("PUT", "/api/v1/monitor/{mon}", 1),
        ("GET", "/api/v2/roles", 1),
        ("GET", "/api/v1/synthetics/tests/{syn}", 1),
    ],
    "exporter": [("POST", "/api/v2/query/timeseries", 6), ("GET", "/api/v1/query", 3)],
}

BROWSER_UAS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
]

MCP_READ_TOOLS = [
    "search_datadog_logs",
    "search_datadog_monitors",
    "get_datadog_metric",
    "search_datadog_dashboards",
    "search_datadog_rum_events",
    "get_datadog_trace",
    "search_datadog_incidents",
    "search_datadog_spans",
]

# Assets destroyed by the planted incidents; the background never touches them, so the story stays
# consistent (nothing is modified after it was deleted).
COMPROMISE_DELETED_MONITORS = ("19123301", "19123322", "19123412", "19123625")
COMPROMISE_DELETED_DASHBOARDS = ("p7x-2mw-k3d", "r4b-7ys-x2c", "s6p-1qj-c9r")
COMPROMISE_DELETED_PIPELINES = ("pA4sD8fG2hJ6kL0zX5cV9b", "mN7bV3cX1zL5kJ9hG2fD4s")
SPIKE_DELETED_MONITOR = "19123659"
AI_DELETED_MONITORS = ("19123560", "19123598")
_DOOMED = {
    *COMPROMISE_DELETED_MONITORS,
    *COMPROMISE_DELETED_DASHBOARDS,
    *COMPROMISE_DELETED_PIPELINES,
    SPIKE_DELETED_MONITOR,
    *AI_DELETED_MONITORS,
}
STABLE_DASHBOARDS = [d for d in DASHBOARDS if d[0] not in _DOOMED]
STABLE_MONITORS = [m for m in MONITORS if m[0] not in _DOOMED]
STABLE_PIPELINES = [p for p in PIPELINES if p[0] not in _DOOMED]
