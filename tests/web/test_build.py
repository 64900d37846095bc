"""The clients' sources type-check (esbuild, which builds them, does not check types)."""

import subprocess

from tests.web.conftest import ROOT


def test_every_client_type_checks(built_clients):
    completed = subprocess.run([str(ROOT / "node_modules" / ".bin" / "tsc"), "-p", "web"], cwd=ROOT,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:]
