"""The 2020 post's form, read strictly. Pure.

The original passed the ``additional_parameters`` header into the pcluster 2 CLI's argument list.
Here the header is read as data: space-separated tokens, every flag looked up in :data:`FLAGS`
(an allowlist of flags whose meaning is known, each mapped to an option of the /v3 operation),
every value checked by its flag. Nothing reaches a shell or an argument list; a character no
allowed flag takes (``;``, ``$``, backticks, quotes, ...) is refused before the tokens are read.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..models import SUPPRESS_VALIDATORS_PATTERN, LegacyCommand, ValidationLevel
from ..schema import python_pattern, shown
from ..shared.http import BadRequest
from ..shared.yaml_safety import CONVERTER_HINT, looks_like_ini

HEADER = "additional_parameters"
_SAFE = re.compile(r"[A-Za-z0-9 =:._,-]*")
_WHITESPACE = re.compile(rb"[ \t\r\n]+")
_SUPPRESS = python_pattern(SUPPRESS_VALIDATORS_PATTERN)
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
ALL = frozenset(LegacyCommand)
CREATE = frozenset({LegacyCommand.create})


def _boolean(flag: str, raw: str) -> bool:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise BadRequest(f"{HEADER}: {flag} takes true or false, got {shown(raw)}")


def _level(flag: str, raw: str) -> str:
    if raw in {level.value for level in ValidationLevel}:
        return raw
    raise BadRequest(f"{HEADER}: {flag} takes one of {', '.join(level.value for level in ValidationLevel)}, "
                     f"got {shown(raw)}")


def _validator(flag: str, raw: str) -> str:
    if _SUPPRESS.search(raw):
        return raw
    raise BadRequest(f"{HEADER}: {flag} takes ALL or type:<ValidatorName>, got {shown(raw)}")


def _region(flag: str, raw: str) -> str:
    if _REGION.fullmatch(raw):
        return raw
    raise BadRequest(f"{HEADER}: {flag} takes a region name, got {shown(raw)}")


@dataclass(frozen=True)
class Flag:
    """A flag of the form, the commands it applies to and the /v3 option it sets (None: it is
    accepted and changes nothing)."""

    names: tuple[str, ...]
    commands: frozenset[LegacyCommand]
    option: str | None
    meaning: str
    value: Callable[[str, str], Any] | None = None  # None: takes no value
    constant: Any = True  # what a flag without a value sets
    many: bool = False  # takes one or more values, and may repeat


FLAGS: tuple[Flag, ...] = (
    Flag(("--nowait", "-nw"), frozenset({LegacyCommand.create, LegacyCommand.delete, LegacyCommand.status}), None,
         "accepted, no effect: this API never waits (the post used it to stay within Lambda's timeout)"),
    Flag(("--norollback", "-nr"), CREATE, "rollbackOnFailure", "pcluster 2: keep the stack when creation fails",
         constant=False),
    Flag(("--rollback-on-failure",), CREATE, "rollbackOnFailure", "pcluster 3: true or false", value=_boolean),
    Flag(("--dryrun",), CREATE, "dryrun", "pcluster 3: true or false; validate only", value=_boolean),
    Flag(("--validation-failure-level",), CREATE, "validationFailureLevel", "pcluster 3: INFO, WARNING or ERROR",
         value=_level),
    Flag(("--suppress-validators",), CREATE, "suppressValidators", "pcluster 3: ALL or type:<ValidatorName>, "
         "one or more", value=_validator, many=True),
    Flag(("--region", "-r"), ALL, "region", "must be the API's region", value=_region),
    Flag(("--color",), frozenset({LegacyCommand.list}), None, "accepted, no effect: the answer is JSON"),
)
# pcluster 2 flags whose meaning is known but that ParallelCluster 3 has no equivalent for here.
REFUSED: dict[str, str] = {
    "--config": "the configuration is the request body", "-c": "the configuration is the request body",
    "--template-url": "ParallelCluster 3 builds its own template", "-u": "ParallelCluster 3 builds its own template",
    "--extra-parameters": "ParallelCluster 3 builds its own template",
    "-p": "ParallelCluster 3 builds its own template",
    "--cluster-template": "a ParallelCluster 3 configuration holds one cluster: convert the section you want "
                          "with pcluster3-config-converter --cluster-template <section>",
    "-t": "a ParallelCluster 3 configuration holds one cluster: convert the section you want with "
          "pcluster3-config-converter --cluster-template <section>",
    "--tags": "put Tags in the configuration", "-g": "put Tags in the configuration",
    "--keep-logs": "ParallelCluster 3 keeps or deletes logs as the configuration's Monitoring/Logs/CloudWatch/"
                   "DeletionPolicy says",
}
_BY_NAME = {name: flag for flag in FLAGS for name in flag.names}


def flags_for(command: LegacyCommand) -> list[str]:
    return [name for flag in FLAGS if command in flag.commands for name in flag.names]


def parse_additional_parameters(header: str | None, command: LegacyCommand) -> dict[str, Any]:
    """The options the header sets for ``command`` (spec names), or BadRequest naming what is wrong."""
    if header is None or not header.strip():
        return {}
    unsafe = _SAFE.fullmatch(header)
    if unsafe is None:
        bad = next(char for char in header if not _SAFE.fullmatch(char))
        raise BadRequest(f"{HEADER} holds {bad!r}, a character no allowed flag takes")
    tokens = header.split()
    options: dict[str, Any] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        name, _, inline = token.partition("=")
        flag = _BY_NAME.get(name)
        if flag is None:
            reason = f" ({REFUSED[name]})" if name in REFUSED else ""
            allowed = ", ".join(flags_for(command)) or "none"
            raise BadRequest(f"{HEADER}: unknown flag {shown(name)}{reason}; allowed for {command.value}: {allowed}")
        if command not in flag.commands:
            raise BadRequest(f"{HEADER}: {name} does not apply to {command.value}")
        if flag.value is None:
            if inline:
                raise BadRequest(f"{HEADER}: {name} takes no value")
            value: Any = flag.constant
        else:
            raw_values = [inline] if inline else []
            while index < len(tokens) and not tokens[index].startswith("-") and (flag.many or not raw_values):
                raw_values.append(tokens[index])
                index += 1
            if not raw_values:
                raise BadRequest(f"{HEADER}: {name} needs a value")
            value = [flag.value(name, raw) for raw in raw_values]
            if not flag.many:
                value = value[0]
        if flag.option is None:
            continue
        if flag.many:
            options[flag.option] = list(dict.fromkeys([*options.get(flag.option, []), *value]))
        elif flag.option in options:
            raise BadRequest(f"{HEADER}: {flag.option} is set twice")
        else:
            options[flag.option] = value
    return options


def encoded_size_limit(max_bytes: int) -> int:
    """The largest body that can hold ``max_bytes`` base64-encoded, with ``base64``'s line breaks."""
    encoded = 4 * -(-max_bytes // 3)
    return encoded + 2 * -(-encoded // 76)


def decode_configuration(body: str, *, max_bytes: int) -> str:
    """The configuration from the body: base64 (line breaks allowed, as ``base64`` writes them) of a
    UTF-8 YAML document of at most ``max_bytes``; a pcluster 2 INI file gets the converter's name."""
    raw = _WHITESPACE.sub(b"", body.encode("utf-8", "surrogatepass"))
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest('request body must be the configuration base64-encoded, as in '
                         'curl --data-binary "$(base64 cluster-config.yaml)"') from None
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the decoded configuration must be UTF-8 text") from None
    if len(decoded) > max_bytes:
        raise BadRequest(f"the configuration must be at most {max_bytes} bytes")
    if looks_like_ini(text):
        raise BadRequest(CONVERTER_HINT)
    if not text.strip():
        raise BadRequest("the configuration is empty")
    return text
