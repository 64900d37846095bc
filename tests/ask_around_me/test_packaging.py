"""Each function is a self-contained package: relative imports only, no sibling imports, declared deps."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SYSTEM = Path(__file__).resolve().parents[2] / "lambda_src" / "ask_around_me"
FUNCTIONS = sorted(p.name for p in SYSTEM.iterdir() if (p / "handler.py").exists())
SIBLINGS = set(FUNCTIONS) | {"lambda_src", "ask_around_me"}
THIRD_PARTY = {"aws_lambda_powertools": "aws-lambda-powertools", "pygeohash": "pygeohash"}


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from ((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


def test_every_function_package_is_deployed_by_the_stack(suite):
    handlers = {props["Handler"] for props in (
        r["Properties"] for r in suite.template_json("AskAroundMe")["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function") if props.get("Runtime", "").startswith("python")}
    assert handlers == {f"{function}.handler.handler" for function in FUNCTIONS}
    assert len(FUNCTIONS) == 11


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_imports_its_own_modules_relatively_and_never_a_sibling(function):
    for module in (SYSTEM / function).glob("*.py"):
        for name, level in _imports(module):
            assert level in (0, 1), (module, name)
            assert name.split(".")[0] not in SIBLINGS, (module, name)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_declares_every_third_party_package_it_imports(function):
    declared = {line.split("[")[0].split("=")[0].strip()
                for line in (SYSTEM / function / "requirements.txt").read_text().splitlines() if line.strip()}
    for module in (SYSTEM / function).glob("*.py"):
        for name, level in _imports(module):
            top = name.split(".")[0]
            if level == 0 and top in THIRD_PARTY:
                assert THIRD_PARTY[top] in declared, (module, name)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_functions_logic_module_does_not_touch_boto3(function):
    logic = SYSTEM / function / "logic.py"
    assert not any(name.split(".")[0] in {"boto3", "botocore"} for name, _ in _imports(logic))
