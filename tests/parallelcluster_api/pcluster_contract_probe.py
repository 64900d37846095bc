"""Run by test_pcluster_contract.py inside the virtualenv that holds the pinned aws-parallelcluster
(never in the project's own): looks at the real library through the adapter's declarations and
prints what it found as one JSON document. Makes no AWS call: every probe ends in the library's
own argument checks, before any controller runs.
"""
from __future__ import annotations

import importlib
import importlib.resources
import inspect
import json
import re
import sys
import traceback
from typing import Any

import yaml

from lambda_src.parallelcluster_api.shared import pcluster as adapter

CONTROLLERS = ("cluster_operations_controller", "cluster_compute_fleet_controller", "cluster_instances_controller",
               "cluster_logs_controller", "image_operations_controller")
PROBE_KEYWORD = "contract_probe_keyword"
# A value per keyword that the library's checks let through (they are never dispatched).
SAMPLE = {"cluster_name": "contract-probe", "cluster_configuration": {"Image": {"Os": "alinux2023"}},
          "dryrun": True, "rollback_on_failure": True, "force_update": True, "force": True, "start_from_head": True,
          "validation_failure_level": "ERROR", "suppress_validators": ["ALL"], "cluster_status": ["CREATE_COMPLETE"],
          "status": "START_REQUESTED", "node_type": "HeadNode", "limit": 10,
          "filters": ["Name=node-type,Values=HeadNode"], "log_stream_name": "stream", "region": "us-east-1"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _controller(function: str) -> Any:
    for name in CONTROLLERS:
        module = importlib.import_module(f"pcluster.api.controllers.{name}")
        if hasattr(module, function):
            return getattr(module, function)
    return None


def _body_fields(controller: Any) -> list[str]:
    """The fields of the request body a controller takes (``*_request_content``), as keywords."""
    parameters = inspect.signature(inspect.unwrap(controller)).parameters
    body = [name for name in parameters if name.endswith("_request_content")]
    if not body:
        return []
    models = importlib.import_module("pcluster.api.models")
    model = getattr(models, "".join(part.title() for part in body[0].split("_")))
    # The generated models fill attribute_map in __init__ (every field defaults to None).
    return [_snake(camel) for camel in model().attribute_map.values()]


def probe_functions(lib: Any) -> dict[str, Any]:
    report = {}
    for function, keywords in sorted(adapter.LIBRARY_CALLS.items()):
        entry: dict[str, Any] = {"exists": callable(getattr(lib, function, None))}
        report[function] = entry
        if not entry["exists"]:
            continue
        signature = inspect.signature(getattr(lib, function))
        entry["signature"] = str(signature)
        entry["keyword_only"] = all(parameter.kind in (parameter.KEYWORD_ONLY, parameter.VAR_KEYWORD)
                                    for parameter in signature.parameters.values())
        try:
            getattr(lib, function)(**{keyword: SAMPLE.get(keyword, "x") for keyword in keywords},
                                   **{PROBE_KEYWORD: True})
            entry["probe"] = "no TypeError"
        except TypeError as error:
            entry["probe"] = str(error)
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            entry["probe"] = f"{type(error).__name__}: {error}"
        controller = _controller(function)
        entry["controller"] = None if controller is None else f"{controller.__module__}.{controller.__name__}"
        if controller is not None:
            entry["controller_parameters"] = list(inspect.signature(inspect.unwrap(controller)).parameters)
            entry["body_fields"] = _body_fields(controller)
    return report


def probe_configuration_rules(lib: Any) -> dict[str, Any]:
    def outcome(**keywords: Any) -> dict[str, Any]:
        try:
            lib.create_cluster(**keywords)
        except Exception as error:  # noqa: BLE001 - the exception is what is probed
            return {"type": [cls.__name__ for cls in type(error).__mro__], "data": getattr(error, "data", None)}
        return {"type": None}

    return {
        "string_configuration": outcome(cluster_name="contract-probe", cluster_configuration="/nonexistent/c.yaml"),
        "none_option": outcome(cluster_name="contract-probe", cluster_configuration={"Image": {}}, dryrun=None),
    }


def probe_exceptions() -> dict[str, Any]:
    errors = importlib.import_module("pcluster.api.errors")
    models = importlib.import_module("pcluster.api.models")
    names = {}
    for module, name in adapter.LIBRARY_NAMES:
        try:
            names[f"{module}.{name}"] = hasattr(importlib.import_module(module), name)
        except ImportError:
            names[f"{module}.{name}"] = False
    codes = {name: getattr(getattr(errors, name, None), "code", None) for name in (
        "BadRequestException", "CreateClusterBadRequestException", "UpdateClusterBadRequestException",
        "NotFoundException", "ConflictException", "DryrunOperationException", "LimitExceededException",
        "InternalServiceException")}
    subclasses = {name: issubclass(getattr(errors, name), errors.ParallelClusterApiException) for name in codes}
    library = adapter.library()
    message = models.ConfigValidationMessage(id="KeyPairValidator", type="KeyPairValidator", level="WARNING",
                                             message="no key pair")
    change = models.Change(parameter="HeadNode.Ssh.KeyName", current_value="a", requested_value="b")
    samples = {
        "dryrun": errors.DryrunOperationException(validation_messages=[message], change_set=[change]),
        "create_bad_request": errors.CreateClusterBadRequestException(
            models.CreateClusterBadRequestExceptionResponseContent(message="Invalid cluster configuration",
                                                                   configuration_validation_errors=[message])),
        "update_bad_request": errors.UpdateClusterBadRequestException(
            models.UpdateClusterBadRequestExceptionResponseContent(
                message="Update failure", change_set=[change],
                update_validation_errors=[models.UpdateError(parameter="Scheduling", message="cannot change")])),
        "not_found": errors.NotFoundException("Cluster 'x' does not exist"),
        "parameter": importlib.import_module("pcluster.cli.exceptions").ParameterException({"message": "bad"}),
    }
    translated = {}
    for key, error in samples.items():
        result = adapter.translate(error, library)
        translated[key] = None if result is None else {"class": type(result).__name__, "status": result.status,
                                                       "body": result.body}
    return {"names": names, "codes": codes, "subclasses": subclasses, "translated": translated,
            "version": library.version}


def packaged_spec() -> dict[str, Any]:
    text = importlib.resources.files("pcluster.api.openapi").joinpath("openapi.yaml").read_text()
    return yaml.safe_load(text)


def main() -> int:
    import pcluster.lib as lib

    report: dict[str, Any] = {}
    for key, probe in (("functions", lambda: probe_functions(lib)),
                       ("configuration_rules", lambda: probe_configuration_rules(lib)),
                       ("exceptions", probe_exceptions), ("spec", packaged_spec)):
        try:
            report[key] = probe()
        except Exception:  # noqa: BLE001 - reported to the test, which fails on it
            report[key] = {"probe_failed": traceback.format_exc()}
    json.dump(report, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
