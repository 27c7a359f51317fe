"""Suite-wide settings: hypothesis never fails a test on wall-clock deadlines (CI machines
are shared; speed is measured by benchmarks/, not by tests)."""

from hypothesis import HealthCheck, settings

settings.register_profile("ovnlab", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ovnlab")
