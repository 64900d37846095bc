"""The cloud assembly ``python -m local`` runs: the suite synthesized with the local web origins.

The deployed templates bake in the web clients' origins (CORS lists in mapping templates and
API configurations, the app clients' callback and sign-out URLs). Locally the clients are
served from ``http://localhost:<port>``, so the suite is synthesized once more exactly as a
user would deploy it with ``-c urlShortener='{"allowedOrigins": [...]}'`` and so on: same
stacks, same code, those values changed (plus ``identityProvider: cognito``, since the local
issuer stands in for a user pool). Bundling is skipped: the handlers run from ``lambda_src``.

The assembly is rebuilt only when stale: a digest of its inputs (the CDK app, ``cdk.json``,
``stacks/``, ``lambda_src/`` and the local context) is kept next to it. Concurrent runs
synthesize one at a time (a lock file beside the assembly).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from local.settings import ROOT, WEB_CLIENTS, Settings, project_context

DIGEST_FILE = "local-inputs.sha256"
INPUT_GLOBS = ("app.py", "cdk.json", "stacks/**/*", "lambda_src/**/*")
SKIPPED_PARTS = frozenset({"__pycache__", ".pytest_cache"})
CONTEXT_KEYS = {"shortener": "urlShortener", "askaroundme": "askAroundMe", "robot": "telepresenceRobot"}


class SynthError(RuntimeError):
    """Synthesizing the local assembly failed; the message holds the CDK app's error output."""


def local_context(settings: Settings) -> dict[str, str]:
    """The ``-c`` overrides of the local assembly (each a JSON object, merged key by key)."""
    context = project_context()
    overrides: dict[str, str] = {}
    for client in WEB_CLIENTS:
        key = CONTEXT_KEYS[client.name]
        block = context.get(key, {})
        origin = settings.web_origin(client)
        values: dict[str, Any] = {
            "allowedOrigins": _unique([*settings.web_origins(client), *block.get("allowedOrigins", [])]),
            "callbackUrls": _unique([f"{origin}/callback", *block.get("callbackUrls", [])]),
            "logoutUrls": _unique([f"{origin}/", *block.get("logoutUrls", [])]),
        }
        if key == "askAroundMe":
            values["identityProvider"] = "cognito"
        overrides[key] = json.dumps(values)
    return overrides


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def inputs_digest(settings: Settings) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(local_context(settings), sort_keys=True).encode())
    files = sorted({path for pattern in INPUT_GLOBS for path in ROOT.glob(pattern)
                    if path.is_file() and not SKIPPED_PARTS.intersection(path.relative_to(ROOT).parts)
                    and path.suffix not in (".pyc", ".pyo")})
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@contextmanager
def _locked(assembly: Path) -> Iterator[None]:
    assembly.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{assembly}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_assembly(settings: Settings, *, log: Any = print) -> Path:
    """The local assembly, synthesized first if it is missing or stale."""
    assembly = Path(settings.assembly)
    with _locked(assembly):
        digest = inputs_digest(settings)
        marker = assembly / DIGEST_FILE
        if marker.exists() and marker.read_text().strip() == digest:
            return assembly
        log(f"Synthesizing the suite for local use into {assembly} (the templates changed) ...")
        started = time.monotonic()
        staging = Path(tempfile.mkdtemp(prefix="synth-", dir=assembly.parent))
        try:
            _synth(settings, staging)
            (staging / DIGEST_FILE).write_text(digest + "\n")
            if assembly.exists():
                shutil.rmtree(assembly)
            staging.rename(assembly)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log(f"Synthesized in {time.monotonic() - started:.1f} s.")
        return assembly


def _synth(settings: Settings, outdir: Path) -> None:
    node_bin = ROOT / "node_modules" / ".bin"
    environ = {**os.environ, "PATH": f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}",
               "CDK_DISABLE_CLI_TELEMETRY": "true", "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1"}
    command = [sys.executable, "-m", "local.synth", "--outdir", str(outdir),
               "--context", json.dumps(local_context(settings))]
    result = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SynthError(f"synthesizing the local assembly failed:\n{(result.stderr or result.stdout).strip()}")
