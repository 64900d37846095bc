"""Shared fixtures: the suite is synthesized once per test session and shared by every test."""
from __future__ import annotations

import atexit
import copy
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

# Before any AWS SDK import: never reach a real account from a test, and keep jsii quiet.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    # moto's DynamoDB Streams endpoints resolve only without account-id endpoints.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
})
# Lambda bundles carry lambda_src/suite_lib as the top-level package ``suite_lib``; so do the tests.
_LAMBDA_SOURCES = str(Path(__file__).resolve().parents[1] / "lambda_src")
if _LAMBDA_SOURCES not in sys.path:
    sys.path.append(_LAMBDA_SOURCES)

# The project's pinned Node.js (package.json, a version jsii supports) runs the CDK, as under make.
_PROJECT_NODE_BIN = Path(__file__).resolve().parents[1] / "node_modules" / ".bin"
if (_PROJECT_NODE_BIN / "node").exists() and not os.environ.get("PATH", "").startswith(str(_PROJECT_NODE_BIN)):
    os.environ["PATH"] = f"{_PROJECT_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"

import aws_cdk as cdk  # noqa: E402 - after the environment above is set
import pytest  # noqa: E402
from aws_cdk import assertions  # noqa: E402

from stacks.suite import build_suite, suite_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def project_context() -> dict[str, Any]:
    """The context users get from cdk.json, as a fresh copy tests may change."""
    return copy.deepcopy(json.loads((ROOT / "cdk.json").read_text())["context"])


_SYNTH_ROOT: list[Path] = []


def _synth_root() -> Path:
    """One temporary folder per test process for every cloud assembly it synthesizes,
    removed when the process exits (each xdist worker has its own)."""
    if not _SYNTH_ROOT:
        root = Path(tempfile.mkdtemp(prefix="cdk-test-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _SYNTH_ROOT.append(root)
    return _SYNTH_ROOT[0]


@dataclass
class SynthesizedSuite:
    outdir: Path
    stacks: dict[str, cdk.Stack]
    _templates: dict[str, dict] = field(default_factory=dict)

    def template_json(self, stack_name: str) -> dict:
        if stack_name not in self._templates:
            stack = self.stacks[stack_name]
            self._templates[stack_name] = json.loads((self.outdir / stack.template_file).read_text())
        return self._templates[stack_name]

    def template(self, stack_name: str) -> assertions.Template:
        return assertions.Template.from_json(self.template_json(stack_name))


def synth_suite(*, context: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
                bundling: bool = False) -> SynthesizedSuite:
    """Build and synthesize the whole app; cdk-nag runs as part of synth and raises on findings."""
    merged = {**project_context(), **(context or {})}
    if not bundling:
        merged["aws:cdk:bundling-stacks"] = []  # no pip runs; one test in tests/common bundles for real
    outdir = Path(tempfile.mkdtemp(prefix="synth-", dir=_synth_root()))
    app = suite_app(context=merged, outdir=str(outdir))
    stacks = build_suite(app, environ or {})
    app.synth()
    return SynthesizedSuite(outdir=outdir, stacks=stacks)


@pytest.fixture(scope="session")
def suite() -> SynthesizedSuite:
    return synth_suite()
