"""The cluster configuration: YAML text in, a plain mapping out, or a message saying why not. Pure.

``yaml.safe_load`` alone builds no Python objects but still lets a small document cost a lot:
aliases multiply what a reader walks (a "billion laughs" document is a few hundred bytes, and
ParallelCluster's validation walks every path), nesting recurses once per level, and a repeated key
silently replaces the first. :func:`parse_configuration` therefore uses a safe loader that

- refuses nesting deeper than :data:`MAX_DEPTH`, counted as the document is composed;
- measures the document as expanded (every alias counted where it is used) and refuses more than
  :data:`MAX_EXPANDED_NODES` nodes or recursive aliases, before anything is constructed;
- refuses a key repeated in a mapping (merge keys ``<<`` may still be overridden);

and returns a tree without shared parts, so adding the owner tag changes one place only.
The caller bounds the size of the text (the request body).
"""
from __future__ import annotations

import re
from typing import Any

import yaml

MAX_DEPTH = 40
MAX_EXPANDED_NODES = 50_000
_MERGE_TAG = "tag:yaml.org,2002:merge"
# A pcluster 2 configuration is an INI file: "[section]" lines and "key = value" lines.
_INI_SECTION = re.compile(r"^\[[A-Za-z][\w -]*\][ \t]*$", re.MULTILINE)
_INI_SETTING = re.compile(r"^[ \t]*[A-Za-z_]\w*[ \t]*=", re.MULTILINE)
CONVERTER_HINT = ("this looks like a ParallelCluster 2 configuration (INI); ParallelCluster 3 reads YAML: "
                  "convert it with `pcluster3-config-converter --config-file <file> --output-file <file>.yaml` "
                  "(installed with aws-parallelcluster 3) and send the YAML")


class ConfigurationError(ValueError):
    """The configuration is refused; the message says why and is shown to the caller."""


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ConfigurationError(f"clusterConfiguration nests deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = (key_node.tag, self.construct_object(key_node))
                if key in seen:
                    raise ConfigurationError(f"clusterConfiguration repeats the key {key[1]!r:.60} at line "
                                             f"{key_node.start_mark.line + 1}: each key may appear once per mapping")
                seen.add(key)
        return super().construct_mapping(node, deep)


def _measure(node: Any, depth: int, memo: dict[int, tuple[int, int]], on_path: set[int]) -> tuple[int, int]:
    """(expanded size, height) of ``node``; raises when a limit is passed or an alias recurses."""
    key = id(node)
    if key in on_path:
        raise ConfigurationError("clusterConfiguration has a recursive alias")
    if key in memo:
        size, height = memo[key]
    else:
        if depth > MAX_DEPTH:
            raise ConfigurationError(f"clusterConfiguration nests deeper than {MAX_DEPTH} levels once its aliases "
                                     "are expanded")
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        on_path.add(key)
        size, height = 1, 0
        for child in children:
            child_size, child_height = _measure(child, depth + 1, memo, on_path)
            size += child_size
            height = max(height, child_height + 1)
            if size > MAX_EXPANDED_NODES:
                break
        on_path.discard(key)
        memo[key] = (size, height)
    if size > MAX_EXPANDED_NODES:
        raise ConfigurationError(f"clusterConfiguration expands to more than {MAX_EXPANDED_NODES} values (YAML "
                                 "aliases are counted each time they are used)")
    if depth + height > MAX_DEPTH:
        raise ConfigurationError(f"clusterConfiguration nests deeper than {MAX_DEPTH} levels once its aliases are "
                                 "expanded")
    return size, height


def _tree(value: Any) -> Any:
    """A copy in which no list or dict appears twice (aliases become copies)."""
    if isinstance(value, dict):
        return {key: _tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tree(item) for item in value]
    return value


def looks_like_ini(text: str) -> bool:
    return bool(_INI_SECTION.search(text) and _INI_SETTING.search(text))


def parse_configuration(text: str, *, region: str) -> dict[str, Any]:
    """The configuration as a mapping, or :class:`ConfigurationError`. A ``Region`` it names must be
    ``region``: the API creates clusters in its own region only."""
    if looks_like_ini(text):
        raise ConfigurationError(CONVERTER_HINT)
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigurationError("clusterConfiguration is empty")
        _measure(node, 0, {}, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        what = ", ".join(part for part in (error.context, error.problem) if part)
        raise ConfigurationError(f"clusterConfiguration is not valid YAML: {what}{where}") from None
    except yaml.YAMLError as error:
        raise ConfigurationError(f"clusterConfiguration is not valid YAML: {error}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigurationError(f"clusterConfiguration must be a YAML mapping (HeadNode, Scheduling, ...), got "
                                 f"{'a list' if isinstance(data, list) else 'a single value'}")
    data = _tree(data)
    configured_region = data.get("Region")
    if configured_region is not None and configured_region != region:
        raise ConfigurationError(f"clusterConfiguration Region must be {region}, the region this API manages, got "
                                 f"{str(configured_region)[:40]!r}")
    return data


def with_owner_tag(configuration: dict[str, Any], *, key: str, owner: str) -> dict[str, Any]:
    """``configuration`` with the tag ``key: owner`` in its ``Tags`` (replacing a tag of that key the
    caller wrote: only the API says who owns a cluster)."""
    tags = configuration.get("Tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, dict) for tag in tags):
        raise ConfigurationError("clusterConfiguration Tags must be a list of {Key, Value} mappings")
    kept = [tag for tag in tags if tag.get("Key") != key]
    return {**configuration, "Tags": [*kept, {"Key": key, "Value": owner}]}
