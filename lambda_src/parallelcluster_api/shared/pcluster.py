"""The edge to ParallelCluster: the only module that imports ``pcluster`` (from the ParallelCluster
Lambda layer), lazily, on the first call.

``pcluster.lib`` exposes every operation of the official API as a keyword-only function built at
import from the packaged OpenAPI spec (``def func(**kwargs)``): it refuses a missing required or an
unknown keyword with TypeError, reads a string ``cluster_configuration`` as a *file path* (a dict is
dumped to YAML), coerces each value by its spec type (so a ``None`` would be refused: absent
options are left out here), and returns the operation's JSON answer (camelCase). It raises
``pcluster.api.errors.ParallelClusterApiException`` subclasses, with the HTTP status in ``.code``
and a spec model in ``.content``; a dry run that would succeed raises ``DryrunOperationException``
(412). Parameter coercion errors raise ``pcluster.cli.exceptions.ParameterException`` (``.data``).

:func:`call` passes only the keywords of :data:`LIBRARY_CALLS` (the contract test checks each one
against the pinned library), always with the function's own region, and translates the library's
exceptions into :class:`PclusterError` (status and spec body) or :class:`DryrunSucceeded`.
Tests inject a fake with :func:`use_library`.
"""
from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .deadlines import Deadline
from .settings import settings

# What this adapter calls: pcluster.lib function -> the keywords it may pass. ``region`` is always
# passed (the API's own region); every other keyword only when the caller set it.
LIBRARY_CALLS: Mapping[str, frozenset[str]] = {
    "list_clusters": frozenset({"region", "next_token", "cluster_status"}),
    "create_cluster": frozenset({"region", "cluster_name", "cluster_configuration", "dryrun",
                                 "validation_failure_level", "suppress_validators", "rollback_on_failure"}),
    "describe_cluster": frozenset({"region", "cluster_name"}),
    "update_cluster": frozenset({"region", "cluster_name", "cluster_configuration", "dryrun",
                                 "validation_failure_level", "suppress_validators", "force_update"}),
    "delete_cluster": frozenset({"region", "cluster_name"}),
    "describe_compute_fleet": frozenset({"region", "cluster_name"}),
    "update_compute_fleet": frozenset({"region", "cluster_name", "status"}),
    "describe_cluster_instances": frozenset({"region", "cluster_name", "next_token", "node_type", "queue_name"}),
    "delete_cluster_instances": frozenset({"region", "cluster_name", "force"}),
    "get_cluster_stack_events": frozenset({"region", "cluster_name", "next_token"}),
    "list_cluster_log_streams": frozenset({"region", "cluster_name", "filters", "next_token"}),
    "get_cluster_log_events": frozenset({"region", "cluster_name", "log_stream_name", "next_token",
                                         "start_from_head", "limit", "start_time", "end_time"}),
    "list_official_images": frozenset({"region", "os", "architecture"}),
}
# The names this module imports from the library (the contract test imports each one).
LIBRARY_NAMES: tuple[tuple[str, str], ...] = (
    ("pcluster.api.errors", "ParallelClusterApiException"),
    ("pcluster.api.errors", "DryrunOperationException"),
    ("pcluster.cli.exceptions", "CLIException"),
    ("pcluster.cli.exceptions", "ParameterException"),
    ("pcluster.api.encoder", "JSONEncoder"),
    ("pcluster.utils", "get_installed_version"),
)
DRYRUN_STATUS = 412


class PclusterError(Exception):
    """ParallelCluster refused the request or failed: ``status`` and the spec's ``body`` for it."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        self.status = status
        self.body = dict(body)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        message = self.body.get("message")
        return message if isinstance(message, str) else f"ParallelCluster answered {self.status}"


class DryrunSucceeded(PclusterError):
    """412: the dry run would have succeeded (body: message, validationMessages, changeSet)."""


@dataclass(frozen=True)
class Library:
    """The parts of aws-parallelcluster this adapter uses."""

    functions: Any  # pcluster.lib
    api_exception: type[BaseException]  # pcluster.api.errors.ParallelClusterApiException
    cli_exception: type[BaseException]  # pcluster.cli.exceptions.CLIException (ParameterException's base)
    parameter_exception: type[BaseException]  # pcluster.cli.exceptions.ParameterException
    to_json: Callable[[Any], Any]  # a spec model object -> its camelCase JSON data
    version: str


_library: Library | None = None


def use_library(library: Library | None) -> None:
    """Use ``library`` instead of aws-parallelcluster (tests); None goes back to the real one."""
    global _library
    _library = library


def _load() -> Library:
    # ParallelCluster builds some clients and answers from the default region: make it ours.
    os.environ["AWS_DEFAULT_REGION"] = settings().region
    import pcluster.lib as functions
    from pcluster.api.encoder import JSONEncoder
    from pcluster.api.errors import ParallelClusterApiException
    from pcluster.cli.exceptions import CLIException, ParameterException
    from pcluster.utils import get_installed_version

    encoder = JSONEncoder()
    return Library(functions=functions, api_exception=ParallelClusterApiException, cli_exception=CLIException,
                   parameter_exception=ParameterException, to_json=lambda content: json.loads(encoder.encode(content)),
                   version=get_installed_version())


def library() -> Library:
    global _library
    if _library is None:
        _library = _load()
    return _library


def installed_version() -> str:
    return library().version


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def translate(error: BaseException, lib: Library) -> PclusterError | None:
    """The library's exception as a :class:`PclusterError`, or None for anything else."""
    if isinstance(error, lib.api_exception):
        status = int(getattr(error, "code", None) or 500)
        content = getattr(error, "content", None)
        body = lib.to_json(content) if content is not None else {}
        if not isinstance(body, dict):
            body = {"message": str(body)}
        body.setdefault("message", f"ParallelCluster answered {status}")
        return (DryrunSucceeded if status == DRYRUN_STATUS else PclusterError)(status, body)
    if isinstance(error, lib.cli_exception):
        data = getattr(error, "data", None)
        message = data.get("message") if isinstance(data, dict) else None
        status = 400 if isinstance(error, lib.parameter_exception) else 500
        return PclusterError(status, {"message": message if isinstance(message, str) else str(data)})
    return None


def call(function: str, *, deadline: Deadline | None = None, **keywords: Any) -> Any:
    """``pcluster.lib.<function>(**keywords, region=<the API's region>)``'s answer.

    Keywords whose value is None are left out. Raises :class:`PclusterError` (or
    :class:`DryrunSucceeded`) for the library's errors, ``deadlines.DeadlineExceeded`` when a
    ``deadline`` passes first, TypeError for a keyword outside :data:`LIBRARY_CALLS`.
    """
    allowed = LIBRARY_CALLS.get(function)
    if allowed is None:
        raise TypeError(f"pcluster.lib.{function} is not used by this adapter")
    unexpected = set(keywords) - allowed
    if unexpected:
        raise TypeError(f"pcluster.lib.{function} is not called with {sorted(unexpected)}")
    if "cluster_configuration" in keywords and not isinstance(keywords["cluster_configuration"], dict):
        raise TypeError("cluster_configuration must be a dict: pcluster.lib reads a string as a file path")
    arguments = {name: _plain(value) for name, value in keywords.items() if value is not None}
    arguments["region"] = settings().region
    lib = library()
    operation = getattr(lib.functions, function)
    try:
        return deadline.run(operation, **arguments) if deadline is not None else operation(**arguments)
    except (lib.api_exception, lib.cli_exception) as error:
        translated = translate(error, lib)
        if translated is None:  # pragma: no cover - both classes are translated
            raise
        raise translated from None
