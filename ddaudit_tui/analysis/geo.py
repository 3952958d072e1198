"""Geography for detections: great-circle distance and travel speed between two uses of a credential.

Reference: `detections.md` §7.3. The radius is the mean Earth radius (6371 km, as synapse-waf and the
ddaudit proposal use); Panther's 6372.8 km changes distances by 0.03 %, well inside GeoIP error.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0
MIN_TRAVEL_HOURS = 0.0001  # Panther clamps Δt so two events in the same millisecond give a finite speed


def haversine_km(
    lat1: float, lon1: float, lat2: float, lon2: float, radius_km: float = EARTH_RADIUS_KM
) -> float:
    """Great-circle distance in km between two (latitude, longitude) points in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    # min(): rounding can push `a` a hair above 1 for antipodal points, and asin would fail.
    return 2 * radius_km * math.asin(min(1.0, math.sqrt(a)))


def speed_kmh(distance_km: float, delta_ms: int) -> float:
    """Travel speed for `distance_km` covered in `delta_ms`, with Δt clamped to ≥ 0.0001 h."""
    hours = max(abs(delta_ms) / 3_600_000, MIN_TRAVEL_HOURS)
    return distance_km / hours


def valid_coordinates(lat: float | None, lon: float | None) -> bool:
    """Usable GeoIP coordinates: both present, in range, and not the (0, 0) "unknown" placeholder."""
    if lat is None or lon is None or math.isnan(lat) or math.isnan(lon):
        return False
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return False
    return not (lat == 0.0 and lon == 0.0)
