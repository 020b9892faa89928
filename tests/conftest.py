"""Settings shared by the whole suite."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# The suite runs on small shared machines: a property test is judged by what
# it finds, never by how long one example took (that would fail at random).
settings.register_profile(
    "transom",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=False,
)
settings.load_profile("transom")
