"""``python -m local`` once per test session (per xdist worker) and an MQTT subscriber on its
broker; the helpers behind them are tests/support/local_suite.py, shared with tests/web."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.support.local_suite import LocalRun, Subscriber, choose_ports, require_mosquitto, start_local


@pytest.fixture(scope="session")
def local_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local")


@pytest.fixture(scope="session")
def local_suite(local_workdir: Path) -> Iterator[LocalRun]:
    require_mosquitto()
    run = start_local(choose_ports(), local_workdir / "cdk.out", local_workdir)
    run.wait_ready()
    yield run
    run.stop()


@pytest.fixture
def subscriber(local_suite: LocalRun) -> Iterator[Subscriber]:
    client = Subscriber(local_suite.ports["mqtt"])
    yield client
    client.close()
