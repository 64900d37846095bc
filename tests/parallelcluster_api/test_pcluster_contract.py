"""The contract with the real aws-parallelcluster: every pcluster.lib function, keyword and exception
the adapter relies on exists as the adapter uses it, and the models and routes match the spec the
library packages.

aws-parallelcluster pins jsii 1.85.0, which cannot share the project's virtualenv with aws-cdk-lib
2, so the pinned release is installed into its own virtualenv (``.cache/pcluster-venv-<version>``,
made with ``python -m venv`` and pip, reused when present) and probed by
``pcluster_contract_probe.py`` running on that virtualenv's interpreter. Needs PyPI the first time:
skipped without it on a laptop, failed in CI (``CI=true``), which never skips it.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lambda_src.parallelcluster_api import models, routes, schema
from lambda_src.parallelcluster_api.shared import pcluster as adapter

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
VERSION = models.PARALLELCLUSTER_VERSION
VENV = ROOT / ".cache" / f"pcluster-venv-{VERSION}"
MARKER = VENV / ".installed.json"
PROBE = Path(__file__).with_name("pcluster_contract_probe.py")
INSTALL_TIMEOUT_SECONDS = 1200
# Fields this API adds to models of the spec (see models.py).
ADDED_FIELDS = {name: {"operationId"} for name in (
    "CreateClusterBadRequestExceptionResponseContent", "UpdateClusterBadRequestExceptionResponseContent",
    "DryrunOperationExceptionResponseContent")}


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _install(venv: Path) -> dict[str, Any]:
    started = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    steps = ([sys.executable, "-m", "venv", str(venv)],
             [str(_python(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              f"aws-parallelcluster=={VERSION}"])
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
        if result.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise RuntimeError(f"{' '.join(step[:4])} failed:\n{(result.stderr or result.stdout)[-2000:]}")
    size = sum(path.stat().st_size for path in venv.rglob("*") if path.is_file() and not path.is_symlink())
    record = {"version": VERSION, "python": sys.version.split()[0], "seconds": round(time.monotonic() - started, 1),
              "bytes": size}
    MARKER.write_text(json.dumps(record))
    return record


def pcluster_virtualenv() -> Path:
    """The virtualenv with the pinned library, installed once (one process at a time: a file lock)."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / f"pcluster-venv-{VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (MARKER.exists() and _python(VENV).exists()):
            _install(VENV)
    return VENV


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    try:
        venv = pcluster_virtualenv()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"aws-parallelcluster {VERSION} could not be installed, and CI never skips this test: {error}")
        pytest.skip(f"aws-parallelcluster {VERSION} could not be installed (no PyPI?): {error}")
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
                   "PYTHONPATH": str(ROOT), "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([str(_python(venv)), str(PROBE)], capture_output=True, text=True, timeout=300,
                            env=environment, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout)
    for section in found.values():
        assert "probe_failed" not in section, section.get("probe_failed")
    return found


def test_every_library_function_the_adapter_calls_exists_and_takes_keywords_only(report):
    for function, entry in report["functions"].items():
        assert entry["exists"], f"pcluster.lib.{function} is missing"
        assert entry["keyword_only"], f"pcluster.lib.{function}{entry['signature']} takes positional arguments"


def test_every_keyword_the_adapter_passes_is_accepted_and_they_cover_the_required_ones(report):
    for function, entry in report["functions"].items():
        # The library checks missing required keywords first, then unexpected ones: only the probe's
        # own extra keyword may be reported.
        assert entry["probe"] == f"<{function.replace('_', '-')}> got unexpected arguments: " \
                                 "{'contract_probe_keyword'}", f"{function}: {entry['probe']}"


def test_every_keyword_is_a_parameter_or_body_field_of_the_operation_behind_the_function(report):
    for function, entry in report["functions"].items():
        assert entry["controller"] is not None, f"no controller implements {function}"
        takes = set(entry["controller_parameters"]) | set(entry["body_fields"])
        assert set(adapter.LIBRARY_CALLS[function]) <= takes, f"{function}: {entry['controller']} takes {takes}"


def test_a_string_configuration_is_read_as_a_file_path_so_the_adapter_passes_a_mapping(report):
    outcome = report["configuration_rules"]["string_configuration"]
    assert "ParameterException" in outcome["type"]
    assert outcome["data"] == {"message": "Bad Request: File not found: '/nonexistent/c.yaml'"}


def test_an_option_set_to_none_is_refused_so_the_adapter_leaves_unset_options_out(report):
    outcome = report["configuration_rules"]["none_option"]
    assert "CLIException" in outcome["type"]
    assert outcome["data"] == {"message": "Bad Request: Wrong type, expected 'boolean' for parameter 'dryrun'"}


def test_every_name_the_adapter_imports_from_the_library_exists(report):
    assert report["exceptions"]["names"] == {f"{module}.{name}": True for module, name in adapter.LIBRARY_NAMES}


def test_the_librarys_errors_carry_the_codes_the_spec_gives_them(report):
    assert report["exceptions"]["codes"] == {
        "BadRequestException": 400, "CreateClusterBadRequestException": 400, "UpdateClusterBadRequestException": 400,
        "NotFoundException": 404, "ConflictException": 409, "DryrunOperationException": 412,
        "LimitExceededException": 429, "InternalServiceException": 500}
    assert all(report["exceptions"]["subclasses"].values())


def test_the_adapter_translates_the_real_exceptions_into_the_specs_camel_case_bodies(report):
    translated = report["exceptions"]["translated"]
    warning = {"id": "KeyPairValidator", "type": "KeyPairValidator", "level": "WARNING", "message": "no key pair"}
    change = {"parameter": "HeadNode.Ssh.KeyName", "currentValue": "a", "requestedValue": "b"}
    assert translated["dryrun"] == {"class": "DryrunSucceeded", "status": 412, "body": {
        "message": "Request would have succeeded, but DryRun flag is set.", "changeSet": [change],
        "validationMessages": [warning]}}
    assert translated["create_bad_request"] == {"class": "PclusterError", "status": 400, "body": {
        "message": "Invalid cluster configuration", "configurationValidationErrors": [warning]}}
    assert translated["update_bad_request"]["body"] == {
        "message": "Update failure", "changeSet": [change],
        "updateValidationErrors": [{"parameter": "Scheduling", "message": "cannot change"}]}
    assert translated["not_found"] == {"class": "PclusterError", "status": 404,
                                       "body": {"message": "Cluster 'x' does not exist"}}
    assert translated["parameter"] == {"class": "PclusterError", "status": 400, "body": {"message": "bad"}}


def test_the_installed_library_is_the_pinned_version(report):
    assert report["exceptions"]["version"] == VERSION


def _mirrored_models() -> list[type]:
    return [value for value in vars(models).values()
            if isinstance(value, type) and schema.is_model(value) and value.__module__ == models.__name__]


def test_the_models_named_as_in_the_spec_have_its_fields_required_fields_and_enums(report):
    spec = report["spec"]["components"]["schemas"]
    compared = 0
    for model in _mirrored_models():
        if model.__name__ not in spec:
            continue
        compared += 1
        ours, theirs = schema.json_schema(model), spec[model.__name__]
        assert set(ours["properties"]) - ADDED_FIELDS.get(model.__name__, set()) == set(theirs["properties"]), \
            model.__name__
        assert set(ours.get("required", [])) == set(theirs.get("required", [])), model.__name__
        for name, field in theirs["properties"].items():
            target = spec.get(field.get("$ref", "").rsplit("/", 1)[-1], field)
            if "enum" in target:
                assert ours["properties"][name]["enum"] == target["enum"], f"{model.__name__}.{name}"
    assert compared >= 40


def test_the_routes_have_the_specs_parameters_and_statuses(report):
    spec = report["spec"]
    for route in routes.ROUTES:
        operation = spec["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            assert route.function in ("get_operation", "legacy_pcluster"), f"{route.method} {route.path}"
            continue
        assert {(p["name"], p["in"]) for p in operation["parameters"]} == {
            (p.name, p.location) for p in route.parameters}, route.path
        assert set(operation["responses"]) <= {str(response.status) for response in route.responses}, route.path
        if route.function not in ("create_cluster", "update_cluster", "delete_cluster"):
            assert str(route.success_status) in operation["responses"], route.path
        else:
            assert route.success_status == 202
