"""How the functions are packaged: one package per function plus ``shared``, bundled whole.

Every function is bundled with the whole ``ask_around_me`` package, but only the
dependencies of its own ``requirements.in`` (locked in ``requirements.txt``) are installed;
Powertools comes from its Lambda layer and boto3 from the runtime, for every function. So: imports within the system
are relative (``.`` for the function's own modules, ``..shared`` for shared ones), never
into another function; ``shared`` never imports a function; each third-party package a
function imports, itself or through ``shared``, is in its requirements; logic modules stay
free of boto3, through ``shared`` too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.common.sites import hosted_site
from tests.support.templates import resources

SYSTEM = Path(__file__).resolve().parents[2] / "lambda_src" / "ask_around_me"
SHARED = SYSTEM / "shared"
FUNCTIONS = sorted(p.name for p in SYSTEM.iterdir() if (p / "handler.py").exists())
BROWSER_IOT_FUNCTIONS = ("open_session", "detach_policy_targets")
SHARED_MODULES = sorted(p for p in SHARED.glob("*.py") if p.name != "__init__.py")
# Top-level names that are the system itself: importing them absolutely would only work
# with the repository on the path (tests), never in the bundle.
SYSTEM_NAMES = set(FUNCTIONS) | {"lambda_src", "ask_around_me", "shared"}
THIRD_PARTY = {"pygeohash": "pygeohash"}
BOTO = {"boto3", "botocore"}  # in every Lambda Python runtime: not bundled, not in requirements
FROM_LAYER = {"aws_lambda_powertools"}  # the Powertools layer every function has
BUNDLED_WITH_EVERY_FUNCTION = {"suite_lib"}  # lambda_src/suite_lib (stacks/common/bundling.py)


def _imports(path: Path) -> list[tuple[str, int, tuple[str, ...]]]:
    """(module, level, imported names) of every import statement of ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level, tuple(alias.name for alias in node.names)))
    return found


def _function_modules(function: str) -> list[Path]:
    return sorted((SYSTEM / function).glob("*.py"))


def _shared_imported_by(path: Path) -> set[Path]:
    """The shared modules ``path`` (a function's module or a shared one) imports directly."""
    level = 1 if path.parent == SHARED else 2  # how far up ``shared``'s parent is
    prefix = "" if level == 1 else "shared"
    found = set()
    for module, imported_level, names in _imports(path):
        if imported_level != level:
            continue
        parts = module.split(".") if module else []
        if prefix:
            if parts[:1] != [prefix]:
                continue
            parts = parts[1:]
        if parts:
            found.add(SHARED / f"{parts[0]}.py")
        else:  # ``from ..shared import aws``: the names that are modules
            found.update(SHARED / f"{name}.py" for name in names if (SHARED / f"{name}.py").is_file())
    return found


def _with_shared(paths: list[Path]) -> set[Path]:
    """``paths`` and every shared module they import, directly or through other shared ones."""
    reached, todo = set(), list(paths)
    while todo:
        path = todo.pop()
        if path not in reached:
            reached.add(path)
            todo.extend(_shared_imported_by(path))
    return reached


def _top_level_imports(paths: set[Path]) -> set[tuple[Path, str]]:
    return {(path, module.split(".")[0]) for path in paths for module, level, _ in _imports(path) if level == 0}


def test_every_function_package_is_deployed_by_the_stack(suite):
    template = suite.template_json("AskAroundMe")
    # CDK's own Python function, the provider that deploys the web client, is not one of ours.
    functions = {logical_id: f for logical_id, f in resources(template, "AWS::Lambda::Function").items()
                 if logical_id != hosted_site(template).deployment_function_id}
    handlers = {f["Properties"]["Handler"] for f in functions.values()
                if f["Properties"].get("Runtime", "").startswith("python")}
    # The browser IoT session and detach functions are the suite's shared ones (lambda_src/browser_iot).
    assert handlers == {f"ask_around_me.{function}.handler.handler" for function in FUNCTIONS} | {
        f"browser_iot.{function}.handler.handler" for function in BROWSER_IOT_FUNCTIONS}
    assert len(FUNCTIONS) == 10


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_imports_its_own_modules_and_shared_relatively_and_never_another_function(function):
    for path in _function_modules(function):
        for module, level, names in _imports(path):
            if level == 0:
                assert module.split(".")[0] not in SYSTEM_NAMES, (path, module)
            elif level == 2:
                assert module.split(".")[0] == "shared" or (not module and names == ("shared",)), \
                    (path, module, names)
            else:
                assert level == 1, (path, module, level)
                assert (not module and all((SYSTEM / function / f"{n}.py").is_file() for n in names)) \
                    or (SYSTEM / function / f"{module.split('.')[0]}.py").is_file(), (path, module, names)


@pytest.mark.parametrize("path", SHARED_MODULES, ids=lambda path: path.stem)
def test_shared_modules_import_only_each_other_and_never_a_function(path):
    for module, level, names in _imports(path):
        assert level in (0, 1), (path, module, level)
        if level == 0:
            assert module.split(".")[0] not in SYSTEM_NAMES, (path, module)
        else:
            targets = [module.split(".")[0]] if module else list(names)
            assert all((SHARED / f"{target}.py").is_file() for target in targets), (path, module, names)


@pytest.mark.parametrize("path", SHARED_MODULES, ids=lambda path: path.stem)
def test_a_shared_module_serves_more_than_one_function(path):
    users = [function for function in FUNCTIONS if path in _with_shared(_function_modules(function))]
    assert len(users) >= 2, f"{path.name} is used by {users or 'no function'}: move it into the function"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_declares_every_third_party_package_it_imports_itself_or_through_shared(function):
    lock_input = SYSTEM / function / "requirements.in"
    lines = lock_input.read_text().splitlines() if lock_input.exists() else []
    declared = {line.split("[")[0].split("=")[0].strip() for line in lines if line.strip() and not line.startswith("#")}
    for path, top in _top_level_imports(_with_shared(_function_modules(function))):
        if top in THIRD_PARTY:
            assert THIRD_PARTY[top] in declared, (function, path, top)
        else:
            assert top in sys.stdlib_module_names or top in BOTO | FROM_LAYER | BUNDLED_WITH_EVERY_FUNCTION, \
                f"{path} imports {top}: add it to THIRD_PARTY and the requirements of the functions using it"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_functions_logic_module_does_not_touch_boto3_even_through_shared(function):
    for path, top in _top_level_imports(_with_shared([SYSTEM / function / "logic.py"])):
        assert top not in BOTO, (path, top)
