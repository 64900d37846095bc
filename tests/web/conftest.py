"""Browser tests of the web clients: Debian's Chromium driven by playwright-core (Node), one
scenario per test (tests/web/scenarios/<client>.mjs through tests/web/driver.mjs), against
`make local` (`python -m local`). Screenshots go to test-artifacts/web/. Without Chromium,
mosquitto or the Node packages the tests skip, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.support.local_suite import choose_ports, require_mosquitto, start_local

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "test-artifacts" / "web"
NODE = ROOT / "node_modules" / ".bin" / "node"
CLIENTS = ("shortener", "askaroundme", "robot")
SCENARIO_TIMEOUT_S = 180


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser tests must run in CI: {reason}")
    pytest.skip(reason)


def _apt_install(package: str) -> str | None:
    """Install a Debian package as root; returns why not, or None on success."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"{package} is missing and cannot be installed here (apt-get as root)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Another process (mosquitto's install) may hold dpkg's lock: wait for it rather than fail.
    install = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", package]
    result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True, timeout=600)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    return None if result.returncode == 0 else f"apt-get install {package} failed: {result.stderr.strip()[-500:]}"


def _chromium_binary() -> str | None:
    return next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and os.access(p, os.X_OK)), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    binary = _chromium_binary()
    if binary is None:
        problem = _apt_install("chromium")
        binary = _chromium_binary()
        if binary is None:
            _unavailable(problem or "chromium was installed but is not at /usr/bin/chromium")
    return binary


@pytest.fixture(scope="session")
def built_clients() -> None:
    """The clients' dist/ (`make web` builds them; built here when missing, one process at a time)."""
    if not NODE.exists() or not (ROOT / "node_modules" / "playwright-core").exists():
        _unavailable("node_modules is missing: run `make install`")
    with (ROOT / "node_modules" / ".web-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if any(not (ROOT / "web" / client / "dist" / "index.html").exists() for client in CLIENTS):
            subprocess.run([str(NODE), "web/build.mjs"], cwd=ROOT, check=True, timeout=300)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Screenshots and logs of the browser tests (tests/web); never committed.\n*\n")
    return ARTIFACTS


@dataclass(frozen=True)
class Sites:
    """The three clients' URLs and the configuration each one serves."""

    urls: dict[str, str]

    def config(self, client: str) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.urls[client]}/config.json", timeout=10) as response:
            return json.load(response)


@pytest.fixture(scope="session")
def sites(built_clients: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    """`python -m local` as a user starts it (`make local`), on free ports, for this session (per
    xdist worker: the web ports are part of its assembly, so each run has its own)."""
    require_mosquitto()
    workdir = tmp_path_factory.mktemp("web-local")
    run = start_local(choose_ports(), workdir / "cdk.out", workdir)
    run.wait_ready()
    try:
        yield Sites({client: run.url(f"{client}_web") for client in CLIENTS})
    finally:
        run.stop()


@dataclass(frozen=True)
class Browser:
    chromium: str
    artifacts: Path

    def run(self, client: str, scenario: str, **params: Any) -> dict[str, Any]:
        """Runs one scenario; its result, or the test fails with the scenario's error and screenshots."""
        arguments = json.dumps({**params, "chromium": self.chromium, "artifacts": str(self.artifacts)})
        completed = subprocess.run([str(NODE), str(HERE / "driver.mjs"), client, scenario, arguments], cwd=ROOT,
                                   capture_output=True, text=True, timeout=SCENARIO_TIMEOUT_S)
        lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
        if not lines:
            pytest.fail(f"{client}/{scenario} printed no result (exit {completed.returncode}): "
                        f"{completed.stderr.strip()[-2000:]}")
        outcome = json.loads(lines[-1])
        if not outcome["ok"]:
            pytest.fail(f"{client}/{scenario}: {outcome['error']}\nscreenshots: {outcome.get('screenshots')}\n"
                        f"page errors: {outcome.get('pageErrors')}", pytrace=False)
        return outcome["result"]


@pytest.fixture(scope="session")
def browser(chromium: str, artifacts: Path) -> Browser:
    return Browser(chromium, artifacts)


@pytest.fixture(scope="session")
def shortener(sites: Sites) -> dict[str, Any]:
    config = sites.config("shortener")
    return {"site": sites.urls["shortener"], "apiUrl": config["apiUrl"], "shortLinkBase": config["shortLinkBase"]}


@pytest.fixture(scope="session")
def askaroundme(sites: Sites) -> dict[str, Any]:
    return {"site": sites.urls["askaroundme"], "apiUrl": sites.config("askaroundme")["apiUrl"]}


@pytest.fixture(scope="session")
def robot(sites: Sites) -> dict[str, Any]:
    config = sites.config("robot")
    telemetry = config["telemetry"]
    return {"site": sites.urls["robot"], "apiUrl": config["apiUrl"], "mqttUrl": telemetry["url"],
            "telemetryTopic": telemetry["topic"], "intervalSeconds": telemetry["intervalSeconds"],
            "actionTopic": telemetry["topic"].replace("/telemetry", "/action")}
