"""Fixtures for tests against real node processes.

``cluster`` starts one local cluster per test module, configured by that module's ``CONFIG``,
and stops every process when the module is done; ``client`` is a sync client of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cluster.net.client import Client
from cluster.net.local import LocalCluster


@pytest.fixture(scope="module")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("cluster"), request.module.CONFIG) as running:
        running.start()
        yield running


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    # Generous: the suite runs two workers on two cores next to five-node clusters, and a
    # request that only waited on a descheduled process is not a failure of the cluster.
    with Client(cluster.endpoints, timeout_ms=5000) as made:
        yield made
