"""Docker-free bundling: the asset hash follows the inputs, and bundles fit Lambda's platform."""
from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import cx_api
from aws_cdk.assertions import Template

from stacks.common.bundling import (
    DEPS_CACHE_ENV,
    LOCK_INPUT_FILE,
    REQUIREMENTS_FILE,
    LocalPythonBundler,
    LockError,
    asset_hash,
    check_lock,
    pip_install_command,
)
from stacks.common.lambda_function import RUNTIME, PythonFunction
from tests.conftest import ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "sample_fn"
ARM_64 = lambda_.Architecture.ARM_64
X86_64 = lambda_.Architecture.X86_64

# e_machine values from the ELF specification.
EM_X86_64 = 0x3E
EM_AARCH64 = 0xB7


@pytest.fixture(autouse=True, scope="module")
def private_deps_cache(tmp_path_factory):
    """Every bundling here installs afresh into its own cache: the tests prove pip works."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DEPS_CACHE_ENV, str(tmp_path_factory.mktemp("deps-cache")))
        yield


def copy_of_fixture(parent: Path, name: str = "sample_fn") -> Path:
    return Path(shutil.copytree(FIXTURE, parent / name,
                                ignore=shutil.ignore_patterns("__pycache__")))


def hash_of(entry: Path, *, runtime: lambda_.Runtime = RUNTIME,
            architecture: lambda_.Architecture = ARM_64) -> str:
    return asset_hash(entry, runtime=runtime, architecture=architecture)


def add_function(stack: cdk.Stack, id_: str, entry: Path,
                 architecture: lambda_.Architecture = ARM_64) -> PythonFunction:
    return PythonFunction(stack, id_, entry=entry, service_name="sample",
                          metrics_namespace="Tests", log_retention_days=7,
                          description="bundling test function", architecture=architecture)


def bundle_dir(assembly: cx_api.CloudAssembly, stack: cdk.Stack, architecture: str) -> Path:
    """The staged asset directory of the stack's function for ``architecture``."""
    functions = Template.from_stack(stack).find_resources(
        "AWS::Lambda::Function", {"Properties": {"Architectures": [architecture]}})
    (function,) = functions.values()
    asset_id = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    manifest = json.loads((Path(assembly.directory) / f"{stack.artifact_id}.assets.json").read_text())
    return Path(assembly.directory) / manifest["files"][asset_id]["source"]["path"]


def elf_machine(shared_object: Path) -> int:
    header = shared_object.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{shared_object} is not an ELF file"
    byte_order = "<" if header[5] == 1 else ">"
    return struct.unpack(f"{byte_order}H", header[18:20])[0]


# --- asset hash (pure) ------------------------------------------------------------------

def test_copies_of_the_same_function_in_different_places_hash_alike(tmp_path):
    first = copy_of_fixture(tmp_path / "a")
    second = copy_of_fixture(tmp_path / "b")

    assert hash_of(first) == hash_of(second) == hash_of(first)


def test_editing_code_changes_the_hash(tmp_path):
    entry = copy_of_fixture(tmp_path)
    before = hash_of(entry)

    (entry / "logic.py").write_text((entry / "logic.py").read_text() + "\n# edited\n")

    assert hash_of(entry) != before


def test_adding_a_module_changes_the_hash(tmp_path):
    entry = copy_of_fixture(tmp_path)
    before = hash_of(entry)

    (entry / "extra.py").write_text("VALUE = 1\n")

    assert hash_of(entry) != before


def test_changing_requirements_changes_the_hash(tmp_path):
    entry = copy_of_fixture(tmp_path)
    before = hash_of(entry)

    (entry / "requirements.txt").write_text("msgpack==1.2.3\n")

    assert hash_of(entry) != before


def test_switching_architecture_changes_the_hash(tmp_path):
    entry = copy_of_fixture(tmp_path)

    assert hash_of(entry, architecture=ARM_64) != hash_of(entry, architecture=X86_64)


def test_switching_runtime_changes_the_hash(tmp_path):
    entry = copy_of_fixture(tmp_path)

    assert hash_of(entry, runtime=lambda_.Runtime.PYTHON_3_12) != hash_of(entry, runtime=RUNTIME)


def test_renaming_the_package_directory_changes_the_hash(tmp_path):
    # The directory name is the import name inside the bundle and part of the handler string.
    assert hash_of(copy_of_fixture(tmp_path, "sample_fn")) != hash_of(copy_of_fixture(tmp_path, "other_fn"))


def test_byte_code_caches_and_tests_do_not_change_the_hash(tmp_path):
    entry = copy_of_fixture(tmp_path)
    before = hash_of(entry)

    (entry / "__pycache__").mkdir()
    (entry / "__pycache__" / "logic.cpython-314.pyc").write_bytes(b"\x00compiled")
    (entry / "stale.pyc").write_bytes(b"\x00compiled")
    (entry / "tests").mkdir()
    (entry / "tests" / "test_logic.py").write_text("def test_nothing():\n    pass\n")

    assert hash_of(entry) == before


# --- pip invocation ---------------------------------------------------------------------

@pytest.mark.parametrize(("architecture", "machine"), [(ARM_64, "aarch64"), (X86_64, "x86_64")])
def test_pip_installs_only_wheels_built_for_lambdas_platform(tmp_path, architecture, machine):
    command = pip_install_command(FIXTURE / "requirements.txt", target=tmp_path,
                                  runtime=RUNTIME, architecture=architecture)

    def values_of(flag: str) -> list[str]:
        return [command[i + 1] for i, arg in enumerate(command) if arg == flag]

    assert command[1:4] == ["-m", "pip", "install"]
    assert f"manylinux2014_{machine}" in values_of("--platform")
    assert all(p.startswith("manylinux") and p.endswith(f"_{machine}") for p in values_of("--platform"))
    assert values_of("--implementation") == ["cp"]
    assert values_of("--python-version") == [RUNTIME.name.removeprefix("python")]
    assert values_of("--target") == [str(tmp_path)]
    assert {"--only-binary=:all:", "--no-compile", "--require-hashes", "--no-deps"} <= set(command)


# --- bundling through synth -------------------------------------------------------------

@pytest.mark.slow
def test_a_lock_whose_hash_does_not_match_the_download_fails_synth(tmp_path):
    entry = copy_of_fixture(tmp_path / "src")
    (entry / "requirements.txt").write_text("msgpack==1.2.4 --hash=sha256:" + "0" * 64 + "\n")
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "cdk.out")), "TamperedLock")

    # pip downloads the wheel, finds another sha256 and refuses it: the lock is honoured.
    with pytest.raises(RuntimeError, match=r"pip could not install[\s\S]*DO NOT MATCH THE HASHES"):
        add_function(stack, "Fn", entry)


@pytest.mark.parametrize("requirements", [
    "msgpack==1.2.4\n",                                 # pinned, but no hash
    "msgpack>=1.2 --hash=sha256:" + "0" * 64 + "\n",    # a range is not a lock
    "-e ./local_package\n",                             # neither is a local path
])
def test_requirements_that_are_not_a_hash_lock_are_refused_before_bundling(tmp_path, requirements):
    entry = copy_of_fixture(tmp_path / "src")
    (entry / "requirements.txt").write_text(requirements)
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Unlocked")

    with pytest.raises(LockError, match=r"is not pinned \(==\) with its --hash.*make lock"):
        add_function(stack, "Fn", entry)


@pytest.mark.parametrize("name", ["boto3", "botocore", "aws-lambda-powertools", "AWS_XRay_SDK"])
def test_a_lock_bundling_what_the_runtime_or_layer_provides_is_refused(tmp_path, name):
    entry = copy_of_fixture(tmp_path / "src")
    (entry / "requirements.txt").write_text(f"{name}==1.0.0 --hash=sha256:{'0' * 64}\n")
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Shadowing")

    with pytest.raises(LockError, match="already provides"):
        add_function(stack, "Fn", entry)


def test_a_function_may_pin_the_aws_sdk_on_purpose(tmp_path):
    entry = copy_of_fixture(tmp_path / "src")
    (entry / "requirements.txt").write_text(f"boto3==1.43.11 --hash=sha256:{'0' * 64}\n")
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "PinnedSdk")

    PythonFunction(stack, "Fn", entry=entry, service_name="sample", metrics_namespace="Tests",
                   log_retention_days=7, description="pins boto3 on purpose", bundles_aws_sdk=True)

    Template.from_stack(stack).resource_count_is("AWS::Lambda::Function", 1)


def test_every_lock_of_the_repository_is_hash_pinned_and_bundles_no_aws_sdk():
    locks = sorted((ROOT / "lambda_src").rglob(REQUIREMENTS_FILE))
    assert locks, "the suite has functions with third-party dependencies"
    for lock in locks:
        entries = check_lock(lock)  # raises on an unhashed entry or a runtime-provided package
        assert lock.with_name(LOCK_INPUT_FILE).is_file(), f"{lock} has no {LOCK_INPUT_FILE} to be compiled from"
        assert entries


def test_a_function_without_requirements_is_bundled_as_its_package_alone(tmp_path):
    entry = copy_of_fixture(tmp_path / "src")
    (entry / "requirements.txt").unlink()
    (entry / "__pycache__").mkdir()
    (entry / "__pycache__" / "logic.cpython-314.pyc").write_bytes(b"\x00compiled")
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "NoRequirements")
    add_function(stack, "Fn", entry)

    bundle = bundle_dir(app.synth(), stack, "arm64")

    assert sorted(p.name for p in bundle.iterdir()) == ["sample_fn"]
    assert sorted(p.name for p in (bundle / "sample_fn").iterdir()) == ["__init__.py", "handler.py", "logic.py"]


# --- the dependency cache ------------------------------------------------------------------

FAKE_PIP = """#!/bin/sh
# Stands in for "python -m pip install --target DIR ...": records the call, installs a marker.
echo call >> "$PIP_CALLS"
while [ "$#" -gt 0 ]; do
  if [ "$1" = "--target" ]; then mkdir -p "$2/fakedep"; echo installed > "$2/fakedep/__init__.py"; fi
  shift
done
"""


@pytest.fixture
def fake_python(tmp_path, monkeypatch):
    script = tmp_path / "fake-python"
    script.write_text(FAKE_PIP)
    script.chmod(0o755)
    calls = tmp_path / "pip-calls"
    monkeypatch.setenv("PIP_CALLS", str(calls))
    return script, lambda: len(calls.read_text().splitlines()) if calls.exists() else 0


def _bundle(entry: Path, out: Path, python: Path, cache: Path, architecture=ARM_64) -> Path:
    LocalPythonBundler(entry=entry, runtime=RUNTIME, architecture=architecture, python=str(python),
                       deps_cache=cache).bundle(out)
    return out


def test_functions_with_the_same_requirements_install_them_once(tmp_path, fake_python):
    python, pip_calls = fake_python
    first, second = copy_of_fixture(tmp_path / "a"), copy_of_fixture(tmp_path / "b", name="other_fn")
    cache = tmp_path / "cache"

    one = _bundle(first, tmp_path / "out1", python, cache)
    two = _bundle(second, tmp_path / "out2", python, cache)

    assert pip_calls() == 1
    # Linked, not copied: a cached tree is tens of MB and the suite bundles a dozen functions.
    assert (one / "fakedep" / "__init__.py").stat().st_ino == (two / "fakedep" / "__init__.py").stat().st_ino
    for bundle, package in ((one, "sample_fn"), (two, "other_fn")):
        assert (bundle / "fakedep" / "__init__.py").read_text() == "installed\n"
        assert (bundle / package / "handler.py").is_file()


def test_other_requirements_or_another_architecture_install_again(tmp_path, fake_python):
    python, pip_calls = fake_python
    entry = copy_of_fixture(tmp_path / "src")
    cache = tmp_path / "cache"
    _bundle(entry, tmp_path / "out1", python, cache)
    _bundle(entry, tmp_path / "out2", python, cache, architecture=X86_64)
    (entry / "requirements.txt").write_text((entry / "requirements.txt").read_text() + "\n# edited\n")
    _bundle(entry, tmp_path / "out3", python, cache)

    assert pip_calls() == 3
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 3


def test_a_failed_install_leaves_nothing_in_the_cache(tmp_path):
    entry = copy_of_fixture(tmp_path / "src")
    # pip refuses the line before touching the network, so this stays fast and offline.
    (entry / "requirements.txt").write_text("this is === not a requirement\n")
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="pip could not install"):
        LocalPythonBundler(entry=entry, runtime=RUNTIME, architecture=ARM_64, deps_cache=cache).bundle(tmp_path / "o")
    assert list(cache.iterdir()) == []


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """One real bundling run per architecture: pip downloads Lambda wheels from PyPI."""
    outdir = tmp_path_factory.mktemp("bundled") / "cdk.out"
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Bundled")
    add_function(stack, "Arm", FIXTURE, ARM_64)
    add_function(stack, "Intel", FIXTURE, X86_64)
    assembly = app.synth()
    return {arch: bundle_dir(assembly, stack, arch) for arch in ("arm64", "x86_64")}, stack


@pytest.mark.slow
def test_bundle_holds_the_function_package_under_its_own_name(bundled):
    bundles, _ = bundled
    package = bundles["arm64"] / "sample_fn"

    assert {"__init__.py", "handler.py", "logic.py"} <= {p.name for p in package.iterdir()}
    assert not list(package.rglob("__pycache__"))


@pytest.mark.slow
def test_bundle_holds_the_dependencies_named_in_requirements(bundled):
    bundles, _ = bundled
    names = {p.name for p in bundles["arm64"].iterdir()}

    assert "msgpack" in names
    assert not names & {"boto3", "botocore", "aws_lambda_powertools", "aws_xray_sdk"}
    assert not list(bundles["arm64"].rglob("*.pyc")), "byte code must not be compiled for the wrong Python"


@pytest.mark.slow
@pytest.mark.parametrize(("architecture", "machine"), [("arm64", EM_AARCH64), ("x86_64", EM_X86_64)])
def test_a_bundle_carries_extensions_compiled_for_its_architecture(bundled, architecture, machine):
    bundles, _ = bundled
    extensions = list((bundles[architecture] / "msgpack").glob("*.so"))

    assert extensions, "msgpack should ship a compiled extension"
    assert {elf_machine(so) for so in extensions} == {machine}


@pytest.mark.slow
def test_skipping_bundling_keeps_the_asset_hash_of_a_real_bundle(bundled):
    _, bundled_stack = bundled
    skipped_stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Bundled")
    add_function(skipped_stack, "Arm", FIXTURE, ARM_64)
    add_function(skipped_stack, "Intel", FIXTURE, X86_64)

    def code_keys(stack: cdk.Stack) -> set[str]:
        functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
        return {f["Properties"]["Code"]["S3Key"] for f in functions.values()}

    assert code_keys(skipped_stack) == code_keys(bundled_stack)


# --- functions sharing modules inside one system package --------------------------------

def system_package(parent: Path) -> tuple[Path, Path]:
    """``system/`` with a shared module and the sample function inside it."""
    root = parent / "system"
    (root / "shared").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "shared" / "__init__.py").write_text("")
    (root / "shared" / "http.py").write_text("def ok():\n    return 200\n")
    entry = copy_of_fixture(root)
    (entry / "requirements.txt").unlink()
    return root, entry


def test_a_change_to_a_shared_module_changes_the_hash_of_every_function_using_it(tmp_path):
    root, entry = system_package(tmp_path)
    before = asset_hash(entry, runtime=RUNTIME, architecture=ARM_64, package_root=root)
    (root / "shared" / "http.py").write_text("def ok():\n    return 204\n")
    assert asset_hash(entry, runtime=RUNTIME, architecture=ARM_64, package_root=root) != before


def test_functions_of_one_package_with_equal_locks_share_one_asset(tmp_path):
    root, entry = system_package(tmp_path)
    other = Path(shutil.copytree(entry, root / "other_fn"))
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "SharedAsset")
    for id_, function in (("One", entry), ("Two", other)):
        PythonFunction(stack, id_, entry=function, package_root=root, service_name="sample",
                       metrics_namespace="Tests", log_retention_days=7, description="shares its package")

    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    assert len({json.dumps(f["Properties"]["Code"]) for f in functions.values()}) == 1
    assert {f["Properties"]["Handler"] for f in functions.values()} == {
        "system.sample_fn.handler.handler", "system.other_fn.handler.handler"}


def test_functions_of_one_package_with_different_locks_hash_differently(tmp_path):
    root, entry = system_package(tmp_path)
    other = Path(shutil.copytree(entry, root / "other_fn"))
    (other / "requirements.txt").write_text(f"msgpack==1.2.4 --hash=sha256:{'0' * 64}\n")

    assert (asset_hash(entry, runtime=RUNTIME, architecture=ARM_64, package_root=root)
            != asset_hash(other, runtime=RUNTIME, architecture=ARM_64, package_root=root))


def test_an_edited_file_changes_the_hash_within_one_process(tmp_path):
    root, entry = system_package(tmp_path)
    before = asset_hash(entry, runtime=RUNTIME, architecture=ARM_64, package_root=root)
    (root / "shared" / "http.py").write_text("def ok():\n    return 201\n")  # same size as before

    assert asset_hash(entry, runtime=RUNTIME, architecture=ARM_64, package_root=root) != before


def test_a_function_inside_a_system_package_is_bundled_with_its_shared_modules(tmp_path):
    root, entry = system_package(tmp_path)
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "SystemPackage")
    PythonFunction(stack, "Fn", entry=entry, package_root=root, service_name="sample",
                   metrics_namespace="Tests", log_retention_days=7, description="shared modules test")

    bundle = bundle_dir(app.synth(), stack, "arm64")

    assert (bundle / "system" / "shared" / "http.py").is_file()
    assert (bundle / "system" / "sample_fn" / "handler.py").is_file()
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "system.sample_fn.handler.handler"})


def test_a_package_root_that_does_not_contain_the_function_is_refused(tmp_path):
    root, _ = system_package(tmp_path)
    elsewhere = copy_of_fixture(tmp_path / "elsewhere")
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Refused")
    with pytest.raises(ValueError, match="not inside package_root"):
        PythonFunction(stack, "Fn", entry=elsewhere, package_root=root, service_name="sample",
                       metrics_namespace="Tests", log_retention_days=7, description="refused")
