"""Test-suite settings shared by every test module.

Hypothesis's per-example deadline is off: the suite runs two workers on two cores beside real
node processes, so an example's wall time says more about the machine's load than about the
code. Examples stay bounded by each test's ``max_examples``.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "zynamo", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("zynamo")
