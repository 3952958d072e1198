"""Datadog sites: which API and UI hosts belong to a `DD_SITE` value, and base-URL overrides.

The table is `datadog-api.md` §1.2. The rule behind it (API base URL = `https://api.<site>`) is the one
the official clients and pup use; it is applied to unknown *Datadog* domains too, so a region added after
this table was written still works.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from ddaudit_tui.sources.datadog_errors import ConfigurationError

# DD_SITE value → API base URL (datadog-api.md §1.2, every row).
SITES: dict[str, str] = {
    "datadoghq.com": "https://api.datadoghq.com",  # US1
    "us3.datadoghq.com": "https://api.us3.datadoghq.com",  # US3
    "us5.datadoghq.com": "https://api.us5.datadoghq.com",  # US5
    "datadoghq.eu": "https://api.datadoghq.eu",  # EU1
    "ap1.datadoghq.com": "https://api.ap1.datadoghq.com",  # AP1
    "ap2.datadoghq.com": "https://api.ap2.datadoghq.com",  # AP2
    "uk1.datadoghq.com": "https://api.uk1.datadoghq.com",  # UK1
    "ddog-gov.com": "https://api.ddog-gov.com",  # US1-FED
    "us2.ddog-gov.com": "https://api.us2.ddog-gov.com",  # US2-FED
}

# DD_SITE value → UI host (for links into the Datadog app). US1, EU1 and US1-FED use `app.`.
UI_HOSTS: dict[str, str] = {
    "datadoghq.com": "app.datadoghq.com",
    "us3.datadoghq.com": "us3.datadoghq.com",
    "us5.datadoghq.com": "us5.datadoghq.com",
    "datadoghq.eu": "app.datadoghq.eu",
    "ap1.datadoghq.com": "ap1.datadoghq.com",
    "ap2.datadoghq.com": "ap2.datadoghq.com",
    "uk1.datadoghq.com": "uk1.datadoghq.com",
    "ddog-gov.com": "app.ddog-gov.com",
    "us2.ddog-gov.com": "us2.ddog-gov.com",
}

# Domains under which an unlisted region is still accepted by the `api.<site>` rule.
_DATADOG_DOMAINS = ("datadoghq.com", "datadoghq.eu", "ddog-gov.com")


class UnknownSite(ConfigurationError):
    """A `DD_SITE` value that is not a Datadog site. The message lists the known ones."""


def normalize_site(site: str | None) -> str:
    """`DD_SITE` as people actually type it → the canonical site value.

    Accepts `https://app.datadoghq.eu/`, `api.datadoghq.com`, `US5.datadoghq.com` and the like: copying
    the host from the browser's address bar is the common mistake.
    """
    s = (site or "datadoghq.com").strip().lower()
    if "://" in s:
        s = urlsplit(s).hostname or ""
    s = s.strip("/").rstrip(".")
    for prefix in ("api.", "app."):
        if s.startswith(prefix) and s[len(prefix) :] in SITES:
            s = s[len(prefix) :]
    if s in SITES:
        return s
    if any(s.endswith("." + d) for d in _DATADOG_DOMAINS) and "/" not in s:
        return s
    known = ", ".join(SITES)
    raise UnknownSite(f"unknown Datadog site {site!r} (DD_SITE)", hint=f"expected one of {known}")


def api_base_url(site: str | None = "datadoghq.com", override: str | None = None) -> str:
    """The API base URL, without a trailing slash. `override` (DDAUDIT_API_URL) wins over the site.

    An override may carry a path prefix (a gateway mounting Datadog under `/datadog`); it is kept.
    """
    if override:
        base = override.strip()
        # Named by all three places it can come from: the message cannot know which one was used.
        what = f"invalid API URL {display_url(base)!r} (--api-url / DDAUDIT_API_URL / api_url)"
        try:
            parts = urlsplit(base)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:  # `http://[::1`, `http://host:notaport/`
            raise UnknownSite(what, hint=f"{exc}; expected e.g. https://gateway.example/datadog") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UnknownSite(what, hint="expected an http(s) URL, e.g. https://gateway.example/datadog")
        if parts.query or parts.fragment:
            raise UnknownSite(what, hint="a base URL takes no query string or fragment")
        return base.rstrip("/")
    s = normalize_site(site)
    return SITES.get(s, f"https://api.{s}")


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """(`url` without `user:password@`, user, password). The credentials are then sent as HTTP Basic
    auth rather than left in a URL, which libraries log (httpx logs every request URL at INFO)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    netloc = parts.hostname or ""
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return (
        urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)),
        parts.username,
        parts.password,
    )


def ui_base_url(site: str | None = "datadoghq.com") -> str:
    """The Datadog web app's base URL for the site, e.g. `https://app.datadoghq.eu`."""
    s = normalize_site(site)
    return "https://" + UI_HOSTS.get(s, s)


def link_site(site: str | None) -> str:
    """The site a link or command names: `site` normalised, US1 when unset or unknown (an unknown site
    must not stop a link from being made)."""
    try:
        return normalize_site(site or "datadoghq.com")
    except UnknownSite:
        return "datadoghq.com"


def audit_trail_url(query: str, start_ms: int, end_ms: int, site: str | None = None) -> str:
    """A link to the Audit Trail explorer showing `query` over [start, end] on `site` (frozen, not live).
    Here, not in `report/`, because both the copy-as formats and the PagerDuty alerts link to it."""
    params = {"query": query.strip() or "*", "from_ts": str(start_ms), "to_ts": str(end_ms), "live": "false"}
    return f"{ui_base_url(link_site(site))}/audit-trail?{urlencode(params, quote_via=quote, safe='')}"


def join_url(base: str, path: str) -> str:
    """`base` + `path` keeping any path prefix of `base` (`urljoin` would drop it for an absolute path)."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def display_url(url: str) -> str:
    """A URL safe to print: user-info (`user:token@`) and query string removed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # `http://[::1`, a port that is not a number
        return "(invalid URL)"
    host = parts.hostname or ""
    if port:
        host += f":{port}"
    if not parts.scheme:
        return host or "(invalid URL)"
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


def url_host(url: str) -> str:
    """The host (and port, when not the default) of a URL, for labels and messages."""
    parts = urlsplit(url)
    host = parts.hostname or url
    if parts.port and parts.port not in (80, 443):
        host += f":{parts.port}"
    return host
