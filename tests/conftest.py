"""Suite-wide settings: hypothesis never fails a test on wall-clock deadlines (CI machines
are shared; speed is measured by benchmarks/, not by tests). Under CI (`CI` set, as
`.ci/run` runs) the examples are derandomized: a landing is judged on the same examples
every time, while local runs keep exploring new ones."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ovnlab", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow],
                          derandomize=bool(os.environ.get("CI")))
settings.load_profile("ovnlab")
