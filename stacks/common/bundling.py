"""Docker-free bundling of a Lambda function package, and the asset hash that goes with it.

A function is a Python package directory (``lambda_src/<system>/<function>/``). Its asset
is a directory holding that package under its own name plus the third-party
dependencies locked in the package's optional ``requirements.txt``, installed by the local
``pip`` as wheels built for Lambda's platform (``--platform``/``--only-binary``), so no
build container is needed and compiled extensions match the function's architecture.

``requirements.txt`` is a lock, never edited by hand: ``make lock`` compiles it from the
package's ``requirements.in`` (the direct dependencies, pinned) with ``uv pip compile`` for
the Lambda platform, every distribution with its sha256. pip installs it in hash-checking
mode with ``--no-deps``, so a bundle holds exactly the locked files or synth fails. The AWS
SDK comes from the runtime and Powertools from its official layer (see ``powertools.py``),
so a lock naming either is refused unless the function says it pins them on purpose.

Installed dependencies are cached per lock content, runtime and architecture
(``.cache/lambda-deps/`` in the repository, or ``$LAMBDA_DEPS_CACHE``): functions with the
same lock, and later synths, link the installed tree instead of running pip again.

The asset hash is computed from the inputs (source files, the lock among them, runtime,
architecture), not from the bundled output: pip's output is not byte-for-byte reproducible
(wheel RECORD files, timestamps), and hashing inputs lets synth skip bundling while keeping
the hash. Because the lock names every version and file hash, equal asset hashes mean
equal dependencies.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

REQUIREMENTS_FILE = "requirements.txt"  # the lock
LOCK_INPUT_FILE = "requirements.in"
BUILD_INPUTS = frozenset({REQUIREMENTS_FILE, LOCK_INPUT_FILE})

# Distributions the function gets from elsewhere: the AWS SDK from the Lambda runtime,
# Powertools and the X-Ray SDK its tracer uses from the Powertools layer. A copy in the
# bundle shadows them (a bundled botocore under the runtime's boto3, say).
PROVIDED_AT_RUN_TIME = frozenset({"boto3", "botocore", "s3transfer", "aws-lambda-powertools", "aws-xray-sdk"})

# Left out of both the asset and its hash: byte code and caches are rebuilt by the
# interpreter, and tests next to a function are never needed at run time.
EXCLUDED_DIRECTORIES = frozenset({"__pycache__", "tests", ".pytest_cache", ".mypy_cache"})
EXCLUDED_SUFFIXES = frozenset({".pyc", ".pyo"})

# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34). manylinux2014
# (glibc 2.17) is the tag almost every project publishes; manylinux_2_28 is accepted too
# because some projects ship only that tag for newer releases, and it runs on 2.34.
_MANYLINUX_TAGS = ("manylinux2014", "manylinux_2_28")
_MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}

# Part of every hash, so a change to how assets are built (pip flags, layout, excludes)
# rebuilds every function instead of silently reusing assets built the old way.
_RECIPE_VERSION = "pip-target-locked/3"

DEPS_CACHE_ENV = "LAMBDA_DEPS_CACHE"
_DEFAULT_DEPS_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "lambda-deps"

# ``BundlingOptions.image`` is mandatory in the CDK API even when a local bundler does the
# work. This name is never pulled: ``LocalPythonBundler.try_bundle`` either bundles or
# raises, it never returns False, so CDK never falls back to Docker. The name says so if
# it ever shows up in an error message.
_PLACEHOLDER_IMAGE = "local-bundling-only/docker-is-never-used"


class BundlingError(RuntimeError):
    """Bundling a function failed; the message carries pip's own output."""


class LockError(ValueError):
    """A function's ``requirements.txt`` is not a lock the bundler can install as it is."""


_REQUIREMENT_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==[^\s;\\]+")


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: ``Pillow``, ``pillow`` and ``PILLOW`` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_requirements(lock: Path) -> dict[str, str]:
    """``{canonical name: requirement line}`` of a hash-locked requirements file.

    Every entry must pin one version (``==``) and carry at least one ``--hash``: pip's
    hash-checking mode then refuses any file that is not the one locked."""
    entries: dict[str, str] = {}
    logical = lock.read_text().replace("\\\n", " ")
    for line in logical.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = _REQUIREMENT_NAME.match(line)
        if match is None or "--hash=sha256:" not in line:
            raise LockError(f"{lock}: {line.split()[0]!r} is not pinned (==) with its --hash; "
                            f"requirements.txt is generated from {LOCK_INPUT_FILE} by `make lock`")
        entries[canonical_name(match.group(1))] = line
    return entries


def check_lock(lock: Path, *, bundles_aws_sdk: bool = False) -> dict[str, str]:
    """The lock's entries, refusing what the runtime or the Powertools layer provides."""
    entries = locked_requirements(lock)
    provided = sorted(set(entries) & PROVIDED_AT_RUN_TIME)
    if provided and not bundles_aws_sdk:
        raise LockError(f"{lock} bundles {', '.join(provided)}, which the Lambda runtime or the "
                        "Powertools layer already provides; remove them from "
                        f"{LOCK_INPUT_FILE} (or pass bundles_aws_sdk=True to pin them on purpose)")
    return entries


def is_excluded(relative: Path) -> bool:
    """Whether a path (relative to the function package) stays out of asset and hash."""
    return (any(part in EXCLUDED_DIRECTORIES for part in relative.parts)
            or relative.suffix in EXCLUDED_SUFFIXES)


def source_files(entry: Path) -> Iterator[Path]:
    """The package's files that go into the asset, in a stable (sorted) order."""
    found = []
    for directory, subdirectories, files in os.walk(entry, followlinks=True):
        here = Path(directory)
        subdirectories[:] = [d for d in subdirectories
                             if not is_excluded((here / d).relative_to(entry))]
        found.extend(here / name for name in files
                     if not is_excluded((here / name).relative_to(entry)))
    yield from sorted(found, key=lambda path: path.relative_to(entry).as_posix())


def pip_platforms(architecture: lambda_.Architecture) -> tuple[str, ...]:
    """The wheel platform tags Lambda can load on ``architecture``, most preferred first."""
    try:
        machine = _MACHINES[architecture.name]
    except KeyError:
        raise ValueError(f"no wheel platform known for Lambda architecture {architecture.name!r}") from None
    return tuple(f"{tag}_{machine}" for tag in _MANYLINUX_TAGS)


def python_version(runtime: lambda_.Runtime) -> str:
    """``python3.14`` -> ``3.14``: the interpreter version wheels must be built for."""
    prefix = "python"
    if runtime.family != lambda_.RuntimeFamily.PYTHON or not runtime.name.startswith(prefix):
        raise ValueError(f"{runtime.name} is not a Python Lambda runtime")
    return runtime.name[len(prefix):]


def handler_module(entry: Path, package_root: Path | None = None) -> str:
    """The dotted module of the function's ``handler.py`` inside the bundle."""
    root = package_root or entry
    return ".".join((root.name, *entry.relative_to(root).parts, "handler"))


def asset_hash(entry: Path, *, runtime: lambda_.Runtime, architecture: lambda_.Architecture,
               package_root: Path | None = None) -> str:
    """sha256 over everything the bundled asset depends on, and nothing else.

    Inputs: the package directory's name (it is the import name and part of the handler
    string), each source file's path relative to the package and its bytes, the function's
    lock (``requirements.txt``, which stands for the exact dependencies), the runtime, the
    architecture and the bundling recipe version. Byte code, caches, ``tests/`` and the
    requirements files are left out of the sources, as they are left out of the asset.

    With ``package_root`` (a system package whose functions share modules), the bundle is the
    whole package plus the function's locked dependencies, and the handler string alone says
    which function runs. So functions of one package with equal locks get one hash: CDK
    bundles, stores and uploads that asset once for all of them.
    """
    root = package_root or entry
    digest = hashlib.sha256()

    def field(label: str, value: bytes) -> None:
        # Length-prefixed, so no two different sequences of fields hash alike.
        digest.update(f"{label}:{len(value)}:".encode())
        digest.update(value)

    lock = entry / REQUIREMENTS_FILE
    field("recipe", _RECIPE_VERSION.encode())
    field("runtime", runtime.name.encode())
    field("architecture", architecture.name.encode())
    field("package", root.name.encode())
    field("lock", lock.read_bytes() if lock.is_file() else b"")
    field("sources", sources_digest(root).encode())
    return digest.hexdigest()


def sources_digest(root: Path) -> str:
    """sha256 of the package's bundled files: paths and bytes, in a stable order."""
    digest = hashlib.sha256()
    for path in source_files(root):
        if path.name in BUILD_INPUTS:
            continue
        for part in (path.relative_to(root).as_posix().encode(), path.read_bytes()):
            digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _link_or_copy(source: str, destination: str) -> None:
    """Hard-link a cached file into a bundle (tens of MB per function otherwise), copying
    when the cache is on another file system."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def pip_install_command(requirements: Path, *, target: Path, runtime: lambda_.Runtime,
                        architecture: lambda_.Architecture, python: str = sys.executable) -> list[str]:
    """The pip invocation that installs Lambda-compatible wheels into ``target``."""
    platforms = [arg for tag in pip_platforms(architecture) for arg in ("--platform", tag)]
    return [
        python, "-m", "pip", "install",
        "--target", str(target),
        *platforms,
        "--implementation", "cp",
        "--python-version", python_version(runtime),
        # Wheels only: building an sdist here would compile for this machine, not Lambda's.
        "--only-binary=:all:",
        # Byte code written here would be for this interpreter's version, not the runtime's.
        "--no-compile",
        # The lock lists every distribution with its hashes: nothing else may come in.
        "--require-hashes",
        "--no-deps",
        "--disable-pip-version-check",
        "--no-input",
        "-r", str(requirements),
    ]


@jsii.implements(cdk.ILocalBundling)
class LocalPythonBundler:
    """Bundles a function package on this machine; never hands over to Docker."""

    def __init__(self, *, entry: Path, runtime: lambda_.Runtime,
                 architecture: lambda_.Architecture, python: str = sys.executable,
                 package_root: Path | None = None, deps_cache: Path | None = None) -> None:
        self.entry = entry
        self.package_root = package_root or entry
        self.runtime = runtime
        self.architecture = architecture
        self.python = python
        self.deps_cache = deps_cache or Path(os.environ.get(DEPS_CACHE_ENV) or _DEFAULT_DEPS_CACHE)

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_options: Any) -> bool:
        # Exceptions raised here travel back through jsii and fail synth with this message.
        self.bundle(Path(output_dir))
        return True

    def bundle(self, output_dir: Path) -> None:
        requirements = self.entry / REQUIREMENTS_FILE
        if requirements.is_file():
            shutil.copytree(self._installed(requirements), output_dir, dirs_exist_ok=True,
                            copy_function=_link_or_copy)
        root = self.package_root
        package_dir = output_dir / root.name
        if package_dir.exists():
            raise BundlingError(f"a dependency in {requirements} installs a top-level "
                                f"'{root.name}', which would shadow the function package "
                                f"{root}; rename the package directory")
        for source in source_files(root):
            if source.name in BUILD_INPUTS:  # hashed, but nothing reads them at run time
                continue
            destination = package_dir / source.relative_to(root)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)

    def _installed(self, requirements: Path) -> Path:
        """The dependencies of ``requirements`` installed for this runtime and architecture:
        from the cache, or installed by pip into it first."""
        key = hashlib.sha256("\n".join((_RECIPE_VERSION, self.runtime.name, self.architecture.name,
                                          requirements.read_text())).encode()).hexdigest()
        cached = self.deps_cache / key
        if cached.is_dir():
            return cached
        self.deps_cache.mkdir(parents=True, exist_ok=True)
        # Installed beside the cache entry and renamed into place, so a concurrent or
        # interrupted synth never sees a half-installed tree.
        staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=self.deps_cache))
        try:
            self._install(requirements, staging)
            os.rename(staging, cached)
        except OSError:
            if not cached.is_dir():  # not another synth winning the race: a real failure
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return cached

    def _install(self, requirements: Path, output_dir: Path) -> None:
        command = pip_install_command(requirements, target=output_dir, runtime=self.runtime,
                                      architecture=self.architecture, python=self.python)
        # cwd: nested "-r"/"-c" lines in requirements.txt resolve relative to the package.
        result = subprocess.run(command, cwd=self.entry, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BundlingError(
                f"pip could not install {requirements} for {self.runtime.name} "
                f"{self.architecture.name} (exit code {result.returncode}).\n"
                f"command: {' '.join(command)}\n{result.stderr.strip() or result.stdout.strip()}")


def python_code(entry: Path, *, runtime: lambda_.Runtime, architecture: lambda_.Architecture,
                package_root: Path | None = None, bundles_aws_sdk: bool = False) -> lambda_.Code:
    """Lambda code for a function package, bundled locally, hashed by its inputs.

    The lock is checked here, at construction, so a bad one fails synth (and tests, which
    skip bundling) before any asset is built."""
    lock = entry / REQUIREMENTS_FILE
    if lock.is_file():
        check_lock(lock, bundles_aws_sdk=bundles_aws_sdk)
    return lambda_.Code.from_asset(
        str(package_root or entry),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=asset_hash(entry, runtime=runtime, architecture=architecture, package_root=package_root),
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry(_PLACEHOLDER_IMAGE),
            local=LocalPythonBundler(entry=entry, runtime=runtime, architecture=architecture,
                                     package_root=package_root),
        ),
    )
